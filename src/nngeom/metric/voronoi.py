"""Voronoi partitions induced by transforms (Metric as Transform, sec. 2.3, Fig. 3).

A layer of N neurons assigns an input x to the neuron that responds most:
linear ``argmax_i (w_i . x + b_i)`` or distance ``argmin_i (d(x, c_i) + b_i)``.
For the l^2 distance without bias this is the classical Voronoi diagram of the
centres; with a bias on the squared distance it is a power diagram. These
helpers evaluate both on a grid and measure the properties the document names.
"""
from __future__ import annotations

import torch

__all__ = ["agreement", "distance_regions", "linear_regions", "occupied_regions", "own_cell_fraction"]


def linear_regions(x: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``argmax_i (w_i . x + b_i)`` for every row of ``x``."""
    scores = x @ weights.T
    if bias is not None:
        scores = scores + bias
    return scores.argmax(dim=1)


def distance_regions(x: torch.Tensor, centres: torch.Tensor, bias: torch.Tensor | None = None,
                     p: float = 2.0) -> torch.Tensor:
    """``argmin_i (d_p(x, c_i)^p + b_i)``: Voronoi cells (no bias) or power cells (bias, p = 2)."""
    if p <= 0:
        raise ValueError(f"p must be > 0, got {p}")
    scores = torch.cdist(x, centres, p=p).pow(p)
    if bias is not None:
        scores = scores + bias
    return scores.argmin(dim=1)


def own_cell_fraction(labels_of_parameters: torch.Tensor) -> float:
    """Fraction of neurons whose own parameter point (weight or centre) falls in its own region.

    ``labels_of_parameters[i]`` is the region the layer assigns to the i-th neuron's parameter point.
    """
    own = torch.arange(len(labels_of_parameters))
    return (labels_of_parameters == own).float().mean().item()


def agreement(labels_a: torch.Tensor, labels_b: torch.Tensor) -> float:
    """Fraction of points given the same region by two partitions."""
    return (labels_a == labels_b).float().mean().item()


def occupied_regions(labels: torch.Tensor, n_neurons: int) -> int:
    """Number of neurons that own at least one point (the others have an empty region on the grid)."""
    return int(torch.bincount(labels, minlength=n_neurons).gt(0).sum())
