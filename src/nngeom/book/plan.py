"""The cost of a full run, from a dry run: ``python -m nngeom plan [--profile paper] [--tflops 30]``.

Reads what ``python -m nngeom run --dry-run`` measured (``_build/dry-run/<profile>/summary.json`` and one loop
log per notebook, see `nngeom.book.budget`) and estimates, per notebook:

* CPU hours: the dry run's wall time, with each outermost loop's measured time replaced by its extrapolation
  to the full number of steps (measured on this machine; the dry run's own kernel start and data loading are
  counted once);
* a GPU estimate: the FLOPs of the full loops (counted with `torch.utils.flop_counter` during the dry run,
  extrapolated the same way) at a stated sustained throughput. It is an estimate, a lower bound on time: small
  kernels, data movement and Python overhead are not in it.

The table goes to ``book/generated/plan.md`` (included by the introduction; ``plan-<document>.md`` by each
document's overview page) and to the terminal. ``--snapshot`` also writes the rows to ``book/plan-<profile>.json``
(committed, with the machine and commit they were measured on), which a build without a dry run of its own, such
as a fresh clone, shows instead.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DEFAULT_TFLOPS", "DOCUMENTS", "estimates", "main", "render", "snapshot", "snapshot_path", "write",
           "write_snapshot"]

DEFAULT_TFLOPS = 30.0  # sustained float32 throughput assumed for the GPU estimate (H100/H200 FP32 peak: ~67)


def _loops(folder: Path) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = defaultdict(list)
    for path in sorted((folder / "loops").glob("*.jsonl")):
        section = path.stem.replace("--", "/")
        for line in path.read_text().splitlines():
            if line.strip():
                found[section].append(json.loads(line))
    return found


def estimates(root: Path, profile: str = "paper", tflops: float = DEFAULT_TFLOPS) -> list[dict]:
    """One row per notebook of the dry run: status, wall, peak memory, steps and the CPU / GPU estimates."""
    from .execution import dry_run_folder

    folder = dry_run_folder(root, profile)
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, json.JSONDecodeError):
        return []
    if not summary:
        return []
    loops = _loops(folder)
    rows = []
    for section, info in summary.items():
        top = [r for r in loops.get(section, []) if r["depth"] == 0]
        inside = sum(r["seconds_run"] for r in top)
        cpu_s = max(info["seconds"] - inside, 0.0) + sum(r["seconds_full"] for r in top)
        flops = sum(r["flops_full"] for r in top)
        biggest = sorted(top, key=lambda r: -r["seconds_full"])[:3]
        rows.append({
            "notebook": section, "status": info["status"], "dry_run_s": info["seconds"],
            "peak_mib": info["peak_mib"], "loops": len(loops.get(section, [])),
            "steps_full": sum(r["steps_full"] for r in top),
            "seconds_per_step": (sum(r["seconds_run"] for r in top) / max(1, sum(r["steps_run"] for r in top))),
            "cpu_hours": cpu_s / 3600, "flops": flops, "gpu_hours": flops / (tflops * 1e12) / 3600,
            "largest_loops": [f"{r['loop']} ({r['steps_full']} steps, {r['seconds_per_step']:.3g} s/step)"
                              for r in biggest],
        })
    return rows


def snapshot_path(root: Path, profile: str) -> Path:
    return root / "book" / f"plan-{profile}.json"


def write_snapshot(root: Path, rows: list[dict], profile: str, tflops: float) -> Path:
    """``book/plan-<profile>.json``: this dry run's rows, where and when they were measured (commit it)."""
    from .environment import commit, device_kind, versions
    import datetime

    path = snapshot_path(root, profile)
    measured = {"date": datetime.date.today().isoformat(), "commit": commit(str(root)), "device": device_kind(),
                "torch": versions()["torch"], "tflops": tflops}
    path.write_text(json.dumps({"measured": measured, "rows": rows}, indent=1) + "\n")
    return path


def snapshot(root: Path, profile: str) -> tuple[list[dict], dict]:
    """The committed rows and their provenance; ``([], {})`` when there is none."""
    try:
        saved = json.loads(snapshot_path(root, profile).read_text())
        return saved["rows"], saved["measured"]
    except (OSError, json.JSONDecodeError, KeyError):
        return [], {}


def _hours(value: float) -> str:
    if value < 1 / 60:
        return f"{value * 3600:.0f} s"
    if value < 1:
        return f"{value * 60:.1f} min"
    return f"{value:.1f} h"


def render(rows: list[dict], profile: str, tflops: float, measured: dict | None = None,
           missing: Sequence[str] = ()) -> str:
    """The plan as Markdown (``measured``: the provenance of committed rows, None for this build's dry run).

    ``missing``: the notebooks of the page with no dry run; they are named, and the total says it leaves them out.
    """
    if not rows:
        return (f"No dry run of the `{profile}` profile has been recorded in this build: run "
                f"`make paper-dry-run` (or `python -m nngeom run --profile {profile} --dry-run`), then "
                f"`python -m nngeom plan`.\n")
    where = ("measured on the build machine" if not measured else
             f"measured on {measured.get('date', '?')} at commit {measured.get('commit', '?')} on "
             f"{measured.get('device', '?')}, torch {measured.get('torch', '?')}: the committed "
             f"`book/plan-{profile}.json`, since this build ran no dry run of its own")
    lines = [f"Estimated cost of `make book PROFILE={profile}`, from a dry run at the full settings with every long "
             f"loop cut to a few steps ({where}). CPU: measured seconds per step times the "
             f"full number of steps. GPU: FLOPs of the full loops at an assumed sustained {tflops:g} TFLOP/s "
             f"(an estimate and a lower bound: small kernels, data movement and Python overhead are not counted).",
             "", "| notebook | dry run | peak memory | loop steps (full) | s / step | CPU estimate | GPU estimate |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        status = "" if r["status"] == "ok" else f" (**{r['status']}**)"
        lines.append(f"| {r['notebook']}{status} | {r['dry_run_s']:.0f} s | {r['peak_mib'] / 1024:.1f} GiB | "
                     f"{r['steps_full']:,} | {r['seconds_per_step']:.3g} | {_hours(r['cpu_hours'])} | "
                     f"{_hours(r['gpu_hours'])} |")
    cpu, gpu = sum(r["cpu_hours"] for r in rows), sum(r["gpu_hours"] for r in rows)
    label = "**all**" if not missing else f"**all {len(rows)} dry-run notebooks**"
    lines += [f"| {label} | | | | | **{_hours(cpu)}** | **{_hours(gpu)}** |", ""]
    if missing:
        lines += [f"Not dry-run yet ({len(missing)} notebooks, so the total above leaves them out): "
                  + ", ".join(f"`{name}`" for name in missing) + ".", ""]
    return "\n".join(lines)


DOCUMENTS = ("metric-as-transform", "locally-activating-neurons", "neural-robustness", "activation-patterns")


def write(root: Path, profile: str = "paper", tflops: float = DEFAULT_TFLOPS) -> Path:
    """Write ``book/generated/plan.md`` (all notebooks) and ``plan-<document>.md`` when their text changed."""
    rows, measured = estimates(root, profile, tflops), None
    if not rows:
        rows, measured = snapshot(root, profile)
        tflops = measured.get("tflops", tflops) if measured else tflops
    folder = root / "book" / "generated"
    folder.mkdir(parents=True, exist_ok=True)
    from .execution import section_of
    from .runner import toc_notebooks

    measured_names = {r["notebook"] for r in rows}
    try:
        book_order = [section_of(root, source) for source in toc_notebooks(root)]
    except (OSError, KeyError, TypeError):
        book_order = []
    missing = [name for name in book_order if name not in measured_names]
    pages = {"plan.md": (rows, missing),
             **{f"plan-{doc}.md": ([r for r in rows if r["notebook"].startswith(doc + "/")],
                                   [name for name in missing if name.startswith(doc + "/")]) for doc in DOCUMENTS}}
    for name, (selected, absent) in pages.items():
        path, text = folder / name, render(selected, profile, tflops, measured, absent)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
    return folder / "plan.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nngeom plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--tflops", type=float, default=DEFAULT_TFLOPS, help="assumed sustained GPU TFLOP/s")
    parser.add_argument("--root", default=None)
    parser.add_argument("--snapshot", action="store_true",
                        help="also write book/plan-<profile>.json from this build's dry run (commit it)")
    args = parser.parse_args(argv)
    from .runtime import project_root

    root = Path(args.root).resolve() if args.root else project_root()
    if args.snapshot:
        rows = estimates(root, args.profile, args.tflops)
        if not rows:
            raise SystemExit(f"no dry run of the {args.profile!r} profile in this build: nothing to snapshot")
        print(f"wrote {write_snapshot(root, rows, args.profile, args.tflops)}")
    path = write(root, args.profile, args.tflops)
    print(path.read_text())
    for row in estimates(root, args.profile, args.tflops):
        print(f"{row['notebook']}: largest loops: {'; '.join(row['largest_loops']) or '-'}")
    return 0
