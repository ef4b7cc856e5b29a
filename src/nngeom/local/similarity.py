"""Similarity normalisations that turn distances into local activations (Metric as Transform, sec. 3.1.1-3.1.3).

Given the distances ``d`` (B, N) between B inputs and N centres (keys):

* un-normalised (sec. 3.1.1, UMAP-like): ``s_i = exp(-(d_i - min_j d_j) / (sigma * tau))`` with ``sigma``
  the standard deviation of the distances over the centres (the authors' choice, ``tau = 0.5``);
* softmax (sec. 3.1.2): ``a_i = softmax_i(-d_i / tau)``;
* epsilon-softmax (sec. 3.1.3; *locally activating neurons*, sec. 3): one more "distance" ``epsilon`` is
  appended before the softmax, ``a = softmax([-d_1, ..., -d_N, -epsilon] / tau)``; the last column is the
  epsilon neuron. It fires the most exactly when ``epsilon < min_i d_i`` (the input is far from every
  centre) and vanishes as ``epsilon -> infinity``, where plain softmax returns.

An optional per-centre ``bias`` is added to the distances (``d_i + b_i``). Every function returns
(B, N + 1) activations, the last column being the epsilon neuron (identically zero when there is none), so
that models can treat the three normalisations alike. ``EpsilonSoftmax`` is the module form, with a fixed
epsilon or one tracked as an exponential moving average of the mean input-centre distance (momentum 0.9).
"""
from __future__ import annotations

import math

import numpy as np

import torch
from torch import nn

__all__ = ["epsilon_softmax", "epsilon_wins", "EpsilonSoftmax", "firing_map", "SIMILARITIES", "similarity",
           "softmax_similarity", "unnormalised_scores", "unnormalised_similarity"]

SIMILARITIES = ("unnormalised", "softmax", "epsilon_softmax")


def _check(d: torch.Tensor, tau: float) -> None:
    if not isinstance(d, torch.Tensor):
        raise TypeError(f"distances must be a (B, N) tensor, got {type(d).__name__}")
    if d.dim() != 2:
        raise ValueError(f"distances must be a (B, N) tensor, got shape {tuple(d.shape)}")
    if not tau > 0:
        raise ValueError(f"temperature tau must be > 0, got {tau}")


def _with_bias(d: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    if bias is None:
        return d
    if bias.shape != d.shape[1:]:
        raise ValueError(f"bias must have shape ({d.shape[1]},), got {tuple(bias.shape)}")
    return d + bias


def _zero_column(d: torch.Tensor) -> torch.Tensor:
    return torch.zeros(d.shape[0], 1, dtype=d.dtype, device=d.device)


def unnormalised_similarity(d: torch.Tensor, tau: float = 0.5, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``exp(-(d_i - min_j d_j) / (sigma tau))``, sigma = std of the distances over the centres (sec. 3.1.1).

    The nearest centre gets 1; the activations do not sum to one. Returns (B, N + 1), last column 0.
    """
    _check(d, tau)
    d = _with_bias(d, bias)
    return torch.cat([unnormalised_scores(d, tau), _zero_column(d)], dim=1)


def unnormalised_scores(d: torch.Tensor, tau: float) -> torch.Tensor:
    """(B, N) un-normalised similarities without the epsilon column (in-place on a fresh tensor)."""
    sigma = d.std(dim=1, keepdim=True, unbiased=False) if d.shape[1] > 1 else torch.ones_like(d[:, :1])
    scale = sigma.clamp_min_(torch.finfo(d.dtype).tiny).mul_(-tau)
    return (d - d.min(dim=1, keepdim=True).values).div_(scale).exp_()


def softmax_similarity(d: torch.Tensor, tau: float = 1.0, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``softmax_i(-d_i / tau)`` (sec. 3.1.2). Returns (B, N + 1), last column 0."""
    _check(d, tau)
    d = _with_bias(d, bias)
    return torch.cat([torch.softmax(-d / tau, dim=1), _zero_column(d)], dim=1)


def epsilon_softmax(d: torch.Tensor, epsilon: float | torch.Tensor, tau: float = 1.0,
                    bias: torch.Tensor | None = None) -> torch.Tensor:
    """``softmax([-d_1, ..., -d_N, -epsilon] / tau)`` (sec. 3.1.3); last column = epsilon neuron.

    ``epsilon`` is a number or a tensor broadcastable to (B,) (one threshold per input).
    ``epsilon = inf`` gives plain softmax with a zero epsilon column.
    """
    _check(d, tau)
    d = _with_bias(d, bias)
    eps = torch.as_tensor(epsilon, dtype=d.dtype, device=d.device)
    if eps.dim() > 1 or (eps.dim() == 1 and eps.shape[0] not in (1, d.shape[0])):
        raise ValueError(f"epsilon must be a number or have shape ({d.shape[0]},), got {tuple(eps.shape)}")
    eps_col = eps.reshape(-1, 1).expand(d.shape[0], 1)
    return torch.softmax(-torch.cat([d, eps_col], dim=1) / tau, dim=1)


def similarity(d: torch.Tensor, kind: str, tau: float, epsilon: float | torch.Tensor | None = None,
               bias: torch.Tensor | None = None) -> torch.Tensor:
    """Dispatch on ``kind`` in {'unnormalised', 'softmax', 'epsilon_softmax'}; (B, N + 1) activations."""
    if kind == "unnormalised":
        return unnormalised_similarity(d, tau, bias)
    if kind == "softmax":
        return softmax_similarity(d, tau, bias)
    if kind == "epsilon_softmax":
        if epsilon is None:
            raise ValueError("epsilon_softmax needs an epsilon")
        return epsilon_softmax(d, epsilon, tau, bias)
    raise ValueError(f"unknown similarity {kind!r}: choose one of {', '.join(SIMILARITIES)}")


def epsilon_wins(d: torch.Tensor, epsilon: float | torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """Whether the epsilon neuron fires the most: ``epsilon < min_i (d_i + b_i)`` (independent of tau; ties go
    to the centres, as with ``argmax``)."""
    return _with_bias(d, bias).min(dim=1).values > epsilon


class EpsilonSoftmax(nn.Module):
    """Module form of the normalisations, with a fixed or EMA-tracked epsilon (sec. 3.1.3, 3.2).

    ``epsilon``: a number (fixed), ``"ema"`` (tracked: ``eps <- m eps + (1 - m) mean(d)`` on every training
    forward, initialised from the first batch seen in any mode; the authors use m = 0.9) or ``None`` (no epsilon neuron).
    ``kind`` selects the normalisation; ``n_centres`` > 0 with ``bias=True`` adds a learnable per-centre bias.
    The current threshold is the buffer ``self.epsilon`` (NaN until an EMA has seen a batch); set it with
    ``set_epsilon`` to evaluate at another threshold.
    """

    epsilon: torch.Tensor

    def __init__(self, kind: str = "epsilon_softmax", tau: float = 1.0, epsilon: float | str | None = "ema",
                 momentum: float = 0.9, n_centres: int = 0, bias: bool = False):
        super().__init__()
        if kind not in SIMILARITIES:
            raise ValueError(f"unknown similarity {kind!r}: choose one of {', '.join(SIMILARITIES)}")
        if not tau > 0:
            raise ValueError(f"temperature tau must be > 0, got {tau}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if kind == "epsilon_softmax" and epsilon is None:
            raise ValueError("epsilon_softmax needs epsilon: a number or 'ema'")
        if isinstance(epsilon, str) and epsilon != "ema":
            raise ValueError(f"epsilon must be a number, 'ema' or None, got {epsilon!r}")
        self.kind, self.tau, self.momentum = kind, float(tau), float(momentum)
        self.tracking = epsilon == "ema"
        value = math.nan if self.tracking or epsilon is None else float(epsilon)
        self.register_buffer("epsilon", torch.tensor(value))
        self.bias = nn.Parameter(torch.zeros(n_centres)) if bias else None

    def set_epsilon(self, value: float) -> None:
        """Fix the threshold (stops EMA tracking)."""
        self.epsilon.fill_(float(value))
        self.tracking = False

    def forward(self, d: torch.Tensor) -> torch.Tensor:
        if self.kind == "epsilon_softmax" and self.tracking:
            with torch.no_grad():
                mean = d.detach().mean()
                if torch.isnan(self.epsilon):  # first batch, in any mode
                    self.epsilon.copy_(mean)
                elif self.training:
                    self.epsilon.mul_(self.momentum).add_((1 - self.momentum) * mean)
        if self.kind == "epsilon_softmax" and torch.isnan(self.epsilon):
            raise RuntimeError("epsilon is NaN: call set_epsilon with a number")
        return similarity(d, self.kind, self.tau, self.epsilon, self.bias)

    def extra_repr(self) -> str:
        eps = "ema" if self.tracking else f"{self.epsilon.item():.4g}"
        return f"kind={self.kind}, tau={self.tau:g}, epsilon={eps}, bias={self.bias is not None}"


def firing_map(act: torch.Tensor, resolution: int, colours=None) -> np.ndarray:
    """RGB image (resolution, resolution, 3) of a grid's activations (R^2, N + 1): hue = winning neuron,
    brightness = its activation, black where the epsilon neuron wins (Fig. 11 / write-up Fig. 3)."""
    from matplotlib import colormaps

    if act.dim() != 2 or act.shape[0] != resolution * resolution:
        raise ValueError(f"act must be ({resolution ** 2}, N + 1), got {tuple(act.shape)}")
    n = act.shape[1] - 1
    if colours is None:
        colours = colormaps["tab10" if n <= 10 else "tab20"](np.arange(n) % (10 if n <= 10 else 20))[:, :3]
    winner = act.argmax(1)
    key_winner = act[:, :-1].argmax(1).numpy()
    rgb = np.asarray(colours)[key_winner] * act.max(1).values.clamp(0, 1).numpy()[:, None]
    rgb[(winner == n).numpy()] = 0.0
    return rgb.reshape(resolution, resolution, 3)
