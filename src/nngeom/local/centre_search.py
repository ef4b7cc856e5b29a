"""Noisy centre search (Metric as Transform, sec. 3.3, Fig. 20).

A local layer with N centres is improved without (or with little) backpropagation by repeating:

1. add ``n_search`` random training samples as new centres (values from ``new_values``, by default the
   one-hot targets of the samples);
2. optionally fine-tune the layer (and head) for ``fine_tune_steps`` Adam steps;
3. score every centre by the loss the network would have without it and remove the ``n_search`` centres
   whose removal raises the loss least, back to N centres.

Removing centre i of a softmax-normalised layer renormalises the others, so the outputs without each centre
have the closed form of ``DictionaryLayer.outputs_without_each``: one forward pass scores all centres.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn
from tqdm.std import tqdm  # text bars: tqdm.auto warns in kernels without ipywidgets

from ..book.budget import loop
from .dictionary import DictionaryLayer

__all__ = ["noisy_centre_search", "one_hot_values", "removal_losses", "SearchHistory"]


@dataclass
class SearchHistory:
    """Per-round training loss (on the scoring samples) and test accuracy; entry 0 is before any search."""

    loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"loss": list(self.loss), "test_accuracy": list(self.test_accuracy)}


def one_hot_values(n_classes: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``new_values`` for a dictionary classifier: the one-hot targets of the added samples."""
    return lambda x, y: nn.functional.one_hot(y, n_classes).float()


@torch.no_grad()
def removal_losses(layer: DictionaryLayer, head: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N,) mean cross-entropy of ``head(layer(x))`` with each centre removed in turn."""
    without = layer.outputs_without_each(x)                       # (B, N, out)
    b, n, out = without.shape
    logits = head(without.reshape(b * n, out)).reshape(b, n, -1)
    ce = nn.functional.cross_entropy(logits.permute(0, 2, 1), y[:, None].expand(b, n), reduction="none")
    return ce.mean(dim=0)


def _loss_acc(layer, head, x, y) -> tuple[float, float]:
    with torch.no_grad():
        logits = head(layer(x))
    return nn.functional.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def noisy_centre_search(layer: DictionaryLayer, x: torch.Tensor, y: torch.Tensor, *, n_search: int, rounds: int,
                        head: nn.Module | None = None,
                        new_values: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                        n_classes: int | None = None, fine_tune_steps: int = 0, lr: float = 1e-3,
                        batch_size: int = 128, score_samples: int = 2000,
                        test: tuple[torch.Tensor, torch.Tensor] | None = None, seed: int = 0,
                        progress: bool = True, add_prune: bool = True) -> SearchHistory:
    """Run the search in place on ``layer`` (and ``head``); returns the per-round history.

    ``x`` is flattened; ``score_samples`` random training samples score the centres each round.
    ``add_prune=False`` is the search's control: the same rounds, random draws and fine-tuning batches, with no
    unit added or removed (so any difference from the search is the add / prune itself).
    """
    if not isinstance(layer, DictionaryLayer):
        raise TypeError("layer must be a nngeom.local.dictionary.DictionaryLayer")
    if n_search < 1 or rounds < 0:
        raise ValueError(f"need n_search >= 1 and rounds >= 0, got {n_search}, {rounds}")
    if n_search > len(x):
        raise ValueError(f"n_search ({n_search}) exceeds the number of samples ({len(x)})")
    if new_values is None:
        if n_classes is None:
            raise ValueError("give new_values or n_classes (one-hot values)")
        new_values = one_hot_values(n_classes)
    head = head if head is not None else nn.Identity()
    dev = layer.centres.device
    x = x.reshape(len(x), -1)
    g = torch.Generator().manual_seed(int(seed))
    history = SearchHistory()
    keep_n = layer.n_centres

    def record():
        layer.eval()
        head.eval()
        idx = torch.randperm(len(x), generator=g)[:score_samples]
        loss, _ = _loss_acc(layer, head, x[idx].to(dev), y[idx].to(dev))
        history.loss.append(loss)
        if test is not None:
            xt, yt = test[0].reshape(len(test[0]), -1), test[1]
            accs = [_loss_acc(layer, head, xt[i:i + 2000].to(dev), yt[i:i + 2000].to(dev))[1] * len(xt[i:i + 2000])
                    for i in range(0, len(xt), 2000)]
            history.test_accuracy.append(sum(accs) / len(xt))

    record()
    for _ in loop(tqdm(range(rounds), desc="centre search", disable=not progress, leave=False),
                  "centre search.rounds", total=rounds):
        pick = torch.randperm(len(x), generator=g)[:n_search]
        xs, ys = x[pick].to(dev), y[pick].to(dev)
        if add_prune:
            layer.set_centres(torch.cat([layer.centres.detach(), xs]),
                              torch.cat([layer.values.detach(), new_values(xs, ys).to(dev)]))
        if fine_tune_steps > 0:
            layer.train()
            head.train()
            params = list(layer.parameters()) + list(head.parameters())
            opt = torch.optim.Adam(params, lr=lr)
            for _ in loop(range(fine_tune_steps), "centre search.fine-tune steps"):
                idx = torch.randint(len(x), (batch_size,), generator=g)
                loss = nn.functional.cross_entropy(head(layer(x[idx].to(dev))), y[idx].to(dev))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        layer.eval()
        head.eval()
        idx = torch.randperm(len(x), generator=g)[:score_samples]
        if add_prune:
            losses = removal_losses(layer, head, x[idx].to(dev), y[idx].to(dev))
            keep = torch.sort(torch.argsort(losses, descending=True)[:keep_n]).values
            layer.set_centres(layer.centres.detach()[keep], layer.values.detach()[keep])
        record()
    return history
