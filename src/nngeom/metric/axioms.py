"""Numerical checks of the metric axioms and the classification of distances (Metric as Transform, sec. 2.9).

For a distance ``d`` on a set X the document lists four axioms:

1. identity: ``d(x, x) = 0``;
2. positivity: ``d(x, y) > 0`` for ``x != y``;
3. symmetry: ``d(x, y) = d(y, x)``;
4. triangle inequality: ``d(x, z) <= d(x, y) + d(y, z)``.

and names the generalisations by the axioms they keep (the document's usage):
metric (1-4), semimetric (1-3), quasimetric (1, 2, 4), premetric (1, 2), and, for completeness,
pseudometric (1, 3, 4 without positivity). :func:`check_axioms` tests each axiom on random points and
returns the fraction of violations with the worst case found; :func:`classify` names the class.

The distance families of sec. 2.9 are given as functions ``d(x, y)`` of batches ``(n, D), (n, D) -> (n,)``:
l^p, angle, angle after the inverse stereographic projection, cosine distance, modified piecewise l^1, general convex, general invex, convex-contour (the gauge
of a convex body) and 1-invex-contour (the gauge of a star-shaped, non-convex body). Their exact
construction is ours; the document shows them only as figures (Fig. 8, Fig. 10).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

__all__ = ["angle", "AxiomReport", "AXIOMS", "check_axioms", "classify", "convex_contour", "cosine_distance",
           "Distance", "gauge", "gaussian_sampler", "general_convex", "general_invex", "invex_contour",
           "lp_distance", "piecewise_l1", "sphere_sampler", "stereographic_angle"]

Distance = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

AXIOMS = ("identity", "positivity", "symmetry", "triangle")


@dataclass
class AxiomReport:
    """Violation fraction and worst violation per axiom on ``n`` random samples."""

    violations: dict[str, float]
    worst: dict[str, float]
    n: int

    def holds(self, axiom: str) -> bool:
        return self.violations[axiom] == 0.0

    def as_dict(self) -> dict:
        return {"violations": dict(self.violations), "worst": dict(self.worst), "n": self.n}


def check_axioms(d: Distance, sampler: Callable[[int], torch.Tensor], n: int = 2000, tol: float = 1e-6,
                 seed: int = 0, rays: bool = True) -> AxiomReport:
    """Test the four axioms on ``n`` random triples drawn by ``sampler(n) -> (n, D)``.

    Positivity and symmetry also use near pairs ``y = x + small noise`` and pairs on one ray from the
    origin (``y = c x``; ``rays=False`` when the sampler's domain is a sphere), and the triangle inequality also
    uses collinear and near-collinear triples, where violations of non-subadditive distances concentrate.
    A value counts as a violation beyond ``tol`` (relative to the scale of the distances compared).
    """
    if not callable(d) or not callable(sampler):
        raise TypeError("d and sampler must be callables")
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    torch.manual_seed(seed)
    x, y, z = sampler(n), sampler(n), sampler(n)
    if x.dim() != 2:
        raise ValueError(f"sampler must return (n, D), got {tuple(x.shape)}")
    # Near pairs, collinear triples (z beyond y on the ray x -> y) and midpoints.
    t = torch.rand(n, 1, dtype=x.dtype)
    near = x + 1e-3 * torch.randn_like(x)
    mid = x + 0.5 * (y - x) + 0.3 * torch.randn_like(x)
    ray = x * (0.5 + 1.5 * torch.rand(n, 1, dtype=x.dtype)) if rays else None
    with torch.no_grad():
        scale = _rowwise(d, x, y).abs().mean().clamp_min(1e-12)
        identity = _rowwise(d, x, x).abs() / scale
        positivity, symmetry = [], []
        for b in (y, near) if ray is None else (y, near, ray):  # ray: same direction, another length
            dab, dba = _rowwise(d, x, b), _rowwise(d, b, x)
            distinct = (x - b).abs().amax(1) > 0
            # A distinct pair at (numerically) zero or negative distance violates positivity.
            positivity.append((distinct & (dab <= 1e-12 * scale)).to(dab.dtype))
            symmetry.append((dab - dba).abs() / (dab.abs() + dba.abs()).clamp_min(1e-12))
        triangle = []
        for b, c in ((y, z), (x + t * (y - x), y), (mid, y)):  # random, collinear, near-midpoint triples
            dac = _rowwise(d, x, c)
            triangle.append((dac - _rowwise(d, x, b) - _rowwise(d, b, c)) / (dac.abs() + 1e-12))
    values = {"identity": identity, "positivity": torch.cat(positivity), "symmetry": torch.cat(symmetry),
              "triangle": torch.cat(triangle)}
    violations = {k: float((v > tol).double().mean()) for k, v in values.items()}
    worst = {k: float(v.max().clamp_min(0)) for k, v in values.items()}
    return AxiomReport(violations, worst, n)


def _rowwise(d: Distance, a: torch.Tensor, b: torch.Tensor, rows: int = 8192) -> torch.Tensor:
    """``d(a, b)`` in blocks of ``rows``, so the intermediates of a wide distance (D = 784) stay small."""
    return torch.cat([d(a[i:i + rows], b[i:i + rows]) for i in range(0, len(a), rows)])


def classify(report: AxiomReport | dict[str, bool]) -> str:
    """Name the class of a distance from the axioms it satisfies (sec. 2.9)."""
    held = {a: report.holds(a) for a in AXIOMS} if isinstance(report, AxiomReport) else dict(report)
    if set(held) != set(AXIOMS):
        raise ValueError(f"need a verdict for each of {AXIOMS}")
    i, p, s, t = (held[a] for a in AXIOMS)
    if not i:
        return "not a distance"
    if p and s and t:
        return "metric"
    if p and s:
        return "semimetric"
    if p and t:
        return "quasimetric"
    if p:
        return "premetric"
    if s and t:
        return "pseudometric"
    return "not a distance"


# ----- distance families of sec. 2.9 -------------------------------------------------------------------

def lp_distance(p: float) -> Distance:
    """``(sum_i |x_i - y_i|^p)^(1/p)``: a metric for p >= 1; fails the triangle inequality for p < 1."""
    if not p > 0:
        raise ValueError(f"p must be > 0, got {p}")
    return lambda x, y: (x - y).abs().pow(p).sum(1).pow(1.0 / p)


def angle(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Angle between ``x`` and ``y`` seen from the origin: a metric on the sphere.

    Computed as ``2 atan2(|u - v|, |u + v|)`` of the unit vectors (accurate near 0 and pi).
    """
    u = torch.nn.functional.normalize(x, dim=1)
    v = torch.nn.functional.normalize(y, dim=1)
    return 2 * torch.atan2((u - v).norm(dim=1), (u + v).norm(dim=1))


def stereographic_angle(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Angle between ``istereo(x)`` and ``istereo(y)`` on the unit sphere of R^(D+1) (sec. 2.7, 2.9).

    ``istereo(x) = (2x / (|x|^2 + 1), (|x|^2 - 1) / (|x|^2 + 1))`` is injective, so the angle pulled back to
    R^D keeps all four axioms: "the angle can be modified like in Section 2.7 to behave as metric in euclidean
    space".
    """
    from .distances import inverse_stereographic

    return angle(inverse_stereographic(x), inverse_stereographic(y))


def cosine_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``1 - cos(x, y)``: behaves like a distance on the sphere but breaks the triangle inequality."""
    return 1.0 - torch.nn.functional.cosine_similarity(x, y, dim=1)


def piecewise_l1(knot: float = 0.5, slope: float = 3.0) -> Distance:
    """Modified l^1: ``sum_i g(|x_i - y_i|)`` with ``g(t) = t`` up to ``knot`` then slope ``slope > 1``.

    ``g`` is convex, increasing and ``g(0) = 0``: identity, positivity and symmetry hold, but ``g`` is
    not subadditive, so the triangle inequality fails (a semimetric, Fig. 10 left).
    """
    if knot <= 0 or slope <= 1:
        raise ValueError("need knot > 0 and slope > 1")

    def d(x, y):
        t = (x - y).abs()
        return torch.where(t <= knot, t, knot + slope * (t - knot)).sum(1)
    return d


def _skew(dim: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(dim, generator=g, dtype=torch.float64)


def general_convex(dim: int = 2, seed: int = 0) -> Distance:
    """``f(x - y)`` with ``f(v) = |v|^2 / 2 + exp(a . v) - 1 - a . v``.

    ``f`` is strictly convex with its unique minimum 0 at ``v = 0`` but neither even nor subadditive:
    identity and positivity only (a premetric).
    """
    a = _skew(dim, seed)

    def d(x, y):
        v = x - y
        s = v @ a.to(v)
        return 0.5 * v.pow(2).sum(1) + torch.expm1(s) - s
    return d


def general_invex(dim: int = 2, seed: int = 1) -> Distance:
    """``|phi(x - y)|^2`` with ``phi(v) = v + 0.5 sin(M v)`` invertible (``|M| < 2``), ``phi(0) = 0``.

    Convex of invertible is invex: a single minimum at ``x = y``, no symmetry, no triangle (premetric).
    """
    g = torch.Generator().manual_seed(seed)
    m = torch.randn(dim, dim, generator=g, dtype=torch.float64)
    m = 1.5 * m / torch.linalg.matrix_norm(m, ord=2)

    def d(x, y):
        v = x - y
        phi = v + 0.5 * torch.sin(v @ m.to(v).T + 0.7) - 0.5 * math.sin(0.7)
        return phi.pow(2).sum(1)
    return d


def gauge(radius: Callable[[torch.Tensor], torch.Tensor]) -> Distance:
    """Contour distance ``d(x, y) = |v| / r(theta(v))``, ``v = y - x``, for a star-shaped body of radius ``r``.

    Every contour is the same shape scaled ("linear increase in distance from the minimum", Fig. 10).
    For 2-D inputs only; ``radius(theta)`` must be positive.
    """
    def d(x, y):
        if x.shape[1] != 2:
            raise ValueError("contour distances are defined here for 2-D inputs")
        v = y - x
        r = v.norm(dim=1)
        theta = torch.atan2(v[:, 1], v[:, 0])
        return r / radius(theta)
    return d


def convex_contour(shift: float = 0.6) -> Distance:
    """Gauge of a disc of radius 1 whose centre is shifted by ``shift`` (< 1) from the origin.

    Convex body: subadditive, so the triangle inequality holds, but it is not symmetric (quasimetric).
    """
    if not 0 <= shift < 1:
        raise ValueError("shift must be in [0, 1)")

    def radius(theta):
        # Distance from the origin to the boundary of the disc |p - (shift, 0)| = 1 along theta.
        c = shift * torch.cos(theta)
        return c + torch.sqrt(c * c + 1 - shift ** 2)
    return gauge(radius)


def invex_contour(lobes: int = 3, depth: float = 0.6) -> Distance:
    """Gauge of a star-shaped, non-convex body ``r(theta) = 1 + depth sin(lobes theta)``: 1-invex contour.

    Every ray from the centre crosses each contour once, but the body is not convex and not symmetric:
    no symmetry and no triangle inequality (premetric).
    """
    if not 0 < depth < 1:
        raise ValueError("depth must be in (0, 1)")
    return gauge(lambda theta: 1.0 + depth * torch.sin(lobes * theta + 0.3))


def gaussian_sampler(dim: int, scale: float = 1.0) -> Callable[[int], torch.Tensor]:
    """Samples ``N(0, scale^2 I)`` in float64."""
    return lambda n: scale * torch.randn(n, dim, dtype=torch.float64)


def sphere_sampler(dim: int) -> Callable[[int], torch.Tensor]:
    """Uniform samples on the unit sphere of R^dim in float64."""
    return lambda n: torch.nn.functional.normalize(torch.randn(n, dim, dtype=torch.float64), dim=1)
