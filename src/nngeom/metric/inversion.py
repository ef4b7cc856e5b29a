"""Reconstructing inputs from the outputs of a transform (*Metric as Transform*, sec. 2.7 and 2.8).

A layer is *reversible* when its outputs determine its input. The document inverts:

* a linear map ``y = W x + b`` with the Moore-Penrose pseudo-inverse: ``x = W^+ (y - b)``;
* the inverse stereographic projection ``R^n -> S^n`` (its inverse is the stereographic projection);
* cosine angles ``cos(theta_i) = w_i . x / (|w_i| |x|)``, which give the direction of ``x`` only, plus one
  extra angle measured at a known point ``p`` (between the origin and ``x``) which gives the magnitude by
  the law of sines (sec. 2.7, "triangulation");
* Euclidean distances from N+1 centres in R^N (Algorithm 1), and distances known only up to a common scale
  from N+2 centres (by gradient descent, as in the document, with a closed form as reference);
* distances whose contours all have one shape (sec. 2.8): ``d(x, c) = g(x - c)`` with ``g`` the gauge of a
  star-shaped body, convex ("convex contour") or not ("1-invex contour").

Each inverse raises :class:`NotUniqueError` when the answer is not unique (rank-deficient weights,
collinear / affinely dependent centres) and, where asked (``strict=True``), when the outputs admit no input
at all (distances whose spheres do not meet).
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ..book.budget import loop
from ..toys import grid_2d
from .distances import inverse_stereographic, stereographic  # the one stereographic pair, re-exported here

__all__ = [
    "NotUniqueError", "NoSolutionError", "invert_linear", "inverse_stereographic", "stereographic",
    "cosine_angles", "extra_angle", "invert_angles", "euclidean_distances", "EuclideanInverse", "inverse_euclidean",
    "inverse_scaled_euclidean", "reconstruct_scaled", "contour_distance", "contour_solutions",
]


class NotUniqueError(ValueError):
    """The outputs do not determine a unique input (e.g. collinear centres)."""


class NoSolutionError(ValueError):
    """No input produces these outputs (e.g. distances whose spheres do not intersect)."""


def _tensor(name: str, value, ndim: int | tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {value.dtype}")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if value.dim() not in allowed:
        raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, "
                         f"got shape {tuple(value.shape)}")
    return value


def _rank_tol(matrix: torch.Tensor) -> float:
    return 1e-9 if matrix.dtype == torch.float64 else 1e-5


def _checked_pinv(matrix: torch.Tensor, what: str) -> torch.Tensor:
    """Moore-Penrose pseudo-inverse from one SVD; raises NotUniqueError when the columns are dependent."""
    u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    if len(s) < matrix.shape[1] or s[-1] <= _rank_tol(matrix) * s[0]:
        raise NotUniqueError(f"{what}: rank {int((s > _rank_tol(matrix) * s[0]).sum())} < {matrix.shape[1]} "
                             "unknowns, so infinitely many inputs give the same outputs")
    return vh.T @ (u / s).T


def _check_full_column_rank(matrix: torch.Tensor, what: str) -> None:
    s = torch.linalg.svdvals(matrix)
    if len(s) < matrix.shape[1] or s[-1] <= _rank_tol(matrix) * s[0]:
        raise NotUniqueError(f"{what}: rank {int((s > _rank_tol(matrix) * s[0]).sum())} < {matrix.shape[1]} "
                             "unknowns, so infinitely many inputs give the same outputs")


# --- linear ------------------------------------------------------------------------------------------------

def invert_linear(y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x = W^+ (y - b)`` for ``y = x W^T + b`` (rows of ``y`` are outputs); sec. 2.7.

    ``weight`` has shape (out, in); unique only when ``W`` has full column rank (out >= in).
    """
    _tensor("weight", weight, 2)
    y = _tensor("y", y, 2)
    if y.shape[1] != weight.shape[0]:
        raise ValueError(f"y has {y.shape[1]} outputs but weight has {weight.shape[0]} rows")
    inverse = _checked_pinv(weight, "linear map")
    if bias is not None:
        y = y - bias
    return y @ inverse.T


# --- angles -------------------------------------------------------------------------------------------------

def cosine_angles(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``cos(theta_i) = w_i . x / (|w_i| |x|)``, shape (batch, out)."""
    _tensor("x", x, 2), _tensor("weight", weight, 2)
    return (x / x.norm(dim=1, keepdim=True)) @ (weight / weight.norm(dim=1, keepdim=True)).T


def extra_angle(x: torch.Tensor, point: torch.Tensor) -> torch.Tensor:
    """Cosine of the angle at the known ``point`` p between the origin and x: ``cos <(0 - p, x - p)``."""
    _tensor("x", x, 2), _tensor("point", point, 1)
    to_origin = -point / point.norm()
    to_x = x - point
    return (to_x @ to_origin) / to_x.norm(dim=1)


def invert_angles(cosines: torch.Tensor, weight: torch.Tensor, extra_cosine: torch.Tensor | None = None,
                  point: torch.Tensor | None = None) -> torch.Tensor:
    """Recover x from its cosine angles to the rows of ``weight`` (sec. 2.7, triangulation).

    The unit direction is ``u = normalise(W_hat^+ cos)``. Without ``extra_cosine`` only ``u`` is returned:
    the magnitude is lost. With the angle beta at the known point p (see :func:`extra_angle`) and the angle
    alpha at the origin between p and x, the triangle (0, p, x) gives by the law of sines
    ``|x| = |p| sin(beta) / sin(alpha + beta)``.
    """
    cosines = _tensor("cosines", cosines, 2)
    unit_w = weight / weight.norm(dim=1, keepdim=True)
    direction = invert_linear(cosines, unit_w)
    direction = direction / direction.norm(dim=1, keepdim=True)
    if extra_cosine is None:
        return direction
    if point is None:
        raise ValueError("extra_cosine needs the point at which it was measured")
    alpha = torch.arccos((direction @ (point / point.norm())).clamp(-1, 1))
    beta = torch.arccos(extra_cosine.clamp(-1, 1))
    denominator = torch.sin(alpha + beta)
    if bool((denominator.abs() < 1e-9).any()) or bool((torch.sin(alpha).abs() < 1e-9).any()):
        raise NotUniqueError("x is collinear with the origin and the extra point: its magnitude is not determined")
    return direction * (point.norm() * torch.sin(beta) / denominator).unsqueeze(1)


# --- Euclidean distances ------------------------------------------------------------------------------------

def euclidean_distances(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """``d_ij = |x_i - c_j|_2``, shape (batch, centres)."""
    return torch.cdist(_tensor("x", x, 2), _tensor("centres", centres, 2))


def _residual_check(x: torch.Tensor, centres: torch.Tensor, d: torch.Tensor, tol: float) -> None:
    recomputed = euclidean_distances(x, centres)
    scale = d.abs().amax(1).clamp_min(1e-12)
    worst = ((recomputed - d).abs().amax(1) / scale).max().item()
    if worst > tol:
        raise NoSolutionError(f"the distances do not intersect in a point (relative mismatch {worst:.2e} > "
                              f"{tol:.0e}); pass strict=False for the least-squares point")


class EuclideanInverse:
    """Algorithm 1 of sec. 2.7 prepared for fixed centres (M, N), M >= N+1: call it on distances (b, M).

    Subtracting consecutive sphere equations ``|x - c_i|^2 = d_i^2`` removes ``|x|^2`` and leaves the
    linear system ``A x = D - Z`` with ``A = 2 (C[1:] - C[:-1])``, ``Z = sum(C[:-1]^2 - C[1:]^2)`` and
    ``D = d[:, :-1]^2 - d[:, 1:]^2``, solved with the pseudo-inverse of A (computed once here). Affinely
    dependent centres (collinear in 2-D) raise :class:`NotUniqueError`.
    """

    def __init__(self, centres: torch.Tensor):
        centres = _tensor("centres", centres, 2)
        m, n = centres.shape
        if m < n + 1:
            raise ValueError(f"{n}-dimensional inputs need at least {n + 1} centres, got {m}")
        self.centres = centres
        self.inverse = _checked_pinv(2 * (centres[1:] - centres[:-1]),
                                     "centres are affinely dependent (collinear in 2-D)")
        c2 = centres ** 2
        self.z = (c2[:-1] - c2[1:]).sum(dim=1, keepdim=True)

    def __call__(self, d: torch.Tensor, strict: bool = True, tol: float | None = None) -> torch.Tensor:
        """The points at distances ``d``; with ``strict`` distances that do not meet in a point raise
        :class:`NoSolutionError` (relative mismatch above ``tol``), else the least-squares point is returned."""
        d = _tensor("d", d, 2)
        if d.shape[1] != len(self.centres):
            raise ValueError(f"d has {d.shape[1]} distances per row but there are {len(self.centres)} centres")
        d2 = d ** 2
        x = (self.inverse @ ((d2[:, :-1] - d2[:, 1:]).T - self.z)).T
        if strict:
            default = 1e-6 if d.dtype == torch.float64 else 1e-3
            _residual_check(x, self.centres, d, tol if tol is not None else default)
        return x


def inverse_euclidean(centres: torch.Tensor, d: torch.Tensor, strict: bool = True,
                      tol: float | None = None) -> torch.Tensor:
    """Algorithm 1 of sec. 2.7: the points x in R^N at distances ``d`` (b, M) from ``centres`` (M, N), M >= N+1.

    See :class:`EuclideanInverse` (which keeps the pseudo-inverse for repeated calls).
    """
    _tensor("d", d, 2)
    return EuclideanInverse(centres)(d, strict, tol)


def inverse_scaled_euclidean(centres: torch.Tensor, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form reference for distances known up to a scale, ``d = s |x - c|``, from M >= N+2 centres.

    With ``k = 1 / s^2``: ``k (d_i^2 - d_0^2) + 2 (c_i - c_0) . x = |c_i|^2 - |c_0|^2`` is linear in (x, k).
    Returns (x, s). Raises :class:`NotUniqueError` when the system is rank deficient.
    """
    centres, d = _tensor("centres", centres, 2), _tensor("d", d, 2)
    m, n = centres.shape
    if m < n + 2:
        raise ValueError(f"scaled distances in {n} dimensions need at least {n + 2} centres, got {m}")
    xs, ss = [], []
    c2 = (centres ** 2).sum(1)
    for row in d:
        a = torch.cat([2 * (centres[1:] - centres[:1]), (row[1:] ** 2 - row[0] ** 2).unsqueeze(1)], dim=1)
        _check_full_column_rank(a, "scaled-distance system")
        solution = torch.linalg.lstsq(a, (c2[1:] - c2[0]).unsqueeze(1)).solution.squeeze(1)
        if solution[-1] <= 0:
            raise NoSolutionError("no positive scale reproduces these distances")
        xs.append(solution[:-1])
        ss.append(1 / solution[-1].sqrt())
    return torch.stack(xs), torch.stack(ss)


def reconstruct_scaled(centres: torch.Tensor, d: torch.Tensor, steps: int = 2000, lr: float = 0.05,
                       restarts: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradient-descent reconstruction from scaled distances ``d = s |x - c|`` (N+2 centres); sec. 2.7.

    For a given x the best scale is ``log s = mean_i (log d_i - log |x - c_i|)``, so the loss left in x is the
    variance ``mean_i (log |x - c_i| - log d_i + log s)^2``, minimised with Adam from ``restarts`` seeded starts
    around the centres (the loss is not convex); the best start wins. Returns (x, s, final loss per row).
    """
    centres, d = _tensor("centres", centres, 2), _tensor("d", d, 2)
    m, n = centres.shape
    if m < n + 2:
        raise ValueError(f"scaled distances in {n} dimensions need at least {n + 2} centres, got {m}")
    if d.shape[1] != m:
        raise ValueError(f"d has {d.shape[1]} distances per row but there are {m} centres")
    if bool((d <= 0).any()):
        raise ValueError("distances must be positive")
    g = torch.Generator(device="cpu").manual_seed(seed)
    spread = float(centres.std(0).mean())
    start = centres.mean(0) + spread * torch.randn(restarts, len(d), n, generator=g, dtype=d.dtype).to(d.device)
    x = start.clone().requires_grad_(True)
    target = d.log().unsqueeze(0)

    def losses(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        residual = target - (points.unsqueeze(2) - centres).norm(dim=-1).clamp_min(1e-12).log()
        log_s = residual.mean(-1, keepdim=True)
        return ((residual - log_s) ** 2).mean(-1), log_s.squeeze(-1)

    optimiser = torch.optim.Adam([x], lr=lr * spread)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    for _ in loop(range(steps), "inversion.descent steps"):
        optimiser.zero_grad()
        losses(x)[0].sum().backward()
        optimiser.step()
        schedule.step()
    with torch.no_grad():
        loss, log_s = losses(x)
        best = loss.argmin(0)
        rows = torch.arange(len(d), device=d.device)
        return x.detach()[best, rows], log_s[best, rows].exp(), loss[best, rows]


# --- contour distances (sec. 2.8) ---------------------------------------------------------------------------

def contour_distance(x: torch.Tensor, centres: torch.Tensor, radius: Callable[[torch.Tensor], torch.Tensor]
                     ) -> torch.Tensor:
    """``d(x, c) = |x - c| / r(angle(x - c))`` in 2-D: the gauge of the body ``{rho <= r(theta)}``; sec. 2.8.

    Every contour ``{d = t}`` is the same curve scaled by t about the centre. The body is star-shaped by
    construction ("1-invex contour": every ray from the centre meets each contour once); it is a convex
    contour distance when ``r`` describes a convex body.
    """
    x, centres = _tensor("x", x, 2), _tensor("centres", centres, 2)
    if x.shape[1] != 2 or centres.shape[1] != 2:
        raise ValueError("contour distances are defined here for 2-D inputs and centres")
    diff = x.unsqueeze(1) - centres.unsqueeze(0)
    r = radius(torch.atan2(diff[..., 1], diff[..., 0]))
    if bool((r <= 0).any()):
        raise ValueError("the radial function must be positive")
    return diff.norm(dim=-1) / r


def contour_solutions(d: torch.Tensor, centres: torch.Tensor, radius: Callable[[torch.Tensor], torch.Tensor],
                      limit: float, resolution: int = 400, tol: float = 1e-3, refine_steps: int = 200
                      ) -> torch.Tensor:
    """All points of ``[-limit, limit]^2`` whose contour distances to ``centres`` equal ``d`` (one row of d).

    Grid search for the local minima of ``sum_i (d(x, c_i) - d_i)^2`` followed by gradient refinement; the
    returned points (k, 2) are the distinct minima whose largest mismatch is below ``tol``. More than one point
    means the distances do not determine the input (many-to-one); none means they do not intersect.
    """
    d = _tensor("d", d, 1)
    grid, _, _ = grid_2d(limit, resolution, dtype=centres.dtype)
    loss = ((contour_distance(grid, centres, radius) - d) ** 2).sum(1).reshape(resolution, resolution)
    padded = torch.nn.functional.pad(loss[None, None], (1, 1, 1, 1), value=math.inf)
    neighbourhood = -torch.nn.functional.max_pool2d(-padded, 3, stride=1)[0, 0]
    step = 2 * limit / (resolution - 1)
    # grid-local minima whose loss is within what a zero of |grad d| ~ 1 leaves one grid step away
    candidate = (loss <= neighbourhood) & (loss < 40 * step ** 2 * len(centres))
    minima = grid[candidate.reshape(-1)]
    if len(minima) == 0:
        return torch.empty(0, 2, dtype=centres.dtype)
    x = minima.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([x], lr=limit / resolution)
    for _ in loop(range(refine_steps), "inversion.refine steps"):
        optimiser.zero_grad()
        ((contour_distance(x, centres, radius) - d) ** 2).sum().backward()
        optimiser.step()
    x = x.detach()
    mismatch = (contour_distance(x, centres, radius) - d).abs().amax(1)
    x = x[mismatch < tol]
    distinct: list[torch.Tensor] = []
    for point in x:
        if all((point - other).norm() > 5 * tol + 2 * step for other in distinct):
            distinct.append(point)
    return torch.stack(distinct) if distinct else torch.empty(0, 2, dtype=centres.dtype)
