"""Benchmark: Table 3 sweep and epsilon sweep (Metric as Transform, sec. 3.1.1 and 3.2).

1. Table 3 at h = 20,000 keys on the whole MNIST test set: ``nngeom.local.dictionary.data_initialised_accuracy``
   (distances in chunks of 2500 test images, all widths of one draw in one pass) against the peer, the direct
   computation with ``torch.cdist`` on the full 10,000 x 20,000 distance matrix. Time (median of repeats after a
   warm-up) and peak resident memory of a fresh process per variant. Target: < 60 s on 2 cores.
2. Epsilon sweep of the rejection metrics at 100 epsilons: ``rejection.evaluate`` once + ``rejection.sweep``
   against one evaluation alone (target: < 2x) and against the peer ``rejection.naive_sweep`` (re-evaluating the
   model at every epsilon).

Run: ``.venv/bin/python benchmarks/bench_dictionary.py [--repeats 3]``; writes _build/benchmarks/dictionary.json.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import statistics
import time

import numpy as np
import torch


def _mnist():
    import nngeom
    x, y = nngeom.data.load_subset("mnist", "train", None, flatten=True)
    xt, yt = nngeom.data.load_subset("mnist", "test", None, flatten=True)
    return x, y, xt, yt


def table3_ours(x, y, xt, yt, h):
    from nngeom.local.dictionary import data_initialised_accuracy
    return data_initialised_accuracy(x, y, xt, yt, [h], 10, seed=0, chunk=2500)[h]


def table3_peer(x, y, xt, yt, h):
    """Direct: the whole (10000, h) distance matrix with torch.cdist, then the same similarity."""
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:h]
    d = torch.cdist(xt, x[pick])
    sigma = d.std(1, unbiased=False, keepdim=True)
    s = torch.exp(-(d - d.min(1, keepdim=True).values) / (0.5 * sigma))
    scores = s @ torch.nn.functional.one_hot(y[pick], 10).float()
    return (scores.argmax(1) == yt).float().mean().item()


def _worker(name, h, repeats, queue):
    x, y, xt, yt = _mnist()
    fn = table3_ours if name == "ours" else table3_peer
    times, acc = [], None
    for i in range(repeats + 1):
        t = time.perf_counter()
        acc = fn(x, y, xt, yt, h)
        if i:  # the first run is the warm-up
            times.append(time.perf_counter() - t)
    queue.put({"median_s": statistics.median(times), "times_s": times, "accuracy": acc,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def run_isolated(name, h, repeats):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(name, h, repeats, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def bench_sweep(repeats):
    import nngeom
    from nngeom.local import rejection
    from nngeom.local.dictionary import DictionaryMLP
    x, y = nngeom.data.load_subset("mnist", "train", 500, flatten=True, normalize="symmetric")
    xt, yt = nngeom.data.load_subset("mnist", "test", 2000, seed=1, flatten=True, normalize="symmetric")
    model = DictionaryMLP.from_data(x, y, 10, tau=1.0, epsilon=10.0).eval()
    x_adv = (xt + 0.3 * torch.randn(xt.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    eps = np.linspace(2, 20, 100)

    def timed(fn):
        fn()
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts)

    one = timed(lambda: rejection.metrics_at(rejection.evaluate(model, xt, x_adv, yt), 10.0))
    ours = timed(lambda: rejection.sweep(rejection.evaluate(model, xt, x_adv, yt), eps))
    peer = timed(lambda: rejection.naive_sweep(model, xt, x_adv, yt, eps))
    fast = rejection.sweep(rejection.evaluate(model, xt, x_adv, yt), eps)
    slow = rejection.naive_sweep(model, xt, x_adv, yt, eps)
    same = all(np.allclose(fast[k], slow[k], atol=1e-6) for k in rejection.METRICS)
    return {"one_evaluation_s": one, "sweep_100_s": ours, "naive_sweep_100_s": peer, "ratio_sweep_vs_one": ours / one,
            "speedup_vs_naive": peer / ours, "identical_metrics": same, "n_clean": len(xt), "n_keys": len(x)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--h", type=int, default=20000)
    args = parser.parse_args()
    import nngeom
    out = {"torch_threads": torch.get_num_threads(), "h": args.h, "repeats": args.repeats}
    out["table3_ours"] = run_isolated("ours", args.h, args.repeats)
    out["table3_peer_cdist_full"] = run_isolated("peer", args.h, args.repeats)
    out["table3_speed_ratio_peer_over_ours"] = out["table3_peer_cdist_full"]["median_s"] / out["table3_ours"]["median_s"]
    out["table3_memory_ratio_peer_over_ours"] = (out["table3_peer_cdist_full"]["peak_rss_mb"]
                                                 / out["table3_ours"]["peak_rss_mb"])
    out["sweep"] = bench_sweep(max(3, args.repeats))
    print(f"Table 3 sweep, h={args.h}, whole MNIST test set ({out['torch_threads']} threads)")
    print(f"{'variant':<28}{'median s':>10}{'peak RSS MB':>13}{'accuracy':>10}")
    for k in ("table3_ours", "table3_peer_cdist_full"):
        r = out[k]
        print(f"{k:<28}{r['median_s']:>10.2f}{r['peak_rss_mb']:>13.0f}{r['accuracy']:>10.4f}")
    print(f"peer / ours: time x{out['table3_speed_ratio_peer_over_ours']:.2f}, "
          f"memory x{out['table3_memory_ratio_peer_over_ours']:.2f}; target ours < 60 s: "
          f"{'met' if out['table3_ours']['median_s'] < 60 else 'NOT met'}")
    s = out["sweep"]
    print(f"\nEpsilon sweep ({s['n_clean']} clean + adversarial inputs, {s['n_keys']} keys)")
    print(f"one evaluation {s['one_evaluation_s']:.3f} s | sweep of 100 {s['sweep_100_s']:.3f} s "
          f"(x{s['ratio_sweep_vs_one']:.2f} of one; target < 2) | naive 100 re-evaluations "
          f"{s['naive_sweep_100_s']:.3f} s (sweep is x{s['speedup_vs_naive']:.1f} faster); identical: {s['identical_metrics']}")
    path = nngeom.build_dir() / "benchmarks" / "dictionary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
