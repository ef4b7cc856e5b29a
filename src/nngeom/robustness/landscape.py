"""Decision landscapes and hidden-Jacobian maps on a random plane (Neural robustness, sec. 3, Fig. 4; App. D).

A random orthonormal pair (u, v) in input space and an image x0 span the plane
``x(a, b) = x0 + a u + b v``, sampled on a grid of ``resolution`` x ``resolution`` points in
[-extent, extent]^2. On it we record the model's class and confidence (max softmax) and the
Frobenius norm of the exact Jacobian of the latent activations h_hat = sigma(W x). For an
element-wise sigma the Jacobian is ``diag(sigma'(W x)) W`` (eq. A10), hence::

    ||J(x)||_F^2 = sum_i sigma'(h_i)^2 ||W_i||^2,   sigma(h) = ReLU(h)^n,  sigma'(h) = n ReLU(h)^(n-1).

The document reads Fig. 4 by eye ("KH changes only gradually and smoothly", BP's "decision domains with rougher
edges"); these measures make the reading numerical on a grid ``v`` (R x R):

* ``neighbour_steps(v)``: ``|v[i+1, j] - v[i, j]|`` and ``|v[i, j+1] - v[i, j]|`` for all 2R(R-1) neighbour pairs;
* ``roughness(jac)``: the mean neighbour step of ``log10 ||J||_F`` divided by its range on the plane (how abruptly
  the norm changes, independent of its level; a linear ramp along one axis gives 1 / (2 (R - 1)));
* ``boundary_fraction(classes)``: the share of neighbour pairs whose predicted classes differ;
* ``decision_regions(classes)``: the number of connected regions of equal class (4-neighbour connectivity).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..toys import grid_2d

if TYPE_CHECKING:
    from .models import PowerModel

__all__ = ["boundary_fraction", "decision_landscape", "decision_regions", "jacobian_norm_autograd",
           "model_jacobian_norms", "neighbour_steps", "plane_points", "random_plane", "relu_power_jacobian_norm",
           "roughness"]


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
    coords, xx, _ = grid_2d(extent, resolution)  # point i * resolution + j is (a_j, b_i)
    return x0 + coords @ plane, xx[0]


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
def model_jacobian_norms(model: PowerModel, points: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Hidden-Jacobian Frobenius norm of a model exposing ``encoder_weight()``, ``pre(x)`` and ``n``."""
    dev = next(model.parameters()).device
    weight = model.encoder_weight().to(dev)
    return torch.cat([relu_power_jacobian_norm(weight, model.pre(points[i:i + batch_size].to(dev)), model.n).cpu()
                      for i in range(0, len(points), batch_size)])


def _grid(name: str, values: torch.Tensor) -> torch.Tensor:
    if not isinstance(values, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor on the grid, got {type(values).__name__}")
    if values.ndim != 2 or min(values.shape) < 2:
        raise ValueError(f"{name} must be a 2-D grid of at least 2 x 2 points, got shape {tuple(values.shape)}")
    return values


def neighbour_steps(values: torch.Tensor) -> torch.Tensor:
    """Absolute differences between vertically and horizontally neighbouring grid points, flattened."""
    values = _grid("values", values)
    return torch.cat([(values[1:] - values[:-1]).abs().flatten(), (values[:, 1:] - values[:, :-1]).abs().flatten()])


def roughness(jacobian_norms: torch.Tensor) -> float:
    """Mean neighbour step of ``log10 ||J||_F`` over its range on the plane (0 for a constant map)."""
    log_norm = torch.log10(_grid("jacobian_norms", jacobian_norms) + 1e-30)
    return float(neighbour_steps(log_norm).mean() / (log_norm.max() - log_norm.min()).clamp_min(1e-12))


def boundary_fraction(classes: torch.Tensor) -> float:
    """Share of neighbouring grid pairs whose predicted classes differ."""
    return float((neighbour_steps(_grid("classes", classes).float()) > 0).float().mean())


def decision_regions(classes: torch.Tensor) -> int:
    """Number of connected regions of equal predicted class on the grid (4-neighbour connectivity)."""
    from scipy import ndimage

    grid = _grid("classes", classes).cpu().numpy()
    return int(sum(ndimage.label(grid == c)[1] for c in np.unique(grid)))
