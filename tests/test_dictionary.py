"""Dictionary / local layers and noisy centre search (Metric as Transform, sec. 3.1-3.3)."""
import pytest
import torch
from torch import nn

from nngeom.local import centre_search
from nngeom.local.dictionary import (DictionaryMLP, EpsilonHighwayMLP, LocalClassifier, LocalResidualMLP,
                               data_initialised_accuracy)
from nngeom.train import accuracy


def _data(n=60, d=12, c=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=g), torch.randint(0, c, (n,), generator=g)


def test_data_initialisation_reproduces_training_labels_on_centres():
    x, y = _data()
    for kind, kw in (("unnormalised", {"tau": 0.5}), ("softmax", {"tau": 0.05}),
                     ("epsilon_softmax", {"tau": 0.05, "epsilon": 0.5})):
        model = DictionaryMLP.from_data(x, y, 4, similarity=kind, **kw).eval()
        assert torch.equal(model(x).argmax(1), y), kind


def test_dictionary_output_is_activations_times_values_cdist_reference():
    x, y = _data(seed=1)
    model = DictionaryMLP.from_data(x[:20], y[:20], 4, similarity="epsilon_softmax", tau=0.3, epsilon=1.0).eval()
    d = torch.cdist(x, x[:20])
    a = torch.softmax(-torch.cat([d, torch.ones(60, 1)], 1) / 0.3, 1)
    assert torch.allclose(model(x), a[:, :20] @ nn.functional.one_hot(y[:20], 4).float(), atol=1e-5)


def test_residual_and_highway_formulas():
    x = torch.randn(30, 2)
    res = LocalResidualMLP(2, 5, tau=0.5, epsilon=1.0).eval()
    hw = EpsilonHighwayMLP(2, 5, tau=0.5, epsilon=1.0).eval()
    for m, add_x, eps_x in ((res, True, False), (hw, False, True)):
        a = torch.softmax(-torch.cat([torch.cdist(x, m.centres), torch.ones(30, 1)], 1) / 0.5, 1)
        ref = a[:, :5] @ m.values + (x if add_x else 0) + (a[:, 5:] * x if eps_x else 0)
        assert torch.allclose(m(x), ref, atol=1e-5)
    far = torch.full((1, 2), 1e3)
    assert torch.allclose(res(far), far) and torch.allclose(hw(far), far)


def test_outputs_without_each_matches_explicit_removal():
    x, y = _data(seed=2)
    for m in (DictionaryMLP(12, 6, 3, tau=0.7, epsilon=1.2), LocalResidualMLP(12, 6, tau=0.7, epsilon=1.2),
              EpsilonHighwayMLP(12, 6, tau=0.7, epsilon=1.2)):
        m.eval()
        loo = m.outputs_without_each(x)
        for i in (0, 3, 5):
            keep = [j for j in range(6) if j != i]
            other = m.__class__(12, 5, 3, tau=0.7, epsilon=1.2) if isinstance(m, DictionaryMLP) else \
                m.__class__(12, 5, tau=0.7, epsilon=1.2)
            other.set_centres(m.centres.detach()[keep], m.values.detach()[keep])
            other.eval()
            assert torch.allclose(loo[:, i], other(x), atol=1e-5)


def test_local_classifier_rejects_far_inputs():
    clf = LocalClassifier(2, 3, tau=0.2, epsilon=1.0).eval()
    with torch.no_grad():
        clf.centres.copy_(torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]))
    pred = clf.predict(torch.tensor([[0.1, 0.0], [2.9, 0.1], [0.0, 3.2], [10.0, 10.0]]))
    assert pred.tolist() == [0, 1, 2, -1]
    assert clf(torch.zeros(1, 2)).shape == (1, 3)


def test_noisy_centre_search_improves_training_loss_without_backprop():
    x, y = _data(n=400, d=6, c=3, seed=3)
    x = x + nn.functional.one_hot(y, 3).float().repeat(1, 2) * 0.8
    model = DictionaryMLP(6, 8, 3, similarity="softmax", tau=0.1, init_scale=0.3)
    model.set_centres(torch.rand(8, 6), nn.functional.one_hot(torch.arange(8) % 3, 3).float().roll(1, 1))
    hist = centre_search.noisy_centre_search(model, x, y, n_search=4, rounds=15, n_classes=3, test=(x, y),
                                             score_samples=400, progress=False)
    assert model.n_centres == 8
    assert hist.loss[-1] < hist.loss[0] - 0.1
    assert hist.test_accuracy[-1] > hist.test_accuracy[0]


def test_search_control_fine_tunes_without_changing_the_units():
    """add_prune=False fine-tunes the same units in place; the search itself swaps units for data points."""
    x, y = _data(n=200, d=4, c=2, seed=5)
    runs = {}
    for add_prune in (False, True):
        torch.manual_seed(1)
        model = DictionaryMLP(4, 6, 2, similarity="softmax", tau=0.3)
        start = model.centres.detach().clone()
        hist = centre_search.noisy_centre_search(model, x, y, n_search=2, rounds=3, n_classes=2, fine_tune_steps=4,
                                                 lr=1e-3, score_samples=100, progress=False, add_prune=add_prune)
        assert model.n_centres == 6 and len(hist.loss) == 4
        runs[add_prune] = float((model.centres.detach() - start).abs().amax())
    assert 0 < runs[False] < 0.1 < runs[True]  # 12 Adam steps of 1e-3 move a centre by at most 0.012


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        DictionaryMLP(0, 3, 2)
    with pytest.raises(ValueError):
        LocalResidualMLP(2, 3, p=-1.0)
    with pytest.raises(ValueError):
        DictionaryMLP(4, 3, 2)(torch.zeros(2, 5))
    with pytest.raises(ValueError):
        DictionaryMLP.from_data(torch.zeros(3, 4), torch.tensor([0, 1, 5]), 3)
    with pytest.raises(ValueError):
        centre_search.noisy_centre_search(DictionaryMLP(4, 3, 2), torch.zeros(2, 4), torch.zeros(2).long(),
                                          n_search=5, rounds=1, n_classes=2)


def test_wrong_type_and_wrong_value_are_told_apart():
    with pytest.raises(TypeError, match="n_centres must be an int, got float"):
        DictionaryMLP(4, 3.0, 2)
    with pytest.raises(ValueError, match="n_centres must be a positive int, got 0"):
        DictionaryMLP(4, 0, 2)
    with pytest.raises(TypeError, match="centres_per_class must be an int"):
        LocalClassifier(4, 3, centres_per_class=1.5)
    with pytest.raises(ValueError, match="centres_per_class must be a positive int"):
        LocalClassifier(4, 3, centres_per_class=0)
    with pytest.raises(TypeError, match="int64 labels"):
        DictionaryMLP.from_data(torch.zeros(3, 4), torch.tensor([0.0, 1.0, 2.0]), 3)
    with pytest.raises(ValueError, match="int64 labels"):
        DictionaryMLP.from_data(torch.zeros(3, 4), torch.tensor([0, 1, 5]), 3)


def test_table3_sweep_matches_per_width_models_on_cdist():
    x, y = _data(n=300, d=20, c=5, seed=4)
    xt, yt = _data(n=130, d=20, c=5, seed=5)
    got = data_initialised_accuracy(x, y, xt, yt, [3, 40, 200], 5, seed=7, chunk=32)
    pick = torch.randperm(300, generator=torch.Generator().manual_seed(7))[:200]
    for h in (3, 40, 200):
        keys = x[pick[:h]]
        d = torch.cdist(xt, keys)
        sigma = d.std(1, unbiased=False, keepdim=True)
        s = torch.exp(-(d - d.min(1, keepdim=True).values) / (0.5 * sigma))
        ref = ((s @ nn.functional.one_hot(y[pick[:h]], 5).float()).argmax(1) == yt).float().mean().item()
        assert abs(got[h] - ref) < 1e-6
        model = DictionaryMLP.from_data(keys, y[pick[:h]], 5, similarity="unnormalised", tau=0.5)
        assert abs(accuracy(model, xt, yt) - got[h]) < 1e-6
    with pytest.raises(ValueError):
        data_initialised_accuracy(x, y, xt, yt, [400], 5)


def test_train_dictionary_classifier_key_learning_rate_and_init():
    from nngeom.local.dictionary import train_dictionary_classifier
    x, y = _data(n=120, d=8, c=3, seed=6)
    model, hist = train_dictionary_classifier(x, y, (x, y), n_centres=10, n_classes=3, init="data",
                                              centre_lr_scale=0.0, epochs=2, lr=1e-2, batch_size=16, seed=1)
    pick = torch.randperm(120, generator=torch.Generator().manual_seed(1))[:10]
    assert torch.equal(model.centres.detach().cpu(), x[pick])
    assert not torch.equal(model.values.detach().cpu(), nn.functional.one_hot(y[pick], 3).float())
    assert len(hist.test_accuracy) == 2 and not model.training
    assert model.norm.epsilon.item() > 0
    moved, _ = train_dictionary_classifier(x, y, (x, y), n_centres=10, n_classes=3, init="random",
                                           centre_lr_scale=1.0, epochs=1, lr=1e-2, batch_size=16, seed=1)
    assert moved.centres.min() >= x.min() - 0.1 and moved.centres.max() <= x.max() + 0.1
    with pytest.raises(ValueError):
        train_dictionary_classifier(x, y, (x, y), n_centres=10, n_classes=3, init="zeros")
