"""Learnable generalised distances: convex, invex and ordinary networks (Metric as Transform, sec. 2.5).

The document replaces Layer1 of its Table 1 MLP by a small network ``f: R^D -> R^h`` whose outputs act
as generalised distances (a single finite minimum, no symmetry or triangle inequality required):

* **convex** (Amos et al. 2017, input-convex neural network): ``z_1 = softplus(A_0 x + b_0)``,
  ``z_{k+1} = softplus(W_k z_k + A_k x + b_k)`` with ``W_k >= 0``; output
  ``f(x) = W_L z_L + b_L + (lambda / 2) |x|^2`` with ``W_L >= 0``. softplus is convex and non-decreasing
  and non-negative sums keep convexity; the small quadratic term makes every output strongly convex, so
  it has one finite minimum. Non-negative weights are ``softplus`` of free parameters.
* **invex** (Sapkota & Bhattarai 2021): an invertible residual flow ``phi(x) = x + g(x)`` with
  ``Lip(g) < 1`` (spectral normalisation of both linear maps of ``g``, scaled by ``coeff < 1``; Behrmann
  et al. 2019), then a distance regressor ``f_j(x) = |phi(x) - c_j|_2``. A convex function of an
  invertible map is invex: its only stationary point is the global minimum ``phi^{-1}(c_j)``.
* **ordinary**: the same network without the spectral normalisation, hence not invertible and not invex.

Reconstruction choices (the document does not give them): one hidden layer of width ``hidden`` in the
ICNN and in the residual branch, softplus / ELU activations, ``coeff = 0.97``, ``lambda = 1e-3``.
"""
from __future__ import annotations

import math
from typing import cast

import torch
from torch import nn
from torch.nn.utils import parametrizations

from .distances import CentreLayer, pairwise_distance

__all__ = ["ConvexDistance", "GENERALISED", "InvexDistance", "layer1_parameters", "matched_hidden", "metric_mlp",
           "ordinary_distance", "ResidualFlow", "TABLE1_TRANSFORMS", "transform_layer"]


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


class ConvexDistance(nn.Module):
    """Input-convex network ``R^D -> R^h``; each output is a strongly convex function of ``x``.

    ``layers`` hidden layers of width ``hidden``; see the module docstring for the formula.
    """

    def __init__(self, in_features: int, out_features: int, hidden: int = 100, layers: int = 2,
                 quadratic: float = 1e-3):
        super().__init__()
        self.in_features = _positive_int("in_features", in_features)
        self.out_features = _positive_int("out_features", out_features)
        self.hidden = _positive_int("hidden", hidden)
        self.layers = _positive_int("layers", layers)
        if quadratic < 0:
            raise ValueError(f"quadratic must be >= 0, got {quadratic}")
        self.quadratic = float(quadratic)
        self.input_maps = nn.ModuleList([nn.Linear(in_features, hidden) for _ in range(layers)])
        sizes = [hidden] * (layers - 1) + [out_features]
        # Free parameters of the non-negative hidden-to-hidden (and hidden-to-output) weights.
        self.raw_weights = nn.ParameterList([nn.Parameter(torch.empty(n, hidden)) for n in sizes])
        self.output_bias = nn.Parameter(torch.zeros(out_features))
        for raw in self.raw_weights:
            # softplus(raw) ~ 1 / hidden on average: keeps the activations' scale through depth.
            nn.init.normal_(raw, mean=math.log(math.expm1(1.0 / hidden)), std=0.5)

    def nonnegative_weights(self) -> list[torch.Tensor]:
        return [nn.functional.softplus(raw) for raw in self.raw_weights]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"expected input (B, {self.in_features}), got {tuple(x.shape)}")
        weights = self.nonnegative_weights()
        z = nn.functional.softplus(self.input_maps[0](x))
        for k in range(1, self.layers):
            z = nn.functional.softplus(z @ weights[k - 1].T + self.input_maps[k](x))
        out = z @ weights[-1].T + self.output_bias
        if self.quadratic:
            out = out + 0.5 * self.quadratic * x.pow(2).sum(1, keepdim=True)
        return out

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, hidden={self.hidden}, "
                f"layers={self.layers}, quadratic={self.quadratic:g}")


class ResidualFlow(nn.Module):
    """``phi(x) = x + W_2 elu(W_1 x + b_1) + b_2``, ``blocks`` times.

    With ``invertible=True`` both ``W`` are spectrally normalised and scaled by ``sqrt(coeff)`` so that
    ``Lip(g) <= coeff < 1`` (ELU is 1-Lipschitz): ``phi`` is then a bi-Lipschitz bijection whose inverse
    is the fixed point of ``x = y - g(x)`` (:meth:`inverse`).
    """

    def __init__(self, features: int, hidden: int = 100, blocks: int = 1, invertible: bool = True,
                 coeff: float = 0.97):
        super().__init__()
        self.features = _positive_int("features", features)
        self.hidden = _positive_int("hidden", hidden)
        self.blocks_n = _positive_int("blocks", blocks)
        if not 0 < coeff < 1:
            raise ValueError(f"coeff must be in (0, 1), got {coeff}")
        self.invertible = bool(invertible)
        self.scale = math.sqrt(coeff) if invertible else 1.0
        self.blocks = nn.ModuleList()
        for _ in range(blocks):
            first, second = nn.Linear(features, hidden), nn.Linear(hidden, features)
            if invertible:  # in place: the parametrised module is the same nn.Linear
                parametrizations.spectral_norm(first)
                parametrizations.spectral_norm(second)
            self.blocks.append(nn.ModuleList([first, second]))

    def residual(self, block: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``g(x)``; ``scale * (W x + b) + (1 - scale) b = scale W x + b``: only the weights are scaled."""
        pair = cast(nn.ModuleList, block)
        first, second = cast(nn.Linear, pair[0]), cast(nn.Linear, pair[1])
        h = nn.functional.elu(self.scale * first(x) + (1 - self.scale) * first.bias)
        return self.scale * second(h) + (1 - self.scale) * second.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = x + self.residual(block, x)
        return x

    @torch.no_grad()
    def inverse(self, y: torch.Tensor, iterations: int = 100) -> torch.Tensor:
        """Fixed-point inversion ``x <- y - g(x)`` block by block (converges when invertible).

        Runs in eval mode so that the spectral normalisation's power iteration does not change the weights.
        """
        if not self.invertible:
            raise ValueError("the ordinary (unconstrained) flow is not guaranteed invertible")
        was_training = self.training
        self.eval()
        try:
            for block in reversed(self.blocks):
                x = y.clone()
                for _ in range(iterations):
                    x = y - self.residual(block, x)
                y = x
        finally:
            self.train(was_training)
        return y

    def extra_repr(self) -> str:
        return f"features={self.features}, hidden={self.hidden}, invertible={self.invertible}"


class InvexDistance(CentreLayer):
    """``f_j(x) = |phi(x) - c_j|_2``: a residual flow then l^2 distances to ``out_features`` centres.

    ``invertible=True`` (invex, sec. 2.5) or ``False`` (the "ordinary" network of Table 1).
    Centres live in the flow's output space; :meth:`init_from_data` maps samples through ``phi``.
    """

    def __init__(self, in_features: int, out_features: int, hidden: int = 100, blocks: int = 1,
                 invertible: bool = True, coeff: float = 0.97):
        super().__init__(in_features, out_features)
        self.flow = ResidualFlow(in_features, hidden, blocks, invertible, coeff)

    def transform_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.flow(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return pairwise_distance(self.flow(x), self.centres, 2.0)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, invertible={self.flow.invertible}"


def ordinary_distance(in_features: int, out_features: int, hidden: int = 100, blocks: int = 1) -> InvexDistance:
    """The invex network without its invexity constraint (no spectral normalisation): Table 1 "ordinary"."""
    return InvexDistance(in_features, out_features, hidden, blocks, invertible=False)


#: Layer1 choices of Table 1, in the document's row order.
TABLE1_TRANSFORMS = ("l0.5", "l1", "l2", "l20", "istereo", "linear", "convex", "invex", "ordinary")


def transform_layer(name: str, in_features: int, out_features: int, hidden: int = 100) -> nn.Module:
    """The Layer1 named ``name`` (one of :data:`TABLE1_TRANSFORMS`, or ``"l<p>"`` for any p > 0).

    ``hidden`` is the width inside the convex / invex / ordinary networks.
    """
    from .distances import InverseStereo, LpDistance

    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name == "linear":
        return nn.Linear(in_features, out_features)
    if name == "istereo":
        return InverseStereo(in_features, out_features)
    if name == "convex":
        return ConvexDistance(in_features, out_features, hidden=hidden)
    if name == "invex":
        return InvexDistance(in_features, out_features, hidden=hidden)
    if name == "ordinary":
        return ordinary_distance(in_features, out_features, hidden=hidden)
    if name.startswith("l"):
        try:
            p = float(name[1:])
        except ValueError:
            p = None
        if p is not None:
            return LpDistance(in_features, out_features, p=p)
    raise ValueError(f"unknown transform {name!r}: choose one of {', '.join(TABLE1_TRANSFORMS)} or l<p>")


def metric_mlp(name: str, in_features: int, width: int, classes: int, hidden: int = 100,
               normalize: bool = True) -> nn.Sequential:
    """Table 1 network: Layer1 -> BatchNorm1d(affine=False) -> LayerNorm -> ELU -> Linear(width, classes).

    ``normalize=False`` drops the BatchNorm and LayerNorm (Layer1 -> ELU -> Linear), the ablation of the
    document's remark that normalisation is needed to optimise (sec. 2.4); the default builds the same modules,
    in the same order (hence the same initialisation under a seed), as before the option existed.
    """
    width = _positive_int("width", width)
    layer = transform_layer(name, in_features, width, hidden)
    norms = [nn.BatchNorm1d(width, affine=False), nn.LayerNorm(width)] if normalize else []
    return nn.Sequential(
        layer,
        *norms,
        nn.ELU(),
        nn.Linear(width, _positive_int("classes", classes)),
    )


#: Table 1 rows with an inner width (``hidden``): the learnable generalised distances of sec. 2.5.
GENERALISED = ("convex", "invex", "ordinary")


def layer1_parameters(name: str, in_features: int, width: int, hidden: int = 100) -> int:
    """Number of learnable parameters of ``transform_layer(name, in_features, width, hidden)``.

    Counted from the layers' formulas (D = ``in_features``, h = ``width``, k = ``hidden``): linear
    ``D h + h``; l^p ``D h`` (centres only); i-stereo ``(D + 1) h``; convex (two input maps, one k x k and one
    h x k non-negative map, output bias) ``2 (D k + k) + k^2 + h k + h``; invex and ordinary (one residual block
    D -> k -> D, then h centres in R^D) ``2 D k + k + D + D h``. ``tests/test_generalized.py`` checks every
    formula against the modules' own parameter count.
    """
    D, h, k = (_positive_int(n, v) for n, v in (("in_features", in_features), ("width", width), ("hidden", hidden)))
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name == "linear":
        return D * h + h
    if name == "istereo":
        return (D + 1) * h
    if name == "convex":
        return 2 * (D * k + k) + k * k + h * k + h
    if name in ("invex", "ordinary"):
        return 2 * D * k + k + D + D * h
    if name.startswith("l"):
        transform_layer(name, 1, 1)  # validates the name (l<p>, p > 0)
        return D * h
    raise ValueError(f"unknown transform {name!r}: choose one of {', '.join(TABLE1_TRANSFORMS)} or l<p>")


def matched_hidden(name: str, in_features: int, width: int, budget: int | None = None) -> int:
    """The inner width k >= 1 of a generalised distance whose Layer1 parameter count is closest to ``budget``.

    ``budget`` defaults to the linear layer's ``D h + h`` (Table 1's "similar number of parameters", sec. 2.5);
    ties go to the smaller k. The count grows with k, so when even k = 1 exceeds the budget the answer is 1:
    compare ``layer1_parameters(name, D, h, 1)`` with the budget to see whether it could be met.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name not in GENERALISED:
        raise ValueError(f"{name!r} has no inner width: choose one of {', '.join(GENERALISED)}")
    budget = layer1_parameters("linear", in_features, width) if budget is None else _positive_int("budget", budget)

    def count(k: int) -> int:
        return layer1_parameters(name, in_features, width, k)

    if count(1) >= budget:
        return 1
    low, high = 1, 2  # invariant: count(low) < budget; find high with count(high) >= budget, then bisect
    while count(high) < budget:
        low, high = high, 2 * high
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if count(mid) < budget else (low, mid)
    return low if budget - count(low) <= count(high) - budget else high
