"""Generalised distances of Metric as Transform sec. 2.5: convexity, invertibility, gradients."""
import pytest
import torch

from nngeom.metric.generalized import ConvexDistance, InvexDistance, ResidualFlow, ordinary_distance


def test_convex_network_is_convex_along_random_segments():
    torch.manual_seed(0)
    net = ConvexDistance(6, 4, hidden=16, layers=3).double()
    # Scramble the free parameters so that the test does not depend on the initialisation.
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p))
    a, b = torch.randn(200, 6, dtype=torch.float64), torch.randn(200, 6, dtype=torch.float64)
    t = torch.rand(200, 1, dtype=torch.float64)
    lhs = net(t * a + (1 - t) * b)
    rhs = t * net(a) + (1 - t) * net(b)
    assert (lhs <= rhs + 1e-9).all()


def test_unconstrained_network_would_fail_the_same_convexity_test():
    # The test above can fail: negative hidden weights break convexity.
    torch.manual_seed(0)
    net = ConvexDistance(6, 4, hidden=16, layers=3).double()
    with torch.no_grad():
        for raw in net.raw_weights:
            raw.copy_(torch.randn_like(raw) * 3)
    weights = [-w for w in net.nonnegative_weights()]
    net.nonnegative_weights = lambda: weights
    a, b = torch.randn(500, 6, dtype=torch.float64), torch.randn(500, 6, dtype=torch.float64)
    t = torch.rand(500, 1, dtype=torch.float64)
    assert (net(t * a + (1 - t) * b) > t * net(a) + (1 - t) * net(b) + 1e-9).any()


def test_convex_network_has_finite_minimum():
    torch.manual_seed(1)
    net = ConvexDistance(2, 1, hidden=8, quadratic=0.5).double()
    far = 100 * torch.nn.functional.normalize(torch.randn(64, 2, dtype=torch.float64), dim=1)
    near = torch.zeros(1, 2, dtype=torch.float64)
    assert (net(far) > net(near)).all()


def test_invex_flow_is_invertible():
    torch.manual_seed(0)
    flow = ResidualFlow(5, hidden=12, blocks=2).double()
    flow.train()
    for _ in range(30):  # let spectral normalisation's power iteration converge
        flow(torch.randn(8, 5, dtype=torch.float64))
    flow.eval()
    x = 2 * torch.randn(40, 5, dtype=torch.float64)
    torch.testing.assert_close(flow.inverse(flow(x), iterations=200), x, atol=1e-8, rtol=1e-8)
    # Lipschitz of each residual below 1: distinct inputs keep distinct outputs.
    y = flow(x)
    assert (torch.cdist(y, y) + torch.eye(40, dtype=torch.float64) > 0.02 * torch.cdist(x, x)).all()


def test_ordinary_flow_has_no_inverse_guarantee():
    with pytest.raises(ValueError):
        ResidualFlow(3, invertible=False).inverse(torch.zeros(1, 3))


def test_invex_distance_minimum_at_preimage_of_centre():
    torch.manual_seed(2)
    layer = InvexDistance(3, 2, hidden=8).double().eval()
    for _ in range(30):
        layer.flow.train()(torch.randn(4, 3, dtype=torch.float64))
    layer.eval()
    target = torch.randn(1, 3, dtype=torch.float64)
    layer.init_from_data(torch.cat([target, target + 1]))
    # The data-initialised centre is phi(target): the distance is 0 there and positive around it.
    j = int(torch.argmin(layer(target)))
    assert layer(target)[0, j].item() < 1e-6
    around = target + 0.1 * torch.randn(50, 3, dtype=torch.float64)
    assert (layer(around)[:, j] > 0).all()


def test_gradcheck_generalised_layers():
    torch.manual_seed(3)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    for net in (ConvexDistance(3, 2, hidden=5), InvexDistance(3, 2, hidden=5).eval(), ordinary_distance(3, 2, 5)):
        net = net.double()
        assert torch.autograd.gradcheck(net, (x,))


def test_parameter_counts_are_comparable():
    counts = {name: sum(p.numel() for p in net.parameters()) for name, net in {
        "convex": ConvexDistance(784, 10, hidden=100), "invex": InvexDistance(784, 10, hidden=100),
        "ordinary": ordinary_distance(784, 10, hidden=100)}.items()}
    assert max(counts.values()) / min(counts.values()) < 1.2


def test_bad_arguments():
    with pytest.raises(ValueError):
        ConvexDistance(3, 0)
    with pytest.raises(TypeError):
        ConvexDistance(3, 2, hidden=2.5)
    with pytest.raises(ValueError):
        ResidualFlow(3, coeff=1.0)
    with pytest.raises(ValueError):
        ConvexDistance(3, 2)(torch.randn(2, 4))
    assert "invertible=False" in repr(ordinary_distance(3, 2))


def test_layer1_parameter_formulas_match_the_modules():
    from nngeom.metric.generalized import TABLE1_TRANSFORMS, layer1_parameters, transform_layer

    for name in TABLE1_TRANSFORMS + ("l3",):
        for d, h, k in ((7, 3, 1), (7, 3, 5), (12, 9, 4)):
            built = sum(p.numel() for p in transform_layer(name, d, h, hidden=k).parameters())
            assert layer1_parameters(name, d, h, k) == built, (name, d, h, k)
    with pytest.raises(ValueError):
        layer1_parameters("cubic", 3, 2)


def test_matched_hidden_is_the_closest_budget():
    from nngeom.metric.generalized import layer1_parameters, matched_hidden

    for name in ("convex", "invex", "ordinary"):
        for h in (5, 10, 20, 100, 500):
            budget = 784 * h + h
            k = matched_hidden(name, 784, h)
            assert k >= 1
            gap = abs(layer1_parameters(name, 784, h, k) - budget)
            for other in range(1, 400):  # brute force: no inner width is closer
                assert gap <= abs(layer1_parameters(name, 784, h, other) - budget)
    # Known values: the ICNN matches the linear layer closely; the flow's D x k maps cannot shrink below k = 1,
    # whose count already exceeds the linear budget (the h centres alone cost D h).
    assert matched_hidden("convex", 784, 5) == 2 and matched_hidden("convex", 784, 500) == 175
    assert matched_hidden("invex", 784, 5) == 1 and layer1_parameters("invex", 784, 5, 1) > 784 * 5 + 5
    assert matched_hidden("convex", 784, 5, budget=10 ** 6) > 100
    with pytest.raises(ValueError):
        matched_hidden("linear", 784, 5)
    with pytest.raises(TypeError, match="name must be a string"):
        matched_hidden(None, 784, 5)
    with pytest.raises(TypeError, match="name must be a string"):
        layer1_parameters(2, 784, 5)


def test_metric_mlp_without_normalisation():
    from nngeom.metric.generalized import metric_mlp

    torch.manual_seed(0)
    plain = metric_mlp("l2", 6, 4, 3, normalize=False)
    assert not any(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.LayerNorm)) for m in plain)
    assert plain(torch.randn(5, 6)).shape == (5, 3)
    # The default keeps the normalised network, initialised exactly as a call without the option.
    torch.manual_seed(0)
    a = metric_mlp("l2", 6, 4, 3)
    torch.manual_seed(0)
    b = metric_mlp("l2", 6, 4, 3, normalize=True)
    assert [type(m) for m in a] == [type(m) for m in b] and isinstance(a[1], torch.nn.BatchNorm1d)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
