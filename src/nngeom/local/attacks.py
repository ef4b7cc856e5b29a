"""Adversarial attacks for the rejection experiments (Metric as Transform, sec. 3.2, Fig. 15-18).

* ``foolbox_attack``: thin wrapper over foolbox 3 for the attacks the document uses (FGSM, FGM, L2PGD,
  LinfPGD, L1AdamPGD, L2AdamPGD, LinfAdamPGD, L2AdamBasicIterativeAttack) with chosen input ``bounds``
  (the document compares [-1, 1] with [-10, 10]); returns the clipped adversarial examples.
* ``normalised_gradient_attack``: the document's normalised attack ``x_adv = x + lr g / |g|_2`` with ``g`` the
  gradient of the cross-entropy loss with respect to the input (one step, optional clipping to bounds).

Here "strength" is the attack size (foolbox's ``epsilons``), not the epsilon neuron's threshold.
"""
from __future__ import annotations

import foolbox as fb
import torch
from torch import nn

from ..book.budget import loop
from ..gradients import input_gradient

__all__ = ["ATTACKS", "foolbox_attack", "normalised_gradient_attack"]

ATTACKS = {
    "FGSM": fb.attacks.FGSM,
    "FGM": fb.attacks.FGM,
    "L2PGD": fb.attacks.L2PGD,
    "LinfPGD": fb.attacks.LinfPGD,
    "L1AdamPGD": fb.attacks.L1AdamPGD,
    "L2AdamPGD": fb.attacks.L2AdamPGD,
    "LinfAdamPGD": fb.attacks.LinfAdamPGD,
    "L2AdamBasicIterativeAttack": fb.attacks.L2AdamBasicIterativeAttack,
}


def _check_bounds(bounds) -> tuple[float, float]:
    if isinstance(bounds, (str, bytes)):
        raise TypeError(f"bounds must be a pair of numbers, got {bounds!r}")
    try:
        items = tuple(bounds)
    except TypeError:
        raise TypeError(f"bounds must be a pair of numbers, got {bounds!r}") from None
    if len(items) != 2:
        raise ValueError(f"bounds must be a pair (low, high), got {len(items)} values: {bounds!r}")
    try:
        lo, hi = (float(b) for b in items)
    except (TypeError, ValueError):
        raise TypeError(f"bounds must be a pair of numbers, got {bounds!r}") from None
    if not lo < hi:
        raise ValueError(f"bounds must satisfy low < high, got {bounds!r}")
    return lo, hi


def foolbox_attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, name: str, strength: float,
                   bounds=(-1.0, 1.0), batch_size: int = 500, seed: int = 0, **options) -> torch.Tensor:
    """Adversarial examples of ``name`` at size ``strength`` inside ``bounds``; ``options`` go to the attack
    (e.g. ``steps``, ``rel_stepsize``, ``random_start``). Inputs outside the bounds raise ValueError.

    The random start of the PGD-type attacks draws from torch's global generator; it is seeded with ``seed``
    inside `torch.random.fork_rng`, so an attack's result depends on its arguments only, not on what drew
    random numbers before it, and the caller's random state is left as it was."""
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r}: choose one of {', '.join(ATTACKS)}")
    if not strength > 0:
        raise ValueError(f"attack strength must be > 0, got {strength}")
    lo, hi = _check_bounds(bounds)
    if x.min() < lo - 1e-6 or x.max() > hi + 1e-6:
        raise ValueError(f"inputs lie in [{x.min():.3g}, {x.max():.3g}], outside the bounds [{lo}, {hi}]")
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    fmodel = fb.PyTorchModel(model, bounds=(lo, hi), device=dev)
    attack = ATTACKS[name](**options)
    out = []
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        for i in loop(range(0, len(x), batch_size), f"attack {name}.batches"):
            xb, yb = x[i:i + batch_size].to(dev).clamp(lo, hi), y[i:i + batch_size].to(dev)
            _, clipped, _ = attack(fmodel, xb, yb, epsilons=float(strength))
            out.append(clipped.detach().cpu())
    model.train(was)
    return _complete(torch.cat(out), x.clamp(lo, hi))


def _complete(attacked: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """A dry run (`nngeom.book.budget`) attacks only the first batches: the rest stay clean, shapes stay whole."""
    if len(attacked) == len(clean):
        return attacked
    return torch.cat([attacked, clean[len(attacked):].to(attacked.dtype)])


def normalised_gradient_attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float,
                               bounds=None, batch_size: int = 1000) -> torch.Tensor:
    """``x + lr g / |g|_2`` per input (sec. 3.2, "normalizing attack magnitude"); clipped to ``bounds`` if given."""
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    out = []
    for i in loop(range(0, len(x), batch_size), "normalised gradient attack.batches"):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        g = input_gradient(model, xb, yb)
        norm = g.reshape(len(g), -1).norm(dim=1).clamp_min(1e-12).reshape(-1, *[1] * (g.dim() - 1))
        adv = xb.detach().cpu() + lr * g / norm
        if bounds is not None:
            lo, hi = _check_bounds(bounds)
            adv = adv.clamp(lo, hi)
        out.append(adv)
    return _complete(torch.cat(out), x.detach().cpu())
