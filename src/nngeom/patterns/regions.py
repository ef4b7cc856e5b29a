"""Counting linear regions: hyperplane arrangements and small ReLU networks.

*Study on Activation Patterns*, sec. 7.1: a linear layer of n units whose weight matrix has rank r cuts its
input into f(n, r) regions (one per reachable activation pattern). The document proves f(n, n) = 2^n and
f(n, 1) = n + 1 and conjectures f(n + 1, r + 1) = f(n, r + 1) + f(n, r) (eq. 59-61). For hyperplanes in
general position the arrangement's region count is Zaslavsky's / Schlaefli's
    f(n, r) = sum_{i=0}^{r} C(n, i),
which satisfies all three (Pascal's rule on each term). ``count_regions_exact`` counts the regions of a
concrete arrangement independently: a sign vector s in {-1, 1}^n is a region iff the linear programme
    max delta  s.t.  s_i (<w_i, x> + b_i) >= delta,  delta <= 1
has a positive optimum (2^n programmes; small n only). ``count_patterns_sampled`` is the Monte-Carlo
lower bound (distinct patterns among sampled points), also usable for any network (sec. 7.2).
"""
from __future__ import annotations

import itertools
from math import comb

import numpy as np
import torch
from scipy.optimize import linprog

__all__ = ["count_patterns_sampled", "count_regions_exact", "low_rank_layer", "network_patterns_on_grid",
           "region_exists", "regions_closed_form"]


def regions_closed_form(n: int, r: int) -> int:
    """sum_{i <= r} C(n, i): regions of n affine hyperplanes in general position whose normals span R^r."""
    for name, value in (("n", n), ("r", r)):
        if not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if n < 0 or r < 0:
        raise ValueError(f"n and r must be non-negative ints, got {n!r}, {r!r}")
    return sum(comb(int(n), i) for i in range(min(int(n), int(r)) + 1))


def _check_arrangement(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    if W.ndim != 2 or b.shape != (W.shape[0],):
        raise ValueError(f"need W (n, d) and b (n,), got {W.shape} and {b.shape}")
    return W, b


def region_exists(W, b, signs, tol: float = 1e-9) -> bool:
    """Whether {x : signs_i (<w_i, x> + b_i) > 0 for all i} is non-empty (one linear programme)."""
    W, b = _check_arrangement(W, b)
    s = np.asarray(signs, dtype=float)
    n, d = W.shape
    # variables (x, delta); minimise -delta; constraint -s_i (w_i x + b_i) + delta <= 0
    A = np.hstack([-s[:, None] * W, np.ones((n, 1))])
    bounds = [(None, None)] * d + [(None, 1.0)]
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=A, b_ub=s * b, bounds=bounds, method="highs")
    return bool(res.status == 0 and -res.fun > tol)


def count_regions_exact(W, b, max_hyperplanes: int = 14) -> int:
    """Exact number of regions of the arrangement {<w_i, x> + b_i = 0}, by 2^n linear programmes."""
    W, b = _check_arrangement(W, b)
    n = W.shape[0]
    if n > max_hyperplanes:
        raise ValueError(f"{n} hyperplanes need 2^{n} linear programmes; raise max_hyperplanes to insist")
    return sum(region_exists(W, b, s) for s in itertools.product((-1.0, 1.0), repeat=n))


def low_rank_layer(n: int, d: int, r: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random layer of n units on R^d whose weight matrix has rank r (W = U V, U n x r, V r x d)."""
    if not 1 <= r <= min(n, d):
        raise ValueError(f"rank r must lie in [1, min(n, d)] = [1, {min(n, d)}], got {r}")
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, r)) @ rng.standard_normal((r, d)), rng.standard_normal(n)


def count_patterns_sampled(patterns: np.ndarray) -> int:
    """Distinct rows among sampled 0-1 patterns: a lower bound on the number of regions visited."""
    patterns = np.asarray(patterns)
    if patterns.ndim != 2:
        raise ValueError("patterns must be 2-D (samples, units)")
    return int(len(np.unique(np.packbits(patterns.astype(bool), axis=1), axis=0)))


@torch.no_grad()
def network_patterns_on_grid(model: torch.nn.Module, limit: float, resolution: int
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-network patterns on a resolution x resolution grid of [-limit, limit]^2 (2-D input nets).

    Returns (pattern ids per grid point, grid xx, grid yy): points with equal id share a linear region
    (up to the region's connectedness).
    """
    from ..toys import grid_2d
    from .recording import Patterns, record

    points, xx, yy = grid_2d(limit, resolution)
    layers = record(model, points)
    whole = Patterns.concat(list(layers.values()))
    _, ids = np.unique(whole.packed, axis=0, return_inverse=True)
    return ids.reshape(resolution, resolution), xx.numpy(), yy.numpy()
