"""Execute the book's notebooks: jupytext pairing, papermill execution, skipping, timings.

``python -m nngeom run [--profile P] [--jobs N] [--shard i/n] [notebooks...] [-p name value ...]``

For every notebook (default: every ``notebooks/...`` entry of ``_toc.yml``) the
percent-format ``.py`` source is paired to its ``.ipynb`` and executed in place
by papermill with ``profile`` and the ``-p`` overrides. A notebook is skipped
when its last successful run used the same profile, overrides, source and
``nngeom`` sources (a stamp in ``_build/stamps``). A failing notebook keeps its
partial output; the others still run; the command then exits non-zero and lists
the failures. Wall times go to a table and to ``_build/timings-<profile>.csv``.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from .cache import source_hash
from .profiles import PROFILE_NAMES


@dataclass
class Outcome:
    notebook: str
    status: str  # "ok", "skipped", "failed"
    seconds: float
    message: str = ""


def toc_notebooks(root: Path) -> list[Path]:
    """Sources (``.py``) of every ``notebooks/`` entry of ``_toc.yml``, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found: list[Path] = []

    def walk(node):
        if isinstance(node, dict):
            entry = node.get("file")
            if isinstance(entry, str) and entry.startswith("notebooks/"):
                found.append(root / (entry.removesuffix(".ipynb") + ".py"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    return found


def resolve(root: Path, names: list[str]) -> list[Path]:
    """Notebook sources named on the command line (``.py``, ``.ipynb`` or stem; relative to root or cwd)."""
    sources = []
    for name in names:
        path = Path(name)
        candidates = [path, root / path]
        hit = None
        for candidate in candidates:
            stem = candidate.with_suffix("") if candidate.suffix in {".py", ".ipynb"} else candidate
            if stem.with_suffix(".py").is_file():
                hit = stem.with_suffix(".py").resolve()
                break
        if hit is None:
            raise SystemExit(f"no notebook source {name!r} (looked for {path.with_suffix('.py')} under {root})")
        sources.append(hit)
    return sources


def section_of(root: Path, source: Path) -> str:
    """``<document>/<notebook stem>`` of a source under ``notebooks/``."""
    relative = source.resolve().relative_to((root / "notebooks").resolve())
    return str(relative.with_suffix(""))


def stamp_path(root: Path, source: Path) -> Path:
    return root / "_build" / "stamps" / (section_of(root, source) + ".json")


def fingerprint(source: Path, profile: str, parameters: dict) -> dict:
    return {
        "profile": profile,
        "parameters": parameters,
        "source": hashlib.sha256(source.read_bytes()).hexdigest(),
        "package": source_hash(),
    }


def is_current(root: Path, source: Path, print_: dict) -> bool:
    stamp = stamp_path(root, source)
    if not stamp.is_file() or not source.with_suffix(".ipynb").is_file():
        return False
    saved = json.loads(stamp.read_text())
    return saved.get("status") == "ok" and all(saved.get(k) == v for k, v in print_.items())


def pair(source: Path) -> Path:
    """Write the ``.ipynb`` paired with a percent-format ``.py`` (outputs are produced by execution)."""
    import jupytext

    notebook = jupytext.read(source)
    notebook.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    target = source.with_suffix(".ipynb")
    jupytext.write(notebook, target)
    return target


def execute(root: str, source: str, profile: str, parameters: dict, progress: bool) -> Outcome:
    """Pair and execute one notebook in place; write its stamp on success."""
    import papermill

    root_path, source_path = Path(root), Path(source)
    section = section_of(root_path, source_path)
    os.environ["NNGEOM_ROOT"] = str(root_path)
    os.environ["NNGEOM_SECTION"] = section
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    print_ = fingerprint(source_path, profile, parameters)
    start = time.perf_counter()
    try:
        target = pair(source_path)
        papermill.execute_notebook(
            str(target), str(target), parameters={"profile": profile, **parameters},
            cwd=str(source_path.parent), kernel_name="python3", progress_bar=progress,
            request_save_on_cell_execute=True,
        )
    except Exception as error:  # papermill raises PapermillExecutionError with the cell's traceback
        seconds = time.perf_counter() - start
        stamp = stamp_path(root_path, source_path)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({**print_, "status": "failed", "seconds": seconds}))
        summary = str(error).strip().splitlines()
        return Outcome(section, "failed", seconds, summary[-1] if summary else type(error).__name__)
    seconds = time.perf_counter() - start
    stamp = stamp_path(root_path, source_path)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({**print_, "status": "ok", "seconds": seconds}))
    return Outcome(section, "ok", seconds)


def parse_value(text: str):
    """A ``-p`` value as papermill's YAML-like parsing would read it (int, float, bool, list, str)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if value is None and text.lower() not in {"null", "none", "~"} else value


def run(root: Path, sources: list[Path], profile: str, parameters: dict, jobs: int = 1,
        force: bool = False, progress: bool = True) -> list[Outcome]:
    """Execute (or skip) each notebook; returns outcomes in the given order and writes the timings CSV."""
    outcomes: dict[Path, Outcome] = {}
    pending = []
    for source in sources:
        if not force and is_current(root, source, fingerprint(source, profile, parameters)):
            saved = json.loads(stamp_path(root, source).read_text())
            outcomes[source] = Outcome(section_of(root, source), "skipped", float(saved.get("seconds", 0.0)),
                                       "unchanged since its last run")
            print(f"[skip] {section_of(root, source)} (unchanged since its last {profile} run)", flush=True)
        else:
            pending.append(source)
    total = len(pending)
    if jobs <= 1:
        for index, source in enumerate(pending, 1):
            print(f"[{index}/{total}] running {section_of(root, source)} ({profile})", flush=True)
            outcomes[source] = execute(str(root), str(source), profile, parameters, progress)
            _report_one(outcomes[source])
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {source: pool.submit(execute, str(root), str(source), profile, parameters, False)
                       for source in pending}
            for index, (source, future) in enumerate(futures.items(), 1):
                outcomes[source] = future.result()
                print(f"[{index}/{total}] ", end="")
                _report_one(outcomes[source])
    ordered = [outcomes[s] for s in sources]
    write_timings(root, profile, ordered)
    return ordered


def _report_one(outcome: Outcome) -> None:
    detail = f": {outcome.message}" if outcome.message else ""
    print(f"  {outcome.status:<7} {outcome.notebook} in {outcome.seconds:.1f} s{detail}", flush=True)


def write_timings(root: Path, profile: str, outcomes: list[Outcome]) -> Path:
    """Merge this run's wall times into ``_build/timings-<profile>.csv`` (one row per notebook)."""
    path = root / "_build" / f"timings-{profile}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict] = {}
    if path.is_file():
        with path.open() as handle:
            rows = {row["notebook"]: row for row in csv.DictReader(handle)}
    for outcome in outcomes:
        rows[outcome.notebook] = {"notebook": outcome.notebook, "status": outcome.status,
                                  "seconds": f"{outcome.seconds:.1f}"}
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["notebook", "status", "seconds"])
        writer.writeheader()
        writer.writerows(rows.values())
    return path


def print_table(outcomes: list[Outcome]) -> None:
    width = max([len(o.notebook) for o in outcomes] + [8])
    print(f"\n{'notebook':<{width}}  {'status':<8} {'wall s':>8}")
    for outcome in outcomes:
        print(f"{outcome.notebook:<{width}}  {outcome.status:<8} {outcome.seconds:>8.1f}")
    ran = sum(o.seconds for o in outcomes if o.status != "skipped")
    print(f"{'total executed':<{width}}  {'':<8} {ran:>8.1f}")


def shard(sources: list[Path], spec: str | None) -> list[Path]:
    """The i-th of n interleaved shards (``spec`` = "i/n", 1-based)."""
    if not spec:
        return sources
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise SystemExit(f"--shard must look like i/n (e.g. 2/4), got {spec!r}") from None
    if not 1 <= index <= count:
        raise SystemExit(f"--shard {spec}: need 1 <= i <= n")
    return sources[index - 1::count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nngeom run", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook sources (default: every notebook in _toc.yml)")
    parser.add_argument("--profile", default="cpu", choices=PROFILE_NAMES)
    parser.add_argument("--jobs", type=int, default=1, help="notebooks executed in parallel")
    parser.add_argument("--shard", help="run only shard i of n (i/n), for a matrix of runners")
    parser.add_argument("--root", default=None, help="book root (default: nearest folder with _toc.yml)")
    parser.add_argument("--force", action="store_true", help="execute even when nothing changed")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="parameter override passed to every notebook")
    args = parser.parse_args(argv)
    from .runtime import project_root

    root = Path(args.root).resolve() if args.root else project_root()
    if not (root / "_toc.yml").is_file():
        raise SystemExit(f"no _toc.yml in {root}: run from the book's root or pass --root")
    if args.jobs < 1:
        raise SystemExit("--jobs must be >= 1")
    parameters = {name: parse_value(value) for name, value in args.parameter}
    if "profile" in parameters:
        raise SystemExit("use --profile, not -p profile")
    sources = resolve(root, args.notebooks) if args.notebooks else toc_notebooks(root)
    sources = shard(sources, args.shard)
    outcomes = run(root, sources, args.profile, parameters, jobs=args.jobs, force=args.force,
                   progress=sys.stderr.isatty())
    print_table(outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        print("\nFAILED notebooks (their partial output is kept in the .ipynb):", file=sys.stderr)
        for outcome in failed:
            print(f"  - {outcome.notebook}: {outcome.message}", file=sys.stderr)
        return 1
    return 0
