"""Speed and memory of the distance layers (Metric as Transform, sec. 2.4) against their peers.

Forward + backward at batch 256, 784 -> 500 (the Table 1 shape at h = 500):

* l^2 (``|x|^2 + |w|^2 - 2 x.w``) against ``nn.Linear`` and ``torch.cdist``; target: at most
  1.1x the time of ``nn.Linear`` and faster than ``torch.cdist``;
* l^1 (``ours``: on a CPU the fused numba kernels of ``nngeom.metric.lp_kernels``) against ``torch.cdist(p=1)`` and
  ``nn.Linear``; target: faster than cdist, at most 4x nn.Linear;
* l^0.5, l^20 and l^2.7 against the chunked torch implementation (``torch``: the code path used before the
  kernels, still the one on CUDA; switched by ``nngeom.metric.distances.CPU_KERNEL``) and ``torch.cdist``; target: at
  least 3x faster than ``torch``;
* peak memory of l^1, l^0.5, l^20 against the naive broadcast
  ``(x[:, None] - w[None]).abs().pow(p).sum(-1).pow(1/p)``; target: at most a quarter of it.

Times are medians over repeats after a warm-up, all in this run, taken round-robin over the methods that
are compared with each other. Peak memory is the growth
of the peak resident set (VmHWM, reset before the step) of a fresh subprocess during one
forward + backward (CPU, Linux), or
``torch.cuda.max_memory_allocated`` on a GPU. Prints a table and writes
``_build/benchmarks/distances.json``.

Usage: ``python benchmarks/bench_distances.py [--repeats 31] [--batch 256] [--inp 784] [--out 500] [--threads N]``
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import torch

import nngeom
from nngeom.metric import distances
from nngeom.metric.distances import LpDistance


def naive_lp(x, w, p):
    return (x[:, None] - w[None]).abs().pow(p).sum(-1).pow(1.0 / p)


def make(method: str, batch: int, inp: int, out: int, dev: torch.device):
    """A closure running one forward + backward of ``method``."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, inp, generator=gen).to(dev).requires_grad_(True)
    if method == "linear":
        layer = torch.nn.Linear(inp, out).to(dev)
        fn = layer
    else:
        kind, p = method.split(":")
        p = float(p)
        layer = LpDistance(inp, out, p=p).to(dev)
        if kind == "ours":
            fn = layer
        elif kind == "torch":
            def fn(t, layer=layer):
                distances.CPU_KERNEL = False
                try:
                    return layer(t)
                finally:
                    distances.CPU_KERNEL = True
        elif kind == "cdist":
            def fn(t, w=layer.centres, p=p):
                return torch.cdist(t, w, p=p)
        elif kind == "naive":
            def fn(t, w=layer.centres, p=p):
                return naive_lp(t, w, p)
        else:
            raise ValueError(method)
    params = [x, *layer.parameters()]

    def step():
        for t in params:
            t.grad = None
        fn(x).sum().backward()
        if dev.type == "cuda":
            torch.cuda.synchronize()
    return step


def time_methods(methods, args, dev) -> dict[str, float]:
    """Median seconds per step of every method, timed round-robin (one step of each in turn per repeat),
    so that a slow spell of the machine falls on all methods alike instead of on the one running then."""
    steps = {m: make(m, args.batch, args.inp, args.out, dev) for m in methods}
    for step in steps.values():
        for _ in range(2):
            step()
    times = {m: [] for m in methods}
    for _ in range(args.repeats):
        for m, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[m].append(time.perf_counter() - t0)
    return {m: statistics.median(ts) for m, ts in times.items()}


def vm_kb(field: str) -> int:
    """A ``kB`` field of /proc/self/status (VmRSS: resident now, VmHWM: peak resident)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found in /proc/self/status")


def reset_peak() -> None:
    """Reset VmHWM to the current resident set (Linux: write 5 to /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_memory_mb(method, args, dev) -> float:
    """Extra peak memory (MB) of one forward + backward, measured in a fresh process."""
    if dev.type == "cuda":
        step = make(method, args.batch, args.inp, args.out, dev)
        step()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    code = (
        f"import sys, torch; torch.set_num_threads({torch.get_num_threads()}); sys.argv=['x']; "
        "import bench_distances as b; "
        f"step = b.make({method!r}, {args.batch}, {args.inp}, {args.out}, torch.device('cpu')); "
        "r0 = b.vm_kb('VmRSS'); b.reset_peak(); step(); print(b.vm_kb('VmHWM') - r0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).parent))
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--inp", type=int, default=784)
    parser.add_argument("--out", type=int, default=500)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError("--threads must be >= 1")
        torch.set_num_threads(args.threads)
    dev = nngeom.device()
    torch.manual_seed(0)
    groups = [["linear", "ours:2", "cdist:2"], ["linear", "ours:1", "cdist:1", "torch:1"],
              ["ours:0.5", "torch:0.5", "cdist:0.5"], ["ours:20", "torch:20"],
              ["ours:2.7", "torch:2.7"]]  # compared within a group, round-robin
    rows, linear_ms = {"linear": {}}, []
    for group in groups:
        for m, seconds in time_methods(group, args, dev).items():
            print(f"  {m:<10}{1e3 * seconds:10.2f} ms", flush=True)
            if m == "linear":
                linear_ms.append(1e3 * seconds)
            else:
                rows[m] = {"time_ms": 1e3 * seconds}
    rows["linear"] = {"time_ms": linear_ms[0], "time_ms_2": linear_ms[1]}
    memory = ["ours:1", "naive:1", "ours:0.5", "naive:0.5", "ours:20", "naive:20"]
    for m in memory:
        rows.setdefault(m, {})["peak_mb"] = peak_memory_mb(m, args, dev)
    t = {m: r["time_ms"] for m, r in rows.items() if "time_ms" in r}
    mem = {m: rows[m]["peak_mb"] for m in memory}
    ratios = {
        "l2_over_linear_time": t["ours:2"] / t["linear"],
        "l2_over_cdist_time": t["ours:2"] / t["cdist:2"],
        "l1_over_cdist_time": t["ours:1"] / t["cdist:1"],
        "l1_over_linear_time": t["ours:1"] / rows["linear"]["time_ms_2"],
        "torch_over_l1_time": t["torch:1"] / t["ours:1"],
        "torch_over_l0.5_time": t["torch:0.5"] / t["ours:0.5"],
        "torch_over_l20_time": t["torch:20"] / t["ours:20"],
        "torch_over_l2.7_time": t["torch:2.7"] / t["ours:2.7"],
        "l1_over_naive_memory": mem["ours:1"] / max(mem["naive:1"], 1e-9),
        "l0.5_over_naive_memory": mem["ours:0.5"] / max(mem["naive:0.5"], 1e-9),
        "l20_over_naive_memory": mem["ours:20"] / max(mem["naive:20"], 1e-9),
    }
    limits = {"l2_over_linear_time": ("<=", 1.1), "l2_over_cdist_time": ("<", 1.0), "l1_over_cdist_time": ("<", 1.0),
              "l1_over_linear_time": ("<=", 4.0), "torch_over_l1_time": (">=", 1.0),
              "torch_over_l0.5_time": (">=", 3.0), "torch_over_l20_time": (">=", 3.0),
              "torch_over_l2.7_time": (">=", 3.0), "l1_over_naive_memory": ("<=", 0.25),
              "l0.5_over_naive_memory": ("<=", 0.25), "l20_over_naive_memory": ("<=", 0.25)}
    compare = {"<=": float.__le__, "<": float.__lt__, ">=": float.__ge__}
    targets = {k: compare[op](float(ratios[k]), bound) for k, (op, bound) in limits.items()}
    print(f"device {dev}, threads {torch.get_num_threads()}, batch {args.batch}, {args.inp} -> {args.out}, "
          f"forward + backward, median of {args.repeats}")
    print(f"{'method':<12}{'time ms':>10}{'peak MB':>10}   (linear: timed in the l^2 and in the l^1 group)")
    for m, r in rows.items():
        time_ms = f"{r['time_ms']:10.2f}" if "time_ms" in r else f"{'':>10}"
        if "time_ms_2" in r:
            time_ms += f" / {r['time_ms_2']:.2f}"
        peak = f"{r['peak_mb']:10.1f}" if "peak_mb" in r else ""
        print(f"{m:<12}{time_ms}{peak}")
    for k, v in ratios.items():
        op, bound = limits[k]
        print(f"{k:<26}{v:8.3f}   target {op} {bound:g}: {'met' if targets[k] else 'NOT met'}")
    out_dir = nngeom.build_dir() / "benchmarks"
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"device": str(dev), "threads": torch.get_num_threads(), "shape": vars(args), "rows": rows,
              "ratios": ratios, "targets_met": targets}
    (out_dir / "distances.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {out_dir / 'distances.json'}")


if __name__ == "__main__":
    main()
