"""WeightNorm's data-dependent initialisation (nngeom.patterns.models.weight_norm_init)."""
import pytest
import torch

from nngeom.patterns import experiments, models


def test_weight_norm_init_standardises_every_pre_activation_on_its_batch():
    """Salimans & Kingma (2016, sec. 3): after the initialisation each layer's pre-activations on the batch have mean
    0 and standard deviation 1 (checked against hooks on the layers' outputs)."""
    torch.manual_seed(0)
    model = models.mlp(depth=3, width=16, in_dim=12, norm="weight")
    x = torch.randn(200, 12) * 3 + 1
    models.weight_norm_init(model, x)
    outputs = []
    normed = [layer for layer in model if isinstance(layer, torch.nn.Linear)][:-1]  # the head is not weight-normed
    hooks = [layer.register_forward_hook(lambda _m, _i, out: outputs.append(out)) for layer in normed]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    assert len(outputs) == 3
    for out in outputs:
        torch.testing.assert_close(out.mean(0), torch.zeros(16), atol=1e-5, rtol=0)
        torch.testing.assert_close(out.std(0), torch.ones(16), atol=1e-5, rtol=0)


def test_weight_norm_init_needs_a_weight_normed_model_and_a_batch():
    with pytest.raises(ValueError, match="no weight-normed"):
        models.weight_norm_init(models.mlp(depth=1, width=4, in_dim=3), torch.randn(5, 3))
    with pytest.raises(ValueError, match="at least 2"):
        models.weight_norm_init(models.mlp(depth=1, width=4, in_dim=3, norm="weight"), torch.randn(1, 3))


def test_initial_weight_norm_model_asks_for_its_data():
    with pytest.raises(ValueError, match="first training batch"):
        experiments.initial_model({"kind": "mlp", "depth": 1, "width": 4, "norm": "weight"})
