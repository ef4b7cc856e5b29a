"""Publish the book's executed notebooks on the branch that its launch buttons open (Binder and Colab).

``make publish-notebooks`` runs this after ``make book`` in the workflows (.github/workflows): on top of the
current commit it makes one commit that adds every executed notebook of _toc.yml (git-ignored on main), each
opened by a cell that installs nngeom at that commit where the kernel lacks it (Colab; on Binder, binder/
has installed it), and pushes it with --force to ``repository.branch`` of _config.yml. HEAD, the index and the
work tree's other files are left as they were (the commit is built in a temporary index).

    python binder/publish_executed.py [--no-push] [--profile cpu|paper]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "colab-setup"


def repository(root: Path) -> tuple[str, str]:
    """(url, branch) of _config.yml's repository section: the one place the address is written."""
    config = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    return config["url"].rstrip("/"), config["branch"]


def executed_notebooks(root: Path) -> list[Path]:
    """The .ipynb of every notebooks/ entry of _toc.yml, relative to root (the paths the launch buttons open)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            entry = node.get("file")
            if isinstance(entry, str) and entry.startswith("notebooks/"):
                found.append(Path(entry.removesuffix(".ipynb") + ".ipynb"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((root / "_toc.yml").read_text()))
    return found


def setup_cell(url: str, commit: str) -> nbformat.NotebookNode:
    source = ("# Colab, or any kernel without the book's package: install nngeom at the commit these outputs come from\n"
              "import importlib.util\n"
              "if importlib.util.find_spec(\"nngeom\") is None:\n"
              f"    %pip install --quiet \"nngeom @ git+{url}@{commit}\"")
    return nbformat.v4.new_code_cell(source, metadata={"tags": [TAG, "remove-cell"]})


def add_setup_cell(path: Path, url: str, commit: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [c for c in notebook.cells if TAG not in c.get("metadata", {}).get("tags", [])]
    cell = setup_cell(url, commit)
    if notebook.nbformat_minor < 5:
        cell.pop("id", None)
    notebook.cells.insert(0, cell)
    nbformat.write(notebook, path)


def git(root: Path, *args: str, env: dict | None = None) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}).stdout.strip()


def publish(root: Path, push: bool = True, profile: str = "cpu") -> str:
    """Commit the executed notebooks on top of HEAD (and push them to the launch branch); returns the commit."""
    url, branch = repository(root)
    notebooks = executed_notebooks(root)
    missing = [str(p) for p in notebooks if not (root / p).is_file()]
    if missing:
        raise SystemExit(f"not executed (run `make book` first): {', '.join(missing)}")
    head = git(root, "rev-parse", "HEAD")
    for path in notebooks:
        add_setup_cell(root / path, url, head)
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(root, "read-tree", "HEAD", env=index)
        git(root, "add", "--force", "--", *map(str, notebooks), env=index)
        tree = git(root, "write-tree", env=index)
    author = {"GIT_AUTHOR_NAME": "github-actions[bot]", "GIT_COMMITTER_NAME": "github-actions[bot]",
              "GIT_AUTHOR_EMAIL": "41898282+github-actions[bot]@users.noreply.github.com",
              "GIT_COMMITTER_EMAIL": "41898282+github-actions[bot]@users.noreply.github.com"}
    text = f"Executed notebooks ({profile} profile) of {head[:12]}, opened by the launch buttons (Binder, Colab)"
    commit = git(root, "commit-tree", tree, "-p", head, "-m", text, env=author)
    if push:
        git(root, "push", "--force", "origin", f"{commit}:refs/heads/{branch}")
        print(f"pushed {len(notebooks)} executed notebooks to {url} branch {branch} ({commit[:12]})")
    return commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-push", action="store_true", help="make the commit, print it, push nothing")
    parser.add_argument("--profile", default="cpu", help="the profile the notebooks were executed in (message)")
    args = parser.parse_args(argv)
    commit = publish(ROOT, push=not args.no_push, profile=args.profile)
    print(commit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
