"""Geodesic / midpoint algorithms (sec. 5) and the networks of Study on Activation Patterns."""
import numpy as np
import pytest
import torch

from nngeom.patterns import experiments, geodesic, models
from nngeom.patterns.recording import record


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


def test_midpoint_search_lowers_the_objective_of_eq_49_and_validates():
    net = small_net()
    x0, x1 = torch.randn(12), torch.randn(12) * 3
    with torch.no_grad():
        f0, f1 = (geodesic.activations(net, v[None]) for v in (x0, x1))

    @torch.no_grad()
    def cost(v):
        f = geodesic.activations(net, v[None])
        return float(sum(((f[n] - f0[n]) ** 2).sum() + ((f1[n] - f[n]) ** 2).sum() for n in f))

    mid = (x0 + x1) / 2                  # where the search starts: a search that does nothing returns it
    z = geodesic.midpoint(net, x0, x1, algorithm=1, norm="l2", steps=100, lr=0.05)
    assert not torch.allclose(z, mid)
    assert cost(z) < 0.9 * cost(mid)     # the search must lower eq. 49 clearly, not merely not raise it
    # the optimum of sum ||f(z) - f0||^2 + ||f1 - f(z)||^2 over f(z) is (f0 + f1) / 2 with value ||f0 - f1||^2 / 2
    floor = float(sum(((f0[n] - f1[n]) ** 2).sum() / 2 for n in f0))
    assert cost(z) >= floor - 1e-4
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
    a = experiments.initial_model({"kind": "mlp", "depth": 1, "width": 8}, seed=3)
    b = experiments.initial_model({"kind": "mlp", "depth": 1, "width": 8}, seed=3)
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


@pytest.mark.parametrize("run", [
    lambda net, x0, x1: geodesic.conditional_geodesic(net, x0, x1, n_steps=3, iterations=1, inner_steps=1),
    lambda net, x0, x1: geodesic.midpoint(net, x0, x1, steps=2),
    lambda net, x0, x1: geodesic.reach_pattern(net, geodesic.patterns_of(net, x1[None])[0], x0, steps=2),
], ids=["conditional_geodesic", "midpoint", "reach_pattern"])
def test_searches_leave_the_callers_model_as_they_found_it(run):
    net = small_net().train()
    net[1].bias.requires_grad_(False)          # a caller's own frozen parameter stays frozen
    flags = [p.requires_grad for p in net.parameters()]
    x0, x1 = torch.randn(12), torch.randn(12)
    run(net, x0, x1)
    assert net.training and all(m.training for m in net.modules())
    assert [p.requires_grad for p in net.parameters()] == flags
    assert all(p.grad is None for p in net.parameters())


def test_searches_restore_the_model_when_they_fail():
    net = small_net().train()
    flags = [p.requires_grad for p in net.parameters()]
    with pytest.raises(ValueError):
        geodesic.reach_pattern(net, np.zeros(5), torch.randn(12), steps=1)    # wrong target length, raised inside
    with pytest.raises(ValueError):
        geodesic.midpoint(net, torch.randn(12), torch.randn(12), layers=["layer9"])
    assert net.training and [p.requires_grad for p in net.parameters()] == flags
