"""Every notebook of the book runs in the smoke profile, and the book builds with warnings as errors.

The notebooks are executed in a temporary copy of the book (so that `make test` never overwrites the
executed notebooks of a `make book` run), in _toc.yml order; the last test builds that copy.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from nngeom.book import report, runner

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = runner.toc_notebooks(ROOT)
COPIED = ["_config.yml", "_toc.yml", "_static", "book", "notebooks"]


def copy_book(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("*.ipynb", "report.md", "report", "generated", "_build"))
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> Path:
    return copy_book(tmp_path_factory.mktemp("smoke-book"))


@pytest.mark.notebook
@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_notebook_runs_in_smoke_profile(smoke_book, source):
    copy = smoke_book / source.relative_to(ROOT)
    start = time.perf_counter()
    outcome = runner.run(smoke_book, [copy], "smoke", {}, force=True, progress=False)[0]
    assert outcome.status == "ok", f"{outcome.notebook} failed: {outcome.message}"
    print(f"{outcome.notebook}: {time.perf_counter() - start:.1f} s")


@pytest.mark.book
def test_book_builds_with_warnings_as_errors(smoke_book):
    missing = [s for s in NOTEBOOKS if not (smoke_book / s.relative_to(ROOT)).with_suffix(".ipynb").is_file()]
    assert not missing, f"notebooks not executed: {missing}"
    page = report.write(smoke_book).read_text()
    result = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(smoke_book),
                             "--warningiserror", "--keep-going"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = smoke_book / "_build" / "html"
    assert (html / "index.html").is_file() and (html / "book" / "report.html").is_file()
    assert "A.2.3.centres-inside" in page and "A.2.3.centres-inside" in (html / "book" / "report.html").read_text()
    for source in NOTEBOOKS:
        rendered = html / source.relative_to(ROOT).with_suffix(".html")
        assert rendered.is_file(), f"{rendered} was not built"
    pilot = (html / "notebooks" / "metric-as-transform" / "s2_3_voronoi.html").read_text()
    assert "<img" in pilot  # the figures were rendered into the page


PILOT = ROOT / "notebooks" / "metric-as-transform" / "s2_3_voronoi.py"


def test_two_runs_give_identical_claims(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGEOM_CACHE", "off")
    values = []
    for name in ("first", "second"):
        book = copy_book(tmp_path / name)
        outcome = runner.run(book, [book / PILOT.relative_to(ROOT)], "smoke", {}, progress=False)[0]
        assert outcome.status == "ok", outcome.message
        ledger = json.loads((book / "_build" / "claims" / "metric-as-transform" / "s2_3_voronoi.json").read_text())
        values.append([(c["id"], c["ours"]) for c in ledger["claims"]])
    assert values[0] == values[1] and len(values[0]) >= 5


def papermill(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, nbformat.NotebookNode]:
    book = copy_book(tmp_path / "book")
    source = book / PILOT.relative_to(ROOT)
    runner.pair(source)
    out = tmp_path / "out.ipynb"
    env = {**os.environ, "NNGEOM_ROOT": str(book)}
    result = subprocess.run([str(Path(sys.executable).parent / "papermill"), str(source.with_suffix(".ipynb")),
                             str(out), *args], capture_output=True, text=True, env=env, cwd=source.parent)
    return result, nbformat.read(out, as_version=4)


def first_error(notebook) -> tuple[int, dict]:
    for index, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return index, output
    raise AssertionError("no error in the executed notebook")


@pytest.mark.parametrize("args,message", [
    (["-p", "profile", "nonsense"], "unknown profile 'nonsense': choose one of 'smoke', 'cpu', 'paper'"),
    (["-p", "profile", "smoke", "-p", "trial", "3"], "unknown parameter(s) 'trial'"),
    (["-p", "profile", "smoke", "-p", "trials", "many"], "parameter 'trials' must be int"),
])
def test_papermill_bad_parameters_fail_in_the_first_code_cell(tmp_path, args, message):
    result, executed = papermill(tmp_path, *args)
    assert result.returncode != 0
    index, error = first_error(executed)
    # code cells: 0 parameters, 1 papermill's injected parameters, 2 the settings cell
    assert index == 2 and error["ename"] == "ParameterError" and message in error["evalue"]


def test_papermill_paper_profile_with_override(tmp_path):
    result, executed = papermill(tmp_path, "-p", "profile", "smoke", "-p", "trials", "7")
    assert result.returncode == 0, result.stderr[-3000:]
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "trials" in printed and "7   (override)" in printed
