"""Shortest paths between images in activation-pattern space (*Study on Activation Patterns*, sec. 5).

``conditional_geodesic`` is the document's Algorithm 1 (after Henaff & Simoncelli): a path
gamma = (x_0, ..., x_N), initialised on the straight line, whose inner points minimise the image-space energy
    E[gamma] = sum_i ||x_{i+1} - x_i||_2^2                                   (eq. 44)
conditioned on minimising the representation energy
    E[f(gamma)] = sum_i sum_layers w_l ||f_l(x_{i+1}) - f_l(x_i)||_2^2      (eq. 45):
each iteration steps along grad E[gamma] with its component along grad E[f(gamma)] removed, then
re-minimises E[f(gamma)]. ``midpoint`` solves the sub-problem (47)-(48) with the objectives of eq. (49)
(Algorithm 1: all units) and eq. (50) (Algorithm 2: only units whose pattern differs from the end point's),
each with the l1 or l2 norm. ``reach_pattern`` is Algorithm 3 (sec. 5.2.3, "work in progress"): search an
input whose pattern equals a chosen in-between pattern, by minimising the hinge
    sum_i relu(margin - s_i h_i(z)),   s_i = 2 target_i - 1,  h the pre-activations.
``path_hamming`` gives d_H between consecutive images and the cumulative sum.
The searches run the caller's model in eval mode with its parameters frozen, and restore its training mode and
``requires_grad`` flags when they return or raise.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from ..book.budget import loop
from .recording import activation_modules

__all__ = ["activations", "conditional_geodesic", "midpoint", "path_hamming", "patterns_of", "preactivations",
           "reach_pattern"]


@contextmanager
def _frozen(model: nn.Module):
    """Eval mode and no parameter gradients for the duration of a search; the caller's state is restored after."""
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    model.eval()
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        for m, mode in modes:
            m.training = mode


def _hooked(model: nn.Module, x: torch.Tensor, layers: list[str] | None, take) -> dict[str, torch.Tensor]:
    """Run ``model(x)`` and keep ``take(inputs, output)`` of the chosen activation modules, flattened."""
    modules = activation_modules(model)
    chosen = list(modules) if layers is None else layers
    unknown = set(chosen) - set(modules)
    if unknown:
        raise ValueError(f"unknown layers {sorted(unknown)}: the model has {list(modules)}")
    found: dict[str, torch.Tensor] = {}
    handles = [modules[n].register_forward_hook(
        lambda _m, inp, out, n=n: found.__setitem__(n, take(inp, out).flatten(1))) for n in chosen]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {n: found[n] for n in chosen}


def activations(model: nn.Module, x: torch.Tensor, layers: list[str] | None = None) -> dict[str, torch.Tensor]:
    """f_l(x) of the chosen activation layers ('layer1', ...), flattened, differentiable."""
    return _hooked(model, x, layers, lambda inp, out: out)


def preactivations(model: nn.Module, x: torch.Tensor, layers: list[str] | None = None) -> dict[str, torch.Tensor]:
    """Inputs h_l(x) of the chosen activation modules (the pre-activations), flattened, differentiable."""
    return _hooked(model, x, layers, lambda inp, out: inp[0])


def reach_pattern(model: nn.Module, target: np.ndarray, init: torch.Tensor, layers: list[str] | None = None,
                  steps: int = 200, lr: float = 1e-2, margin: float = 1e-2) -> torch.Tensor:
    """Algorithm 3 (sec. 5.2.3): an input near ``init`` whose pattern on ``layers`` should equal ``target``.

    ``target``: 0-1 vector over the concatenated units of ``layers`` (as ``patterns_of`` returns them).
    Minimises sum_i relu(margin - s_i h_i(z)) with Adam; returns z (it may not reach the pattern).
    """
    signs = torch.as_tensor(np.asarray(target), dtype=torch.float32).reshape(-1) * 2 - 1
    z = init.clone()[None].requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    with _frozen(model):
        for _ in loop(range(steps), "geodesic.steps"):
            h = torch.cat(list(preactivations(model, z, layers).values()), 1)[0]
            if h.numel() != signs.numel():
                raise ValueError(f"target has {signs.numel()} units, the chosen layers have {h.numel()}")
            loss = torch.relu(margin - signs * h).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return z.detach()[0]


def _energy_f(model, path, layers, weights):
    feats = activations(model, path, layers)
    return sum(weights[n] * (f[1:] - f[:-1]).pow(2).sum() for n, f in feats.items())


def conditional_geodesic(model: nn.Module, x0: torch.Tensor, x1: torch.Tensor, n_steps: int = 10,
                         layers: list[str] | None = None, iterations: int = 50, step: float = 0.1,
                         inner_steps: int = 20, inner_lr: float = 1e-2) -> dict:
    """Algorithm 1 of sec. 5.1. Returns {'path': (N+1, ...), 'energy_image', 'energy_f'} (final values).

    Layers are weighted by 1 / (number of units) so that a wide layer does not dominate (sec. 5.1 note).
    """
    if n_steps < 2 or iterations < 0 or inner_steps < 0:
        raise ValueError("need n_steps >= 2 and non-negative iteration counts")
    if x0.shape != x1.shape:
        raise ValueError(f"end points differ in shape: {tuple(x0.shape)} vs {tuple(x1.shape)}")
    with _frozen(model):
        return _conditional_geodesic(model, x0, x1, n_steps, layers, iterations, step, inner_steps, inner_lr)


def _conditional_geodesic(model, x0, x1, n_steps, layers, iterations, step, inner_steps, inner_lr) -> dict:
    t = torch.linspace(0, 1, n_steps + 1).reshape(-1, *([1] * x0.ndim))
    line = (1 - t) * x0 + t * x1
    inner = line[1:-1].clone().requires_grad_(True)
    with torch.no_grad():
        sizes = {n: f.shape[1] for n, f in activations(model, x0[None], layers).items()}
    weights = {n: 1.0 / s for n, s in sizes.items()}

    def full():
        return torch.cat([x0[None], inner, x1[None]])

    def minimise_f():
        opt = torch.optim.Adam([inner], lr=inner_lr)
        for _ in loop(range(inner_steps), "geodesic midpoint.inner steps"):
            opt.zero_grad()
            _energy_f(model, full(), layers, weights).backward()
            opt.step()

    minimise_f()
    for _ in loop(range(iterations), "geodesic midpoint.iterations"):
        path = full()
        d_r = torch.autograd.grad(_energy_f(model, path, layers, weights), inner)[0]
        d_p = torch.autograd.grad((path[1:] - path[:-1]).pow(2).sum(), inner)[0]
        d_hat = d_p - (d_r * d_p).sum() / d_r.pow(2).sum().clamp_min(1e-30) * d_r
        with torch.no_grad():
            inner -= step * d_hat
        minimise_f()
    with torch.no_grad():
        path = full()
        energy_image = float((path[1:] - path[:-1]).pow(2).sum())
        energy_f = float(_energy_f(model, path, layers, weights))
    return {"path": path.detach(), "energy_image": energy_image, "energy_f": energy_f}


def midpoint(model: nn.Module, x0: torch.Tensor, x1: torch.Tensor, algorithm: int = 1, norm: str = "l1",
             layers: list[str] | None = None, steps: int = 200, lr: float = 1e-2) -> torch.Tensor:
    """A point z with d_H(x0, z) + d_H(z, x1) close to d_H(x0, x1), halfway (eq. 47-50).

    algorithm 1: min_z sum_l ||f_l(z) - f_l(x0)|| + ||f_l(x1) - f_l(z)||   (eq. 49)
    algorithm 2: the same with each term masked by |a_l(z) - a_l(x_k)|     (eq. 50; mask held constant)
    ``norm`` 'l1' (sum of absolute values) or 'l2' (sum of squares), as in sec. 5.2.
    """
    if algorithm not in (1, 2):
        raise ValueError(f"algorithm must be 1 or 2, got {algorithm!r}")
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    with _frozen(model):
        return _midpoint(model, x0, x1, algorithm, norm, layers, steps, lr)


def _midpoint(model, x0, x1, algorithm, norm, layers, steps, lr) -> torch.Tensor:
    with torch.no_grad():
        f0 = activations(model, x0[None], layers)
        f1 = activations(model, x1[None], layers)
    z = ((x0 + x1) / 2).clone()[None].requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    power = 1 if norm == "l1" else 2
    for _ in loop(range(steps), "geodesic path.steps"):
        fz = activations(model, z, layers)
        loss = z.new_zeros(())
        for n, f in fz.items():
            d0, d1 = (f - f0[n]).abs(), (f1[n] - f).abs()
            if algorithm == 2:
                d0 = d0 * ((f > 0) != (f0[n] > 0)).float()
                d1 = d1 * ((f > 0) != (f1[n] > 0)).float()
            loss = loss + d0.pow(power).sum() + d1.pow(power).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return z.detach()[0]


@torch.no_grad()
def patterns_of(model: nn.Module, x: torch.Tensor, layers: list[str] | None = None) -> np.ndarray:
    """Concatenated 0-1 patterns (N, units) of the chosen layers."""
    feats = activations(model, x, layers)
    return torch.cat([(f > 0) for f in feats.values()], 1).cpu().numpy()


def path_hamming(model: nn.Module, path: torch.Tensor, layers: list[str] | None = None) -> dict:
    """d_H of consecutive images of a path, their sum ('cumulative') and d_H of the end points ('direct')."""
    bits = patterns_of(model, path, layers)
    steps = (bits[1:] != bits[:-1]).sum(1)
    return {"steps": steps, "cumulative": int(steps.sum()), "direct": int((bits[0] != bits[-1]).sum())}
