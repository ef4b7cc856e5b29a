"""The opt-in arithmetic of `nngeom.book.precision`: off by default, live when set, keyed, distances in float32."""
import math

import pytest
import torch
from torch import nn

from nngeom.book import cache, environment, precision
from nngeom.metric.distances import LpDistance, pairwise_distance
from nngeom.train import accuracy, fit_classifier


def blobs(n=600, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 20, generator=g) + 2.0 * nn.functional.one_hot(y, 20)[:, :20].float()
    return x, y


def train(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    x, y = blobs()
    fit_classifier(model, (x, y), epochs=3, batch_size=50, lr=1e-2, seed=seed)
    return model, accuracy(model, x, y)


def test_default_arithmetic_is_float32_and_leaves_keys_alone(monkeypatch):
    monkeypatch.delenv("NNGEOM_PRECISION", raising=False)
    monkeypatch.delenv("NNGEOM_COMPILE", raising=False)
    assert precision.mode() == {}
    default_key = cache.key_hash("m", train, {"a": 1})
    model = nn.Linear(2, 2)
    assert precision.compiled_forward(model) is model
    monkeypatch.setenv("NNGEOM_PRECISION", "bf16")
    assert precision.mode() == {"precision": "bf16"}
    assert cache.key_hash("m", train, {"a": 1}) != default_key  # a bf16 model never answers a float32 call
    monkeypatch.setenv("NNGEOM_PRECISION", "float32")
    assert cache.key_hash("m", train, {"a": 1}) == default_key


def test_bf16_training_is_live_close_and_keeps_float32_parameters(monkeypatch):
    monkeypatch.delenv("NNGEOM_PRECISION", raising=False)
    ref, ref_acc = train()
    monkeypatch.setenv("NNGEOM_PRECISION", "bf16")
    low, low_acc = train()
    weights = [(a.detach(), b.detach()) for a, b in zip(ref.parameters(), low.parameters())]
    assert all(b.dtype == torch.float32 for _, b in weights)
    change = max(float((a - b).abs().max() / a.abs().max()) for a, b in weights)
    # Live: three epochs of bfloat16 products (relative rounding 2^-9) move the weights well beyond float32
    # rounding (1e-6); close: the training accuracies agree within three binomial standard errors of a difference.
    assert 1e-4 < change < 0.2
    p = (ref_acc + low_acc) / 2
    assert abs(ref_acc - low_acc) <= 3 * math.sqrt(2 * p * (1 - p) / 600), (ref_acc, low_acc)


def test_distance_layers_compute_in_float32_under_autocast():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 30, generator=g)
    centres = x[:16] + 1e-3 * torch.randn(16, 30, generator=g)  # near the inputs: where bf16 would cancel
    for p in (2.0, 1.0, 0.5):
        plain = pairwise_distance(x, centres, p)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = pairwise_distance(x, centres, p)
        assert mixed.dtype == torch.float32
        torch.testing.assert_close(mixed, plain)
    layer = LpDistance(30, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert layer(x).dtype == torch.float32


def test_compile_switch_wraps_the_forward(monkeypatch):
    monkeypatch.setenv("NNGEOM_COMPILE", "1")
    model = nn.Linear(2, 2)
    wrapped = precision.compiled_forward(model)
    assert wrapped is not model and wrapped.parameters().__next__() is model.weight  # shares the parameters
    assert precision.mode() == {"compile": "inductor"}
    assert environment.fingerprint()["compile"] == "inductor"


@pytest.mark.parametrize("name, value", [("NNGEOM_PRECISION", "fp16"), ("NNGEOM_COMPILE", "yes")])
def test_bad_arithmetic_settings_are_clear_errors(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        precision.mode()
