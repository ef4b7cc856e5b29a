"""The runner: executes into a temporary notebook, skips what is current, re-renders Markdown edits, keeps runs
with overrides apart, leaves nothing corrupt behind a failure, and the report marks what is not current."""
import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from nngeom.book import execution, imports, report, runner

HEADER = """# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""
GOOD = HEADER + '''
# %% [markdown]
# # Good

# %% tags=["parameters"]
profile = "cpu"
k = None

# %%
import nngeom
PROFILES = {"smoke": {"k": 1}, "cpu": {"k": 2}, "paper": {"k": 3}}
S = nngeom.settings(PROFILES, globals(), section="doc/good")

# %%
nngeom.claim("T.k", "k is positive", ours=S.k, check=nngeom.holds(S.k >= 1), kind="check")
'''
BAD = HEADER + '''
# %% [markdown]
# # Bad

# %% tags=["parameters"]
profile = "cpu"

# %%
print("partial output survives")

# %%
raise RuntimeError("this notebook fails on purpose")
'''


@pytest.fixture
def book(tmp_path):
    (tmp_path / "notebooks" / "doc").mkdir(parents=True)
    (tmp_path / "notebooks" / "doc" / "good.py").write_text(GOOD)
    (tmp_path / "notebooks" / "doc" / "bad.py").write_text(BAD)
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/doc/good\n  - file: notebooks/doc/bad\n")
    return tmp_path


def ledger_of(book: Path) -> dict:
    return json.loads((book / "_build" / "claims" / "doc" / "good.json").read_text())


def test_toc_order_and_shards_by_document(book, tmp_path):
    sources = runner.toc_notebooks(book)
    assert [s.name for s in sources] == ["good.py", "bad.py"]
    many = [Path(f"/b/notebooks/{doc}/{n}.py") for doc in ("a", "b", "c") for n in ("x", "y")]
    assert [str(p) for p in runner.shard(many, "2/2")] == ["/b/notebooks/b/x.py", "/b/notebooks/b/y.py"]
    assert {p.parent.name for p in runner.shard(many, "1/2")} == {"a", "c"}
    with pytest.raises(SystemExit, match="i/n"):
        runner.shard(sources, "two")


def test_run_skip_fail_and_timings(book, capsys):
    code = runner.main(["--root", str(book), "--profile", "smoke"])
    assert code == 1
    err = capsys.readouterr().err
    assert "doc/bad" in err and "fails on purpose" in err
    kept = nbformat.read(book / "_build" / "failed" / "doc" / "bad.ipynb", as_version=4)
    outputs = [o.get("text", "") for cell in kept.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert any("partial output survives" in text for text in outputs)
    assert not (book / "notebooks" / "doc" / "bad.ipynb").exists()  # a failure never becomes the book's page
    assert ledger_of(book)["profile"] == "smoke" and ledger_of(book)["claims"][0]["ours"] == 1
    with (book / "_build" / "timings-smoke.csv").open() as handle:
        rows = {r["notebook"]: r["status"] for r in csv.DictReader(handle)}
    assert rows == {"doc/good": "ok", "doc/bad": "failed"}
    good = book / "notebooks/doc/good.py"
    assert runner.run(book, [good], "smoke", {}, progress=False)[0].status == "skipped"
    assert runner.run(book, [good], "cpu", {}, progress=False)[0].status == "ok"
    assert ledger_of(book)["claims"][0]["ours"] == 2


def test_markdown_edit_rerenders_and_code_edit_executes(book):
    good = book / "notebooks/doc/good.py"
    runner.run(book, [good], "smoke", {}, progress=False)
    good.write_text(GOOD.replace("# # Good", "# # Good, retitled"))
    outcome = runner.run(book, [good], "smoke", {}, progress=False)[0]
    assert outcome.status == "rendered"
    page = nbformat.read(good.with_suffix(".ipynb"), as_version=4)
    assert page.cells[0].source == "# Good, retitled"
    assert any(o.get("text", "").startswith("[not judged") for c in page.cells for o in c.get("outputs", []))
    assert runner.run(book, [good], "smoke", {}, progress=False)[0].status == "skipped"
    good.write_text(GOOD.replace("k is positive", "k is at least one"))
    assert runner.run(book, [good], "smoke", {}, progress=False)[0].status == "ok"
    assert ledger_of(book)["claims"][0]["statement"] == "k is at least one"


def test_overrides_run_apart_from_the_book(book):
    good = book / "notebooks/doc/good.py"
    runner.run(book, [good], "cpu", {}, progress=False)
    page = good.with_suffix(".ipynb").read_bytes()
    outcome = runner.run(book, [good], "cpu", {"k": 5}, progress=False)[0]
    assert outcome.status == "ok" and outcome.where.startswith("_build/runs/cpu/doc/good-")
    run = book / outcome.where
    assert json.loads((run / "claims" / "doc" / "good.json").read_text())["claims"][0]["ours"] == 5
    assert (run / "good.ipynb").is_file() and good.with_suffix(".ipynb").read_bytes() == page
    assert ledger_of(book)["claims"][0]["ours"] == 2
    assert runner.run(book, [good], "cpu", {}, progress=False)[0].status == "skipped"


def test_a_killed_kernel_leaves_the_book_as_it_was(book):
    good = book / "notebooks/doc/good.py"
    runner.run(book, [good], "smoke", {}, progress=False)
    page, claims = good.with_suffix(".ipynb").read_bytes(), ledger_of(book)
    good.write_text(GOOD + "\n# %%\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    outcome = runner.run(book, [good], "smoke", {}, progress=False)[0]
    assert outcome.status == "failed"
    assert good.with_suffix(".ipynb").read_bytes() == page and ledger_of(book) == claims
    assert json.loads(execution.stamp_path(book, good).read_text())["status"] == "failed"
    assert report.section_status(book, "smoke")["doc/good"] == "failed"


def test_damaged_stamp_or_page_means_rerun(book):
    good = book / "notebooks/doc/good.py"
    runner.run(book, [good], "smoke", {}, progress=False)
    execution.stamp_path(book, good).write_text('{"status": "o')
    assert runner.run(book, [good], "smoke", {}, progress=False)[0].status == "ok"
    good.with_suffix(".ipynb").write_text("{}")
    assert runner.run(book, [good], "smoke", {}, progress=False)[0].status == "ok"


def test_parallel_jobs_run_in_their_own_processes(book):
    outcomes = runner.run(book, runner.toc_notebooks(book), "smoke", {}, jobs=2, progress=False)
    assert [o.status for o in outcomes] == ["ok", "failed"] and ledger_of(book)["claims"]


def test_a_library_edit_reruns_only_the_notebooks_that_import_it(tmp_path, monkeypatch):
    package = tmp_path / "nngeom"
    shutil.copytree(imports.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(imports, "PACKAGE_DIR", package)
    uses_voronoi = imports.notebook_modules("import nngeom\nfrom nngeom.metric import voronoi\n")
    plain = imports.notebook_modules("import nngeom\nx = nngeom.device()\n")
    before = imports.closure_hash(uses_voronoi), imports.closure_hash(plain)
    (package / "metric" / "voronoi.py").write_text((package / "metric" / "voronoi.py").read_text() + "\n# edited\n")
    (package / "book" / "report.py").write_text((package / "book" / "report.py").read_text() + "\n# edited\n")
    after = imports.closure_hash(uses_voronoi), imports.closure_hash(plain)
    assert after[0] != before[0] and after[1] == before[1]
    names = {p.name for p in imports.closure(plain)}
    assert "report.py" not in names and "runner.py" not in names and "ledger.py" in names


def test_a_notebooks_library_includes_what_its_cells_import(book):
    """The code text the runner hashes must parse, or every notebook would depend on the package root only (a
    submodule edit, e.g. of `robustness/causes.py`, would then rerun nothing)."""
    good = book / "notebooks/doc/good.py"
    good.write_text(GOOD + "\n# %%\nfrom nngeom.metric import voronoi\n")
    modules = imports.notebook_modules(execution.code_text(good))
    assert "nngeom.metric.voronoi" in modules
    assert any(p.name == "voronoi.py" for p in imports.closure(modules))


def test_report_marks_stale_claims_and_other_profiles(book):
    good = book / "notebooks/doc/good.py"
    runner.run(book, [good], "smoke", {}, progress=False)
    good.write_text(GOOD + "\n# %%\nprint('new code')\n")
    assert report.section_status(book, "cpu")["doc/good"] == "stale"
    page = (book / "book" / "report" / "doc.md")
    report.write(book, "cpu")
    text = page.read_text() if page.exists() else ""
    overview = (book / "book" / "report.md").read_text()
    assert "not current" in overview and "doc/good (stale)" in overview
    assert "T.k" in (book / "book" / "generated" / "ledger.csv").read_text()
    assert text == "" or "stale" in text


def test_wrong_override_type_fails_in_the_settings_cell(book):
    outcome = runner.run(book, [book / "notebooks/doc/good.py"], "cpu", {"k": "many"}, progress=False)[0]
    assert outcome.status == "failed"
    executed = nbformat.read(book / "_build" / "failed" / "doc" / "good.ipynb", as_version=4)
    errors = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "ParameterError" and "must be int" in errors[0]["evalue"]


@pytest.mark.parametrize("text,value", [("3", 3), ("0.5", 0.5), ("True", True), ("[5, 10]", [5, 10]),
                                        ("abc", "abc")])
def test_parse_value_like_papermill(text, value):
    assert runner.parse_value(text) == value


def test_unknown_notebook_is_a_clear_error(book):
    with pytest.raises(SystemExit, match="no notebook source"):
        runner.resolve(Path(book), ["notebooks/doc/missing.py"])
