"""Execute the book's notebooks incrementally: ``python -m nngeom run``.

``python -m nngeom run [--profile P] [--jobs N] [--shard i/n] [--force] [notebooks...] [-p name value ...]``

For every notebook (default: every ``notebooks/...`` entry of ``_toc.yml``) the
runner decides from its stamp (`execution.is_current`) whether to skip it,
re-render it (only Markdown changed) or execute it (`execution.execute`).
Failing notebooks keep their partial output in ``_build/failed/``; the others
still run; the command then exits non-zero and lists the failures. ``--jobs N``
executes N notebooks at once, each in its own process with cores / N threads;
a worker killed (for memory, say) is that notebook's failure. ``--shard i/n``
runs the i-th of n groups of whole documents (a document's notebooks share
trained models, so they stay on one machine). Wall times go to
``_build/timings-<profile>[-shard-i-of-n].csv``. Ctrl-C stops with one line.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from .execution import (
    RunOutcome, execute, fingerprint, is_current, rerender, section_of, sha256, stamp_path, write_json,
)
from .settings import PROFILE_NAMES

__all__ = ["dry_run", "main", "parse_value", "print_table", "resolve", "run", "shard", "toc_notebooks",
           "write_timings"]


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
        hit = None
        for candidate in (path, root / path):
            stem = candidate.with_suffix("") if candidate.suffix in {".py", ".ipynb"} else candidate
            if stem.with_suffix(".py").is_file():
                hit = stem.with_suffix(".py").resolve()
                break
        if hit is None:
            raise SystemExit(f"no notebook source {name!r} (looked for {path.with_suffix('.py')} under {root})")
        sources.append(hit)
    return sources


def parse_value(text: str):
    """A ``-p`` value as papermill's YAML-like parsing would read it (int, float, bool, list, str)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if value is None and text.lower() not in {"null", "none", "~"} else value


def _worker(root: Path, source: Path, profile: str, parameters: dict, threads: int | None,
            dry_run: int | None = None) -> RunOutcome:
    """One notebook in its own process, so that a worker killed for memory fails alone (and its peak is known)."""
    job = json.dumps({"root": str(root), "source": str(source), "profile": profile, "parameters": parameters,
                      "threads": threads, "dry_run": dry_run})
    done = subprocess.run([sys.executable, "-m", "nngeom.book.execution", job], capture_output=True, text=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("NNGEOM-OUTCOME "):
            return RunOutcome(**json.loads(line.removeprefix("NNGEOM-OUTCOME ")))
    how = (f"killed by signal {-done.returncode} (out of memory?)" if done.returncode < 0
           else f"worker exited with {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    return RunOutcome(section_of(root, source), "failed", 0.0, how)


def dry_run(root: Path, sources: list[Path], profile: str, steps: int) -> list[RunOutcome]:
    """Execute every notebook at ``profile`` with each loop cut to ``steps`` steps; write the dry run's summary."""
    from .execution import dry_run_folder

    folder = dry_run_folder(root, profile)
    summary_path = folder / "summary.json"
    outcomes = []
    for index, source in enumerate(sources, 1):
        print(f"[{index}/{len(sources)}] dry run of {section_of(root, source)} ({profile}, {steps} steps per loop)",
              flush=True)
        outcome = _worker(root, source, profile, {}, None, dry_run=steps)
        _report_one(outcome)
        outcomes.append(outcome)
        # merged after every notebook, so an interrupted dry run keeps what it measured
        try:
            summary = json.loads(summary_path.read_text())
        except (OSError, json.JSONDecodeError):
            summary = {}
        summary[outcome.notebook] = {"status": outcome.status, "seconds": round(outcome.seconds, 1),
                                     "peak_mib": round(outcome.peak_mib, 1), "message": outcome.message,
                                     "steps_per_loop": steps}
        folder.mkdir(parents=True, exist_ok=True)
        write_json(summary_path, summary)
    return outcomes


def run(root: Path, sources: list[Path], profile: str, parameters: dict, jobs: int = 1, force: bool = False,
        progress: bool = True, timings_name: str | None = None) -> list[RunOutcome]:
    """Execute, re-render or skip each notebook; returns outcomes in the given order and writes the timings."""
    outcomes: dict[Path, RunOutcome] = {}
    pending = []
    for source in sources:
        section = section_of(root, source)
        if force or parameters or not is_current(root, source, fingerprint(source, profile, parameters)):
            pending.append(source)
            continue
        saved = json.loads(stamp_path(root, source).read_text())
        target = source.with_suffix(".ipynb")
        if saved.get("text") != _text_hash(source) and rerender(source, target):
            _restamp(root, source, saved)
            outcomes[source] = RunOutcome(section, "rendered", 0.0, "Markdown changed; outputs kept")
            print(f"[render] {section} (Markdown changed, code unchanged: not executed)", flush=True)
        else:
            outcomes[source] = RunOutcome(section, "skipped", float(saved.get("seconds", 0.0)),
                                       "unchanged since its last run")
            print(f"[skip] {section} (unchanged since its last {profile} run)", flush=True)
    total = len(pending)
    if jobs <= 1:
        for index, source in enumerate(pending, 1):
            print(f"[{index}/{total}] running {section_of(root, source)} ({profile})", flush=True)
            outcomes[source] = execute(root, source, profile, parameters, progress)
            if outcomes[source].status == "ok" and not parameters:
                _restamp(root, source, json.loads(stamp_path(root, source).read_text()))
            _report_one(outcomes[source])
    else:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {s: pool.submit(_worker, root, s, profile, parameters, threads) for s in pending}
            for index, (source, future) in enumerate(futures.items(), 1):
                outcomes[source] = future.result()
                if outcomes[source].status == "ok" and not parameters:
                    _restamp(root, source, json.loads(stamp_path(root, source).read_text()))
                print(f"[{index}/{total}] ", end="")
                _report_one(outcomes[source])
    ordered = [outcomes[s] for s in sources]
    if not parameters:
        write_timings(root, profile, ordered, timings_name)
    return ordered


def _text_hash(source: Path) -> str:
    return sha256(source.read_bytes())


def _restamp(root: Path, source: Path, saved: dict) -> None:
    """Record the full text hash (and the re-rendered notebook's hash) in a current stamp."""
    target = source.with_suffix(".ipynb")
    saved.update(text=_text_hash(source), executed=sha256(target.read_bytes()))
    write_json(stamp_path(root, source), saved)


def _report_one(outcome: RunOutcome) -> None:
    detail = f": {outcome.message}" if outcome.message else ""
    where = f" -> {outcome.where}" if outcome.where and outcome.status != "ok" else ""
    print(f"  {outcome.status:<8} {outcome.notebook} in {outcome.seconds:.1f} s{detail}{where}", flush=True)


def write_timings(root: Path, profile: str, outcomes: list[RunOutcome], name: str | None = None) -> Path:
    """Merge this run's wall times into ``_build/timings-<profile>[-<name>].csv`` (one row per notebook)."""
    path = root / "_build" / f"timings-{profile}{'-' + name if name else ''}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict] = {}
    if path.is_file():
        with path.open() as handle:
            rows = {row["notebook"]: row for row in csv.DictReader(handle)}
    for outcome in outcomes:
        if outcome.status in {"skipped", "rendered"} and outcome.notebook in rows:
            continue  # keep the time of the run that produced the page
        rows[outcome.notebook] = {"notebook": outcome.notebook, "status": outcome.status,
                                  "seconds": f"{outcome.seconds:.1f}"}
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["notebook", "status", "seconds"])
        writer.writeheader()
        writer.writerows(rows.values())
    os.replace(tmp, path)
    return path


def print_table(outcomes: list[RunOutcome]) -> None:
    width = max([len(o.notebook) for o in outcomes] + [8])
    peaks = any(o.peak_mib for o in outcomes)
    print(f"\n{'notebook':<{width}}  {'status':<8} {'wall s':>8}" + ("  peak MiB" if peaks else ""))
    for outcome in outcomes:
        print(f"{outcome.notebook:<{width}}  {outcome.status:<8} {outcome.seconds:>8.1f}"
              + (f"  {outcome.peak_mib:>8.0f}" if peaks else ""))
    ran = sum(o.seconds for o in outcomes if o.status not in {"skipped", "rendered"})
    print(f"{'total executed':<{width}}  {'':<8} {ran:>8.1f}")


def shard(sources: list[Path], spec: str | None) -> list[Path]:
    """The i-th of n shards (``spec`` = "i/n", 1-based), made of whole documents, assigned round-robin."""
    if not spec:
        return sources
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise SystemExit(f"--shard must look like i/n (e.g. 2/4), got {spec!r}") from None
    if not 1 <= index <= count:
        raise SystemExit(f"--shard {spec}: need 1 <= i <= n")
    documents = list(dict.fromkeys(source.parent.name for source in sources))
    mine = set(documents[index - 1::count])
    return [source for source in sources if source.parent.name in mine]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nngeom run", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook sources (default: every notebook in _toc.yml)")
    parser.add_argument("--profile", default="cpu", choices=PROFILE_NAMES)
    parser.add_argument("--jobs", type=int, default=1, help="notebooks executed in parallel")
    parser.add_argument("--shard", help="run only shard i of n (i/n): whole documents, for a matrix of runners")
    parser.add_argument("--root", default=None, help="book root (default: nearest folder with _toc.yml)")
    parser.add_argument("--force", action="store_true", help="execute even when nothing changed")
    parser.add_argument("--dry-run", action="store_true",
                        help="full-size settings, every long loop cut to --steps steps; results go to "
                             "_build/dry-run/<profile>/, never to the book")
    parser.add_argument("--steps", type=int, default=2, help="steps each loop keeps in a dry run (default 2)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="parameter override passed to every notebook (the run goes to _build/runs/)")
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
    name = f"shard-{args.shard.replace('/', '-of-')}" if args.shard else None
    try:
        if args.dry_run:
            if parameters or args.steps < 1:
                raise SystemExit("--dry-run takes no -p overrides and needs --steps >= 1")
            outcomes = dry_run(root, sources, args.profile, args.steps)
        else:
            outcomes = run(root, sources, args.profile, parameters, jobs=args.jobs, force=args.force,
                           progress=sys.stderr.isatty(), timings_name=name)
    except KeyboardInterrupt:
        print("\ninterrupted: the book's notebooks, ledger and stamps are as they were before this run",
              file=sys.stderr)
        return 130
    print_table(outcomes)
    if parameters:
        print("\nruns with overrides are kept apart from the book: " +
              ", ".join(sorted({o.where for o in outcomes if o.where})))
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        print("\nFAILED notebooks (partial output kept under _build/failed/):", file=sys.stderr)
        for outcome in failed:
            print(f"  - {outcome.notebook}: {outcome.message}", file=sys.stderr)
        return 1
    return 0
