"""Supervised training loops shared by the notebooks.

``fit_classifier`` trains a model with cross-entropy and reports the test
accuracy after every epoch (the documents report the *best* test accuracy over
epochs, e.g. Metric as Transform Table 1). ``accuracy`` and ``predict`` evaluate
in batches on the model's device.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn
from tqdm.std import tqdm  # text bars: tqdm.auto warns in kernels without ipywidgets

from .book.budget import loop
from .book.runtime import device as default_device


@dataclass
class History:
    """Per-epoch training loss and test accuracy; ``best`` is the maximum test accuracy."""

    loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return max(self.test_accuracy) if self.test_accuracy else float("nan")

    def as_dict(self) -> dict:
        return {"loss": list(self.loss), "test_accuracy": list(self.test_accuracy)}


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Model outputs for ``x`` computed in batches on the model's device, returned on the CPU."""
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    outs = [model(x[i:i + batch_size].to(dev)).cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(outs)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> float:
    """Fraction of ``x`` whose arg-max output equals ``y``."""
    return (predict(model, x, batch_size).argmax(1) == y).float().mean().item()


def fit_classifier(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
                   test: tuple[torch.Tensor, torch.Tensor] | None = None, *, epochs: int = 1,
                   batch_size: int = 64, lr: float = 1e-3, optimizer: str = "adam", momentum: float = 0.9,
                   weight_decay: float = 0.0, schedule: str | None = None, seed: int = 0,
                   penalty: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                   augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
                   param_groups: list[dict] | None = None, device: torch.device | None = None,
                   progress: bool = False) -> History:
    """Train with cross-entropy (+ ``penalty(model, x, logits)``) and test after each epoch.

    ``optimizer``: 'adam' or 'sgd'; ``schedule``: None or 'cosine' (per step, over all epochs).
    ``param_groups`` overrides the parameter list (for per-group learning rates).
    """
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0 (got {epochs}, {batch_size}, {lr})")
    dev = device or default_device()
    model.to(dev)
    groups = param_groups or [{"params": [p for p in model.parameters() if p.requires_grad]}]
    if optimizer == "adam":
        opt = torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}: choose 'adam' or 'sgd'")
    x_train, y_train = train
    steps_per_epoch = (len(x_train) + batch_size - 1) // batch_size
    sched = None
    if schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    elif schedule is not None:
        raise ValueError(f"unknown schedule {schedule!r}: choose None or 'cosine'")
    generator = torch.Generator().manual_seed(int(seed))
    history = History()
    loss_fn = nn.CrossEntropyLoss()
    bar = tqdm(range(epochs), desc=type(model).__name__, disable=not progress, leave=False)
    for _ in loop(bar, "fit_classifier.epochs", total=epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total, count = 0.0, 0
        for start in loop(range(0, len(order), batch_size), "fit_classifier.batches"):
            index = order[start:start + batch_size]
            xb, yb = x_train[index].to(dev), y_train[index].to(dev)
            if augment is not None:
                xb = augment(xb)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            if penalty is not None:
                loss = loss + penalty(model, xb, logits)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += loss.item() * len(index)
            count += len(index)
        history.loss.append(total / max(count, 1))
        if test is not None:
            history.test_accuracy.append(accuracy(model, *test))
            bar.set_postfix(loss=f"{history.loss[-1]:.3f}", acc=f"{history.test_accuracy[-1]:.3f}")
    return history
