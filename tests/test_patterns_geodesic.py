"""Geodesic / midpoint algorithms (sec. 5) and the networks of Study on Activation Patterns."""
import numpy as np
import pytest
import torch

from nngeom.patterns import geodesic, models, record


def small_net():
    torch.manual_seed(0)
    return models.mlp(depth=2, width=32, in_dim=12, n_classes=4).eval()


def test_geodesic_keeps_end_points_and_lowers_representation_energy():
    net = small_net()
    x0, x1 = torch.randn(12), torch.randn(12)
    t = torch.linspace(0, 1, 7).reshape(-1, 1)
    line = (1 - t) * x0 + t * x1
    feats = geodesic.activations(net, line)
    line_energy = sum((f[1:] - f[:-1]).pow(2).sum().item() / f.shape[1] for f in feats.values())
    result = geodesic.conditional_geodesic(net, x0, x1, n_steps=6, iterations=5, inner_steps=20)
    assert torch.equal(result["path"][0], x0) and torch.equal(result["path"][-1], x1)
    assert result["energy_f"] < line_energy
    hd = geodesic.path_hamming(net, result["path"])
    bits = geodesic.patterns_of(net, torch.stack([x0, x1]))
    assert hd["direct"] == int((bits[0] != bits[1]).sum()) <= hd["cumulative"] == int(hd["steps"].sum())


def test_midpoint_moves_towards_balance_and_validates():
    net = small_net()
    x0, x1 = torch.randn(12), torch.randn(12) * 3
    z = geodesic.midpoint(net, x0, x1, algorithm=1, norm="l2", steps=100, lr=0.05)
    f0, f1, fz = (geodesic.activations(net, v[None]) for v in (x0, x1, z))
    mid = (x0 + x1) / 2
    fm = geodesic.activations(net, mid[None])

    def cost(f):
        return sum(((f[n] - f0[n]) ** 2).sum() + ((f1[n] - f[n]) ** 2).sum() for n in f)
    assert cost(fz) <= cost(fm) + 1e-6
    with pytest.raises(ValueError):
        geodesic.midpoint(net, x0, x1, algorithm=3)
    with pytest.raises(ValueError):
        geodesic.midpoint(net, x0, x1, norm="l3")
    with pytest.raises(ValueError):
        geodesic.activations(net, x0[None], ["layer9"])


def test_models_shapes_options_and_batch_statistics():
    x = torch.randn(8, 3, 32, 32)
    assert models.convnet()(x).shape == (8, 10)
    for norm in models.NORMS:
        assert models.mlp(depth=2, width=16, norm=norm)(x).shape == (8, 10)
    selu = models.mlp(depth=2, width=16, activation="selu", init="lecun")
    assert len(record(selu, x)) == 2
    with pytest.raises(ValueError):
        models.mlp(norm="group")
    with pytest.raises(TypeError):
        models.build(["mlp"])
    a = models.initial_model({"kind": "mlp", "depth": 1, "width": 8}, seed=3)
    b = models.initial_model({"kind": "mlp", "depth": 1, "width": 8}, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    bn = models.mlp(depth=1, width=64, norm="batch")
    shifted = torch.randn(256, 3, 32, 32) + 5
    p_batch = record(bn, shifted, batch_size=256, batch_statistics=True)["layer1"].probability()
    assert abs(p_batch.mean() - 0.5) < 0.05          # batch statistics centre every unit
    assert bn.training                               # the mode is restored


def test_reach_pattern_finds_a_reachable_pattern():
    net = small_net()
    x_star, start = torch.randn(12), torch.randn(12)
    target = geodesic.patterns_of(net, x_star[None])[0]
    before = int((geodesic.patterns_of(net, start[None])[0] != target).sum())
    z = geodesic.reach_pattern(net, target, start, steps=300, lr=0.05)
    after = int((geodesic.patterns_of(net, z[None])[0] != target).sum())
    assert before > 0 and after < before
    pre = geodesic.preactivations(net, start[None])
    torch.testing.assert_close(pre["layer1"], net[1](start[None]))
    with pytest.raises(ValueError):
        geodesic.reach_pattern(net, target[:-1], start, steps=1)
