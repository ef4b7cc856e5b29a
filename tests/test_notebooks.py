"""Every notebook of the book runs in the smoke profile with clean outputs, and the book builds with warnings as errors.

The notebooks are executed in a temporary copy of the book (so that `make test` never overwrites the
executed notebooks of a `make book` run), in _toc.yml order; the last test builds that copy. The copy and its
build are the session's `smoke_book` (tests/conftest.py), which tests/test_browser.py opens in Chromium.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

from tests.conftest import ROOT, copy_book
from nngeom.book import runner

NOTEBOOKS = runner.toc_notebooks(ROOT)
NOTEBOOK_IDS = [f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS]


@pytest.mark.notebook
@pytest.mark.parametrize("source", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_notebook_runs_in_smoke_profile(smoke_book, source):
    start = time.perf_counter()
    outcome = smoke_book.execute(source)
    assert outcome.status == "ok", f"{outcome.notebook} failed: {outcome.message}"
    print(f"{outcome.notebook}: {time.perf_counter() - start:.1f} s")


@pytest.mark.notebook
@pytest.mark.parametrize("source", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_notebook_is_device_clean(smoke_book, source):
    """Run under nngeom.book.device_check: nothing that would mix CUDA and CPU tensors, or call .numpy() on a
    CUDA tensor, when the same code runs on a GPU (tests/test_device_check.py shows the check finds such code)."""
    if smoke_book.execute(source).status != "ok":
        pytest.skip("the notebook did not run (see test_notebook_runs_in_smoke_profile)")
    found = {(f["problem"], f["op"], f["where"], " <- ".join(f.get("called_from", []))): None
             for f in smoke_book.device_findings(source)}  # each place once, in the order found
    assert not found, "operations that would fail on a GPU:\n" + "\n".join(
        f"{problem}: {op} at {where} (called from {called})" for problem, op, where, called in list(found)[:20])


WARNING = re.compile(r"\b\w*Warning\b")


def machine_paths(smoke_root: Path) -> list[str]:
    """Absolute paths of the machine that built the book: none may reach a reader."""
    places = {str(ROOT), str(smoke_root), str(Path(sys.prefix)), tempfile.gettempdir() + "/", "/tmp/", "/root/",
              "/home/", str(Path.home()) + "/", "site-packages"}
    if os.environ.get("NNGEOM_DATA"):
        places.add(str(Path(os.environ["NNGEOM_DATA"]).resolve()))
    return sorted(places - {"//"}, key=len, reverse=True)


def unclean_outputs(notebook, paths: list[str]) -> list[str]:
    """One line per output a reader should not see: a warning on stderr, or a path of the build machine."""
    found = []
    for index, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        for output in cell.get("outputs", []):
            texts = []
            if output.get("output_type") == "stream":
                texts.append(output.get("text", ""))
                if output.get("name") == "stderr" and (hit := WARNING.search(output.get("text", ""))):
                    line = next(l for l in output["text"].splitlines() if hit.group(0) in l)
                    found.append(f"code cell {index}: warning on stderr: {line.strip()[:200]}")
            elif output.get("output_type") == "error":
                texts.append("\n".join(output.get("traceback", [])))
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith(("+json", "/json")):
                    texts.append(value if isinstance(value, str) else json.dumps(value))
            plain = output.get("data", {}).get("text/plain", "")
            if "'expected_cause':" in (plain if isinstance(plain, str) else "".join(plain)):
                found.append(f"code cell {index}: a claim's raw row displayed (the cell ends with claim(...))")
            for text in texts:
                for path in paths:
                    if path in text:
                        line = next((l for l in text.splitlines() if path in l), text)
                        found.append(f"code cell {index}: machine path {path!r}: {line.strip()[:200]}")
                        break
    return found


@pytest.mark.notebook
@pytest.mark.parametrize("source", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_notebook_outputs_hold_no_warning_and_no_machine_path(smoke_book, source):
    """What the page shows: no "TqdmWarning: IProgress not found", no /root/..., /tmp/... or repository path,
    no claim row displayed as a raw dict."""
    if smoke_book.execute(source).status != "ok":
        pytest.skip("the notebook did not run (see test_notebook_runs_in_smoke_profile)")
    executed = nbformat.read(smoke_book.copy_of(source).with_suffix(".ipynb"), as_version=4)
    found = unclean_outputs(executed, machine_paths(smoke_book.root))
    assert not found, "outputs a reader should not see:\n" + "\n".join(found)


def test_unclean_outputs_are_found():
    cell = nbformat.v4.new_code_cell("", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="x.py:3: TqdmWarning: IProgress not found.\n"),
        nbformat.v4.new_output("stream", name="stderr", text="100%|##########| 3/3\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": f"PosixPath('{ROOT}/_build/cache/a.pt')"}),
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>", "image/png": "/tmp/not-text"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "{'id': 'a', 'expected_cause': ''}"}),
    ])
    found = unclean_outputs(nbformat.v4.new_notebook(cells=[cell]), machine_paths(ROOT / "_build" / "x"))
    assert len(found) == 3 and "TqdmWarning" in found[0] and str(ROOT) in found[1] and "raw row" in found[2]


@pytest.mark.book
def test_book_builds_with_warnings_as_errors(smoke_book):
    missing = [s for s in NOTEBOOKS if smoke_book.execute(s).status != "ok"]
    assert not missing, f"notebooks that did not run: {[str(s.relative_to(ROOT)) for s in missing]}"
    result = smoke_book.build()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = smoke_book.html
    assert smoke_book.report_page.is_file()
    assert (html / "index.html").is_file() and (html / "book" / "report.html").is_file()
    document = smoke_book.root / "book" / "report" / "metric-as-transform.md"
    assert "A.2.3.centres-inside" in document.read_text()
    assert "A.2.3.centres-inside" in (html / "book" / "report" / "metric-as-transform.html").read_text()
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
    notebook = jupytext.read(source)  # what `jupytext --to ipynb` makes of the source (README)
    notebook.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    jupytext.write(notebook, source.with_suffix(".ipynb"))
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


def test_papermill_override_is_applied_and_marked(tmp_path):
    result, executed = papermill(tmp_path, "-p", "profile", "smoke", "-p", "trials", "7")
    assert result.returncode == 0, result.stderr[-3000:]
    printed = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                      for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "trials" in printed and "7   (override)" in printed
