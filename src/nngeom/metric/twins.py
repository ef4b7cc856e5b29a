"""Twins of a contour distance: distinct inputs with the same distances to every centre (*Metric as Transform*,
sec. 2.8, Fig. 9, "many-1 into").

With three centres in the plane, a pair ``(x, x')`` of inputs sharing their three distances satisfies 3 equations in
4 unknowns, so twins lie on curves: a random input misses them almost surely, and counting preimages of random
inputs cannot show a many-to-one map. A segment ``x(t) = a + t (b - a)`` crosses such curves at isolated ``t``.
Along it, every point ``p(t)`` that shares ``x(t)``'s distances to the first two centres moves continuously (a
branch of the two-centre preimages), and

    g(t) = d(p(t), c_3) - d(x(t), c_3)

changes sign where ``p(t)`` is a twin of ``x(t)``. Each sign change between two steps brackets one; it is then
solved exactly as the square system of 3 equations ``d(p, c_i) = d(x(t), c_i)`` in the 3 unknowns ``(t, p)``
(Levenberg-Marquardt, float64) and kept when the mismatch is below ``tol`` relative to the distances, ``t`` lies in
``[0, 1]`` and ``p`` is not ``x(t)`` itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.optimize
import torch

from .inversion import contour_distance, contour_solutions

__all__ = ["Twin", "twins_on_segment"]


@dataclass(frozen=True)
class Twin:
    """An input ``x`` on the segment (at ``t``) and a distinct ``twin`` with the same distances to every centre."""

    t: float
    x: np.ndarray
    twin: np.ndarray
    mismatch: float


def _distances(points: np.ndarray, centres: torch.Tensor, radius) -> np.ndarray:
    return contour_distance(torch.from_numpy(np.atleast_2d(points)), centres, radius).numpy()


def twins_on_segment(start, end, centres: torch.Tensor, radius: Callable[[torch.Tensor], torch.Tensor], limit: float,
                     steps: int = 120, resolution: int = 300, tol: float = 1e-9, apart: float = 1e-3) -> list[Twin]:
    """Every twin found along the segment from ``start`` to ``end`` (2-d points) for three ``centres`` (3, 2)."""
    centres = torch.as_tensor(centres, dtype=torch.float64)
    a, b = np.asarray(start, dtype=np.float64).ravel(), np.asarray(end, dtype=np.float64).ravel()
    if centres.shape != (3, 2) or a.shape != (2,) or b.shape != (2,):
        raise ValueError(f"need three 2-d centres and 2-d end points, got centres {tuple(centres.shape)}, "
                         f"start {a.shape}, end {b.shape}")
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if np.allclose(a, b):
        raise ValueError("the segment has no length")
    ts = np.linspace(0.0, 1.0, steps)
    grid_step = 2 * limit / (resolution - 1)
    branches: list[list[tuple[np.ndarray, float]]] = []  # per step: (point, g) for the two-centre preimages
    for t in ts:
        x = a + t * (b - a)
        d = _distances(x, centres, radius)[0]
        solutions = contour_solutions(torch.from_numpy(d[:2]), centres[:2], radius, limit, resolution).numpy()
        others = [p for p in solutions if np.linalg.norm(p - x) > 10 * grid_step]
        branches.append([(p, float(_distances(p, centres, radius)[0, 2] - d[2])) for p in others])

    def residual(z: np.ndarray) -> np.ndarray:
        x = a + z[0] * (b - a)
        return _distances(z[1:], centres, radius)[0] - _distances(x, centres, radius)[0]

    found: list[Twin] = []
    jump = 4 * np.linalg.norm(b - a) / (steps - 1) + 10 * grid_step  # how far a branch may move in one step
    for k in range(steps - 1):
        for p, g in branches[k]:
            nearest = min(branches[k + 1], key=lambda q: float(np.linalg.norm(q[0] - p)), default=None)
            if nearest is None or np.linalg.norm(nearest[0] - p) > jump or np.sign(g) == np.sign(nearest[1]):
                continue
            start_z = np.r_[(ts[k] + ts[k + 1]) / 2, (p + nearest[0]) / 2]
            fit = scipy.optimize.least_squares(residual, start_z, method="lm", xtol=1e-15, ftol=1e-15)
            t, twin = float(fit.x[0]), fit.x[1:]
            x = a + t * (b - a)
            scale = float(np.abs(_distances(x, centres, radius)).max())
            mismatch = float(np.abs(fit.fun).max()) / scale
            if (mismatch < tol and 0.0 <= t <= 1.0 and np.linalg.norm(twin - x) > apart
                    and all(abs(t - f.t) > 1e-6 or np.linalg.norm(twin - f.twin) > apart for f in found)):
                found.append(Twin(t, x, twin, mismatch))
    return found
