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

Sec. 4.2 (Fig. 26, eq. 18-21): a first-layer unit ``A = max(0, Y)`` with ``Y ~ N(0, sigma^2)`` is a Bernoulli(1/2)
gate times a folded (half-) normal ``|Y|``. From the positive activations' mean ``mu`` and standard deviation ``s``
the model's ``sigma`` follows from eq. 20, ``mu = sigma sqrt(2 / pi)``, and from eq. 21 read as a variance,
``s^2 = sigma^2 - mu^2`` (the reading that reproduces the document's numbers): `folded_normal_fit` pools all
units, `per_unit_sigmas` gives one estimate per unit.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy.cluster.hierarchy import linkage

__all__ = ["constellation_curve", "constellation_score", "folded_normal_fit", "null_means", "p_value",
           "per_unit_sigmas"]


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


def _activations(pre: torch.Tensor) -> torch.Tensor:
    if not isinstance(pre, torch.Tensor):
        raise TypeError(f"pre must be a torch tensor of pre-activations, got {type(pre).__name__}")
    if pre.ndim != 2 or pre.shape[0] < 3:
        raise ValueError(f"pre must be (samples >= 3, units), got shape {tuple(pre.shape)}")
    return pre.double().clamp_min(0)


def folded_normal_fit(pre: torch.Tensor) -> dict[str, float]:
    """Pooled folded-normal fit of the ReLU activations ``A = max(0, pre)`` (sec. 4.2, eq. 18-21).

    Returns ``P(A > 0)``, the mean and std of ``A``, ``mu_|Y|`` and ``sigma_|Y|`` (mean and sample std of the
    positive activations), ``sigma from eq. 20 = mu sqrt(pi / 2)`` and ``sigma from eq. 21 = sqrt(s^2 + mu^2)``.
    """
    a = _activations(pre)
    positive = a[a > 0]
    if positive.numel() < 2:
        raise ValueError("fewer than two positive activations: the folded normal cannot be fitted")
    mu, sd = positive.mean().item(), positive.std().item()
    return {"P(A > 0)": (a > 0).double().mean().item(), "mean of A": a.mean().item(), "std of A": a.std().item(),
            "mu_|Y|": mu, "sigma_|Y|": sd, "sigma from eq. 20": mu * math.sqrt(math.pi / 2),
            "sigma from eq. 21": math.sqrt(sd ** 2 + mu ** 2)}


def per_unit_sigmas(pre: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``sigma`` from eq. 20 and from eq. 21 for each unit (column of ``pre``) separately (sec. 4.2)."""
    a = _activations(pre)
    positive = a > 0
    count = positive.sum(0).double()
    if bool((count < 2).any()):
        raise ValueError("a unit has fewer than two positive activations: its folded normal cannot be fitted")
    mu = a.sum(0) / count
    var = ((a - mu) ** 2 * positive).sum(0) / (count - 1)
    return (mu * math.sqrt(math.pi / 2)).numpy(), torch.sqrt(var + mu ** 2).numpy()
