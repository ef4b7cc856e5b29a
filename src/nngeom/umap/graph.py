"""The fuzzy simplicial set of UMAP (McInnes et al. 2018, sec. 3.1; *Metric as Transform*, sec. 2.6, 3.2.1).

For each sample i with k nearest neighbours j (the sample itself counts as the first, as in umap-learn):
``rho_i`` = distance to the nearest other sample, ``sigma_i`` solves
``sum_j exp(-max(d_ij - rho_i, 0) / sigma_i) = log2(k)`` (binary search), and the directed membership is
``w_ij = exp(-max(d_ij - rho_i, 0) / sigma_i)``. The fuzzy union symmetrises: ``W = A + A^T - A o A^T``.

Epsilon node (sec. 3.2.1): the distance ``epsilon`` is appended to every sample's row of distances before the
neighbour search, as one extra node; its own row holds ``epsilon`` to every sample, so its k - 1 neighbours are a
tie, broken by a seeded random draw.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import scipy.sparse
import torch

__all__ = ["APPROXIMATE_ABOVE", "fuzzy_simplicial_set", "membership_strengths", "Metric", "NAMED_METRICS",
           "nearest_neighbours", "nndescent_neighbours", "NNDESCENT_METRICS", "pairwise", "smooth_knn_dist"]

NAMED_METRICS = ("euclidean", "l2", "sqeuclidean", "manhattan", "l1", "minkowski", "cosine", "angle", "dot")
Metric = str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def pairwise(x: torch.Tensor, y: torch.Tensor, metric: Metric = "euclidean", p: float = 2.0) -> torch.Tensor:
    """Distance matrix (len(x), len(y)) under a named metric or a callable ``metric(x, y)``.

    ``angle`` is ``arccos`` of the cosine similarity; ``dot`` is ``-x . y`` (the dot product as a
    dissimilarity: ranks neighbours by largest dot product; only differences of distances matter to UMAP).
    """
    if callable(metric):
        d = metric(x, y)
        if not isinstance(d, torch.Tensor) or d.shape != (len(x), len(y)):
            raise ValueError(f"a callable metric must return a ({len(x)}, {len(y)}) tensor")
        return d
    if metric in ("euclidean", "l2"):
        return torch.cdist(x, y)
    if metric == "sqeuclidean":
        return torch.cdist(x, y) ** 2
    if metric in ("manhattan", "l1"):
        return torch.cdist(x, y, p=1.0)
    if metric == "minkowski":
        if p <= 0:
            raise ValueError(f"minkowski needs p > 0, got {p}")
        return ((x.unsqueeze(1) - y.unsqueeze(0)).abs() ** p).sum(-1) ** (1 / p)
    if metric in ("cosine", "angle"):
        cos = torch.nn.functional.normalize(x, dim=1) @ torch.nn.functional.normalize(y, dim=1).T
        return 1 - cos if metric == "cosine" else torch.arccos(cos.clamp(-1, 1))
    if metric == "dot":
        return -(x @ y.T)
    raise ValueError(f"unknown metric {metric!r}: choose one of {', '.join(NAMED_METRICS)}, "
                     "'precomputed', or pass a callable")


#: ``neighbours="auto"`` searches exactly up to this many samples and by NN-descent above (umap-learn switches at 4,096;
#: every embedding of the book has fewer samples than this, so its neighbours are exact).
APPROXIMATE_ABOVE = 20_000

#: Our metric names that pynndescent computes with the same formula.
NNDESCENT_METRICS = {"euclidean": "euclidean", "l2": "euclidean", "manhattan": "manhattan", "l1": "manhattan",
                     "minkowski": "minkowski"}


def nndescent_neighbours(x: torch.Tensor, k: int, metric: str = "euclidean", p: float = 2.0, seed: int = 0,
                         epsilon: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Approximate k nearest neighbours of each sample among the samples, by NN-descent (Dong et al. 2011, through
    pynndescent, which umap-learn uses above 4,096 samples), with umap-learn's settings: ``n_trees = min(64, 5 +
    round(sqrt(n) / 20))``, ``n_iters = max(5, round(log2 n))``, 60 candidates. Same layout as
    ``nearest_neighbours(x, x, k, self_neighbours=True, epsilon=epsilon)``: the sample first at distance 0, then its
    k - 1 nearest others, with the epsilon node (index n) among them where it is nearer, on x's device (the search
    itself runs on the CPU). Memory O(n k); seeded, and the same neighbours on a repeat (pynndescent with a
    ``random_state``).
    """
    from pynndescent import NNDescent  # installed with umap-learn

    if metric not in NNDESCENT_METRICS:
        raise ValueError(f"NN-descent neighbours support the metrics {sorted(NNDESCENT_METRICS)}, got {metric!r}")
    data = x.detach().to("cpu", torch.float32).numpy()
    n = len(data)
    if not 2 <= k <= n:
        raise ValueError(f"{k} neighbours requested for {n} samples")
    index = NNDescent(data, n_neighbors=k, metric=NNDESCENT_METRICS[metric],
                      metric_kwds={"p": float(p)} if metric == "minkowski" else None, random_state=seed,
                      n_trees=min(64, 5 + int(round(n ** 0.5 / 20))), n_iters=max(5, int(round(math.log2(n)))),
                      max_candidates=60, low_memory=True, verbose=False)
    found, found_d = (torch.from_numpy(np.ascontiguousarray(a)) for a in index.neighbor_graph)
    # drop the sample itself where the search found it, else the farthest: k - 1 others per row
    own = found == torch.arange(n).unsqueeze(1)
    keep = ~own
    keep[~own.any(1), -1] = False
    others, others_d = found[keep].view(n, k - 1), found_d[keep].view(n, k - 1).float()
    if epsilon is not None:
        others = torch.cat([others, torch.full((n, 1), n, dtype=others.dtype)], 1)
        others_d = torch.cat([others_d, torch.full((n, 1), float(epsilon))], 1)
        others_d, order = others_d.topk(k - 1, dim=1, largest=False)
        others = others.gather(1, order)
    idx = torch.cat([torch.arange(n).unsqueeze(1), others], 1)
    return idx.to(x.device), torch.cat([torch.zeros(n, 1), others_d], 1).to(x.device)  # (where the exact ones are)


def nearest_neighbours(x: torch.Tensor | None, y: torch.Tensor | None, k: int, metric: Metric = "euclidean",
                       p: float = 2.0, self_neighbours: bool = False, precomputed: torch.Tensor | None = None,
                       epsilon: float | None = None, chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and distances (len(x), k) of the k nearest points of ``y`` to each point of ``x``, ascending.

    ``self_neighbours``: x is y, and each sample is placed first at distance 0 (umap-learn's convention).
    ``epsilon``: one extra column at index len(y) with distance epsilon (the epsilon node).
    ``precomputed``: a (len(x), len(y)) distance matrix instead of x, y and metric.
    """
    if precomputed is not None:
        rows, n_y = precomputed.shape[0], precomputed.shape[1]
    elif x is None or y is None:
        raise ValueError("nearest_neighbours needs x and y, or a precomputed distance matrix")
    else:
        rows, n_y = len(x), len(y)
    take = k - 1 if self_neighbours else k
    indices, distances = [], []
    # Euclidean: rank by |x|^2 + |y|^2 - 2 x.y (one matrix product), take the root of the k kept only.
    squared = precomputed is None and not callable(metric) and metric in ("euclidean", "l2")
    stated_epsilon = float(epsilon) if epsilon is not None else math.nan
    if squared:
        from ..metric.distances import squared_l2
        if epsilon is not None:
            epsilon = float(epsilon) ** 2
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        if precomputed is not None:
            d = precomputed[start:stop]
        else:
            assert x is not None and y is not None  # checked above
            d = squared_l2(x[start:stop].float(), y.float()) if squared else pairwise(x[start:stop], y, metric, p)
        d = d.to(torch.float32).clone()
        if self_neighbours:
            d[torch.arange(stop - start), torch.arange(start, stop)] = torch.inf
        if epsilon is not None:
            d = torch.cat([d, torch.full((stop - start, 1), float(epsilon), device=d.device)], dim=1)
        dist, idx = d.topk(min(take, d.shape[1]), dim=1, largest=False)
        if squared:
            dist = dist.sqrt_()
            if epsilon is not None:  # exactly the stated distance, not the root of its square
                dist = torch.where(idx == n_y, torch.full_like(dist, stated_epsilon), dist)
        if self_neighbours:
            idx = torch.cat([torch.arange(start, stop, device=d.device).unsqueeze(1), idx], 1)
            dist = torch.cat([torch.zeros(stop - start, 1, device=d.device), dist], 1)
        indices.append(idx)
        distances.append(dist)
    if n_y + (epsilon is not None) < take:
        raise ValueError(f"{k} neighbours requested but only {n_y} points to choose from")
    return torch.cat(indices), torch.cat(distances)


def smooth_knn_dist(distances: torch.Tensor, k: float, local_connectivity: float = 1.0, iterations: int = 64,
                    skip_first: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row ``(sigma, rho)`` of UMAP by binary search (vectorised umap-learn ``smooth_knn_dist``).

    ``rho`` = the ``local_connectivity``-th smallest positive distance to another point (0 when
    local_connectivity is 0);
    ``sigma`` makes ``sum_j exp(-max(d_j - rho, 0) / sigma) = log2(k)`` over the neighbours (the first column,
    the sample itself, is skipped when ``skip_first``), floored at 1e-3 of the mean distance as in umap-learn.
    """
    d = distances.to(torch.float64)
    target = np.log2(k)
    terms = d[:, 1:] if skip_first else d
    # duplicates of a sample (distance 0) do not set rho; dissimilarities that go negative ('dot') use all terms
    positive = (torch.where(terms > 0, terms, torch.inf) if bool((terms >= 0).all()) else terms).sort(dim=1).values
    rho = torch.zeros(len(d), dtype=d.dtype, device=d.device)
    if local_connectivity > 0:
        index = min(int(np.floor(local_connectivity)) - 1, positive.shape[1] - 1)
        rho = positive[:, max(index, 0)]
        rho = torch.where(torch.isfinite(rho), rho, torch.zeros_like(rho))
    lo = torch.zeros_like(rho)
    hi = torch.full_like(rho, torch.inf)
    mid = torch.ones_like(rho)
    for _ in range(iterations):
        shifted = (terms - rho.unsqueeze(1)).clamp_min(0)
        psum = torch.exp(-shifted / mid.unsqueeze(1)).sum(1)
        too_big = psum > target
        hi = torch.where(too_big, mid, hi)
        lo = torch.where(too_big, lo, mid)
        mid = torch.where(too_big, (lo + hi) / 2, torch.where(torch.isinf(hi), mid * 2, (lo + hi) / 2))
    floor = torch.where(rho > 0, 1e-3 * d.abs().mean(1), 1e-3 * d.abs().mean())
    return torch.maximum(mid, floor), rho


def membership_strengths(indices: torch.Tensor, distances: torch.Tensor, sigma: torch.Tensor, rho: torch.Tensor,
                         n_columns: int, self_neighbours: bool) -> scipy.sparse.csr_matrix:
    """Directed memberships ``exp(-max(d - rho, 0) / sigma)`` as a sparse (rows, n_columns) matrix."""
    d = distances.to(torch.float64)
    values = torch.exp(-(d - rho.unsqueeze(1)).clamp_min(0) / sigma.unsqueeze(1))
    rows = torch.arange(len(d), device=d.device).unsqueeze(1).expand_as(indices)
    if self_neighbours:
        values = torch.where(indices == rows, torch.zeros_like(values), values)
    matrix = scipy.sparse.coo_matrix(
        (values.reshape(-1).cpu().numpy(), (rows.reshape(-1).cpu().numpy(), indices.reshape(-1).cpu().numpy())),
        shape=(len(d), n_columns))
    return matrix.tocsr()


def fuzzy_simplicial_set(indices: torch.Tensor, distances: torch.Tensor, k: int, set_op_mix_ratio: float = 1.0,
                         local_connectivity: float = 1.0) -> tuple[scipy.sparse.csr_matrix, torch.Tensor, torch.Tensor]:
    """Symmetric fuzzy graph ``W = r (A + A^T - A o A^T) + (1 - r) A o A^T`` from a self-including kNN table."""
    n = len(indices)
    sigma, rho = smooth_knn_dist(distances, k, local_connectivity)
    a = membership_strengths(indices, distances, sigma, rho, n, self_neighbours=True)
    a.eliminate_zeros()
    at = a.transpose().tocsr()
    product = a.multiply(at)
    graph = set_op_mix_ratio * (a + at - product) + (1 - set_op_mix_ratio) * product
    graph = scipy.sparse.csr_matrix(graph)
    graph.eliminate_zeros()
    return graph, sigma, rho
