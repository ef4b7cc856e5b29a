"""Our PyTorch UMAP (``nngeom.umap.UMAP``) against umap-learn on Fashion-MNIST (Metric as Transform, sec. 2.6).

10,000 training images (784-d, pixels in [0, 1]), 15 neighbours, 2-d embedding, default epochs of each library
(500 for 10,000 samples). Quality: ``sklearn.manifold.trustworthiness`` with k = 10 (target: within 0.01 of
umap-learn's). Speed: wall time of ``fit_transform`` (target: at most umap-learn's), median over repeats after a
warm-up, excluding umap-learn's first-call numba compilation, which is timed separately (the first call, on a
5,000-image subset, in a fresh process). umap-learn runs with its defaults (no ``random_state``, so it uses all
cores); ours with ``random_state=0``. Each implementation runs in its own subprocess, which also reports its peak
resident memory (``ru_maxrss``). Prints a table and writes ``_build/benchmarks/umap.json``.

With ``--n 70000`` both libraries embed all of Fashion-MNIST (training and test images; 200 epochs each by their
defaults), and trustworthiness is measured on a fixed random 10,000 of the points (the same for both).

Usage: ``python benchmarks/bench_umap.py [--n 10000] [--repeats 3]``
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np


TRUST_SAMPLE = 10_000  # above this many points, trustworthiness is measured on a random subset of them


def trust(x: np.ndarray, embedding: np.ndarray) -> float:
    """Trustworthiness at k = 10; above ``TRUST_SAMPLE`` points on a fixed random subset of that size (sklearn's
    holds n x n distances), the same subset for both libraries."""
    from sklearn.manifold import trustworthiness

    if len(x) > TRUST_SAMPLE:
        keep = np.random.default_rng(0).choice(len(x), TRUST_SAMPLE, replace=False)
        x, embedding = x[keep], embedding[keep]
    return float(trustworthiness(x, embedding, n_neighbors=10))


def worker(which: str, n: int, repeats: int) -> dict:
    import torch

    import nngeom

    if n <= 60_000:
        x, _ = nngeom.data.load_subset("fashion_mnist", "train", n, seed=0, flatten=True)
    else:  # the whole data set: training and test images
        parts = [nngeom.data.load_subset("fashion_mnist", split, None, flatten=True)[0] for split in ("train", "test")]
        x = torch.cat(parts)[:n]
    x = x.numpy()
    result = {"implementation": which, "device": str(nngeom.device()), "threads": torch.get_num_threads()}
    if which == "umap-learn":
        import warnings

        import umap
        warnings.simplefilter("ignore")

        def fit(data, warm_up=False):
            return umap.UMAP(n_neighbors=15, n_components=2).fit_transform(data)
    else:
        from nngeom.umap import UMAP
        from nngeom.umap.graph import APPROXIMATE_ABOVE

        def fit(data, warm_up=False):
            # the warm-up compiles the neighbour search that the full fit takes, as umap-learn's does
            search = "nndescent" if warm_up and n > APPROXIMATE_ABOVE else "auto"
            return UMAP(n_neighbors=15, n_components=2, random_state=0, neighbours=search).fit_transform(data).numpy()
    start = time.perf_counter()
    fit(x[:5000], warm_up=True)  # >= 4096 samples: umap-learn compiles its NN-descent path too
    result["first_call_s"] = time.perf_counter() - start
    times, embeddings = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        embeddings.append(fit(x))
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before trustworthiness allocates n x n
    scores = [trust(x, embedding) for embedding in embeddings]
    result.update(times_s=times, median_s=statistics.median(times), trustworthiness=scores,
                  trust_median=statistics.median(scores), peak_rss_mb=peak)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", choices=["ours", "umap-learn"])
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(args.worker, args.n, args.repeats)))
        return
    results = {}
    for which in ["umap-learn", "ours"]:
        out = subprocess.run([sys.executable, __file__, "--worker", which, "--n", str(args.n),
                              "--repeats", str(args.repeats)], capture_output=True, text=True, check=True).stdout
        results[which] = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    ours, peer = results["ours"], results["umap-learn"]
    ratio = ours["median_s"] / peer["median_s"]
    gap = ours["trust_median"] - peer["trust_median"]
    print(f"Fashion-MNIST, n = {args.n}, 784-d -> 2-d, 15 neighbours, {args.repeats} repeats after a warm-up")
    print(f"{'':<12}{'median s':>10}{'first call s':>14}{'trust@10':>10}{'peak RSS MB':>13}")
    for which, r in results.items():
        print(f"{which:<12}{r['median_s']:>10.2f}{r['first_call_s']:>14.2f}{r['trust_median']:>10.4f}"
              f"{r['peak_rss_mb']:>13.0f}")
    print(f"time ratio ours / umap-learn: {ratio:.2f} (target <= 1); trustworthiness gap {gap:+.4f} "
          f"(target |gap| <= 0.01)")
    print(f"umap-learn first call (numba compilation + a 5,000-image fit): {peer['first_call_s']:.1f} s")
    from nngeom import build_dir
    path = build_dir() / "benchmarks" / "umap.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"n": args.n, "repeats": args.repeats, "results": results, "time_ratio": ratio,
                                "trust_gap": gap, "targets": {"time_ratio_max": 1.0, "trust_gap_max": 0.01}},
                               indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
