"""The reproduction report: what each document claims, what the book computed, and the verdicts.

``python -m nngeom report [--profile P] [--snapshot]`` reads the book's ledger
(``_build/claims``), the stamps and the timings, and writes (generated,
git-ignored):

* ``book/report.md``: per document, document claims by verdict and the
  reproduction rate among judged ones, checks counted apart, claims taken from
  the authors' code or another paper counted apart, then each ``differs`` with
  its cause in one line;
* ``book/report/<document>.md``: one block per claim (statement on its own
  line, then paper / ours / verdict, source, cause, note), linked to the
  notebook row that computed it, in sections *differs*, *not judged*,
  *reproduced* and *checks*;
* ``book/generated/summary.md``: the landing page's "does it reproduce?" bars;
* ``book/generated/ledger.csv`` and ``ledger.json``: the whole ledger for download;
* ``book/generated/plan*.md``: the cost plan of a full run (`nngeom.book.plan`).

Claims from a notebook whose last run failed, whose stamp is stale, or which
was recorded at another profile than the report's are marked. ``--snapshot``
writes ``book/verdicts-<profile>.json`` (committed); every report lists the
claims whose verdict changed since that snapshot. Pages are rewritten only
when their text changes, so an unchanged book rebuilds nothing.
"""
from __future__ import annotations

import argparse
import csv
import html
import io
import json
from collections import Counter, defaultdict
from pathlib import Path

from .ledger import DIFFERS, NOT_JUDGED, REPRODUCED, anchor, load_all, short

__all__ = ["counts", "DOCUMENTS", "main", "read_timings", "render_document", "render_overview", "render_summary",
           "section_status", "snapshot_changes", "VERDICT_CLASS", "write", "write_snapshot"]

DOCUMENTS = {
    "metric-as-transform": "Metric as Transform",
    "locally-activating-neurons": "On my search for locally activating neurons",
    "neural-robustness": "Exploring mechanisms of Neural Robustness",
    "activation-patterns": "Study on Activation Patterns",
}
VERDICT_CLASS = {REPRODUCED: "reproduced", DIFFERS: "differs", NOT_JUDGED: "not-judged"}


def _is_counted(row: dict) -> bool:
    """A document claim whose value is the document's own (not the authors' code or another paper)."""
    return row.get("kind", "document") == "document" and row.get("origin", "document") == "document"


def section_status(root: Path, profile: str) -> dict[str, str]:
    """Per section: ``current``, ``failed`` (last run failed), ``stale`` (sources changed since) or ``missing``."""
    from .execution import fingerprint, is_current, stamp_path
    from .runner import toc_notebooks

    status = {}
    for source in toc_notebooks(root):
        section = str(source.relative_to(root / "notebooks").with_suffix(""))
        path = stamp_path(root, source)
        try:
            stamp = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            status[section] = "missing"
            continue
        if stamp.get("status") == "failed":
            status[section] = "failed"
        elif not source.is_file():
            status[section] = "missing"
        else:
            current = is_current(root, source, fingerprint(source, stamp.get("profile", profile), {}))
            status[section] = "current" if current else "stale"
    return status


def _flags(row: dict, profile: str, status: dict[str, str]) -> list[str]:
    flags = []
    state = status.get(row["section"], "current")
    if state == "failed":
        flags.append("its notebook's last run failed: this is the previous run's result")
    elif state == "stale":
        flags.append("stale: the notebook or the library changed since this was computed")
    if row.get("profile") != profile:
        flags.append(f"recorded at the {row.get('profile')} profile, not {profile}")
    return flags


def counts(rows: list[dict]) -> dict[str, int]:
    """Verdict counts of the counted document claims, plus the checks and the claims of other origins."""
    documents = Counter(r["verdict"] for r in rows if _is_counted(r))
    return {"reproduced": documents[REPRODUCED], "differs": documents[DIFFERS], "not judged": documents[NOT_JUDGED],
            "checks": sum(r.get("kind") == "check" for r in rows),
            "other origin": sum(r.get("kind", "document") == "document" and not _is_counted(r) for r in rows)}


def _rate(c: dict[str, int]) -> str:
    judged = c["reproduced"] + c["differs"]
    return f"{c['reproduced'] / judged:.0%} of {judged} judged" if judged else "none judged"


def _by_document(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["section"].split("/")[0]].append(row)
    rank = {doc: i for i, doc in enumerate(DOCUMENTS)}
    return dict(sorted(grouped.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def _notebook_link(section: str, claim_id: str | None = None, depth: int = 1) -> str:
    up = "../" * depth
    return f"{up}notebooks/{section}.html" + (f"#{anchor(claim_id)}" if claim_id else "")


def render_summary(rows: list[dict]) -> str:
    """The landing page's bars: per document, document claims reproduced / differs / not judged."""
    lines = ['<div class="nngeom-summary">']
    for doc, doc_rows in _by_document(rows).items():
        c = counts(doc_rows)
        total = max(1, c["reproduced"] + c["differs"] + c["not judged"])
        bar = "".join(f'<span class="nngeom-bar nngeom-{cls}" style="width:{100 * c[key] / total:.1f}%" '
                      f'title="{c[key]} {key}"></span>'
                      for key, cls in (("reproduced", "reproduced"), ("differs", "differs"),
                                       ("not judged", "not-judged")) if c[key])
        lines.append(f'<div class="nngeom-summary-row"><a href="report/{doc}.html">'
                     f'{html.escape(DOCUMENTS.get(doc, doc))}</a><div class="nngeom-track">{bar}</div>'
                     f'<span class="nngeom-counts">{c["reproduced"]} reproduced, {c["differs"]} differ, '
                     f'{c["not judged"]} not judged; {c["checks"]} checks</span></div>')
    lines.append("</div>")
    if not rows:
        return "No notebook has recorded a claim yet: run `make book` first.\n"
    return "\n".join(lines) + "\n"


def _claim_block(row: dict, profile: str, status: dict[str, str]) -> str:
    verdict = row["verdict"]
    flags = _flags(row, profile, status)
    facts = [("paper", short(row.get("paper"), 200)), ("ours", short(row.get("ours"), 200)),
             ("check", row.get("check", "") + (f" ({row['detail']})" if row.get("detail") else ""))]
    if row.get("kind") == "document":
        facts.append(("source", row.get("source", "")))
    if row.get("cause"):
        facts.append(("cause", row["cause"]))
    if row.get("note"):
        facts.append(("note", row["note"]))
    if flags:
        facts.append(("mark", "; ".join(flags)))
    body = "".join(f"<dt>{k}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts if v not in ("", None))
    link = _notebook_link(row["section"], row["id"], depth=2)
    return (f'<div class="nngeom-claim nngeom-claim-{VERDICT_CLASS.get(verdict, "not-judged")}">'
            f'<div class="nngeom-claim-head"><span class="nngeom-verdict nngeom-{VERDICT_CLASS.get(verdict)}">'
            f'{html.escape(verdict)}</span> <a href="{link}"><code>{html.escape(row["id"])}</code></a> '
            f'<span class="nngeom-where">{html.escape(row["section"].split("/", 1)[-1])}</span></div>'
            f'<p class="nngeom-statement">{html.escape(row["statement"])}</p><dl>{body}</dl></div>')


def render_document(doc: str, rows: list[dict], profile: str, status: dict[str, str]) -> str:
    """One document's report page."""
    c = counts(rows)
    title = DOCUMENTS.get(doc, doc)
    lines = [f"# Report: {title}", "",
             f"Document claims at the `{profile}` profile: **{c['reproduced']} reproduced, {c['differs']} differ, "
             f"{c['not judged']} not judged** ({_rate(c)}). Besides them: {c['checks']} checks of the book's own code "
             f"and constructions (never counted as reproduction) and {c['other origin']} values from the authors' "
             f"code or another paper. Each claim links to the notebook row that computed it.", ""]
    groups = [
        ("Differs", [r for r in rows if _is_counted(r) and r["verdict"] == DIFFERS]),
        ("Not judged at this profile", [r for r in rows if _is_counted(r) and r["verdict"] == NOT_JUDGED]),
        ("Reproduced", [r for r in rows if _is_counted(r) and r["verdict"] == REPRODUCED]),
        ("Values from the authors' code or another paper",
         [r for r in rows if r.get("kind", "document") == "document" and not _is_counted(r)]),
        ("Checks of the book's own code and constructions", [r for r in rows if r.get("kind") == "check"]),
    ]
    for heading, group in groups:
        if not group:
            continue
        lines += [f"## {heading} ({len(group)})", ""]
        lines += [_claim_block(r, profile, status) for r in group]
        lines.append("")
    return "\n".join(lines)


def render_overview(rows: list[dict], profile: str, status: dict[str, str], timings: dict[str, list[dict]],
                    changes: list[str]) -> str:
    """The report's front page."""
    lines = ["# Reproduction report", "",
             "Every claim the notebooks of this build recorded. A **document** claim tests something the document "
             "states, cites where, and could fail; it is *reproduced* when its check passes, *differs* when it "
             "fails (with a cause: `scale`, `reconstruction`, `disagreement` or `open`) and *not judged* when the "
             "run is too small for the check to mean anything. **Checks** verify the book's own code, identities "
             "and constructions; they are shown but never counted as reproduction. Tolerances of means over seeds "
             "come from the spread of both (a 95 % Welch interval); a hand-picked threshold carries its reason.", "",
             f"This page was generated by `python -m nngeom report --profile {profile}`. The whole ledger: "
             "{download}`CSV <generated/ledger.csv>`, {download}`JSON <generated/ledger.json>`.", ""]
    if not rows:
        return "\n".join(lines + ["No notebook has recorded a claim yet: run `make book` first.", ""])
    lines += ["| document | reproduced | differs | not judged | rate | checks | other origin |",
              "|---|---|---|---|---|---|---|"]
    grouped = _by_document(rows)
    for doc, doc_rows in grouped.items():
        c = counts(doc_rows)
        lines.append(f"| [{DOCUMENTS.get(doc, doc)}](report/{doc}.md) | {c['reproduced']} | {c['differs']} | "
                     f"{c['not judged']} | {_rate(c)} | {c['checks']} | {c['other origin']} |")
    c = counts(rows)
    lines += [f"| **all** | {c['reproduced']} | {c['differs']} | {c['not judged']} | {_rate(c)} | {c['checks']} | "
              f"{c['other origin']} |", ""]
    marked = {s: v for s, v in status.items() if v in {"failed", "stale"}}
    if marked:
        lines += ["```{warning}", "Some results are not current: " +
                  "; ".join(f"{s} ({v})" for s, v in sorted(marked.items())) + ".", "```", ""]
    lines += ["## What did not reproduce", ""]
    for doc, doc_rows in grouped.items():
        failing = [r for r in doc_rows if _is_counted(r) and r["verdict"] == DIFFERS]
        lines += [f"### {DOCUMENTS.get(doc, doc)}", ""]
        if not failing:
            lines += ["Every judged document claim reproduced.", ""]
            continue
        for r in failing:
            link = _notebook_link(r["section"], r["id"], depth=1)
            # a raw HTML link: a Markdown link to an .html page is a cross-reference that myst cannot resolve
            lines.append(f"- <a href=\"{html.escape(link)}\"><code>{html.escape(r['id'])}</code></a> "
                         f"{_md(r['statement'])} — *{_md(r.get('cause') or 'open')}*")
        lines.append("")
    if changes:
        lines += [f"## Verdicts changed since the committed snapshot (`book/verdicts-{profile}.json`)", ""]
        lines += [f"- {_md(change)}" for change in changes] + [""]
    if timings:
        lines += ["## Run times", "", "Wall time of each notebook's last execution (2-core CPU unless the profile ran "
                  "elsewhere).", "", "| profile | notebook | status | seconds |", "|---|---|---|---|"]
        for name, entries in timings.items():
            for entry in entries:
                lines.append(f"| {name} | {entry['notebook']} | {entry['status']} | {entry['seconds']} |")
        lines.append("")
    environments = {json.dumps({k: v for k, v in (r.get("provenance") or {}).items() if k != "overrides"},
                               sort_keys=True) for r in rows}
    lines += ["## Computed with", ""]
    for text in sorted(environments):
        info = json.loads(text)
        versions = ", ".join(f"{k} {v}" for k, v in (info.get("versions") or {}).items())
        lines.append(f"- {info.get('date', '?')}, commit {info.get('commit', '?')}, {info.get('device', '?')}, "
                     f"float32 matmul {info.get('fast_matmul', '?')}; {versions}")
    lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def read_timings(root: Path) -> dict[str, list[dict]]:
    """Every timings file (one per profile, or per shard of a profile), merged per profile."""
    found: dict[str, dict[str, dict]] = defaultdict(dict)
    for path in sorted((root / "_build").glob("timings-*.csv")):
        profile = path.stem.removeprefix("timings-").split("-shard-")[0]
        with path.open() as handle:
            for row in csv.DictReader(handle):
                found[profile][row["notebook"]] = row
    return {profile: list(rows.values()) for profile, rows in found.items()}


def _key(row: dict) -> str:
    return f"{row['section']}::{row['id']}"


def snapshot_changes(root: Path, rows: list[dict], profile: str) -> list[str]:
    """Claims whose verdict differs from ``book/verdicts-<profile>.json`` (added and removed ones too)."""
    path = root / "book" / f"verdicts-{profile}.json"
    if not path.is_file():
        return []
    before = json.loads(path.read_text())
    now = {_key(r): r["verdict"] for r in rows if r.get("profile") == profile}
    changes = [f"{key}: {before[key]} -> {now[key]}" for key in sorted(now) if key in before and before[key] != now[key]]
    changes += [f"{key}: new ({now[key]})" for key in sorted(set(now) - set(before))]
    changes += [f"{key}: no longer recorded (was {before[key]})" for key in sorted(set(before) - set(now))]
    return changes


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _csv(rows: list[dict]) -> str:
    fields = ["section", "id", "kind", "origin", "statement", "source", "paper", "ours", "check", "detail", "verdict",
              "cause", "note", "profile"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(row.get(k)) if isinstance(row.get(k), (dict, list)) else row.get(k, "")
                         for k in fields})
    return buffer.getvalue()


def write(root: Path, profile: str = "cpu") -> Path:
    """Write the report pages under ``root/book``; returns the front page's path."""
    rows = load_all(root)
    status = section_status(root, profile) if (root / "_toc.yml").is_file() else {}
    changes = snapshot_changes(root, rows, profile)
    book = root / "book"
    for doc in DOCUMENTS:
        doc_rows = [r for r in rows if r["section"].split("/")[0] == doc]
        _write_if_changed(book / "report" / f"{doc}.md", render_document(doc, doc_rows, profile, status))
    _write_if_changed(book / "generated" / "summary.md", render_summary(rows))
    _write_if_changed(book / "generated" / "ledger.csv", _csv(rows))
    _write_if_changed(book / "generated" / "ledger.json", json.dumps(rows, indent=1))
    from .figures import write as write_figures
    from .plan import write as write_plan

    write_plan(root)
    if (root / "_toc.yml").is_file():
        write_figures(root, tuple(DOCUMENTS))
    front = book / "report.md"
    _write_if_changed(front, render_overview(rows, profile, status, read_timings(root), changes))
    return front


def write_snapshot(root: Path, profile: str) -> Path:
    """``book/verdicts-<profile>.json``: every claim's verdict at this profile (commit it)."""
    rows = [r for r in load_all(root) if r.get("profile") == profile]
    path = root / "book" / f"verdicts-{profile}.json"
    path.write_text(json.dumps({_key(r): r["verdict"] for r in rows}, indent=1, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nngeom report", description="write the report pages")
    parser.add_argument("--root", default=None)
    parser.add_argument("--profile", default="cpu", help="the profile the book was built with (default cpu)")
    parser.add_argument("--snapshot", action="store_true", help="also write book/verdicts-<profile>.json")
    args = parser.parse_args(argv)
    from .runtime import project_root

    root = Path(args.root).resolve() if args.root else project_root()
    path = write(root, args.profile)
    rows = load_all(root)
    print(f"wrote {path.relative_to(root)} and book/report/ ({len(rows)} claims)")
    changes = snapshot_changes(root, rows, args.profile)
    if changes:
        print(f"verdicts changed since book/verdicts-{args.profile}.json:")
        for change in changes:
            print(f"  {change}")
    if args.snapshot:
        print(f"wrote {write_snapshot(root, args.profile).relative_to(root)}")
    return 0
