"""The runner pairs, executes, skips unchanged notebooks, keeps partial output of failures and records timings."""
import csv
import json
from pathlib import Path

import nbformat
import pytest

from nngeom import report, runner

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
nngeom.claim("T.k", "k is positive", ours=S.k, check=nngeom.at_least(1))
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
def book(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "source_hash", lambda: "fixed library version")
    (tmp_path / "notebooks" / "doc").mkdir(parents=True)
    (tmp_path / "notebooks" / "doc" / "good.py").write_text(GOOD)
    (tmp_path / "notebooks" / "doc" / "bad.py").write_text(BAD)
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/doc/good\n  - file: notebooks/doc/bad\n")
    return tmp_path


def test_toc_order_and_shards(book):
    sources = runner.toc_notebooks(book)
    assert [s.name for s in sources] == ["good.py", "bad.py"]
    assert [s.name for s in runner.shard(sources, "2/2")] == ["bad.py"]
    with pytest.raises(SystemExit, match="i/n"):
        runner.shard(sources, "two")


def test_run_skip_fail_and_timings(book, capsys):
    code = runner.main(["--root", str(book), "--profile", "smoke"])
    assert code == 1
    err = capsys.readouterr().err
    assert "doc/bad" in err and "fails on purpose" in err
    executed = nbformat.read(book / "notebooks" / "doc" / "bad.ipynb", as_version=4)
    outputs = [o.get("text", "") for cell in executed.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert any("partial output survives" in text for text in outputs)
    claims = json.loads((book / "_build" / "claims" / "doc" / "good.json").read_text())
    assert claims["profile"] == "smoke" and claims["claims"][0]["ours"] == 1
    with (book / "_build" / "timings-smoke.csv").open() as handle:
        rows = {r["notebook"]: r["status"] for r in csv.DictReader(handle)}
    assert rows == {"doc/good": "ok", "doc/bad": "failed"}

    outcomes = runner.run(book, [book / "notebooks/doc/good.py"], "smoke", {}, progress=False)
    assert outcomes[0].status == "skipped"
    outcomes = runner.run(book, [book / "notebooks/doc/good.py"], "cpu", {}, progress=False)
    assert outcomes[0].status == "ok"
    outcomes = runner.run(book, [book / "notebooks/doc/good.py"], "cpu", {"k": 5}, progress=False)
    assert outcomes[0].status == "ok"
    claims = json.loads((book / "_build" / "claims" / "doc" / "good.json").read_text())
    assert claims["claims"][0]["ours"] == 5
    (book / "notebooks/doc/good.py").write_text(GOOD + "\n# %%\nprint('changed')\n")
    outcomes = runner.run(book, [book / "notebooks/doc/good.py"], "cpu", {"k": 5}, progress=False)
    assert outcomes[0].status == "ok"

    page = report.write(book).read_text()
    assert "`T.k`" in page and "| cpu | doc/good | ok |" in page and "| smoke | doc/bad | failed |" in page


def test_wrong_override_type_fails_in_the_settings_cell(book):
    outcome = runner.run(book, [book / "notebooks/doc/good.py"], "cpu", {"k": "many"}, progress=False)[0]
    assert outcome.status == "failed"
    executed = nbformat.read(book / "notebooks" / "doc" / "good.ipynb", as_version=4)
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
