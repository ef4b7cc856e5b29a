"""Decision landscapes and hidden-Jacobian maps on a random plane (Neural robustness, sec. 3, Fig. 4; App. D).

A random orthonormal pair (u, v) in input space and an image x0 span the plane
``x(a, b) = x0 + a u + b v``, sampled on a grid of ``resolution`` x ``resolution`` points in
[-extent, extent]^2. On it we record the model's class and confidence (max softmax) and the
Frobenius norm of the exact Jacobian of the latent activations h_hat = sigma(W x). For an
element-wise sigma the Jacobian is ``diag(sigma'(W x)) W`` (eq. A10), hence::

    ||J(x)||_F^2 = sum_i sigma'(h_i)^2 ||W_i||^2,   sigma(h) = ReLU(h)^n,  sigma'(h) = n ReLU(h)^(n-1).
"""
from __future__ import annotations

import torch
from torch import nn


def random_plane(dim: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Two orthonormal vectors of R^dim (rows), from the QR factorisation of a Gaussian matrix."""
    if dim < 2:
        raise ValueError(f"need dim >= 2, got {dim}")
    q, _ = torch.linalg.qr(torch.randn(dim, 2, generator=generator, dtype=torch.float64))
    return q.T.float().contiguous()


def plane_points(x0: torch.Tensor, plane: torch.Tensor, extent: float, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid points ``x0 + a u + b v`` (resolution^2, D), row-major with b along rows; and the axis values."""
    if extent <= 0 or resolution < 2:
        raise ValueError(f"need extent > 0 and resolution >= 2 (got {extent}, {resolution})")
    x0 = x0.reshape(-1)
    if plane.shape != (2, x0.numel()):
        raise ValueError(f"plane must be (2, {x0.numel()}), got {tuple(plane.shape)}")
    axis = torch.linspace(-extent, extent, resolution)
    bb, aa = torch.meshgrid(axis, axis, indexing="ij")
    coords = torch.stack([aa.reshape(-1), bb.reshape(-1)], dim=1)
    return x0 + coords @ plane, axis


@torch.no_grad()
def decision_landscape(model: nn.Module, points: torch.Tensor, batch_size: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted class and confidence (max softmax probability) at every point."""
    dev = next(model.parameters()).device
    model.eval()
    probs = torch.cat([torch.softmax(model(points[i:i + batch_size].to(dev)), 1).cpu()
                       for i in range(0, len(points), batch_size)])
    conf, cls = probs.max(1)
    return cls, conf


@torch.no_grad()
def relu_power_jacobian_norm(weight: torch.Tensor, pre: torch.Tensor, n: float) -> torch.Tensor:
    """Exact ||d ReLU(W x)^n / d x||_F for pre-activations ``pre = W x`` (B, H) and ``weight`` W (H, D)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    dsigma = n * torch.relu(pre).pow(n - 1) if n != 1 else (pre > 0).to(pre.dtype)
    row_sq = weight.pow(2).sum(1)
    return (dsigma.pow(2) @ row_sq).sqrt()


def jacobian_norm_autograd(hidden, points: torch.Tensor) -> torch.Tensor:
    """||d hidden(x) / d x||_F at every point by ``torch.autograd.functional.jacobian`` (slow reference)."""
    out = []
    for p in points:
        jac = torch.autograd.functional.jacobian(lambda z: hidden(z[None])[0], p)
        out.append(jac.norm())
    return torch.stack(out)


@torch.no_grad()
def model_jacobian_norms(model: nn.Module, points: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Hidden-Jacobian Frobenius norm of a model exposing ``encoder_weight()``, ``pre(x)`` and ``n``."""
    dev = next(model.parameters()).device
    weight = model.encoder_weight().to(dev)
    return torch.cat([relu_power_jacobian_norm(weight, model.pre(points[i:i + batch_size].to(dev)), model.n).cpu()
                      for i in range(0, len(points), batch_size)])
