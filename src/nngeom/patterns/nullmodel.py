"""Null model of random Bernoulli patterns, its p-value, and the constellation curve.

*Study on Activation Patterns*, sec. 2.3.1 (Fig. 3-5): the test statistic is the mean Hamming distance over
``n_pairs`` random pairs of images. Under the null the patterns are i.i.d. Bernoulli(p) vectors of
``n_bits`` units; each coordinate of a pair differs with probability q = 2p(1 - p), so the sum of the
``n_pairs`` distances is Binomial(n_pairs * n_bits, q) exactly: ``null_means(method='binomial')`` draws it
directly (the document draws the vectors, ``method='explicit'``; both give the same law, tested).
``p_value`` is the two-sided empirical p-value (1 + #{|m - E m| >= |obs - E m|}) / (1 + n_draws).

Sec. 2.3.2 (Fig. 6-8): complete-linkage hierarchical clustering of the patterns; the constellation curve is
the number of clusters whose diameter (maximum internal distance) stays below a threshold t, for t = 1..n_bits,
and its normalised integral (mean of clusters / N over the thresholds) is the "constellation score":
the lower, the more images gather in tight groups early.
"""
from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import linkage


def null_means(n_bits: int, n_pairs: int, n_draws: int = 1000, p: float = 0.5, seed: int = 0,
               method: str = "binomial") -> np.ndarray:
    """``n_draws`` mean distances of ``n_pairs`` pairs of independent Bernoulli(p) patterns of ``n_bits``."""
    for name, value in (("n_bits", n_bits), ("n_pairs", n_pairs), ("n_draws", n_draws)):
        if not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    rng = np.random.default_rng(seed)
    if method == "binomial":
        return rng.binomial(n_pairs * n_bits, 2 * p * (1 - p), size=n_draws) / n_pairs
    if method == "explicit":
        means = np.empty(n_draws)
        for k in range(n_draws):
            a = rng.random((n_pairs, n_bits)) < p
            b = rng.random((n_pairs, n_bits)) < p
            means[k] = (a != b).sum(1).mean()
        return means
    raise ValueError(f"unknown method {method!r}: choose 'binomial' or 'explicit'")


def p_value(observed: float, null: np.ndarray) -> float:
    """Two-sided empirical p-value of ``observed`` against draws ``null`` of the statistic."""
    null = np.asarray(null, dtype=float)
    if null.ndim != 1 or len(null) < 1:
        raise ValueError("null must be a non-empty 1-D array of draws")
    centre = null.mean()
    extreme = np.abs(null - centre) >= abs(float(observed) - centre) - 1e-12
    return float((1 + extreme.sum()) / (1 + len(null)))


def constellation_curve(condensed_distances: np.ndarray, n_samples: int, thresholds: np.ndarray
                        ) -> np.ndarray:
    """Number of complete-linkage clusters with diameter <= t for each threshold t.

    Equals ``fcluster(linkage(d, 'complete'), t, 'distance').max()`` (tested): every merge at height <= t
    removes one cluster, and complete-linkage heights never decrease.
    """
    d = np.asarray(condensed_distances, dtype=float)
    if len(d) != n_samples * (n_samples - 1) // 2:
        raise ValueError(f"{len(d)} condensed distances do not match {n_samples} samples")
    heights = np.sort(linkage(d, method="complete")[:, 2])
    merged = np.searchsorted(heights, np.asarray(thresholds, dtype=float), side="right")
    return n_samples - merged


def constellation_score(curve: np.ndarray, n_samples: int) -> float:
    """Normalised integral of the curve: mean over thresholds of (clusters / N), in (0, 1]."""
    return float(np.mean(np.asarray(curve, dtype=float) / n_samples))
