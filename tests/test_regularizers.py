"""Regularisers and hidden-Jacobian norms against autograd and NumPy references (Neural robustness, sec. 2, App. D)."""
import numpy as np
import pytest
import torch

from nngeom.robustness import landscape, regularizers
from nngeom.robustness.models import PowerMLP


def small_model(seed=0, n=2.0):
    torch.manual_seed(seed)
    model = PowerMLP(12, 7, n=n, classes=3).double()
    with torch.no_grad():
        model.encoder.weight.mul_(3.0)  # make most units active
    return model


def reference_jacobian_sq(model, x):
    return np.mean([torch.autograd.functional.jacobian(lambda z: model.hidden(z[None])[0], xi).pow(2).sum().item()
                    for xi in x])


def test_exact_jacobian_penalty_matches_autograd():
    model = small_model()
    x = torch.rand(5, 12, dtype=torch.float64).requires_grad_(True)
    got = regularizers.jacobian_penalty(x, model.hidden(x), n_proj=-1)
    assert got.item() == pytest.approx(reference_jacobian_sq(model, x.detach()), rel=1e-10)


def test_projected_jacobian_penalty_is_unbiased_and_differentiable():
    model = small_model(1)
    x = torch.rand(4, 12, dtype=torch.float64).requires_grad_(True)
    h = model.hidden(x)
    exact = regularizers.jacobian_penalty(x, h, n_proj=-1).item()
    g = torch.Generator().manual_seed(0)
    estimate = regularizers.jacobian_penalty(x, h, n_proj=2000, generator=g).item()
    assert estimate == pytest.approx(exact, rel=0.05)
    one = regularizers.jacobian_penalty(x, h, n_proj=1, generator=g)
    one.backward()
    assert model.encoder.weight.grad is not None and model.encoder.weight.grad.abs().sum() > 0


def test_jacobian_penalty_rejects_bad_input():
    x = torch.rand(3, 4)
    with pytest.raises(ValueError):
        regularizers.jacobian_penalty(x, x * 2, n_proj=1)  # x does not require grad
    x.requires_grad_(True)
    with pytest.raises(ValueError):
        regularizers.jacobian_penalty(x, x * 2, n_proj=0)
    with pytest.raises(TypeError, match="n_proj must be an int"):
        regularizers.jacobian_penalty(x, x * 2, n_proj=1.0)


def test_lp_weight_penalty():
    w = [torch.randn(3, 4), torch.randn(5)]
    expected = sum(np.sum(np.abs(t.numpy()) ** 3) for t in w)
    assert regularizers.lp_weight_penalty(w, 3.0, root=False).item() == pytest.approx(expected, rel=1e-5)
    assert regularizers.lp_weight_penalty(w, 3.0).item() == pytest.approx(expected ** (1 / 3), rel=1e-5)
    assert regularizers.lp_weight_penalty(w[0], 2.0).item() == pytest.approx(np.linalg.norm(w[0].numpy()), rel=1e-5)
    with pytest.raises(ValueError):
        regularizers.lp_weight_penalty(w, 0)


def exact_power_law_batch(batch, hidden, alpha, seed=0):
    """Rows whose biased covariance is exactly diag(n^-alpha)."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(batch, hidden, generator=g, dtype=torch.float64)
    q, _ = torch.linalg.qr(a - a.mean(0))
    lam = torch.arange(1, hidden + 1, dtype=torch.float64) ** -alpha
    return q * (batch * lam).sqrt()


def test_batch_spectrum_matches_numpy_both_branches():
    for shape in [(50, 8), (6, 20)]:
        h = torch.randn(*shape, dtype=torch.float64)
        expected = np.sort(np.linalg.eigvalsh(np.cov(h.numpy().T, bias=True)))[::-1][:min(shape)]
        np.testing.assert_allclose(regularizers.batch_spectrum(h).numpy()[:min(shape) - 1],
                                   expected[:min(shape) - 1], atol=1e-10)


def test_spectral_penalty_zero_on_target_and_positive_off_target():
    h = exact_power_law_batch(200, 30, alpha=1.0)
    assert regularizers.spectral_penalty(h, alpha=1.0, tau=3).item() == pytest.approx(0.0, abs=1e-12)
    flat = exact_power_law_batch(200, 30, alpha=0.2).requires_grad_(True)
    penalty = regularizers.spectral_penalty(flat, alpha=1.0, tau=3)
    assert penalty.item() > 1.0
    penalty.backward()
    assert torch.isfinite(flat.grad).all()
    with pytest.raises(ValueError):
        regularizers.spectral_penalty(h, tau=100)


def test_relu_power_jacobian_norm_matches_autograd():
    model = small_model(2, n=4.5)
    x = torch.rand(6, 12, dtype=torch.float64)
    got = landscape.relu_power_jacobian_norm(model.encoder_weight(), model.pre(x), model.n)
    ref = landscape.jacobian_norm_autograd(model.hidden, x)
    torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12)
    assert got.max() > 0


def test_random_plane_orthonormal_and_grid():
    plane = landscape.random_plane(50, torch.Generator().manual_seed(0))
    torch.testing.assert_close(plane @ plane.T, torch.eye(2), atol=1e-6, rtol=0)
    x0 = torch.randn(50)
    points, axis = landscape.plane_points(x0, plane, 2.0, 5)
    assert points.shape == (25, 50)
    torch.testing.assert_close(points[12], x0)  # the centre of an odd grid is x0
    torch.testing.assert_close((points[13] - x0) @ plane.T, torch.tensor([1.0, 0.0]), atol=1e-5, rtol=0)


def _two_rows(variances):
    """A batch of two rows [x, -x] whose unbiased per-unit variances are ``variances`` (2 x^2 = v)."""
    x = torch.sqrt(torch.tensor(variances, dtype=torch.float64) / 2)
    return torch.stack([x, -x])


def test_nassar_penalty_worked_example():
    """By hand, D = 4, tau = 1, alpha = 1: the anchor is lambda_2, beta = 2 lambda_2, gamma_n = beta / n."""
    eye = torch.eye(4, dtype=torch.float64)
    # variances 8, 4, 2, 1: beta = 8, gamma_3 = 8/3 (ratio 0.75), gamma_4 = 2 (ratio 0.5): (0.0625 + 0.25) / 4
    got = regularizers.nassar_spectral_penalty(_two_rows([8.0, 4.0, 2.0, 1.0]), eye, alpha=1.0, tau=1)
    assert got.item() == pytest.approx(0.078125, abs=1e-12)
    # variances 8, 4, 4, 1: ratio 1.5 at n = 3 adds the one-sided term: (0.25 + 0.5 + 0.25) / 4
    got = regularizers.nassar_spectral_penalty(_two_rows([8.0, 4.0, 4.0, 1.0]), eye, alpha=1.0, tau=1)
    assert got.item() == pytest.approx(0.25, abs=1e-12)
    # an exact power law beyond the anchor costs nothing; order of the units does not matter (sorted)
    got = regularizers.nassar_spectral_penalty(_two_rows([2.0, 8.0, 8.0 / 3.0, 4.0]), eye, alpha=1.0, tau=1)
    assert got.item() == pytest.approx(0.0, abs=1e-12)


def test_nassar_penalty_uses_the_given_basis_and_is_differentiable():
    h = _two_rows([8.0, 4.0, 2.0, 1.0])
    rotation, _ = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    rotated = (h @ rotation.T).requires_grad_(True)  # the same batch in rotated coordinates
    got = regularizers.nassar_spectral_penalty(rotated, rotation, alpha=1.0, tau=1)  # rotated @ R = h
    assert got.item() == pytest.approx(0.078125, abs=1e-10)
    got.backward()
    assert rotated.grad is not None and rotated.grad.abs().sum() > 0
    sample = torch.randn(200, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * torch.tensor(
        [3.0, 2.0, 1.0, 0.5], dtype=torch.float64)
    basis = regularizers.eigenbasis(sample)  # diagonalises the covariance, eigenvalues descending
    centred = sample - sample.mean(0)
    diagonal = basis.T @ (centred.T @ centred / len(sample)) @ basis
    np.testing.assert_allclose(diagonal - torch.diag(torch.diag(diagonal)), 0.0, atol=1e-10)
    assert torch.all(torch.diff(torch.diag(diagonal)) <= 0)
    with pytest.raises(ValueError):
        regularizers.nassar_spectral_penalty(h, torch.eye(3, dtype=torch.float64), 1.0, 1)
    with pytest.raises(ValueError):
        regularizers.nassar_spectral_penalty(h, torch.eye(4, dtype=torch.float64), 1.0, 3)


def test_landscape_roughness_and_domains_against_closed_forms():
    """Neural robustness sec. 3 (Fig. 4): the measures that make the document's reading numerical."""
    R = 9
    ramp = 10.0 ** torch.arange(R, dtype=torch.float64)[:, None].expand(R, R)  # log10 rises by 1 per row
    # vertical steps are all 1, horizontal ones 0; the range is R - 1: roughness = (1/2) / (R - 1)
    assert landscape.roughness(ramp) == pytest.approx(1 / (2 * (R - 1)))
    assert landscape.roughness(torch.full((R, R), 3.0)) == 0.0
    halves = torch.zeros(R, R, dtype=torch.long)
    halves[:, R // 2:] = 1
    # R differing horizontal pairs (one per row) among 2 R (R - 1) neighbour pairs
    assert landscape.boundary_fraction(halves) == pytest.approx(R / (2 * R * (R - 1)))
    assert landscape.decision_regions(halves) == 2
    checker = (torch.arange(4)[:, None] + torch.arange(4)[None, :]) % 2
    assert landscape.boundary_fraction(checker) == 1.0 and landscape.decision_regions(checker) == 16
    ring = torch.zeros(5, 5, dtype=torch.long)
    ring[1:4, 1:4] = 1
    ring[2, 2] = 0   # the centre is class 0 but not connected to the outside: three regions
    assert landscape.decision_regions(ring) == 3
    with pytest.raises(ValueError, match="2-D grid"):
        landscape.roughness(torch.ones(5))
    with pytest.raises(TypeError, match="torch tensor"):
        landscape.boundary_fraction(np.zeros((3, 3)))


def test_plane_points_follow_the_grid_order():
    """Point i * R + j of the plane is x0 + a_j u + b_i v, the order of nngeom.toys.grid_2d."""
    from nngeom.toys import grid_2d

    x0 = torch.zeros(4)
    plane = torch.eye(4)[:2]
    points, axis = landscape.plane_points(x0, plane, 1.0, 3)
    grid, xx, yy = grid_2d(1.0, 3)
    torch.testing.assert_close(points[:, :2], grid)
    torch.testing.assert_close(axis, torch.tensor([-1.0, 0.0, 1.0]))
    assert points[1].tolist()[:2] == [0.0, -1.0] and points[3].tolist()[:2] == [-1.0, 0.0]
