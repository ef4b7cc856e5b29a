"""Shared fixtures: the project root, data only from the offline folder CI provides, and the smoke book.

The smoke book is one temporary copy of the book per test session: tests/test_notebooks.py executes its notebooks
in the smoke profile and builds it with warnings as errors; tests/test_browser.py opens that same build in
headless Chromium. The notebooks and the build run in a background process (tests/smoke_worker.py) started at
collection, so they use the second core while the unit tests run; the tests of the smoke book come after the unit
tests, and tests marked ``reader`` (they read the build) last.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
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
    """The session's copy of the book: each notebook executed once in the smoke profile, the HTML built once.

    The notebooks run in the background (tests/smoke_worker.py, started when the session's tests are collected),
    while the unit tests run in the pytest process; a test that needs a notebook or the build waits for it.
    They run with ``$NNGEOM_DEVICE_CHECK`` set: `nngeom.book.device_check` records every operation that would mix
    a tensor of the compute device with a CPU tensor on a GPU (`device_findings`).
    """

    POLL_SECONDS = 0.5

    def __init__(self, root: Path):
        self.root = root
        self.outcomes: dict[Path, object] = {}
        self._build: subprocess.CompletedProcess | None = None
        self.report_page: Path | None = None
        self._worker: subprocess.Popen | None = None
        self._queued: set[Path] = set()
        self._log = root / "_build" / "smoke-worker.jsonl"
        self._read = 0

    def copy_of(self, source: Path) -> Path:
        return self.root / source.relative_to(ROOT)

    @property
    def device_log(self) -> Path:
        """What the device check recorded (JSON lines): operations that would mix devices on a GPU."""
        return self.root / "_build" / "device-check.jsonl"

    def device_findings(self, source: Path) -> list[dict]:
        """The device check's findings in ``source``'s smoke run (after it ran)."""
        from nngeom.book.execution import section_of

        section = section_of(self.root, self.copy_of(source))
        lines = self.device_log.read_text().splitlines() if self.device_log.is_file() else []
        return [entry for entry in map(json.loads, lines) if entry["section"] == section]

    def start(self, sources: list[Path], build: bool) -> None:
        """Execute ``sources`` (notebooks of the real book) in the background, then build the HTML if ``build``."""
        self._log.parent.mkdir(parents=True, exist_ok=True)
        self._queued = set(sources)
        self._building = build
        self.device_log.unlink(missing_ok=True)
        env = {**os.environ, "NNGEOM_DEVICE_CHECK": str(self.device_log)}  # nngeom.book.device_check
        self._worker = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "smoke_worker.py"), str(self.root), str(self._log),
             "build" if build else "no-build", *[str(self.copy_of(s)) for s in sources]],
            stdout=subprocess.DEVNULL, stderr=(self.root / "_build" / "smoke-worker.err").open("w"), env=env)

    def stop(self) -> None:
        if self._worker is not None and self._worker.poll() is None:
            self._worker.terminate()
            self._worker.wait(timeout=30)

    def _collect(self) -> None:
        if not self._log.is_file():
            return
        from nngeom.book.execution import RunOutcome

        lines = self._log.read_text().splitlines()
        complete = lines if self._log.read_text().endswith("\n") else lines[:-1]
        for line in complete[self._read:]:
            entry = json.loads(line)
            if "build" in entry:
                self._build = subprocess.CompletedProcess([], entry["build"], entry["stdout"], entry["stderr"])
                self.report_page = Path(entry["report_page"])
            else:
                source = ROOT / Path(entry.pop("source")).relative_to(self.root)
                self.outcomes[source] = RunOutcome(**entry)
        self._read = len(complete)

    def _wait(self, ready) -> None:
        while True:
            self._collect()
            if ready():
                return
            if self._worker is None or self._worker.poll() is not None:
                self._collect()
                if ready():
                    return
                error = (self.root / "_build" / "smoke-worker.err")
                tail = error.read_text()[-3000:] if error.is_file() else ""
                raise RuntimeError(f"the background smoke run ended without this result:\n{tail}")
            time.sleep(self.POLL_SECONDS)

    def execute(self, source: Path):
        """The outcome of executing ``source`` (a notebook of the real book) in the copy."""
        if source not in self._queued:  # not started with the session (e.g. a test calling it directly)
            from nngeom.book import runner

            self.outcomes[source] = runner.run(self.root, [self.copy_of(source)], "smoke", {}, force=True,
                                               progress=False)[0]
            self._queued.add(source)
        self._wait(lambda: source in self.outcomes)
        return self.outcomes[source]

    def build(self) -> subprocess.CompletedProcess:
        """``jupyter-book build --warningiserror`` of the copy, once, after every notebook of _toc.yml was run."""
        from nngeom.book import runner

        if self._build is None and not (self._worker is not None and self._building):
            from tests.smoke_worker import build_book

            for source in runner.toc_notebooks(ROOT):
                self.execute(source)
            self._build, self.report_page = build_book(self.root)
        self._wait(lambda: self._build is not None)
        return self._build

    @property
    def html(self) -> Path:
        return self.root / "_build" / "html"


SMOKE_BOOK = pytest.StashKey[SmokeBook]()


def _smoke_book(config) -> SmokeBook:
    if SMOKE_BOOK not in config.stash:
        config.stash[SMOKE_BOOK] = SmokeBook(copy_book(config._tmp_path_factory.mktemp("smoke-book")))
    return config.stash[SMOKE_BOOK]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def smoke_book(request) -> SmokeBook:
    return _smoke_book(request.config)


@pytest.fixture(autouse=True)
def _isolated_build(tmp_path, monkeypatch):
    """Unit tests write claims and caches under a temporary root, never into the real _build."""
    monkeypatch.setenv("NNGEOM_ROOT", str(tmp_path / "book-root"))
    yield


def _uses_smoke_book(item) -> bool:
    return "smoke_book" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config, items):
    """Tests of the smoke book after the unit tests, reader tests last; start the smoke book's notebooks now.

    The notebooks then run in the background while the unit tests run, and a test of the smoke book waits only
    for the notebook it reads. Only the notebooks the selected tests need are run; all of them, and the build,
    when a selected test reads the built book.
    """
    items.sort(key=lambda item: (item.get_closest_marker("reader") is not None, _uses_smoke_book(item)))
    users = [item for item in items if _uses_smoke_book(item)]
    if not users or config.option.collectonly:
        return
    from nngeom.book import runner

    notebooks = runner.toc_notebooks(ROOT)
    chosen = {item.callspec.params["source"] for item in users
              if hasattr(item, "callspec") and "source" in item.callspec.params}
    whole = any(not (hasattr(item, "callspec") and "source" in item.callspec.params) for item in users)
    _smoke_book(config).start([s for s in notebooks if whole or s in chosen], build=whole)


def pytest_unconfigure(config):
    if SMOKE_BOOK in config.stash:
        config.stash[SMOKE_BOOK].stop()
