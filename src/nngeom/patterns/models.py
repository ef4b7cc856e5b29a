"""Networks of *Study on Activation Patterns* (sec. 2-6); `experiments` trains and caches them.

* ``mlp(depth, width, norm, activation, init)``: fully connected ReLU network on flattened CIFAR-10
  images, as an ``nn.Sequential`` (Flatten, then [Linear, norm?, activation] x depth, Linear to the classes),
  so that activation patterns (``recording``) and exact local linear maps (``linear_maps``) can walk it.
  ``norm`` in {None, 'batch', 'layer', 'weight'} (sec. 3: BatchNorm, LayerNorm, WeightNorm
  W = g V / ||V||); ``activation`` 'relu' or 'selu' (eq. 9); ``init`` 'default' (PyTorch:
  W, b ~ U(-1/sqrt(n_in), 1/sqrt(n_in)), eq. 10-11), 'xavier' (Var W = 2 / (n_in + n_out), sec. 3) or
  'lecun' (Var W = 1 / n_in, bias 0: the SELU initialisation).
* ``convnet(channels)``: the "AlexNet for cifar10" of sec. 5 (3 convolutions with ReLU and max pooling,
  one linear layer).
* ``build(arch)``: either network from a plain-JSON description (the cache key of `experiments.train_model`).
* ``weight_norm_init(model, x)``: the data-dependent initialisation of WeightNorm (Salimans & Kingma 2016,
  sec. 3; the document's "special initialization on the first batch of data"): layer by layer on the batch ``x``,
  with t = v.x / ||v||, set g = 1 / std(t) and b = -mean(t) / std(t), so that every pre-activation starts with
  zero mean and unit variance over the batch.
* ``Standardize`` / ``cifar_standardizer()``: the per-channel standardisation as a layer, so a model trained on
  standardised images takes [0, 1] images.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..data import channel_statistics

__all__ = ["ACTIVATIONS", "build", "cifar_standardizer", "convnet", "INITS", "mlp", "NORMS", "Standardize",
           "weight_norm_init"]

NORMS = (None, "batch", "layer", "weight")
ACTIVATIONS = ("relu", "selu")
INITS = ("default", "xavier", "lecun")


def _init_linear(layer: nn.Linear, init: str) -> None:
    if init == "xavier":
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    elif init == "lecun":
        nn.init.normal_(layer.weight, std=1.0 / math.sqrt(layer.in_features))
        nn.init.zeros_(layer.bias)
    elif init != "default":
        raise ValueError(f"unknown init {init!r}: choose one of {INITS}")


def mlp(depth: int = 3, width: int = 256, *, in_dim: int = 3 * 32 * 32, n_classes: int = 10,
        norm: str | None = None, activation: str = "relu", init: str = "default") -> nn.Sequential:
    """Flatten -> depth x [Linear(width), norm, activation] -> Linear(n_classes)."""
    for name, value in (("depth", depth), ("width", width)):
        if not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be positive ints, got {depth!r}, {width!r}")
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}: choose one of {NORMS}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: choose one of {ACTIVATIONS}")
    layers: list[nn.Module] = [nn.Flatten()]
    previous = in_dim
    for _ in range(depth):
        linear = nn.Linear(previous, width)
        _init_linear(linear, init)
        if norm == "weight":
            linear = nn.utils.parametrizations.weight_norm(linear)
        layers.append(linear)
        if norm == "batch":
            layers.append(nn.BatchNorm1d(width))
        elif norm == "layer":
            layers.append(nn.LayerNorm(width))
        layers.append(nn.ReLU() if activation == "relu" else nn.SELU())
        previous = width
    head = nn.Linear(previous, n_classes)
    _init_linear(head, init)
    layers.append(head)
    return nn.Sequential(*layers)


def convnet(channels: tuple[int, ...] | list[int] = (32, 64, 128), *, n_classes: int = 10,
            image_size: int = 32) -> nn.Sequential:
    """AlexNet-style CIFAR-10 convnet of sec. 5: [Conv3x3, ReLU, MaxPool2] x 3 -> Linear."""
    if len(channels) < 1 or any(int(c) < 1 for c in channels):
        raise ValueError(f"channels must be positive ints, got {channels!r}")
    layers: list[nn.Module] = []
    previous, size = 3, image_size
    for c in channels:
        layers += [nn.Conv2d(previous, int(c), 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        previous, size = int(c), size // 2
    layers += [nn.Flatten(), nn.Linear(previous * size * size, n_classes)]
    return nn.Sequential(*layers)


def build(arch: dict) -> nn.Module:
    """Network from a plain dict: {'kind': 'mlp', depth, width, norm, activation, init} or
    {'kind': 'convnet', 'channels': [...]}."""
    if not isinstance(arch, dict):
        raise TypeError(f"arch must be a dict with a 'kind' key ('mlp' or 'convnet'), got {type(arch).__name__}")
    if "kind" not in arch:
        raise ValueError(f"arch must have a 'kind' key ('mlp' or 'convnet'), got keys {sorted(arch)}")
    options = {k: v for k, v in arch.items() if k != "kind"}
    if arch["kind"] == "mlp":
        return mlp(**options)
    if arch["kind"] == "convnet":
        return convnet(**options)
    raise ValueError(f"unknown kind {arch['kind']!r}: choose 'mlp' or 'convnet'")


@torch.no_grad()
def weight_norm_init(model: nn.Module, x: torch.Tensor, eps: float = 1e-8) -> nn.Module:
    """Salimans & Kingma's data-dependent initialisation of every weight-normed Linear of ``model``, on batch ``x``."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential (an mlp), got {type(model).__name__}")
    if not isinstance(x, torch.Tensor) or len(x) < 2:
        raise ValueError("x must be a batch of at least 2 inputs (the initialisation uses its mean and std)")
    found = False
    h = x
    for layer in model:
        parametrized = getattr(layer, "parametrizations", None)
        if isinstance(layer, nn.Linear) and parametrized is not None and "weight" in parametrized:
            found = True
            v = parametrized.weight.original1                        # direction V; original0 is g
            t = h @ (v / v.norm(dim=1, keepdim=True)).T                # (B, out): v.x / ||v||
            mean, std = t.mean(0), t.std(0).clamp_min(eps)
            parametrized.weight.original0.copy_((1.0 / std)[:, None])
            layer.bias.copy_(-mean / std)
        h = layer(h)
    if not found:
        raise ValueError("model has no weight-normed Linear layer (build it with norm='weight')")
    return model


class Standardize(nn.Module):
    """(x - mean) / std per channel: lets a model trained on standardised images take [0, 1] images
    (attacks with bounds (0, 1))."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.as_tensor(std).reshape(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"channels={self.mean.numel()}"


def cifar_standardizer() -> Standardize:
    """The per-channel statistics of the CIFAR-10 training set that ``normalize='standard'`` uses."""
    mean, std = channel_statistics("cifar10")
    return Standardize(mean, std)
