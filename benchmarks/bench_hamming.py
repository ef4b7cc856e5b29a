"""Pairwise Hamming distances of activation patterns: nngeom.patterns.hamming vs scipy pdist('hamming').

Study on Activation Patterns, sec. 2.3.2 clusters 16,000 patterns; the issue asks for the 16,000 x 256-bit
pairwise matrix in under 10 s on 2 cores, at least 10x faster than scipy, with exact agreement.
Usage: python benchmarks/bench_hamming.py [--n 16000] [--bits 256] [--repeats 3]
Writes _build/benchmarks/hamming.json.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.distance import pdist

from nngeom.patterns import hamming
from nngeom.patterns.recording import Patterns


def timed(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=16000)
    parser.add_argument("--bits", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scipy-repeats", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    bits = rng.random((args.n, args.bits)) < 0.5
    packed = Patterns.from_bool(bits)

    ours_s, ours = timed(lambda: hamming.pairwise(packed), args.repeats)
    tracemalloc.start()
    hamming.pairwise(packed)
    ours_peak = tracemalloc.get_traced_memory()[1]  # Python / NumPy allocations (torch buffers are not traced)
    tracemalloc.stop()
    rss_after_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    condensed_ours = hamming.condensed(ours)
    del ours
    scipy_s, ref = timed(lambda: pdist(bits, "hamming"), args.scipy_repeats)
    exact = bool(np.array_equal(condensed_ours, np.rint(ref * args.bits).astype(condensed_ours.dtype)))
    result = {
        "n": args.n, "bits": args.bits, "torch_threads": torch.get_num_threads(),
        "ours_s": ours_s, "scipy_pdist_s": scipy_s, "speedup": scipy_s / ours_s, "exact_agreement": exact,
        "ours_peak_traced_python_bytes": ours_peak, "ours_peak_rss_bytes": rss_after_ours,
        "output_bytes": args.n * args.n * 2,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "target": {"ours_s_below": 10.0, "speedup_at_least": 10.0},
    }
    print(f"{'method':<28}{'median s':>10}{'ratio':>8}")
    print(f"{'nngeom hamming.pairwise':<28}{ours_s:>10.2f}{1.0:>8.1f}")
    print(f"{'scipy pdist hamming':<28}{scipy_s:>10.2f}{scipy_s / ours_s:>8.1f}")
    print(f"exact agreement: {exact}; {args.n} x {args.bits} bits, {torch.get_num_threads()} torch threads; "
          f"peak RSS after ours {rss_after_ours / 2**20:.0f} MiB (output matrix {args.n**2 * 2 / 2**20:.0f} MiB)")
    out = Path("_build/benchmarks/hamming.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
