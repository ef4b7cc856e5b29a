"""Training the networks of *Study on Activation Patterns* once, shared by every notebook of the document.

* ``train_model(arch, data, fit, seed)``: builds ``models.build(arch)`` with ``seed`` and trains it with
  `nngeom.train.fit_classifier` on seeded CIFAR-10 subsets, cached through ``nngeom.cached`` (the call is built
  from its key), so that every notebook shares the same weights whatever the order in which they run.
* ``initial_model(arch, seed, data, fit)`` rebuilds the untrained network (same seed, same weights); a WeightNorm
  network (norm 'weight') then gets its data-dependent initialisation on the first training batch
  (`models.weight_norm_init`, the first ``fit['batch_size']`` images of the training subset).
"""
from __future__ import annotations

import torch
from torch import nn

from ..book.cache import cached
from ..book.runtime import seed_everything
from ..data import load_subset
from ..train import fit_classifier
from .models import build, weight_norm_init

__all__ = ["initial_model", "load_data", "train_model", "trained_state"]


def initial_model(arch: dict, seed: int = 0, data: dict | None = None, fit: dict | None = None) -> nn.Module:
    """The untrained network that ``train_model(arch, data, fit, seed)`` starts from (WeightNorm needs ``data``)."""
    seed_everything(seed)
    model = build(arch)
    if arch.get("norm") == "weight":
        if data is None:
            raise ValueError("a WeightNorm network is initialised on its first training batch: pass data (and fit)")
        (x, _), _ = load_data(data)
        weight_norm_init(model, x[:(fit or {}).get("batch_size", 64)])
    return model


def load_data(data: dict) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Stratified, seeded CIFAR-10 subsets: data = {'n_train', 'n_test', 'seed', 'normalize'}."""
    normalize = data.get("normalize", "standard")
    train = load_subset("cifar10", "train", data["n_train"], seed=data.get("seed", 0), normalize=normalize)
    test = load_subset("cifar10", "test", data["n_test"], seed=data.get("seed", 0), normalize=normalize)
    return train, test


def trained_state(arch: dict, data: dict, fit: dict, seed: int = 0) -> dict:
    """Train ``build(arch)`` from `initial_model` and return its state dict and history (what the cache stores)."""
    train, test = load_data(data)
    model = initial_model(arch, seed, data, fit)
    history = fit_classifier(model, train, test, seed=seed, **fit)
    return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "history": history.as_dict()}


def train_model(arch: dict, data: dict, fit: dict, seed: int = 0) -> tuple[nn.Module, dict]:
    """Train ``build(arch)`` on CIFAR-10 (``data``) with ``fit_classifier(**fit)``; cached.

    Returns the trained model (CPU, eval mode) and its history {'loss': [...], 'test_accuracy': [...]}.
    """
    stored = cached("patterns-model", trained_state, arch=arch, data=data, fit=fit, seed=seed)
    model = build(arch)
    model.load_state_dict(stored["state"])
    return model.eval(), stored["history"]
