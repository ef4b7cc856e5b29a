"""Bootstrap support for an ordering of statistics over examples (medians of critical distances, accuracies).

An ordering claim ("KH is the most robust", "BP is the most accurate") compares statistics that are themselves
estimates from a finite set of examples; a point estimate in the right order may be chance. For every ordered pair
``(a, b)`` the support is the fraction of bootstrap resamples (Efron 1979) in which the statistic of ``a`` exceeds
that of ``b``:

    support(a > b) = (1 / B) sum_{k=1..B} [ T(x_a^(k)) > T(x_b^(k)) ],

with ``x^(k)`` a resample with replacement of the same size as ``x``. ``support >= level`` is a one-sided percentile
bootstrap test of ``T(a) > T(b)`` at ``1 - level``; an ordering of several pairs is their conjunction, for which
testing each pair at ``1 - level`` is already a test of that level (Berger's intersection-union principle), so no
multiple-testing correction is applied.

``paired=True`` resamples the examples jointly (the arrays must be aligned: the same test images, as for the
correctness of several classifiers); unpaired, each array is resampled alone (as the critical distances of the
images each model classifies correctly, which are different sets). A tie counts against ``a > b``, so two infinite
statistics (no image flipped) never support an order.
"""
from __future__ import annotations

import itertools
import math
from typing import Callable, Mapping

import numpy as np

__all__ = ["bootstrap_statistics", "pair_supports", "spearman_exact", "support", "unresolved_pairs"]

_STATISTICS: dict[str, Callable[..., np.ndarray]] = {"median": np.median, "mean": np.mean}
_CHUNK = 250  # resamples drawn at once: B x n memory stays bounded at the paper's 10,000 images


def bootstrap_statistics(samples: Mapping[str, np.ndarray], statistic: str = "median", n_boot: int = 2000,
                         seed: int = 0, paired: bool = False) -> dict[str, np.ndarray]:
    """``n_boot`` bootstrap replicates of ``statistic`` ('median' or 'mean') of every array of ``samples``.

    Infinite entries are kept (an image no perturbation of the grid flips counts as infinitely far), NaN is
    refused."""
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(_STATISTICS)}, got {statistic!r}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not samples:
        raise ValueError("no samples to resample")
    arrays = {name: np.asarray(values, dtype=float).ravel() for name, values in samples.items()}
    for name, values in arrays.items():
        if values.size == 0 or np.isnan(values).any():
            raise ValueError(f"samples[{name!r}] must be a non-empty array without NaN")
    if paired and len({values.size for values in arrays.values()}) != 1:
        raise ValueError("paired resampling needs arrays of one length (the same examples), got "
                         + ", ".join(f"{k}: {v.size}" for k, v in arrays.items()))
    reduce = _STATISTICS[statistic]
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {name: [] for name in arrays}
    for start in range(0, n_boot, _CHUNK):
        size = min(_CHUNK, n_boot - start)
        shared = rng.integers(0, next(iter(arrays.values())).size, (size, next(iter(arrays.values())).size)) \
            if paired else None
        for name, values in arrays.items():
            index = shared if shared is not None else rng.integers(0, values.size, (size, values.size))
            with np.errstate(invalid="ignore"):  # a mean over infinite entries is infinite, not an error
                out[name].append(reduce(values[index], axis=1))
    return {name: np.concatenate(parts) for name, parts in out.items()}


def support(boot: Mapping[str, np.ndarray], a: str, b: str) -> float:
    """Fraction of replicates in which the statistic of ``a`` is strictly above that of ``b``."""
    for name in (a, b):
        if name not in boot:
            raise KeyError(f"no bootstrap replicates for {name!r}; have {sorted(boot)}")
    if boot[a].shape != boot[b].shape:
        raise ValueError(f"{a} and {b} have different numbers of replicates")
    return float(np.mean(boot[a] > boot[b]))


def pair_supports(pairs: list[tuple[str, str]], boot: Mapping[str, np.ndarray]) -> dict[str, float]:
    """``{"a > b": support(a > b)}`` for every pair."""
    return {f"{a} > {b}": support(boot, a, b) for a, b in pairs}


def unresolved_pairs(pairs: list[tuple[str, str]], boot: Mapping[str, np.ndarray], level: float = 0.95) -> list[str]:
    """The pairs that the bootstrap resolves in neither direction at ``level``: their order is within the noise."""
    return [f"{a} vs {b} (support of {a} > {b}: {support(boot, a, b):.2f})" for a, b in pairs
            if support(boot, a, b) < level and support(boot, b, a) < level]


def spearman_exact(x, y, alternative: str = "less") -> tuple[float, float]:
    """Spearman's rho of ``x`` and ``y`` and its exact permutation p-value (every ordering of ``y``, n <= 8).

    For a handful of models the t approximation of `scipy.stats.spearmanr` is far off (it gives p near 0 at
    |rho| = 1, where the exact one-sided p for n = 5 is 1 / 120); here p is the share of the n! orderings of ``y``
    whose rho is at most (``less``) or at least (``greater``) the observed one."""
    from scipy import stats

    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or not 3 <= a.size <= 8:
        raise ValueError(f"need two equal-length 1-D sequences of 3 to 8 values, got shapes {a.shape}, {b.shape}")
    if alternative not in ("less", "greater"):
        raise ValueError(f"alternative must be 'less' or 'greater', got {alternative!r}")
    observed = float(stats.spearmanr(a, b).statistic)
    rx = stats.rankdata(a)
    ry = stats.rankdata(b)
    rhos = np.array([np.corrcoef(rx, ry[list(order)])[0, 1] for order in itertools.permutations(range(a.size))])
    tol = 1e-12
    hits = np.sum(rhos <= observed + tol) if alternative == "less" else np.sum(rhos >= observed - tol)
    return observed, float(hits / math.factorial(a.size))
