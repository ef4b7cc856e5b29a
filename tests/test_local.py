"""nngeom.local.similarity against closed forms and NumPy transcriptions (Metric as Transform, sec. 3.1.1-3.1.3)."""
import numpy as np
import pytest
import torch

from nngeom.local import similarity


def _d(seed=0, b=7, n=5):
    return torch.rand(b, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 4


def test_epsilon_softmax_tends_to_softmax_as_epsilon_grows():
    d = _d()
    plain = torch.softmax(-d / 0.7, dim=1)
    gaps = [(similarity.epsilon_softmax(d, eps, 0.7)[:, :-1] - plain).abs().max().item() for eps in (5, 10, 20, 60)]
    assert all(a > b for a, b in zip(gaps, gaps[1:]))
    assert gaps[-1] < 1e-12
    assert gaps[0] > 1e-4
    assert torch.allclose(similarity.epsilon_softmax(d, float("inf"), 0.7)[:, :-1], plain)


def test_activations_sum_to_one_with_epsilon_neuron():
    d = _d(1)
    for eps in (0.1, 1.0, 3.0):
        a = similarity.epsilon_softmax(d, eps, 0.5)
        assert a.shape == (7, 6)
        assert torch.allclose(a.sum(1), torch.ones(7, dtype=d.dtype))
    assert torch.allclose(similarity.softmax_similarity(d, 0.5).sum(1), torch.ones(7, dtype=d.dtype))


def test_epsilon_softmax_matches_numpy_transcription_with_bias():
    d, bias = _d(2), torch.linspace(-0.5, 0.5, 5, dtype=torch.float64)
    z = -np.concatenate([d.numpy() + bias.numpy(), np.full((7, 1), 1.3)], axis=1) / 0.4
    ref = np.exp(z - z.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    assert np.allclose(similarity.epsilon_softmax(d, 1.3, 0.4, bias).numpy(), ref)


def test_unnormalised_similarity_closed_form():
    d = _d(3)
    sigma = d.std(1, unbiased=False, keepdim=True)
    ref = torch.exp(-(d - d.min(1, keepdim=True).values) / (sigma * 0.5))
    s = similarity.unnormalised_similarity(d, 0.5)
    assert torch.allclose(s[:, :-1], ref) and torch.all(s[:, -1] == 0)
    assert torch.allclose(s[:, :-1].max(1).values, torch.ones(7, dtype=d.dtype))
    assert not torch.allclose(s.sum(1), torch.ones(7, dtype=d.dtype))


def test_epsilon_wins_iff_epsilon_below_min_distance():
    d = _d(4)
    for eps in (0.2, 0.8, 1.5):
        a = similarity.epsilon_softmax(d, eps, 0.3)
        assert torch.equal(a.argmax(1) == 5, similarity.epsilon_wins(d, eps))


def test_ema_epsilon_tracks_mean_distance():
    norm = similarity.EpsilonSoftmax(tau=1.0, epsilon="ema", momentum=0.9)
    d1, d2 = torch.full((4, 3), 2.0), torch.full((4, 3), 4.0)
    norm.train()
    norm(d1)
    assert norm.epsilon.item() == pytest.approx(2.0)
    norm(d2)
    assert norm.epsilon.item() == pytest.approx(0.9 * 2 + 0.1 * 4)
    norm.eval()
    norm(torch.full((4, 3), 100.0))
    assert norm.epsilon.item() == pytest.approx(2.2)


def test_bad_input_raises():
    with pytest.raises(ValueError):
        similarity.softmax_similarity(_d(), tau=0)
    with pytest.raises(ValueError, match="got shape"):
        similarity.epsilon_softmax(torch.ones(3), 1.0)       # a tensor of the wrong shape: a value error
    with pytest.raises(TypeError, match="got list"):
        similarity.epsilon_softmax([[1.0, 2.0]], 1.0)        # not a tensor at all: a type error
    with pytest.raises(ValueError):
        similarity.similarity(_d(), "gaussian", 1.0)
    with pytest.raises(ValueError):
        similarity.EpsilonSoftmax(epsilon="mean")
    with pytest.raises(RuntimeError):
        norm = similarity.EpsilonSoftmax(epsilon=1.0)
        norm.set_epsilon(float("nan"))
        norm(_d())


def test_ema_initialises_in_eval_but_only_updates_in_training():
    norm = similarity.EpsilonSoftmax(epsilon="ema").eval()
    norm(torch.full((2, 3), 3.0))
    norm(torch.full((2, 3), 5.0))
    assert norm.epsilon.item() == pytest.approx(3.0)
