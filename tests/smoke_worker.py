"""Executes the smoke book in the background of a test session (started by tests/conftest.py).

    python tests/smoke_worker.py ROOT OUTCOMES {build|no-build} NOTEBOOK...

Runs each notebook (a path under ROOT) in the smoke profile, in the order given, and appends its outcome to
OUTCOMES (JSON lines) as soon as it is known, so that a test waiting for one notebook starts as early as possible.
With ``build``, it then writes the report and builds the HTML book with warnings as errors, and appends the
build's result. The tests read these lines; the unit tests run meanwhile in the pytest process, so both cores
work.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path


def append(outcomes: Path, entry: dict) -> None:
    with outcomes.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")


def build_book(root: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """The smoke report, then ``jupyter-book build --warningiserror`` of ``root``: (the build, the report page)."""
    from nngeom.book import report

    report_page = report.write(root, "smoke")
    done = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(root),
                           "--warningiserror", "--keep-going"], capture_output=True, text=True)
    return done, report_page


def main(argv: list[str]) -> int:
    from nngeom.book import runner

    root, outcomes, build, sources = Path(argv[0]), Path(argv[1]), argv[2] == "build", [Path(a) for a in argv[3:]]
    for source in sources:
        outcome = runner.run(root, [source], "smoke", {}, force=True, progress=False, timings_name="tests")[0]
        append(outcomes, {"source": str(source), **asdict(outcome)})
    if build:
        done, report_page = build_book(root)
        append(outcomes, {"build": done.returncode, "stdout": done.stdout[-8000:], "stderr": done.stderr[-8000:],
                          "report_page": str(report_page)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
