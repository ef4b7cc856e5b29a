"""Inversion of transforms (Metric as Transform, sec. 2.7-2.8) against closed forms and NumPy."""
import math

import numpy as np
import pytest
import torch

from nngeom.metric import distances
from nngeom.metric import inversion as inv


@pytest.mark.parametrize("n", [2, 3, 10, 784])
def test_inverse_euclidean_recovers_random_points(n):
    g = torch.Generator().manual_seed(n)
    centres = torch.randn(n + 1, n, generator=g, dtype=torch.float64)
    x = torch.randn(16, n, generator=g, dtype=torch.float64) * 3
    d = inv.euclidean_distances(x, centres)
    x_hat = inv.inverse_euclidean(centres, d)
    assert ((x_hat - x).norm(dim=1) / x.norm(dim=1)).max() < 1e-6


def test_inverse_euclidean_matches_numpy_transcription_of_algorithm_1():
    rng = np.random.default_rng(0)
    c, x = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    d = np.linalg.norm(x[:, None] - c[None], axis=2)
    a = 2 * (c[1:] - c[:-1])
    z = (c[:-1] ** 2 - c[1:] ** 2).sum(1, keepdims=True)
    expected = (np.linalg.pinv(a) @ ((d[:, :-1] ** 2 - d[:, 1:] ** 2).T - z)).T
    ours = inv.inverse_euclidean(torch.from_numpy(c), torch.from_numpy(d)).numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-10)
    np.testing.assert_allclose(ours, x, atol=1e-10)


def test_inverse_euclidean_error_paths():
    collinear = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], dtype=torch.float64)
    with pytest.raises(inv.NotUniqueError, match="collinear"):
        inv.inverse_euclidean(collinear, torch.ones(1, 3, dtype=torch.float64))
    centres = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    true = inv.euclidean_distances(torch.tensor([[0.3, 0.4]], dtype=torch.float64), centres)
    with pytest.raises(inv.NoSolutionError, match="do not intersect"):
        inv.inverse_euclidean(centres, 0.5 * true)   # scaled-down distances: spheres do not meet
    inv.inverse_euclidean(centres, 0.5 * true, strict=False)  # least-squares point on request
    with pytest.raises(ValueError, match="at least 3 centres"):
        inv.inverse_euclidean(centres[:2], true[:, :2])
    with pytest.raises(TypeError):
        inv.inverse_euclidean(centres.numpy(), true)
    with pytest.raises(TypeError, match="floating"):
        inv.inverse_euclidean(centres.long(), true)


def test_linear_round_trip_and_rank_error():
    g = torch.Generator().manual_seed(1)
    w, b = torch.randn(7, 4, generator=g, dtype=torch.float64), torch.randn(7, generator=g, dtype=torch.float64)
    x = torch.randn(9, 4, generator=g, dtype=torch.float64)
    torch.testing.assert_close(inv.invert_linear(x @ w.T + b, w, b), x)
    with pytest.raises(inv.NotUniqueError):
        inv.invert_linear(torch.randn(9, 3, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64))


def test_stereographic_round_trip_and_sphere():
    x = torch.randn(50, 5, dtype=torch.float64) * 4
    s = inv.inverse_stereographic(x)
    torch.testing.assert_close(s.norm(dim=1), torch.ones(50, dtype=torch.float64))
    torch.testing.assert_close(inv.stereographic(s), x)
    with pytest.raises(ValueError, match="north pole"):
        inv.stereographic(torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64))
    assert inv.stereographic is distances.stereographic  # one pair for the whole package


def test_angles_with_extra_point_recover_magnitude():
    g = torch.Generator().manual_seed(2)
    w = torch.randn(6, 6, generator=g, dtype=torch.float64)
    p = torch.randn(6, generator=g, dtype=torch.float64)
    x = torch.randn(20, 6, generator=g, dtype=torch.float64) * 2
    cos = inv.cosine_angles(x, w)
    direction = inv.invert_angles(cos, w)
    torch.testing.assert_close(direction, x / x.norm(dim=1, keepdim=True))
    torch.testing.assert_close(inv.invert_angles(cos, w, inv.extra_angle(x, p), p), x)
    with pytest.raises(inv.NotUniqueError, match="collinear"):
        inv.invert_angles(inv.cosine_angles(2 * p[None], w), w, inv.extra_angle(2 * p[None], p), p)


def test_scaled_distances_closed_form_and_gradient_descent_agree():
    g = torch.Generator().manual_seed(3)
    centres = torch.randn(4, 2, generator=g, dtype=torch.float64)
    x = torch.randn(5, 2, generator=g, dtype=torch.float64)
    d = 0.37 * inv.euclidean_distances(x, centres)
    x_cf, s_cf = inv.inverse_scaled_euclidean(centres, d)
    torch.testing.assert_close(x_cf, x)
    torch.testing.assert_close(s_cf, torch.full((5,), 0.37, dtype=torch.float64))
    x_gd, s_gd, loss = inv.reconstruct_scaled(centres, d, steps=1500)
    assert loss.max() < 1e-8
    assert (x_gd - x).norm(dim=1).max() < 1e-3
    assert (s_gd - 0.37).abs().max() < 1e-3
    with pytest.raises(ValueError, match="at least 4 centres"):
        inv.reconstruct_scaled(centres[:3], d[:, :3])


def test_contour_distance_is_euclidean_for_a_circle_and_inverts_uniquely():
    centres = torch.tensor([[-1.0, -0.5], [1.2, -0.3], [0.1, 1.1]], dtype=torch.float64)
    x = torch.tensor([[0.3, 0.2]], dtype=torch.float64)
    circle = lambda theta: torch.full_like(theta, 2.0)  # noqa: E731
    torch.testing.assert_close(inv.contour_distance(x, centres, circle), inv.euclidean_distances(x, centres) / 2)
    ellipse = lambda theta: 1 / torch.sqrt(torch.cos(theta) ** 2 + 4 * torch.sin(theta) ** 2)  # noqa: E731
    found = inv.contour_solutions(inv.contour_distance(x, centres, ellipse)[0], centres, ellipse, limit=3)
    assert len(found) == 1 and (found[0] - x[0]).norm() < 1e-2
    # two centres only: two contours of a convex body meet in two points
    two = inv.contour_solutions(inv.contour_distance(x, centres[:2], ellipse)[0], centres[:2], ellipse, limit=3)
    assert len(two) == 2
    with pytest.raises(ValueError, match="2-D"):
        inv.contour_distance(torch.zeros(1, 3, dtype=torch.float64), centres, circle)
