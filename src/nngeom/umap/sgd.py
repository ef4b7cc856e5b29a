"""CPU kernel (numba) of UMAP's layout optimisation: the epochs of :func:`nngeom.umap.layout.optimize_layout`.

The same synchronous scheme as the torch loop there (McInnes et al. 2018, sec. 3.2 and 4): in epoch ``t`` every
edge e with ``next_sample_e <= t + 1`` is active; first each active edge adds, from the embedding at the start of
the epoch,

    g = alpha clip(-2 a b d^(2(b-1)) / (1 + a d^(2b)) (y_h - y_t), -4, 4)      (0 at d = 0)

to its head (and ``-g`` to its tail when ``move_other``); then, from the embedding so updated, each active edge
pushes its head away from ``n_neg`` random nodes k (umap-learn's negative schedule),

    g = alpha clip(2 gamma b / ((0.001 + d^2)(1 + a d^(2b))) (y_h - y_k), -4, 4)   (4 at d = 0; 0 for k = h).

Differences from the torch loop: no per-epoch tensor operations (one pass over the edges per phase, split over
``torch.get_num_threads()`` threads, each adding into its own buffer), and the negative samples come from a
counter-based generator (splitmix64 of the seed, epoch, edge and draw), so a run does not depend on the number of
threads but its random draws differ from ``torch.randint``'s.
"""
from __future__ import annotations

import math

import numba
import numpy as np
import torch

from ..cpu_threads import parts_for, run_ranges

__all__ = ["optimize_layout_cpu"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@numba.njit(inline="always")
def _draw(seed, epoch, edge, k, n):
    """Integer in [0, n) (n < 2^32) from splitmix64 of (seed, epoch, edge, k), by multiply-shift, not modulo."""
    z = seed + np.uint64(epoch) * _GOLDEN + np.uint64(edge) * _M1 + np.uint64(k) * _M2
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return np.int64(((z >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@numba.njit(nogil=True, fastmath=True, cache=True)
def _attract(head, tail, heads, tails, next_sample, epoch, a, b, alpha, move_other, delta, start, stop):
    dim = head.shape[1]
    two_ab = np.float32(2.0) * a * b
    for e in range(start, stop):
        if next_sample[e] > epoch + 1:
            continue
        h, t = heads[e], tails[e]
        d2 = np.float32(0.0)
        for c in range(dim):
            diff = head[h, c] - tail[t, c]
            d2 += diff * diff
        coeff = np.float32(0.0)
        if d2 > 0:
            pb = math.pow(d2, b)
            coeff = -two_ab * (pb / d2) / (np.float32(1.0) + a * pb)
        for c in range(dim):
            g = min(max(coeff * (head[h, c] - tail[t, c]), np.float32(-4.0)), np.float32(4.0)) * alpha
            delta[h, c] += g
            if move_other:
                delta[t, c] -= g


@numba.njit(nogil=True, fastmath=True, cache=True)
def _repel(head, tail, heads, next_sample, epochs_per_sample, next_negative, epochs_per_negative, epoch, a, b,
           gamma, alpha, move_other, seed, delta, start, stop):
    dim = head.shape[1]
    n_tail = tail.shape[0]
    two_gb = np.float32(2.0) * gamma * b
    for e in range(start, stop):
        if next_sample[e] > epoch + 1:
            continue
        next_sample[e] += epochs_per_sample[e]
        n_neg = int(max(math.floor((epoch + 1 - next_negative[e]) / epochs_per_negative[e]), 0.0))
        next_negative[e] += n_neg * epochs_per_negative[e]
        h = heads[e]
        for s in range(n_neg):
            k = _draw(seed, epoch, e, s, n_tail)
            if move_other and k == h:
                continue
            d2 = np.float32(0.0)
            for c in range(dim):
                diff = head[h, c] - tail[k, c]
                d2 += diff * diff
            if d2 > 0:
                coeff = two_gb / ((np.float32(0.001) + d2) * (np.float32(1.0) + a * math.pow(d2, b)))
                for c in range(dim):
                    delta[h, c] += min(max(coeff * (head[h, c] - tail[k, c]), np.float32(-4.0)),
                                       np.float32(4.0)) * alpha
            else:
                for c in range(dim):
                    delta[h, c] += np.float32(4.0) * alpha


def optimize_layout_cpu(head_embedding: torch.Tensor, tail_embedding: torch.Tensor, heads, tails,
                        epochs_per_sample, n_epochs: int, a: float, b: float, seed: int, gamma: float,
                        initial_alpha: float, negative_sample_rate: int, move_other: bool) -> torch.Tensor:
    """Optimise the float32 CPU tensor ``head_embedding`` in place (see the module docstring)."""
    head = head_embedding.numpy()
    tail = head if move_other else tail_embedding.numpy()
    heads = np.ascontiguousarray(heads, dtype=np.int64)
    tails = np.ascontiguousarray(tails, dtype=np.int64)
    eps = np.ascontiguousarray(epochs_per_sample, dtype=np.float32)
    epn = eps / np.float32(negative_sample_rate)
    next_sample, next_negative = eps.copy(), epn.copy()
    n_edges = len(heads)
    parts = parts_for(n_edges)
    deltas = np.zeros((parts, *head.shape), dtype=np.float32)
    a32, b32, g32 = np.float32(a), np.float32(b), np.float32(gamma)
    seed64 = np.uint64(seed % 2**63)

    def apply():
        np.add(head, deltas.sum(0) if parts > 1 else deltas[0], out=head)
        deltas[:] = 0.0

    for epoch in range(n_epochs):
        alpha = np.float32(initial_alpha * (1.0 - epoch / n_epochs))
        run_ranges(_attract, n_edges, lambda part: (head, tail, heads, tails, next_sample, epoch, a32, b32, alpha,
                                                    move_other, deltas[part]))
        apply()
        run_ranges(_repel, n_edges, lambda part: (head, tail, heads, next_sample, eps, next_negative, epn, epoch, a32,
                                                  b32, g32, alpha, move_other, seed64, deltas[part]))
        apply()
    return head_embedding
