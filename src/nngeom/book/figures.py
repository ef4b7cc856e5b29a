"""The figure index of each document's overview page, read from the notebooks themselves.

Every figure of the book is a myst-nb ``glue`` figure whose caption names the
document's figure or table it recomputes. `figure_index(root, document)` pairs,
for each glued figure of the document's notebooks, the document's figures and
tables named in its caption, the notebook section, and the ``nngeom`` functions
called in the code cell that made it (read from the code, not typed by hand).
The index goes to ``book/generated/figures-<document>.md``.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

__all__ = ["BOOK_NAMES", "DOCUMENT_REFERENCE", "figure_index", "GLUE_FIGURE", "render", "write"]

GLUE_FIGURE = re.compile(r"```\{glue:figure\}\s+(\S+)\s*\n(.*?)```", re.S)
DOCUMENT_REFERENCE = re.compile(r"\b(Figures?|Figs?\.|Tables?)\s+([A-Z]?\d+[a-z]?(?:\s*(?:-|–|,|and)\s*[A-Z]?\d+[a-z]?)*)")


BOOK_NAMES = {"claim", "claims_table", "settings", "reading", "sweep", "cached", "seed_everything", "device",
              "at_least", "at_most", "between", "equals", "greater_than", "holds", "less_than", "mean_above",
              "mean_below", "mean_consistent", "order", "rate_consistent", "within"}


def _shorten(text: str, limit: int = 140) -> str:
    """The caption's first sentence, cut at a word and never inside ``$...$`` math."""
    first = text.split(". ")[0]
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + " ..."
    if first.count("$") % 2:
        first = first[:first.rindex("$")].rstrip() + " ..."
    return first.replace("|", "\\|")


def _nngeom_names(tree: ast.AST) -> dict[str, str]:
    """Local names bound to nngeom modules or functions: name -> dotted origin."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nngeom"):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("nngeom"):
                    names[(alias.asname or alias.name).split(".")[0]] = alias.asname and alias.name or "nngeom"
    return names


def _calls(code: str, bound: dict[str, str]) -> list[str]:
    try:
        tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        parts, target = [], node.func
        while isinstance(target, ast.Attribute):
            parts.append(target.attr)
            target = target.value
        if isinstance(target, ast.Name) and target.id in bound:
            dotted = ".".join([bound[target.id], *reversed(parts)])
            dotted = dotted.removeprefix("nngeom.")
            if dotted not in found and dotted.split(".")[0] not in BOOK_NAMES:
                found.append(dotted)
    return found


def figure_index(root: Path, document: str) -> list[dict]:
    """One row per glued figure of the document's notebooks (in book order)."""
    import jupytext

    from .runner import toc_notebooks

    rows = []
    for source in toc_notebooks(root):
        if source.parent.name != document or not source.is_file():
            continue
        notebook = jupytext.read(source)
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        try:
            bound = _nngeom_names(ast.parse("\n".join(l for l in code.splitlines()
                                                      if not l.lstrip().startswith(("%", "!")))))
        except SyntaxError:
            bound = {}
        made_by = {}
        for cell in notebook.cells:
            if cell.cell_type == "code":
                for name in re.findall(r"glue\(\s*[\"']([^\"']+)[\"']", cell.source):
                    made_by[name] = _calls(cell.source, bound)
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            for name, body in GLUE_FIGURE.findall(cell.source):
                caption = " ".join(line for line in body.splitlines() if not line.startswith(":")).strip()
                references = sorted({("Fig. " if kind.startswith("Fig") else "Table ") + number.strip()
                                     for kind, number in DOCUMENT_REFERENCE.findall(caption)})
                rows.append({"figure": name, "section": source.stem, "document_refs": references,
                             "caption": caption, "functions": made_by.get(name, [])})
    return rows


def render(rows: list[dict], document: str) -> str:
    if not rows:
        return "No captioned figures yet.\n"
    lines = ["| document's figure / table | notebook | our figure | library functions it calls |",
             "|---|---|---|---|"]
    for r in rows:
        first = _shorten(r["caption"])
        functions = ", ".join(f"`{f}`" for f in r["functions"][:6]) or "(plotting only)"
        lines.append(f"| {', '.join(r['document_refs']) or '(none named)'} | "
                     f"[{r['section']}](../notebooks/{document}/{r['section']}.ipynb) | {first} | {functions} |")
    return "\n".join(lines) + "\n"


def write(root: Path, documents: tuple[str, ...]) -> None:
    folder = root / "book" / "generated"
    folder.mkdir(parents=True, exist_ok=True)
    for document in documents:
        path, text = folder / f"figures-{document}.md", render(figure_index(root, document), document)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
