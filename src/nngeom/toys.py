"""Seeded toy data sets used across the documents.

* ``two_spirals``: two interleaved 2-D spirals (Metric as Transform, sec. 3.1.4 / 3.3);
* ``double_helix``: two 3-D helices, t in [0, 4 pi], radius 1, pitch 0.15 (sec. 2.6);
* ``regression_1d`` / ``regression_2d``: smooth targets for the local-neuron background;
* ``noise_images``: Gaussian (or uniform) noise shaped like a data set's images;
* ``grid_2d``: the square grid on which every 2-D figure of the book evaluates a layer or a model.
"""
from __future__ import annotations

import math

import torch

__all__ = ["double_helix", "grid_2d", "noise_images", "regression_1d", "regression_2d", "two_spirals"]


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def two_spirals(n: int = 400, turns: float = 1.5, noise: float = 0.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points in 2-D (half per spiral), labels 0 / 1; r grows linearly with angle, scaled to radius ~1."""
    if n < 2:
        raise ValueError("two_spirals needs n >= 2")
    g = _generator(seed)
    half = n // 2
    t = torch.sqrt(torch.rand(half, generator=g)) * turns * 2 * math.pi
    arm = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (turns * 2 * math.pi)
    points = torch.cat([arm, -arm]) + noise * torch.randn(2 * half, 2, generator=g)
    labels = torch.cat([torch.zeros(half, dtype=torch.long), torch.ones(half, dtype=torch.long)])
    order = torch.randperm(2 * half, generator=g)
    return points[order], labels[order]


def double_helix(n_per_helix: int = 300, radius: float = 1.0, pitch: float = 0.15,
                 t_max: float = 4 * math.pi, noise: float = 0.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two helices ``(r cos t, r sin t, pitch t)`` and the same shifted by pi; labels 0 / 1."""
    g = _generator(seed)
    t = torch.linspace(0, t_max, n_per_helix)
    helices = []
    for phase in (0.0, math.pi):
        helices.append(torch.stack([radius * torch.cos(t + phase), radius * torch.sin(t + phase), pitch * t], dim=1))
    points = torch.cat(helices) + noise * torch.randn(2 * n_per_helix, 3, generator=g)
    labels = torch.cat([torch.zeros(n_per_helix, dtype=torch.long), torch.ones(n_per_helix, dtype=torch.long)])
    return points, labels


def regression_1d(n: int = 200, noise: float = 0.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x in [-2, 2], y = sin(2x) + 0.3 x^2 (+ noise); shapes (n, 1)."""
    g = _generator(seed)
    x = torch.linspace(-2, 2, n).unsqueeze(1)
    y = torch.sin(2 * x) + 0.3 * x**2 + noise * torch.randn(n, 1, generator=g)
    return x, y


def regression_2d(n: int = 400, noise: float = 0.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x uniform in [-1, 1]^2, y = sin(3 x1) cos(2 x2) (+ noise); shapes (n, 2), (n, 1)."""
    g = _generator(seed)
    x = torch.rand(n, 2, generator=g) * 2 - 1
    y = (torch.sin(3 * x[:, :1]) * torch.cos(2 * x[:, 1:])) + noise * torch.randn(n, 1, generator=g)
    return x, y


def noise_images(n: int, shape: tuple[int, ...], kind: str = "gaussian", scale: float = 1.0,
                 seed: int = 0) -> torch.Tensor:
    """``n`` noise images of ``shape``: 'gaussian' N(0, scale^2) or 'uniform' U[0, scale]."""
    g = _generator(seed)
    if kind == "gaussian":
        return scale * torch.randn(n, *shape, generator=g)
    if kind == "uniform":
        return scale * torch.rand(n, *shape, generator=g)
    raise ValueError(f"unknown noise kind {kind!r}: choose 'gaussian' or 'uniform'")


def grid_2d(limit: float, resolution: int, dtype: torch.dtype = torch.float32
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Points of a ``resolution`` x ``resolution`` grid on [-limit, limit]^2, and its axes ``xx``, ``yy``.

    Point ``i * resolution + j`` is ``(axis[j], axis[i])`` (x along columns, y along rows, as ``imshow`` draws
    with ``origin="lower"``); ``xx`` and ``yy`` are the (resolution, resolution) coordinate arrays.
    """
    if not limit > 0 or int(resolution) != resolution or resolution < 2:
        raise ValueError(f"need limit > 0 and an integer resolution >= 2 (got {limit}, {resolution})")
    axis = torch.linspace(-limit, limit, int(resolution), dtype=dtype)
    xx, yy = torch.meshgrid(axis, axis, indexing="xy")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1), xx, yy
