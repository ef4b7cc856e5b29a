"""Rejection metrics of the epsilon neuron and the epsilon sweep (Metric as Transform, sec. 3.2, Fig. 15-16).

An input is *rejected* when the epsilon neuron fires the most, i.e. when ``epsilon < min_i (d_i + b_i)``
(ties go to the centres, as with ``argmax``).
For clean inputs ``x`` with labels ``y`` and adversarial examples ``x_adv`` made from them:

* x-rejected: fraction of clean inputs rejected;
* rejected: fraction of adversarial examples rejected;
* failed: fraction of adversarial examples that fool the model (prediction != y) and are not rejected;
* measure = x-rejected + failed (to minimise).

With the epsilon neuron's output vector zero (``DictionaryMLP``), the prediction does not depend on epsilon:
``y = (1 - a_eps) softmax(-d / tau) . V`` only rescales the logits. So once the distances and predictions of
clean and adversarial inputs are known, the metrics at any number of epsilons cost one comparison each:
``sweep`` evaluates the model once and never re-runs the attack (which was made at the model's own epsilon).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["best", "evaluate", "Evaluation", "METRICS", "metrics_at", "naive_sweep", "rejection_metrics", "sweep"]

METRICS = ("x_rejected", "rejected", "failed", "measure")


def rejection_metrics(x_rejected: torch.Tensor, adv_rejected: torch.Tensor, adv_wrong: torch.Tensor) -> dict:
    """The four metrics from boolean masks: clean rejected (B,), adversarial rejected (B_adv,), adversarial
    misclassified (B_adv,)."""
    for name, t in (("x_rejected", x_rejected), ("adv_rejected", adv_rejected), ("adv_wrong", adv_wrong)):
        if not isinstance(t, torch.Tensor) or t.dtype != torch.bool:
            raise TypeError(f"{name} must be a boolean tensor")
    if adv_rejected.shape != adv_wrong.shape:
        raise ValueError("adv_rejected and adv_wrong must have the same shape")
    xr = x_rejected.float().mean().item()
    failed = (adv_wrong & ~adv_rejected).float().mean().item()
    return {"x_rejected": xr, "rejected": adv_rejected.float().mean().item(), "failed": failed,
            "measure": xr + failed}


@dataclass
class Evaluation:
    """What the sweep needs from one model evaluation: effective min distances and predictions."""

    clean_min: torch.Tensor   # (B,) min_i (d_i + b_i) for clean inputs
    adv_min: torch.Tensor     # (B_adv,) the same for adversarial examples
    adv_wrong: torch.Tensor   # (B_adv,) bool: prediction on x_adv != y
    clean_wrong: torch.Tensor  # (B,) bool: prediction on x != y


@torch.no_grad()
def evaluate(model, x: torch.Tensor, x_adv: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> Evaluation:
    """One pass of a ``DictionaryLayer`` model over clean and adversarial inputs (distances and predictions)."""
    if len(x) != len(y) or len(x_adv) != len(y):
        raise ValueError(f"x, x_adv and y must have the same length ({len(x)}, {len(x_adv)}, {len(y)})")
    was = model.training
    model.eval()
    dev = next(model.parameters()).device

    def run(inputs):
        mins, preds = [], []
        for i in range(0, len(inputs), batch_size):
            xb = inputs[i:i + batch_size].to(dev)
            d = model.distances(xb)
            preds.append(model.combine(model.norm(d), xb).argmax(1).cpu())
            if model.norm.bias is not None:
                d = d + model.norm.bias
            mins.append(d.min(dim=1).values.cpu())
        return torch.cat(mins), torch.cat(preds)

    cmin, cpred = run(x)
    amin, apred = run(x_adv)
    model.train(was)
    y = y.cpu()
    return Evaluation(cmin, amin, apred != y, cpred != y)


def metrics_at(ev: Evaluation, epsilon: float) -> dict:
    """The four metrics at one epsilon."""
    return rejection_metrics(ev.clean_min > epsilon, ev.adv_min > epsilon, ev.adv_wrong)


def sweep(ev: Evaluation, epsilons) -> dict[str, np.ndarray]:
    """Metrics at every epsilon of ``epsilons`` (vectorised; no model call): dict of arrays + 'epsilon'."""
    eps = torch.as_tensor(np.asarray(epsilons, dtype=np.float64), dtype=ev.clean_min.dtype)
    if eps.dim() != 1 or len(eps) == 0:
        raise ValueError("epsilons must be a non-empty 1-D sequence")
    clean_rej = ev.clean_min[None, :] > eps[:, None]
    adv_rej = ev.adv_min[None, :] > eps[:, None]
    xr = clean_rej.float().mean(1)
    failed = (ev.adv_wrong[None, :] & ~adv_rej).float().mean(1)
    return {"epsilon": eps.numpy().astype(float), "x_rejected": xr.numpy(), "rejected": adv_rej.float().mean(1).numpy(),
            "failed": failed.numpy(), "measure": (xr + failed).numpy()}


def best(result: dict[str, np.ndarray]) -> dict:
    """The row of a sweep with the lowest measure (first one on ties)."""
    i = int(np.argmin(result["measure"]))
    return {k: float(v[i]) for k, v in result.items()}


def naive_sweep(model, x: torch.Tensor, x_adv: torch.Tensor, y: torch.Tensor, epsilons) -> dict[str, np.ndarray]:
    """Reference: set the model's epsilon and evaluate it again for every epsilon (for tests / benchmarks)."""
    old = model.norm.epsilon.clone()
    rows: dict[str, list[float]] = {k: [] for k in METRICS}
    for e in epsilons:
        model.norm.epsilon.fill_(float(e))
        with torch.no_grad():
            a_c, a_a = model.activations(x), model.activations(x_adv)
            pred = model.combine(a_a, x_adv).argmax(1)
        last = a_c.shape[1] - 1
        m = rejection_metrics(a_c.argmax(1) == last, a_a.argmax(1) == last, pred.cpu() != y.cpu())
        for k in METRICS:
            rows[k].append(m[k])
    model.norm.epsilon.copy_(old)
    return {"epsilon": np.asarray(epsilons, dtype=float), **{k: np.asarray(v) for k, v in rows.items()}}
