"""Exact local linear maps W_{a,x}, b_{a,x} against autograd (Study on Activation Patterns, eq. 51-58)."""
import numpy as np
import pytest
import torch

from nngeom.patterns import linear_maps, models, polytope


@pytest.mark.parametrize("norm", [None, "batch", "weight"])
def test_exact_map_equals_autograd_jacobian(norm):
    torch.manual_seed(0)
    net = models.mlp(depth=3, width=16, in_dim=3 * 4 * 4, n_classes=10, norm=norm).double()
    if norm == "batch":
        net.train()
        net(torch.randn(64, 3, 4, 4).double())
    net.eval()
    x = torch.randn(5, 3, 4, 4).double()
    W, b = linear_maps.local_affine(net, x)
    Wa, ba = linear_maps.autograd_affine(net, x)
    torch.testing.assert_close(W, Wa)
    torch.testing.assert_close(b, ba)
    torch.testing.assert_close((W @ x.flatten(1)[..., None])[..., 0] + b, net(x))
    # a hidden unit: the first 3 modules are Flatten, Linear, (BN or ReLU)
    upto = 4 if norm == "batch" else 3
    Wh, bh = linear_maps.local_affine(net, x, units=[2], upto=upto + 1)
    Wr, br = linear_maps.autograd_affine(net[:upto + 1], x, units=[2])
    torch.testing.assert_close(Wh, Wr)
    torch.testing.assert_close(bh, br)


def test_unsupported_layers_raise():
    net = models.mlp(depth=1, width=4, in_dim=6, norm="layer")
    with pytest.raises(TypeError):
        linear_maps.local_affine(net, torch.randn(2, 6))
    with pytest.raises(TypeError):
        linear_maps.local_affine(torch.nn.Linear(3, 3), torch.randn(2, 3))


def test_wrong_type_and_wrong_value_are_told_apart():
    net = models.mlp(depth=1, width=4, in_dim=6)
    with pytest.raises(TypeError, match="got list"):
        linear_maps.local_affine(net, [[0.0] * 6])
    with pytest.raises(ValueError, match="got shape"):
        linear_maps.local_affine(net, torch.randn(6))
    with pytest.raises(TypeError, match="depth must be an int"):
        models.mlp(depth=1.0)
    with pytest.raises(ValueError, match="positive ints"):
        models.mlp(depth=0)
    with pytest.raises(ValueError, match="'kind' key"):
        models.build({"depth": 1})


def test_decomposition_singular_values_angles():
    rng = torch.Generator().manual_seed(0)
    D = torch.randn(30, 20, generator=rng)
    target = 2.0 * D[3] - 0.5 * D[7]
    result = linear_maps.greedy_decomposition(target, D, steps=40)
    assert result["indices"][0] in (3, 7)
    ratios = result["remainder_ratio"]
    assert ratios[0] == 1.0 and (np.diff(ratios) <= 1e-12).all() and ratios[-1] < 0.05
    # orthogonal dictionary: the greedy decomposition is exact in two steps
    Q, _ = torch.linalg.qr(torch.randn(20, 20, generator=rng))
    exact = linear_maps.greedy_decomposition(3 * Q[:, 0] + Q[:, 5], Q.T, steps=2)
    assert exact["remainder_ratio"][-1] < 1e-6 and sorted(exact["indices"]) == [0, 5]
    low_rank = torch.randn(50, 3, generator=rng).double() @ torch.randn(3, 40, generator=rng).double()
    s = linear_maps.singular_values(low_rank)
    assert (s[3:] < 1e-10 * s[0]).all() and (s[:3] > 1e-3).all()
    u = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    v = torch.tensor([[0.0, 2.0], [2.0, 2.0]])
    torch.testing.assert_close(linear_maps.angle_degrees(u, v), torch.tensor([90.0, 0.0]).double(), atol=1e-4, rtol=0)


def test_noise_angles_zero_for_zero_noise_and_polytope_keeps_pattern():
    torch.manual_seed(1)
    net = models.mlp(depth=2, width=8, in_dim=6, n_classes=3).eval()
    x = torch.randn(4, 6)
    assert linear_maps.noise_angles(net, x, 0.0, unit=1).abs().max() < 1e-3
    with torch.no_grad():
        def pattern(batch):
            return (net[:3](batch) > 0).numpy()
        result = polytope.explore(pattern, x[0], n_images=20, sigma=1.0, iterations=30,
                                  generator=torch.Generator().manual_seed(0))
    assert (pattern(result["images"]) == pattern(x[:1])).all()
    assert result["sigma"] <= 1.0 and len(result["sigmas"]) == 30


def test_fourier_magnitudes_match_numpy_and_ignore_circular_shifts():
    g = torch.Generator().manual_seed(0)
    images = torch.randn(4, 3, 8, 8, generator=g)
    magnitudes = linear_maps.fourier_magnitudes(images.reshape(4, -1), (3, 8, 8))
    reference = np.abs(np.fft.fft2(images.numpy().astype(np.float64))).reshape(4, -1)
    assert np.allclose(magnitudes.numpy(), reference)
    shifted = torch.roll(images, shifts=(2, 3), dims=(2, 3))
    assert torch.allclose(linear_maps.fourier_magnitudes(shifted, (3, 8, 8)), magnitudes)
    # translated copies of one pattern: rank 4 as images, rank 1 after |FFT|
    copies = torch.stack([torch.roll(images[0], k, dims=2) for k in range(4)])
    plain = linear_maps.singular_values(copies)
    fourier = linear_maps.singular_values(linear_maps.fourier_magnitudes(copies, (3, 8, 8)))
    assert (plain > 1e-6).sum() == 4 and (fourier > 1e-6).sum() == 1


def test_input_gradients_equal_the_exact_map_and_the_per_sample_jacobian_of_a_convnet():
    torch.manual_seed(0)
    net = models.mlp(depth=2, width=16).train()
    x = torch.randn(5, 3, 32, 32)
    W, _ = linear_maps.local_affine(net.eval(), x, units=[3])
    net.train()
    torch.testing.assert_close(linear_maps.input_gradients(net, x, 3, batch_size=2), W[:, 0], atol=1e-5, rtol=1e-4)
    assert net.training                                  # the caller's mode is restored
    conv = models.convnet(channels=(4, 4, 4)).eval()
    Wc = linear_maps.input_gradients(conv, x, 1, batch_size=3)
    Wa, _ = linear_maps.autograd_affine(conv, x[:2], units=[1])     # one sample at a time: no batch interaction
    torch.testing.assert_close(Wc[:2], Wa[:, 0], atol=1e-5, rtol=1e-4)
    assert all(p.grad is None for p in conv.parameters())


def test_batchnorm_without_running_statistics_is_a_clear_error():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3, track_running_stats=False),
                                torch.nn.ReLU()).eval()
    with pytest.raises(ValueError, match="running statistics"):
        linear_maps.local_affine(model, torch.zeros(1, 2))
