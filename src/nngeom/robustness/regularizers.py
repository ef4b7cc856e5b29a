"""Regularisers of the hidden representation (Neural robustness, sec. 2 "Supervised learning", Appendix D).

* `lp_weight_penalty`: the l^p norm ``(sum_ij |W_ij|^p)^(1/p)`` of the given weights, or its p-th power with
  ``root=False`` (p = 2: the L2 model; see `nngeom.robustness.experiments` for the form it uses);
* `jacobian_penalty`: Hoffman, Roberts & Yaida (2019) estimate of the squared Frobenius norm of the
  Jacobian J = d h_hat / d x of the hidden activations, averaged over the batch::

      ||J||_F^2 = H E_v[ ||v^T J||^2 ],  v uniform on the unit sphere of R^H,

  estimated with ``n_proj`` random projections; ``n_proj = -1`` sums the H canonical projections
  (exact, H backward passes);
* `nassar_spectral_penalty`: the published spectral regulariser of Nassar et al. (2020, "On 1/n neural
  representation and robustness"), which the document cites as [16]. At the start of every epoch the
  eigenvectors V of the covariance of the hidden activations over the whole training set are computed
  (no gradient, `eigenbasis`); on each batch the eigenvalues are estimated in that fixed basis,
  ``lambda_n = (V^T C_batch V)_nn`` (C_batch the unbiased batch covariance), sorted in descending
  order, and compared with the target ``gamma_n = beta n^-alpha`` anchored at the (tau+1)-th
  eigenvalue, ``beta = lambda_(tau+1) (tau+1)^alpha`` (detached)::

      L = 1/D sum_{n > tau+1, lambda_n > 0} [ (lambda_n / gamma_n - 1)^2 + max(0, lambda_n / gamma_n - 1) ],

  D the hidden width: the first tau eigenvalues are free, excess variance is penalised more than a
  deficit (the one-sided term);
* `spectral_penalty`: our earlier, simpler reconstruction (kept as ``spec_method = "batch"``): the batch
  spectrum itself, the target ``lambda_1 n^-alpha`` with lambda_1 detached, the mean over n >= tau of
  ``(lambda_n / (lambda_1 n^-alpha) - 1)^2``, no one-sided term. The document's authors' code differs from
  both (an unscaled target n^-alpha in the epoch's eigenbasis, plus a one-sided term).
"""
from __future__ import annotations

import functools
import operator
from collections.abc import Iterable

import torch

__all__ = ["batch_spectrum", "eigenbasis", "jacobian_penalty", "lp_weight_penalty", "nassar_spectral_penalty",
           "spectral_penalty"]


def lp_weight_penalty(weights: torch.Tensor | Iterable[torch.Tensor], p: float = 2.0,
                      root: bool = True) -> torch.Tensor:
    """``(sum |w|^p)^(1/p)`` over every entry of ``weights`` (a tensor or an iterable); ``sum |w|^p`` if not ``root``."""
    if p <= 0:
        raise ValueError(f"p must be > 0, got {p}")
    tensors = [weights] if isinstance(weights, torch.Tensor) else list(weights)
    if not tensors:
        raise ValueError("no weights given")
    total = functools.reduce(operator.add, (w.abs().pow(p).sum() for w in tensors))  # sum() in order, no 0 +
    return total.pow(1.0 / p) if root else total


def jacobian_penalty(x: torch.Tensor, h: torch.Tensor, n_proj: int = 1,
                     generator: torch.Generator | None = None, create_graph: bool = True) -> torch.Tensor:
    """Batch mean of ||d h / d x||_F^2; ``x`` must require grad and ``h = f(x)`` (B, H).

    ``n_proj >= 1`` random unit projections (unbiased estimate), ``n_proj = -1`` exact.
    """
    if not isinstance(n_proj, int):
        raise TypeError(f"n_proj must be an int, got {type(n_proj).__name__}")
    if n_proj != -1 and n_proj < 1:
        raise ValueError(f"n_proj must be a positive int or -1 (exact), got {n_proj!r}")
    if not x.requires_grad:
        raise ValueError("x must require grad (call x.requires_grad_() before computing h)")
    if h.dim() != 2:
        raise ValueError(f"h must be (batch, hidden), got shape {tuple(h.shape)}")
    batch, hidden = h.shape
    total = h.new_zeros(())
    if n_proj == -1:
        for i in range(hidden):
            v = torch.zeros_like(h)
            v[:, i] = 1.0
            (g,) = torch.autograd.grad(h, x, grad_outputs=v, retain_graph=True, create_graph=create_graph)
            total = total + g.pow(2).sum()
        return total / batch
    for _ in range(n_proj):
        v = torch.randn(h.shape, generator=generator, dtype=h.dtype).to(h.device)
        v = v / v.norm(dim=1, keepdim=True)
        (g,) = torch.autograd.grad(h, x, grad_outputs=v, retain_graph=True, create_graph=create_graph)
        total = total + hidden * g.pow(2).sum()
    return total / (n_proj * batch)


def batch_spectrum(h: torch.Tensor) -> torch.Tensor:
    """Descending eigenvalues of the (biased) covariance of the rows of ``h``, differentiable.

    Computed from the smaller of the two Gram matrices (B x B or H x H): same non-zero eigenvalues.
    """
    if h.dim() != 2 or len(h) < 2:
        raise ValueError(f"h must be (batch >= 2, hidden), got shape {tuple(h.shape)}")
    centred = h - h.mean(0, keepdim=True)
    gram = centred.T @ centred if h.shape[1] <= h.shape[0] else centred @ centred.T
    return torch.linalg.eigvalsh(gram / len(h)).flip(0)


def spectral_penalty(h: torch.Tensor, alpha: float = 1.0, tau: int = 10, eps: float = 1e-12) -> torch.Tensor:
    """Mean over n >= tau of (lambda_n / (lambda_1 n^-alpha) - 1)^2 for the batch spectrum of ``h``."""
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if tau < 1:
        raise ValueError(f"tau must be >= 1, got {tau}")
    lam = batch_spectrum(h)
    count = min(h.shape) - 1  # a centred batch has rank <= B - 1
    if count < tau:
        raise ValueError(f"tau = {tau} exceeds the {count} usable eigenvalues of this batch")
    n = torch.arange(1, count + 1, dtype=h.dtype, device=h.device)
    target = lam[0].detach().clamp_min(eps) * n.pow(-alpha)
    return (lam[:count][tau - 1:] / target[tau - 1:] - 1).pow(2).mean()


@torch.no_grad()
def eigenbasis(h: torch.Tensor) -> torch.Tensor:
    """Eigenvectors (columns) of the covariance of the rows of ``h`` (N, D), ordered by descending eigenvalue."""
    if h.dim() != 2 or len(h) < 2:
        raise ValueError(f"h must be (samples >= 2, hidden), got shape {tuple(h.shape)}")
    centred = h - h.mean(0, keepdim=True)
    cov = centred.T @ centred / len(h)
    _, vectors = torch.linalg.eigh((cov + cov.T) / 2)
    return vectors.flip(1)


def nassar_spectral_penalty(h: torch.Tensor, basis: torch.Tensor, alpha: float = 1.0, tau: int = 10) -> torch.Tensor:
    """Nassar et al. (2020) penalty of the batch ``h`` (B, D) in the fixed eigenbasis ``basis`` (D, D); see module doc."""
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if h.dim() != 2 or len(h) < 2:
        raise ValueError(f"h must be (batch >= 2, hidden), got shape {tuple(h.shape)}")
    width = h.shape[1]
    if basis.shape != (width, width):
        raise ValueError(f"basis must be ({width}, {width}), got {tuple(basis.shape)}")
    if not 0 <= tau < width - 1:
        raise ValueError(f"tau must lie in [0, {width - 2}] for {width} hidden units, got {tau}")
    centred = h - h.mean(0, keepdim=True)
    lam = ((centred @ basis.to(h.dtype)) ** 2).sum(0) / (len(h) - 1)  # diag(V^T C V), C the unbiased covariance
    lam = torch.sort(lam, descending=True).values
    n = torch.arange(1, width + 1, dtype=h.dtype, device=h.device)
    beta = (lam[tau] * (tau + 1) ** alpha).detach()
    if beta <= 0:  # no variance at the anchor: no target to compare with
        return h.sum() * 0.0
    ratio = lam[tau + 1:] / (beta * n[tau + 1:].pow(-alpha))
    excess = ratio - 1
    terms = torch.where(lam[tau + 1:] > 0, excess.pow(2) + torch.relu(excess), torch.zeros_like(excess))
    return terms.sum() / width
