"""The one supervised training loop of the package, shared by the notebooks and the experiment modules.

``fit_classifier`` trains a model with mini-batch Adam or SGD, by default on the cross-entropy, and reports
the test accuracy after every epoch (the documents report the *best* test accuracy over epochs, e.g. Metric
as Transform Table 1). Its hooks cover the other trainings of the book: ``penalty`` adds a term to the
cross-entropy, ``loss`` replaces the objective altogether (the regularised losses of *Neural robustness*,
the mean squared error of a regression), ``epoch_start`` runs before every epoch (e.g. an eigenbasis over the
training set). ``accuracy`` and ``predict`` evaluate in batches on the model's device.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn
from tqdm.std import tqdm  # text bars: tqdm.auto warns in kernels without ipywidgets

from .book.budget import loop
from .book.precision import autocast, compiled_forward
from .book.runtime import device as default_device

__all__ = ["History", "Loss", "accuracy", "fit_classifier", "predict"]


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
    """Fraction of ``x`` whose arg-max output equals ``y`` (hits / len(y), exact in float64)."""
    if len(y) == 0:
        raise ValueError("accuracy needs at least one example")
    return int((predict(model, x, batch_size).argmax(1) == y.cpu()).sum()) / len(y)


Loss = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


def fit_classifier(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
                   test: tuple[torch.Tensor, torch.Tensor] | None = None, *, epochs: int = 1,
                   batch_size: int = 64, lr: float = 1e-3, optimizer: str = "adam", momentum: float = 0.9,
                   weight_decay: float = 0.0, schedule: str | None = None, seed: int = 0,
                   penalty: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                   loss: Loss | None = None, epoch_start: Callable[[], None] | None = None,
                   augment: Callable[[torch.Tensor], torch.Tensor] | None = None, shuffle: bool = True,
                   param_groups: list[dict] | None = None, device: torch.device | None = None,
                   eval_batch_size: int = 1024, name: str | None = None, progress: bool = False) -> History:
    """Train on ``train`` for ``epochs`` epochs of mini-batches; test on ``test`` after each epoch.

    The objective of a batch ``(x, y)`` is ``loss(model, x, y, generator)`` when given (``generator`` is the
    seeded generator that also shuffles the batches, for losses that draw random numbers), else the
    cross-entropy of ``model(x)`` plus ``penalty(model, x, logits)``. Only the trainable parameters receive
    gradients (a loss may differentiate through its inputs). ``epoch_start()`` runs before every epoch.
    ``optimizer``: 'adam' or 'sgd'; ``schedule``: None or 'cosine' (per step, over all epochs); ``shuffle``:
    False keeps the data order (full-batch regression); ``param_groups`` overrides the parameter list (for
    per-group learning rates). ``history.loss`` is the mean batch objective of every epoch. The opt-in
    ``NNGEOM_PRECISION=bf16`` and ``NNGEOM_COMPILE=1`` of `nngeom.book.precision` apply here and only here.
    """
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0 (got {epochs}, {batch_size}, {lr})")
    if loss is not None and penalty is not None:
        raise ValueError("give either loss (the whole objective) or penalty (added to the cross-entropy), not both")
    dev = device or default_device()
    model.to(dev)
    groups = param_groups or [{"params": [p for p in model.parameters() if p.requires_grad]}]
    params = [p for group in groups for p in group["params"]]
    opt: torch.optim.Optimizer
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
    cross_entropy = nn.CrossEntropyLoss()
    forward = compiled_forward(model)  # the model itself unless NNGEOM_COMPILE=1 (book.precision)

    def objective(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        if loss is not None:
            return loss(model, xb, yb, generator)
        logits = forward(xb)
        value = cross_entropy(logits, yb)
        return value + penalty(model, xb, logits) if penalty is not None else value

    label = name or type(model).__name__
    bar = tqdm(range(epochs), desc=label, disable=not progress, leave=False)
    for _ in loop(bar, "fit_classifier.epochs", total=epochs):
        if epoch_start is not None:
            epoch_start()
        model.train()
        order = torch.randperm(len(x_train), generator=generator) if shuffle else torch.arange(len(x_train))
        total, count = 0.0, 0
        for start in loop(range(0, len(order), batch_size), "fit_classifier.batches"):
            index = order[start:start + batch_size]
            xb, yb = x_train[index].to(dev), y_train[index].to(dev)
            if augment is not None:
                xb = augment(xb)
            with autocast(dev):  # bfloat16 products only under NNGEOM_PRECISION=bf16 (book.precision)
                value = objective(xb, yb)
            opt.zero_grad(set_to_none=True)
            value.backward(inputs=params)  # no gradient for inputs a loss differentiates through
            opt.step()
            if sched is not None:
                sched.step()
            total += value.item() * len(index)
            count += len(index)
        history.loss.append(total / max(count, 1))
        if test is not None:
            history.test_accuracy.append(accuracy(model, *test, batch_size=eval_batch_size))
            bar.set_postfix(loss=f"{history.loss[-1]:.3f}", acc=f"{history.test_accuracy[-1]:.3f}")
    return history
