"""Rejection metrics and the epsilon sweep (Metric as Transform, sec. 3.2)."""
import numpy as np
import pytest
import torch

from nngeom.local import rejection
from nngeom.local.dictionary import DictionaryMLP


def test_metrics_on_hand_made_case():
    clean_rej = torch.tensor([True, False, False, False])
    adv_rej = torch.tensor([True, True, False, False])
    adv_wrong = torch.tensor([True, False, True, False])
    m = rejection.rejection_metrics(clean_rej, adv_rej, adv_wrong)
    assert m == {"x_rejected": 0.25, "rejected": 0.5, "failed": 0.25, "measure": 0.5}


def test_metrics_from_distances_hand_made():
    ev = rejection.Evaluation(clean_min=torch.tensor([1.0, 2.0, 3.0, 4.0]), adv_min=torch.tensor([5.0, 0.5, 2.5, 6.0]),
                              adv_wrong=torch.tensor([True, True, True, False]),
                              clean_wrong=torch.zeros(4, dtype=torch.bool))
    m = rejection.metrics_at(ev, 2.0)
    # clean rejected: 3, 4 -> 0.5; adversarial rejected: 5, 2.5, 6 -> 0.75; failed: only the 0.5 one -> 0.25
    assert m == {"x_rejected": 0.5, "rejected": 0.75, "failed": 0.25, "measure": 0.75}
    sw = rejection.sweep(ev, [0.0, 2.0, 10.0])
    assert sw["measure"].tolist() == [1.0, 0.75, 0.75]
    assert rejection.best(sw)["epsilon"] == 2.0


def test_sweep_equals_naive_re_evaluation():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(80, 10, generator=g), torch.randint(0, 3, (80,), generator=g)
    model = DictionaryMLP.from_data(x[:15], y[:15], 3, similarity="epsilon_softmax", tau=0.4, epsilon=1.0).eval()
    x_adv = x + 0.4 * torch.randn(80, 10, generator=g)
    eps = np.linspace(0.05, 2.5, 37)
    fast = rejection.sweep(rejection.evaluate(model, x, x_adv, y, batch_size=16), eps)
    slow = rejection.naive_sweep(model, x, x_adv, y, eps)
    for k in rejection.METRICS:
        assert np.allclose(fast[k], slow[k], atol=1e-6), k
    assert model.norm.epsilon.item() == 1.0
    assert fast["x_rejected"][0] > 0.5 and fast["x_rejected"][-1] == 0.0


def test_bad_input_raises():
    with pytest.raises(TypeError):
        rejection.rejection_metrics(torch.tensor([1.0]), torch.tensor([True]), torch.tensor([True]))
    ev = rejection.Evaluation(torch.ones(2), torch.ones(2), torch.zeros(2, dtype=torch.bool),
                              torch.zeros(2, dtype=torch.bool))
    with pytest.raises(ValueError):
        rejection.sweep(ev, [])
