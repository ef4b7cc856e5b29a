"""The report counts only document claims, lists each differs with its cause, tracks verdict changes, and the
figure index is read from the notebooks' glue figures."""
import json

import nngeom
from nngeom.book import figures, ledger, report
from tests.test_runner import HEADER

PROFILES = {"smoke": {"k": 1}, "cpu": {"k": 2}, "paper": {"k": 3}}


def record(root, monkeypatch):
    monkeypatch.setenv("NNGEOM_LEDGER_DIR", str(root / "_build" / "claims"))
    ledger.start(nngeom.settings(PROFILES, {"profile": "cpu", "k": None}, section="metric-as-transform/nb",
                                 show=False))
    nngeom.claim("D.ok", "holds", ours=1, check=nngeom.holds(True), source="sec. 2, Table 1")
    nngeom.claim("D.bad", "fails", ours=1, check=nngeom.holds(False), source="sec. 2", cause="scale: 5 epochs")
    nngeom.claim("D.code", "from code", ours=0.5, paper=0.52, check=nngeom.holds(True), source="authors' code: x")
    nngeom.claim("C.id", "identity", ours=1, check=nngeom.holds(True), kind="check")


def test_counts_causes_and_snapshot(tmp_path, monkeypatch):
    record(tmp_path, monkeypatch)
    rows = ledger.load_all(tmp_path)
    assert report.counts(rows) == {"reproduced": 1, "differs": 1, "not judged": 0, "checks": 1, "other origin": 1}
    report.write(tmp_path, "cpu")
    front = (tmp_path / "book" / "report.md").read_text()
    # raw HTML links: a Markdown link to an .html page is an unresolvable myst cross-reference under -W
    assert "<code>D.bad</code></a>" in front and ".html#" in front and "](../" not in front and "scale: 5 epochs" in front and "50% of 2 judged" in front
    page = (tmp_path / "book" / "report" / "metric-as-transform.md").read_text()
    assert page.index("Differs (1)") < page.index("Reproduced (1)") < page.index("Checks of the book")
    assert "#claim-d-bad" in page
    report.write_snapshot(tmp_path, "cpu")
    snapshot = tmp_path / "book" / "verdicts-cpu.json"
    data = json.loads(snapshot.read_text())
    data["metric-as-transform/nb::D.ok"] = "differs"
    snapshot.write_text(json.dumps(data))
    changes = report.snapshot_changes(tmp_path, ledger.load_all(tmp_path), "cpu")
    assert changes == ["metric-as-transform/nb::D.ok: differs -> reproduced"]


def test_figure_index_reads_glue_figures(tmp_path):
    (tmp_path / "notebooks" / "metric-as-transform").mkdir(parents=True)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                       "  - file: notebooks/metric-as-transform/s9\n")
    (tmp_path / "notebooks" / "metric-as-transform" / "s9.py").write_text(HEADER + '''
# %%
import matplotlib.pyplot as plt
from myst_nb import glue
from nngeom.metric import voronoi
labels = voronoi.distance_regions(None, None)
fig = plt.figure()
glue("s9-regions", fig, display=False)

# %% [markdown]
# ```{glue:figure} s9-regions
# :name: fig-s9-regions
#
# Recomputes Figure 3 and Table 2 of the document: the cells of $\\ell^2$ centres. Look for the borders.
# ```
''')
    (row,) = figures.figure_index(tmp_path, "metric-as-transform")
    assert row["document_refs"] == ["Fig. 3", "Table 2"] and row["functions"] == ["metric.voronoi.distance_regions"]
    assert "Recomputes Figure 3" in figures.render([row], "metric-as-transform")
