"""Shared fixtures: the project root, data only from the offline folder CI provides, and the smoke book.

The smoke book is one temporary copy of the book per test session: tests/test_notebooks.py executes its notebooks
in the smoke profile and builds it with warnings as errors; tests/test_browser.py opens that same build in
headless Chromium. Tests marked ``reader`` (they read that build) run last, after the notebooks were executed.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
COPIED = ["_config.yml", "_toc.yml", "_static", "book", "notebooks"]
GENERATED = ["*.ipynb", "report.md", "report", "generated", "_build"]  # made by a run, never copied


def copy_book(target: Path) -> Path:
    """A copy of the book's sources (no executed notebooks, no generated report) under ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(*GENERATED))
        else:
            shutil.copy2(source, target / name)
    return target


class SmokeBook:
    """The session's copy of the book: each notebook executed once in the smoke profile, the HTML built once."""

    def __init__(self, root: Path):
        self.root = root
        self.outcomes: dict[Path, object] = {}
        self._build: subprocess.CompletedProcess | None = None
        self.report_page: Path | None = None

    def copy_of(self, source: Path) -> Path:
        return self.root / source.relative_to(ROOT)

    def execute(self, source: Path):
        """The outcome of executing ``source`` (a notebook of the real book) in the copy; runs it the first time."""
        from nngeom.book import runner

        if source not in self.outcomes:
            self.outcomes[source] = runner.run(self.root, [self.copy_of(source)], "smoke", {}, force=True,
                                               progress=False)[0]
        return self.outcomes[source]

    def build(self) -> subprocess.CompletedProcess:
        """``jupyter-book build --warningiserror`` of the copy, once, after every notebook of _toc.yml was run."""
        from nngeom.book import report, runner

        if self._build is None:
            for source in runner.toc_notebooks(ROOT):
                self.execute(source)
            self.report_page = report.write(self.root, "smoke")
            self._build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build",
                                          str(self.root), "--warningiserror", "--keep-going"],
                                         capture_output=True, text=True)
        return self._build

    @property
    def html(self) -> Path:
        return self.root / "_build" / "html"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> SmokeBook:
    return SmokeBook(copy_book(tmp_path_factory.mktemp("smoke-book")))


@pytest.fixture(autouse=True)
def _isolated_build(tmp_path, monkeypatch):
    """Unit tests write claims and caches under a temporary root, never into the real _build."""
    monkeypatch.setenv("NNGEOM_ROOT", str(tmp_path / "book-root"))
    yield


def pytest_collection_modifyitems(config, items):
    """Reader tests last: they read the smoke book that the notebook tests executed and built."""
    items.sort(key=lambda item: item.get_closest_marker("reader") is not None)
