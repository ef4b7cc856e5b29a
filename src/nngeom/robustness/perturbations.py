"""Random perturbations, FGSM and PGD over an epsilon grid; relative accuracy and critical distance.

Neural robustness, sec. 2 "Perturbation experiments" and sec. 3 (Fig. 1, Fig. A2). Only images that
a model classifies correctly are attacked, so every model starts at relative accuracy 1 at eps = 0.

Perturbations delta(eps) of an image x with label y (no box constraint: the models read images
scaled to unit l^p norm, not a pixel box):

* ``random``: delta = eps u, u a fixed random unit vector per image (normal entries, normalised);
* ``fgsm``: delta = eps sign(grad_x CE(f(x), y)) (L-infinity ball; Goodfellow et al. 2015);
* ``pgd_linf`` / ``pgd_l2``: ``steps`` ascent steps of size ``rel_step * eps / steps`` (or a fixed
  ``abs_step``, as in the authors' code: 20 steps of 1e-2) from delta = 0, signed (L-inf) or
  normalised (L2) gradients, projected back onto the eps-ball (Madry et al. 2018).

The critical distance of an image is the Euclidean norm of the perturbation at the smallest eps
that flips its prediction: the first flipping eps of the grid, refined by bisection between it and
the grid point below. Images never flipped on the grid get ``nan``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..book.budget import is_dry_run, loop
from ..gradients import input_gradient

__all__ = ["evaluate", "KINDS", "Perturbation", "RobustnessResult"]

KINDS = ("random", "fgsm", "pgd_linf", "pgd_l2")


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(len(t), -1)


class Perturbation:
    """``delta(eps)`` of one kind for a batch of images; ``eps`` is a scalar or one value per image."""

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str, steps: int = 10,
                 rel_step: float = 2.5, generator: torch.Generator | None = None, abs_step: float | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown perturbation {kind!r}: choose one of {', '.join(KINDS)}")
        if steps < 1 or rel_step <= 0 or (abs_step is not None and abs_step <= 0):
            raise ValueError(f"need steps >= 1, rel_step > 0 and abs_step > 0 or None (got {steps}, {rel_step}, "
                             f"{abs_step})")
        self.model, self.x, self.y, self.kind = model, x, y, kind
        self.steps, self.rel_step = int(steps), float(rel_step)
        self.abs_step = None if abs_step is None else float(abs_step)
        self.direction = None
        if kind == "random":
            u = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
            self.direction = u / _flat(u).norm(dim=1).view(-1, *[1] * (x.dim() - 1))
        elif kind == "fgsm":
            self.direction = input_gradient(model, x, y).sign()

    def __call__(self, eps: float | torch.Tensor) -> torch.Tensor:
        eps = torch.as_tensor(eps, dtype=self.x.dtype, device=self.x.device)
        if eps.dim() == 0:
            eps = eps.expand(len(self.x))
        if torch.any(eps < 0):
            raise ValueError("eps must be >= 0")
        e = eps.view(-1, *[1] * (self.x.dim() - 1))
        if self.direction is not None:
            return e * self.direction
        delta = torch.zeros_like(self.x)
        step = self.rel_step * e / self.steps if self.abs_step is None else torch.full_like(e, self.abs_step)
        for _ in range(self.steps):
            g = input_gradient(self.model, self.x + delta, self.y)
            if self.kind == "pgd_linf":
                delta = torch.maximum(torch.minimum(delta + step * g.sign(), e), -e)
            else:
                norm = _flat(g).norm(dim=1).clamp_min(1e-30).view_as(e)
                delta = delta + step * g / norm
                scale = (e / _flat(delta).norm(dim=1).clamp_min(1e-30).view_as(e)).clamp(max=1.0)
                delta = delta * scale
        return delta.detach()


@dataclass
class RobustnessResult:
    """Relative accuracy on the eps grid and per-image critical distances (L2 norm of the perturbation).

    ``critical_eps``: the attack's budget eps at which each image first flips (after bisection), NaN where none of
    the grid flips it; for FGSM and PGD the L-infinity budget they share, against which the document's Fig. 1 draws
    both (the Euclidean length of a PGD step inside that ball is at most FGSM's corner, so lengths alone favour PGD).
    """

    kind: str
    eps: np.ndarray
    relative_accuracy: np.ndarray
    critical: np.ndarray
    n_correct: int
    critical_eps: np.ndarray | None = None

    def median_critical(self) -> float:
        finite = self.critical[np.isfinite(self.critical)]
        return float(np.median(finite)) if finite.size else float("nan")

    def as_dict(self) -> dict:
        return {"kind": self.kind, "eps": torch.as_tensor(self.eps), "n_correct": self.n_correct,
                "relative_accuracy": torch.as_tensor(self.relative_accuracy),
                "critical": torch.as_tensor(self.critical)}

    @classmethod
    def from_dict(cls, d: dict) -> "RobustnessResult":
        return cls(d["kind"], np.asarray(d["eps"]), np.asarray(d["relative_accuracy"]), np.asarray(d["critical"]),
                   int(d["n_correct"]))


@torch.no_grad()
def _wrong(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return model(x).argmax(1) != y


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str, eps_grid, *, steps: int = 10,
             rel_step: float = 2.5, abs_step: float | None = None, bisection: int = 10, batch_size: int = 500,
             seed: int = 0, device: torch.device | None = None) -> RobustnessResult:
    """Relative accuracy for every eps of ``eps_grid`` and critical distances of the correct images."""
    grid = np.asarray(eps_grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 1 or np.any(grid <= 0) or np.any(np.diff(grid) <= 0):
        raise ValueError("eps_grid must be a 1-D increasing sequence of positive numbers")
    if bisection < 0:
        raise ValueError(f"bisection must be >= 0, got {bisection}")
    dev = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(int(seed))
    flips, critical, budgets = [], [], []
    correct_total = 0
    for start in loop(range(0, len(x), batch_size), "perturbations.batches"):
        xb, yb = x[start:start + batch_size].to(dev), y[start:start + batch_size].to(dev)
        keep = ~_wrong(model, xb, yb)
        if is_dry_run() and not keep.any():  # a dry run's barely trained model: attack the batch to measure its cost
            keep = torch.ones_like(keep)
        xb, yb = xb[keep], yb[keep]
        if len(xb) == 0:
            continue
        correct_total += len(xb)
        attack = Perturbation(model, xb, yb, kind, steps=steps, rel_step=rel_step, generator=generator,
                              abs_step=abs_step)
        # (n_eps, b); a dry run (book.budget) visits only a few eps, the others stay "not flipped"
        flipped = torch.zeros(len(grid), len(xb), dtype=torch.bool)
        for i in loop(range(len(grid)), "perturbations.eps grid"):
            flipped[i] = _wrong(model, xb + attack(float(grid[i])), yb).cpu()
        flips.append(flipped)
        ever = flipped.any(0)
        first = torch.where(ever, flipped.float().argmax(0), torch.zeros_like(ever, dtype=torch.long))
        grid_t = torch.as_tensor(grid, dtype=xb.dtype)
        hi = grid_t[first].to(dev)
        lo = torch.where(first > 0, grid_t[(first - 1).clamp_min(0)], torch.zeros_like(grid_t[first])).to(dev)
        for _ in range(bisection):
            mid = (lo + hi) / 2
            wrong = _wrong(model, xb + attack(mid), yb)
            hi = torch.where(wrong, mid, hi)
            lo = torch.where(wrong, lo, mid)
        dist = _flat(attack(hi)).norm(dim=1).cpu().double()
        dist[~ever.cpu()] = float("nan")
        critical.append(dist)
        budget = hi.cpu().double().clone()
        budget[~ever.cpu()] = float("nan")
        budgets.append(budget)
    model.train(was_training)
    if correct_total == 0:
        raise ValueError("the model classifies none of the images correctly: nothing to attack")
    relative = torch.cat(flips, dim=1).logical_not().double().mean(1).numpy()
    return RobustnessResult(kind, grid, relative, torch.cat(critical).numpy(), correct_total,
                            torch.cat(budgets).numpy())
