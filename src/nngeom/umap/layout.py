"""Low-dimensional layout of a fuzzy graph (McInnes et al. 2018, sec. 3.2 and 4; umap-learn's optimiser).

The embedding similarity is ``q = 1 / (1 + a |y_i - y_j|^(2b))`` with a, b fitted to the curve that is 1 below
``min_dist`` and ``exp(-(x - min_dist) / spread)`` above. Edges are sampled in proportion to their weight
(edge e every ``w_max / w_e`` epochs); each sampled edge pulls its ends together with the gradient
``-2ab d^(2(b-1)) / (1 + a d^(2b)) (y_i - y_j)`` and pushes its head away from ``negative_sample_rate`` random
nodes with ``2 gamma b / ((0.001 + d^2)(1 + a d^(2b))) (y_i - y_k)``; each gradient component is clipped to
[-4, 4], the learning rate decays linearly to 0. Unlike umap-learn's sequential (Hogwild) loop, one epoch
updates all sampled edges at once with ``index_add_`` (vectorised, and the same code runs on a GPU). On a CPU the
epochs run in the numba kernel of :mod:`nngeom.umap.sgd` (the same scheme, other random negative samples).
"""
from __future__ import annotations

import os

import numpy as np
import scipy.optimize
import scipy.sparse
import scipy.sparse.linalg
import torch

__all__ = ["CPU_KERNEL", "edge_schedule", "find_ab_params", "initial_layout", "optimize_layout",
           "SINGLE_THREAD_EDGES", "spectral_layout"]

#: Below this many edges the CPU optimisation loop runs single-threaded (see ``optimize_layout``).
SINGLE_THREAD_EDGES = 1_000_000

#: Optimise float32 CPU embeddings with the numba kernel of :mod:`nngeom.umap.sgd` (False: the torch loop).
CPU_KERNEL = not os.environ.get("NNGEOM_DEVICE_CHECK")  # the device check follows the GPU code path


def find_ab_params(spread: float = 1.0, min_dist: float = 0.1) -> tuple[float, float]:
    """Least-squares fit of ``1 / (1 + a x^(2b))`` to the target curve on [0, 3 spread] (as umap-learn)."""
    if spread <= 0 or not 0 <= min_dist <= spread:
        raise ValueError(f"need spread > 0 and 0 <= min_dist <= spread, got spread={spread}, min_dist={min_dist}")
    x = np.linspace(0, spread * 3, 300)
    y = np.where(x < min_dist, 1.0, np.exp(-(x - min_dist) / spread))
    (a, b), _ = scipy.optimize.curve_fit(lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b)), x, y)
    return float(a), float(b)


def spectral_layout(graph: scipy.sparse.spmatrix, dim: int, seed: int = 0) -> np.ndarray | None:
    """Eigenvectors 2..dim+1 of ``D^-1/2 W D^-1/2`` (smallest of the normalised Laplacian); None on failure."""
    n = graph.shape[0]
    if n <= dim + 1:
        return None
    degree = np.asarray(graph.sum(axis=1)).ravel()
    inv_sqrt = scipy.sparse.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    normalised = inv_sqrt @ graph @ inv_sqrt
    try:
        values, vectors = scipy.sparse.linalg.eigsh(normalised, k=dim + 1, which="LA", v0=np.ones(n),
                                                    tol=1e-4, maxiter=n * 5, ncv=max(2 * dim + 1, int(np.sqrt(n))))
    except (scipy.sparse.linalg.ArpackError, scipy.sparse.linalg.ArpackNoConvergence):
        return None
    order = np.argsort(values)[::-1]
    return vectors[:, order[1:dim + 1]]


def initial_layout(graph: scipy.sparse.spmatrix, dim: int, init: str, generator: torch.Generator) -> torch.Tensor:
    """'spectral' (falls back to 'random' when the eigensolver fails) or 'random' uniform in [-10, 10]^dim;
    then scaled to [0, 10] per axis as umap-learn does."""
    n = graph.shape[0]
    spectral = spectral_layout(graph, dim) if init == "spectral" else None
    if spectral is not None:
        layout = torch.as_tensor(spectral, dtype=torch.float32)
        layout = layout * (10.0 / layout.abs().max()) + 1e-4 * torch.randn(n, dim, generator=generator)
    else:
        layout = torch.rand(n, dim, generator=generator) * 20 - 10
    low, high = layout.min(0).values, layout.max(0).values
    return (10.0 * (layout - low) / (high - low).clamp_min(1e-12)).contiguous()


def edge_schedule(graph: scipy.sparse.spmatrix, n_epochs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heads, tails and epochs-per-sample ``w_max / w`` of the edges kept (weights >= w_max / n_epochs)."""
    coo = graph.tocoo()
    keep = coo.data >= coo.data.max() / n_epochs
    weights = coo.data[keep]
    return coo.row[keep], coo.col[keep], weights.max() / weights


def optimize_layout(head_embedding: torch.Tensor, tail_embedding: torch.Tensor, heads: torch.Tensor,
                    tails: torch.Tensor, epochs_per_sample: torch.Tensor, n_epochs: int, a: float, b: float,
                    generator: torch.Generator, gamma: float = 1.0, initial_alpha: float = 1.0,
                    negative_sample_rate: int = 5, move_other: bool = True) -> torch.Tensor:
    """Optimise ``head_embedding`` in place (and ``tail_embedding`` too when ``move_other``, the same tensor).

    On a CPU (float32) the epochs run in :func:`nngeom.umap.sgd.optimize_layout_cpu`, seeded by one draw from
    ``generator``. The torch loop (other devices, or ``CPU_KERNEL = False``) runs graphs under
    ``SINGLE_THREAD_EDGES`` edges in one thread on a CPU: each epoch is a few dozen small element-wise operations,
    for which thread hand-offs cost more than they save (and much more on a busy machine).
    """
    if CPU_KERNEL and head_embedding.device.type == "cpu" and head_embedding.dtype == torch.float32:
        from .sgd import optimize_layout_cpu  # imports numba on first use only
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
        head = head_embedding.contiguous()
        optimize_layout_cpu(head, tail_embedding.contiguous(), heads.cpu().numpy(), tails.cpu().numpy(),
                            epochs_per_sample.cpu().numpy(), n_epochs, a, b, seed, gamma, initial_alpha,
                            negative_sample_rate, move_other)
        if head is not head_embedding:
            head_embedding.copy_(head)
        return head_embedding
    threads = torch.get_num_threads()
    if head_embedding.device.type == "cpu" and len(heads) < SINGLE_THREAD_EDGES:
        torch.set_num_threads(1)
    try:
        return _optimize(head_embedding, tail_embedding, heads, tails, epochs_per_sample, n_epochs, a, b, generator,
                         gamma, initial_alpha, negative_sample_rate, move_other)
    finally:
        torch.set_num_threads(threads)


def _optimize(head_embedding, tail_embedding, heads, tails, epochs_per_sample, n_epochs, a, b, generator, gamma,
              initial_alpha, negative_sample_rate, move_other):
    device = head_embedding.device
    n_tail = len(tail_embedding)
    epochs_per_negative = epochs_per_sample / negative_sample_rate
    next_sample = epochs_per_sample.clone()
    next_negative = epochs_per_negative.clone()
    for epoch in range(n_epochs):
        alpha = initial_alpha * (1.0 - epoch / n_epochs)
        active = (next_sample <= epoch + 1).nonzero().squeeze(1)
        if len(active) == 0:
            continue
        h, t = heads[active], tails[active]
        diff = head_embedding[h] - tail_embedding[t]
        d2 = (diff * diff).sum(1, keepdim=True)
        coeff = torch.where(d2 > 0, -2 * a * b * d2.clamp_min(1e-12) ** (b - 1) / (1 + a * d2 ** b),
                            torch.zeros_like(d2))
        grad = (coeff * diff).clamp(-4, 4) * alpha
        head_embedding.index_add_(0, h, grad)
        if move_other:
            tail_embedding.index_add_(0, t, -grad)
        next_sample[active] += epochs_per_sample[active]
        n_negative = ((epoch + 1 - next_negative[active]) / epochs_per_negative[active]).floor().clamp_min(0).long()
        next_negative[active] += n_negative * epochs_per_negative[active]
        neg_heads = torch.repeat_interleave(h, n_negative)
        if len(neg_heads) == 0:
            continue
        neg_tails = torch.randint(0, n_tail, (len(neg_heads),), generator=generator, device=device)
        diff = head_embedding[neg_heads] - tail_embedding[neg_tails]
        d2 = (diff * diff).sum(1, keepdim=True)
        coeff = 2 * gamma * b / ((0.001 + d2) * (1 + a * d2 ** b))
        grad = torch.where(d2 > 0, (coeff * diff).clamp(-4, 4), torch.full_like(diff, 4.0))
        if move_other:  # same node drawn as its own negative sample: no force
            grad = torch.where((neg_heads == neg_tails).unsqueeze(1), torch.zeros_like(grad), grad)
        head_embedding.index_add_(0, neg_heads, grad * alpha)
    return head_embedding
