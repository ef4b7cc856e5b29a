"""Distance layers (Metric as Transform, sec. 2.4) against torch.cdist, autograd and closed forms."""
import math

import pytest
import numpy as np
import torch

from nngeom.metric import distances
from nngeom.metric.distances import (CosineSimilarity, InverseStereo, LpDistance, angle_distance, cosine_similarity,
                              inverse_stereographic, pairwise_distance, stereographic)

P_VALUES = [0.5, 1.0, 1.5, 2.0, 3.0, 20.0]


def _pair(b=9, n=6, d=5, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, d, generator=g, dtype=dtype).requires_grad_(True),
            torch.randn(n, d, generator=g, dtype=dtype).requires_grad_(True))


@pytest.mark.parametrize("p", P_VALUES)
def test_values_match_cdist(p):
    x, w = _pair()
    torch.testing.assert_close(pairwise_distance(x, w, p), torch.cdist(x, w, p=p), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("p", P_VALUES)
def test_gradients_match_autograd_of_broadcast(p):
    x, w = _pair()
    g = torch.randn(9, 6, dtype=torch.float64)
    ours = torch.autograd.grad((pairwise_distance(x, w, p) * g).sum(), (x, w))
    naive = (x[:, None] - w[None]).abs().pow(p).sum(-1).pow(1 / p)
    ref = torch.autograd.grad((naive * g).sum(), (x, w))
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("p", P_VALUES)
def test_gradcheck(p):
    x, w = _pair(5, 4, 3)
    assert torch.autograd.gradcheck(lambda a, b: pairwise_distance(a, b, p), (x, w))


def test_l2_second_derivatives():
    x, w = _pair(4, 3, 3)
    assert torch.autograd.gradgradcheck(lambda a, b: pairwise_distance(a, b, 2.0), (x, w))


def test_chunked_equals_single_block(monkeypatch):
    monkeypatch.setattr(distances, "CPU_KERNEL", False)  # the chunked torch path
    x, w = _pair(7, 13, 4)
    full = pairwise_distance(x, w, 0.5)
    gfull = torch.autograd.grad(full.sum(), (x, w))
    monkeypatch.setattr(distances, "CHUNK_ELEMENTS", 7 * 4 * 2)  # 2 centres per chunk
    small = pairwise_distance(x, w, 0.5)
    gsmall = torch.autograd.grad(small.sum(), (x, w))
    torch.testing.assert_close(full, small)
    for a, b in zip(gfull, gsmall):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0])
def test_zero_distance_has_finite_zero_gradient(p):
    w = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    x = w.detach()[:1].clone().requires_grad_(True)  # equals the first centre
    d = pairwise_distance(x, w, p)
    assert d[0, 0].item() == pytest.approx(0.0, abs=1e-7)
    gx, gw = torch.autograd.grad(d[:, 0].sum(), (x, w))
    assert torch.isfinite(gx).all() and torch.isfinite(gw).all()
    assert gx.abs().max().item() < 1e-6


def test_l2_float32_gradient_stable_at_coincident_points():
    w = torch.randn(5, 784, requires_grad=True)
    x = w.detach()[:3].clone().requires_grad_(True)
    d = pairwise_distance(x, w, 2.0)
    gx, gw = torch.autograd.grad(d.sum(), (x, w))
    assert torch.isfinite(gx).all() and torch.isfinite(gw).all()
    # Away from coincidence each row of dd/dx has unit norm; with coincidence the total stays bounded.
    assert gx.norm(dim=1).max().item() <= 5.0 + 1e-3


def test_large_p_does_not_overflow():
    x = 50 * torch.randn(6, 30)
    w = 50 * torch.randn(4, 30)
    ours = pairwise_distance(x, w, 20.0)
    ref = torch.cdist(x.double(), w.double(), p=20.0).float()
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_invalid_p(bad):
    x, w = _pair()
    with pytest.raises(ValueError):
        pairwise_distance(x, w, bad)
    with pytest.raises(ValueError):
        LpDistance(3, 2, p=bad)


def test_bad_shapes_and_types():
    with pytest.raises(ValueError):
        pairwise_distance(torch.randn(3, 4), torch.randn(2, 5))
    with pytest.raises(TypeError):
        pairwise_distance([[1.0]], torch.randn(1, 1))
    with pytest.raises(TypeError):
        pairwise_distance(torch.randn(3, 4), torch.randn(2, 4, dtype=torch.float64), p=1.0)
    with pytest.raises(TypeError):
        LpDistance(3.0, 2)
    with pytest.raises(ValueError):
        LpDistance(3, 2)(torch.randn(4, 5))


def test_layer_repr_and_init_from_data():
    layer = LpDistance(4, 3, p=0.5)
    assert "p=0.5" in repr(layer) and "in_features=4" in repr(layer)
    data = torch.randn(10, 4)
    layer.init_from_data(data, generator=torch.Generator().manual_seed(0))
    # Each centre is one of the samples, all distinct.
    match = torch.cdist(layer.centres.detach(), data).min(1).values
    assert match.max().item() < 1e-6
    assert len({tuple(c.tolist()) for c in layer.centres.detach()}) == 3
    with pytest.raises(ValueError):
        LpDistance(4, 11).init_from_data(data)
    with pytest.raises(ValueError):
        LpDistance(5, 2).init_from_data(data)


def test_layer_zero_at_own_centre():
    layer = LpDistance(6, 4, p=1.0)
    out = layer(layer.centres.detach())
    torch.testing.assert_close(out.diagonal(), torch.zeros(4), atol=1e-6, rtol=0)


def test_cosine_and_angle_closed_form():
    x, w = _pair()
    ref = torch.stack([torch.stack([torch.dot(a, b) / (a.norm() * b.norm()) for b in w]) for a in x])
    torch.testing.assert_close(cosine_similarity(x, w), ref)
    torch.testing.assert_close(angle_distance(x, w), torch.arccos(ref), atol=1e-6, rtol=1e-6)
    assert torch.autograd.gradcheck(lambda a, b: angle_distance(a, b), _pair(4, 3, 3))
    assert CosineSimilarity(5, 6, angle=True)(x.float().detach()).shape == (9, 6)


def test_inverse_stereographic_round_trip_and_sphere():
    x = 3 * torch.randn(50, 7, dtype=torch.float64)
    s = inverse_stereographic(x)
    torch.testing.assert_close(s.norm(dim=1), torch.ones(50, dtype=torch.float64))
    torch.testing.assert_close(stereographic(s), x)
    # Closed form in 1-D: x -> (2x/(x^2+1), (x^2-1)/(x^2+1)) = (sin, -cos) of the angle 2 atan(x).
    t = torch.tensor([[0.5]], dtype=torch.float64)
    a = 2 * math.atan(0.5)
    expected = torch.tensor([[math.sin(a), -math.cos(a)]], dtype=torch.float64)
    torch.testing.assert_close(inverse_stereographic(t), expected)


def test_istereo_layer_is_cosine_on_sphere_and_gradcheck():
    layer = InverseStereo(3, 4).double()
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    ref = cosine_similarity(inverse_stereographic(x), layer.centres)
    torch.testing.assert_close(layer(x), ref)
    assert torch.autograd.gradcheck(layer, (x,))
    layer.init_from_data(x.detach()[:4].clone(), generator=torch.Generator().manual_seed(1))
    assert layer(x.detach()[:4]).max().item() == pytest.approx(1.0, abs=1e-12)
    assert layer.centres.shape == (4, 4) and "in_features=3" in repr(layer)


def test_reset_parameters_reinitialises_in_place_so_optimisers_keep_training_the_layer():
    """A new Parameter object in reset_parameters would leave the optimiser and .to() copies stale (issue 12)."""
    torch.manual_seed(0)
    for layer in (InverseStereo(3, 4), LpDistance(3, 4, 1.5)):
        layer = layer.double()
        centres = layer.centres
        optimiser = torch.optim.SGD(layer.parameters(), lr=0.1)
        layer.reset_parameters()
        assert layer.centres is centres and layer.centres.dtype == torch.float64
        bound = 1 / math.sqrt(centres.shape[1])
        assert centres.abs().max() <= bound and centres.shape == (4, 4 if isinstance(layer, InverseStereo) else 3)
        before = centres.detach().clone()
        layer(torch.randn(5, 3, dtype=torch.float64)).sum().backward()
        optimiser.step()
        assert not torch.equal(layer.centres.detach(), before)


def test_layers_train_with_float32_forward_backward():
    for layer in (LpDistance(8, 5, 0.5), LpDistance(8, 5, 2.0), InverseStereo(8, 5), CosineSimilarity(8, 5)):
        out = layer(torch.randn(4, 8))
        out.sum().backward()
        assert layer.centres.grad is not None and torch.isfinite(layer.centres.grad).all()


def _torch_path(x, w, p, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(distances, "CPU_KERNEL", False)
        return pairwise_distance(x, w, p)


@pytest.mark.parametrize("p", [0.3, 0.5, 1.0, 1.5, 2.7, 3.0, 20.0, 64.0])
def test_cpu_kernel_matches_torch_path_float32(p, monkeypatch):
    """Fused numba kernels (nngeom.metric.lp_kernels) against the chunked torch code, at a Table 1-like shape with the
    exact ties (t_i = 0) of background pixels at -1; values and both gradients to float32 rounding."""
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(50, 784, generator=g) * 2 - 1)
    w = (torch.rand(37, 784, generator=g) * 2 - 1)
    x[:, :200], w[:, :150] = -1.0, -1.0
    x, w = x.requires_grad_(True), w.requires_grad_(True)
    grad = torch.randn(50, 37, generator=g)
    ours = pairwise_distance(x, w, p)
    ref = _torch_path(x, w, p, monkeypatch)
    torch.testing.assert_close(ours, ref, rtol=2e-6, atol=0)
    for a, b in zip(torch.autograd.grad((ours * grad).sum(), (x, w)),
                    torch.autograd.grad((ref * grad).sum(), (x, w))):
        assert ((a - b).abs().max() / b.abs().max()).item() < 2e-5


@pytest.mark.parametrize("e", [2.7, -0.7, 0.3, 64.5, -7.25])
def test_explog_power_is_pow_to_one_float32_ulp(e):
    """The vectorised ``exp(e ln r)`` of nngeom.metric.lp_kernels against float64 ``pow`` rounded to float32, over
    the float32 range the layer sees (from the floor at the smallest normal number up to 1e4), within one unit in
    the last place (measured: 0 ulp on all of them); beyond the normal float32 range the results are inf, or below the
    smallest normal number, as pow's are."""
    from nngeom.metric.lp_kernels import explog_pow

    g = np.random.default_rng(0)
    r = np.concatenate([10.0 ** g.uniform(-38, 4, 200_000), [np.finfo(np.float32).tiny, 1.0, 2.0, 0.5, 1e4]])
    r = r.astype(np.float32)
    out = np.empty_like(r)
    explog_pow(r, float(np.float32(e)), out)
    with np.errstate(over="ignore", under="ignore"):
        ref = (r.astype(np.float64) ** float(np.float32(e))).astype(np.float32)
    finite = np.isfinite(ref) & (ref >= np.finfo(np.float32).tiny)
    ulps = np.abs(out[finite].view(np.int32).astype(np.int64) - ref[finite].view(np.int32).astype(np.int64))
    assert finite.sum() > 5_000 and ulps.max() <= 1
    assert np.all(out[~finite & (ref > 1)] == np.inf)
    assert np.all(out[~finite & (ref < 1)] < np.finfo(np.float32).tiny)


@pytest.mark.parametrize("p", [1.0, 0.5, 2.7])
@pytest.mark.parametrize("batch, centres", [(4, 4), (7, 9), (3, 2)])
def test_cpu_kernel_tiles_and_the_pairs_they_leave_over(p, batch, centres, monkeypatch):
    """The 4 x 4 tiles of p = 1 and the single pairs around them (shapes with and without a remainder, and with no
    tile at all) give the torch path's values and gradients."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(batch, 33, generator=g).requires_grad_(True)
    w = torch.randn(centres, 33, generator=g).requires_grad_(True)
    grad = torch.randn(batch, centres, generator=g)
    ours, ref = pairwise_distance(x, w, p), _torch_path(x, w, p, monkeypatch)
    torch.testing.assert_close(ours, ref, rtol=2e-6, atol=0)
    for a, b in zip(torch.autograd.grad((ours * grad).sum(), (x, w)), torch.autograd.grad((ref * grad).sum(), (x, w))):
        # sums of terms of both signs: the error relative to the largest gradient
        assert ((a - b).abs().max() / b.abs().max()).item() < 2e-5


def test_torch_fallback_is_the_reference(monkeypatch):
    """Without the CPU kernel (CUDA, or CPU_KERNEL = False) the layer is exactly the chunked torch function."""
    x, w = _pair(6, 5, 4, dtype=torch.float32)
    with monkeypatch.context() as m:
        m.setattr(distances, "CPU_KERNEL", False)
        assert torch.equal(pairwise_distance(x, w, 0.5), distances._LpDistance.apply(x, w, 0.5))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the CUDA path cannot be compared")
@pytest.mark.parametrize("p", [0.5, 1.0, 20.0])
def test_cuda_path_matches_cpu_kernel(p):
    x, w = _pair(64, 40, 300, dtype=torch.float32)
    grad = torch.randn(64, 40)
    cpu = pairwise_distance(x, w, p)
    gcpu = torch.autograd.grad((cpu * grad).sum(), (x, w))
    xc, wc = x.detach().cuda().requires_grad_(True), w.detach().cuda().requires_grad_(True)
    gpu = pairwise_distance(xc, wc, p)
    ggpu = torch.autograd.grad((gpu * grad.cuda()).sum(), (xc, wc))
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-5, atol=1e-5)
    for a, b in zip(ggpu, gcpu):
        torch.testing.assert_close(a.cpu(), b, rtol=1e-4, atol=1e-5)


def test_one_stereographic_pair_with_leading_dimensions_and_the_pole():
    from nngeom.metric import inversion

    assert inversion.inverse_stereographic is distances.inverse_stereographic
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    s = distances.inverse_stereographic(x)
    assert s.shape == (2, 3, 5)
    torch.testing.assert_close(distances.stereographic(s), x)
    with pytest.raises(ValueError, match="north pole"):
        distances.stereographic(torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    with pytest.raises(TypeError, match="torch tensor"):
        distances.inverse_stereographic([1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2 coordinates"):
        distances.stereographic(torch.ones(3, 1))
