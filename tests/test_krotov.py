"""Krotov-Hopfield local layer against a direct NumPy transcription of eq. 3-5 (Neural robustness, sec. 2)."""
import numpy as np
import pytest
import torch

from nngeom.robustness import krotov


def numpy_forward(S, x, p):
    """eq. 3: h_i = sum_j S_ij |S_ij|^(p-2) x_j for every row of x."""
    return x @ (np.sign(S) * np.abs(S) ** (p - 1)).T


def numpy_step(S, inputs, p, k, delta, eps):
    """One minibatch of the published algorithm (inputs as columns) on a copy of S: (new S, max|dS|)."""
    return krotov.published_minibatches(S.copy(), inputs.T, eps, inputs.shape[1], p, k, delta)


@pytest.mark.parametrize("p", [2.0, 3.0, 4.5])
def test_forward_matches_numpy(p):
    g = torch.Generator().manual_seed(0)
    layer = krotov.KrotovHopfieldLayer(30, 12, p=p, generator=g)
    layer.synapses = layer.synapses.double()
    x = torch.randn(7, 30, generator=g, dtype=torch.float64)
    expected = numpy_forward(layer.synapses.numpy(), x.numpy(), p)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("p,k,delta", [(3.0, 2, 0.4), (4.5, 5, 0.3), (2.0, 3, 0.0)])
def test_update_matches_numpy(p, k, delta):
    g = torch.Generator().manual_seed(1)
    layer = krotov.KrotovHopfieldLayer(40, 25, p=p, k=k, delta=delta, generator=g)
    layer.synapses = layer.synapses.double()
    x = krotov.lp_normalize(torch.rand(64, 40, generator=g, dtype=torch.float64), p)
    S0 = layer.synapses.numpy().copy()
    for eps in (0.02, 0.01):  # two consecutive steps
        expected, nc = numpy_step(S0, x.numpy().T, p, k, delta, eps)
        got_nc = layer.learning_step(x, eps)
        np.testing.assert_allclose(layer.synapses.numpy(), expected, rtol=1e-10, atol=1e-13)
        assert got_nc == pytest.approx(nc, rel=1e-10)
        S0 = expected


def test_increment_is_sum_of_eq4_terms():
    g = torch.Generator().manual_seed(2)
    layer = krotov.KrotovHopfieldLayer(10, 6, p=3.0, k=2, delta=0.4, generator=g)
    layer.synapses = layer.synapses.double()
    x = torch.randn(5, 10, generator=g, dtype=torch.float64)
    S = layer.synapses.numpy()
    h = numpy_forward(S, x.numpy(), 3.0)
    total = np.zeros_like(S)
    for b in range(5):
        order = np.argsort(-h[b])
        gvec = np.zeros(6)
        gvec[order[0]], gvec[order[1]] = 1.0, -0.4
        total += gvec[:, None] * (x.numpy()[b][None, :] - h[b][:, None] * S)
    np.testing.assert_allclose(layer.increment(x).numpy(), total, rtol=1e-10, atol=1e-12)


def test_lp_normalize_unit_norm():
    x = torch.rand(4, 3, 8, 8)
    for p in (2.0, 3.0):
        norms = krotov.lp_normalize(x, p).abs().pow(p).sum(1).pow(1 / p)
        torch.testing.assert_close(norms, torch.ones(4))
    with pytest.raises(ValueError):
        krotov.lp_normalize(x, 0)


def test_training_anneals_and_converges_to_unit_norm():
    # winners' synapses converge to the unit l^p sphere (the fixed point of eq. 4 with R = 1)
    g = torch.Generator().manual_seed(3)
    centres = torch.rand(4, 20, generator=g)
    x = krotov.lp_normalize((centres[torch.randint(0, 4, (400,), generator=g)]
                             + 0.05 * torch.randn(400, 20, generator=g)).abs(), 3.0)
    layer = krotov.KrotovHopfieldLayer(20, 8, p=3.0, k=2, delta=0.4, generator=g)
    monitor = krotov.train_local(layer, x, epochs=200, lr=0.05, batch_size=100)
    assert monitor["weight_change"][-1] < monitor["weight_change"][0]
    winners = layer(x).argmax(1).unique()
    norms = layer.synapses[winners].abs().pow(3).sum(1)
    torch.testing.assert_close(norms, torch.ones_like(norms), atol=0.05, rtol=0)


def test_prune_and_otsu():
    layer = krotov.KrotovHopfieldLayer(50, 10, generator=torch.Generator().manual_seed(4))
    layer.synapses[7:] *= 4.0  # three noisy units with 16x the variance
    var = krotov.synapse_variance(layer)
    threshold = krotov.otsu_threshold(var)
    pruned, keep = krotov.prune(layer, threshold)
    assert keep.tolist() == [True] * 7 + [False] * 3
    assert pruned.hidden == 7
    torch.testing.assert_close(pruned.synapses, layer.synapses[:7])
    with pytest.raises(ValueError):
        krotov.prune(layer, 0.0)


def test_hybrid_model_only_decoder_trains():
    layer = krotov.KrotovHopfieldLayer(12, 6, generator=torch.Generator().manual_seed(5))
    model = krotov.HybridModel(layer, n=4.5)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names == ["decoder.weight", "decoder.bias"]
    x = torch.randn(3, 12)
    torch.testing.assert_close(model.hidden(x), torch.relu(layer(x)) ** 4.5)
    assert model(x).shape == (3, 10)


def test_bad_arguments():
    with pytest.raises(ValueError):
        krotov.KrotovHopfieldLayer(10, 5, p=1.5)
    with pytest.raises(ValueError):
        krotov.KrotovHopfieldLayer(10, 5, k=6)
    with pytest.raises(ValueError):
        krotov.train_local(krotov.KrotovHopfieldLayer(10, 5), torch.rand(4, 9), epochs=1)
    with pytest.raises(ValueError):
        krotov.HybridModel(krotov.KrotovHopfieldLayer(10, 5), n=0.5)


def test_wrong_type_and_wrong_value_are_told_apart():
    with pytest.raises(TypeError, match="hidden must be an int, got float"):
        krotov.KrotovHopfieldLayer(10, 5.0)
    with pytest.raises(TypeError, match="in_features must be an int, got bool"):
        krotov.KrotovHopfieldLayer(True, 5)
    with pytest.raises(ValueError, match=">= 1"):
        krotov.KrotovHopfieldLayer(10, 0)
    assert krotov.KrotovHopfieldLayer(np.int64(10), 5).in_features == 10


def test_increment_rows_are_the_units_with_nonzero_g_and_their_eq4_rows():
    """Against the NumPy transcription of eq. 4-5, not against `increment` (which is built from increment_rows)."""
    g = torch.Generator().manual_seed(4)
    layer = krotov.KrotovHopfieldLayer(50, 40, p=3.0, k=3, delta=0.4, generator=g)
    layer.synapses = layer.synapses.double()
    x = krotov.lp_normalize(torch.rand(32, 50, generator=g, dtype=torch.float64))
    units, rows = layer.increment_rows(x)
    S, xs = layer.synapses.numpy(), x.numpy()
    h = numpy_forward(S, xs, 3.0)
    ranked = np.argsort(-h, axis=1)
    gain = np.zeros_like(h)
    gain[np.arange(32), ranked[:, 0]] = 1.0
    gain[np.arange(32), ranked[:, 2]] = -0.4
    expected_units = np.flatnonzero(np.abs(gain).sum(0))
    assert sorted(units.tolist()) == expected_units.tolist()
    expected = gain.T @ xs - (gain * h).sum(0)[:, None] * S
    np.testing.assert_allclose(rows.numpy(), expected[units.numpy()], rtol=1e-10, atol=1e-12)


def test_float32_epoch_with_fast_ranking_follows_the_float64_transcription():
    # CIFAR-sized inputs, float32 with the split-bf16 ranking where available, against the float64 published loop
    g = torch.Generator().manual_seed(7)
    x = krotov.lp_normalize(torch.rand(1024, 3072, generator=g), 3.0)
    layer = krotov.KrotovHopfieldLayer(3072, 300, p=3.0, k=2, delta=0.4, generator=g)
    S = layer.synapses.double().numpy().copy()
    for i, eps in enumerate((0.02, 0.015, 0.01, 0.005)):
        batch = x[i * 256:(i + 1) * 256]
        layer.learning_step(batch, eps)
        S, _ = numpy_step(S, batch.double().numpy().T, 3.0, 2, 0.4, eps)
    np.testing.assert_allclose(layer.synapses.double().numpy(), S, rtol=0, atol=2e-5 * np.abs(S).max())
