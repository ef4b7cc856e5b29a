"""Distance transforms: neurons that measure a distance instead of a dot product.

Metric as Transform, sec. 2.1 and 2.4. A metric neuron computes ``y_j = d(x, w_j)``
between an input ``x`` and a learnable centre ``w_j`` instead of ``w_j . x + b_j``.

* l^p distance, any p > 0: ``d_p(x, w) = (sum_i |x_i - w_i|^p)^(1/p)``;
* cosine similarity and angle: ``cos = x.w / (|x| |w|)``, ``angle = arccos(cos)``;
* i-stereo: inverse stereographic projection
  ``s(x) = (2x / (|x|^2 + 1), (|x|^2 - 1) / (|x|^2 + 1))`` onto the unit sphere of R^(n+1),
  then a linear map with unit-norm rows (the cosine of the angle on the sphere).

Speed and memory. l^2 goes through ``|x|^2 + |w|^2 - 2 x.w`` (one matrix product),
clamped at zero, with a square root whose gradient is 0 at zero distance. General p
never holds the (batch x centres x features) tensor: on a CPU, fused numba kernels
(:mod:`nngeom.metric.lp_kernels`) compute the sums and both gradients pair by pair; elsewhere
(CUDA, or without numba) a custom autograd function works on chunks of centres in forward
and recomputes them in backward, so memory grows as batch x centres plus one bounded chunk.
"""
from __future__ import annotations

import math
import os

import torch
from torch import nn

from ..book.budget import count_flops

__all__ = ["angle_distance", "CentreLayer", "CHUNK_ELEMENTS", "cosine_similarity", "CosineSimilarity",
           "count_lp_flops", "CPU_KERNEL", "inverse_stereographic", "InverseStereo", "LP_FLOPS_BACKWARD",
           "LP_FLOPS_FORWARD", "LpDistance", "pairwise_distance", "safe_sqrt", "squared_l2", "stereographic"]

#: Upper bound on the elements of one (batch x centres-chunk x features) block: 2 MiB of float32, so that the
#: ten or so elementwise passes over a block stay in a core's L2 cache (with 8 MiB blocks, l^20 forward +
#: backward at batch 256, 784 -> 500 took 3x longer on the project's 2-core machine).
CHUNK_ELEMENTS = 1 << 19

#: Use the fused numba kernels of :mod:`nngeom.metric.lp_kernels` for CPU tensors (False: the chunked torch path).
CPU_KERNEL = not os.environ.get("NNGEOM_DEVICE_CHECK")  # the device check follows the GPU code path


def _check_pair(x: torch.Tensor, centres: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(centres, torch.Tensor):
        raise TypeError("x and centres must be torch tensors")
    if x.dim() != 2 or centres.dim() != 2:
        raise ValueError(f"x must be (B, D) and centres (N, D); got {tuple(x.shape)} and {tuple(centres.shape)}")
    if x.dtype != centres.dtype:
        raise TypeError(f"x and centres must share a dtype, got {x.dtype} and {centres.dtype}")
    if x.shape[1] != centres.shape[1]:
        raise ValueError(f"feature sizes differ: x has {x.shape[1]}, centres have {centres.shape[1]}")


def _check_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"p must be a number, got {type(p).__name__}")
    p = float(p)
    if not p > 0 or math.isinf(p):
        raise ValueError(f"p must be a finite number > 0, got {p}")
    return p


def safe_sqrt(t: torch.Tensor) -> torch.Tensor:
    """``sqrt(max(t, 0))`` whose gradient is 0 (not inf or nan) where ``t <= 0``; twice differentiable."""
    positive = t > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, t, torch.ones_like(t))), torch.zeros_like(t))


def squared_l2(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """``|x|^2 + |w|^2 - 2 x.w`` for all pairs, clamped at 0: (B, D), (N, D) -> (B, N)."""
    _check_pair(x, centres)
    x2 = x.pow(2).sum(1, keepdim=True)
    w2 = centres.pow(2).sum(1)
    return torch.addmm(x2 + w2, x, centres.T, alpha=-2.0).clamp_min(0.0)


def _chunk(batch: int, features: int) -> int:
    return max(1, CHUNK_ELEMENTS // max(1, batch * features))


def _power(t: torch.Tensor, p: float) -> torch.Tensor:
    """``t ** p`` for ``t >= 0``; integer ``p`` up to 64 by repeated squaring (much faster than ``pow``)."""
    if p == 1.0:
        return t
    if p == 0.5:
        return t.sqrt()
    if p == -0.5:
        return t.rsqrt()
    if p.is_integer() and 2 <= p <= 64:
        k, base, out = int(p), t, None
        while k:
            if k & 1:
                out = base if out is None else out * base
            k >>= 1
            if k:
                base = base * base
        assert out is not None  # k >= 2 has a set bit
        return out
    return t.pow(p)


def _lp_block(diff: torch.Tensor, p: float) -> torch.Tensor:
    """``sum_i |diff_i|^p`` over the last axis, in place on ``diff``."""
    return _power(diff.abs_(), p).sum(-1)


LP_FLOPS_FORWARD = 4   # per pair and feature: difference, |.|, power, sum (a power counted as one operation)
LP_FLOPS_BACKWARD = 8  # per pair and feature: the power of the ratio, the sign, two products, two sums


def count_lp_flops(x: torch.Tensor, centres: torch.Tensor, backward: bool = False, seen: int = 0) -> None:
    """Report an l^p distance pass to the dry run's FLOP count (the counter sees no elementwise kernel).

    ``seen``: FLOPs per pair and feature that the counter already counts (the torch backward's two einsums).
    """
    per = (LP_FLOPS_BACKWARD if backward else LP_FLOPS_FORWARD) - seen
    count_flops(per * x.shape[0] * centres.shape[0] * x.shape[1])


class _LpDistance(torch.autograd.Function):
    """Chunked l^p distance with a hand-written backward.

    Forward ``d_bj = (sum_i |x_bi - w_ji|^p)^(1/p)``; backward
    ``dd_bj / dx_bi = sign(x_bi - w_ji) (|x_bi - w_ji| / d_bj)^(p-1)`` and the opposite for ``w``.
    At ``d = 0`` and, for p < 1, at ``x_i = w_i`` the (infinite or undefined) derivative is
    replaced by the subgradient 0.
    """

    @staticmethod
    def forward(ctx, x, centres, p):
        batch, features = x.shape
        step = _chunk(batch, features)
        # For large p, |t|^p over- or underflows; scale each pair by its largest |t_i|.
        scaled = p > 8.0
        out = x.new_empty(batch, centres.shape[0])
        for start in range(0, centres.shape[0], step):
            w = centres[start:start + step]
            diff = x[:, None, :] - w[None, :, :]
            if scaled:
                diff.abs_()
                m = diff.amax(-1, keepdim=True)
                diff.div_(m.clamp_min(torch.finfo(x.dtype).tiny))
                out[:, start:start + step] = m[..., 0] * _power(diff, p).sum(-1).pow_(1.0 / p)
            else:
                s = _lp_block(diff, p)
                out[:, start:start + step] = s if p == 1.0 else s.pow_(1.0 / p)
        ctx.save_for_backward(x, centres, out)
        ctx.p = p
        count_lp_flops(x, centres)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        x, centres, d = ctx.saved_tensors
        p = ctx.p
        count_lp_flops(x, centres, backward=True, seen=4)  # the two einsums below are counted as matmuls
        batch, features = x.shape
        step = _chunk(batch, features)
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad = torch.where(d > 0, grad, torch.zeros_like(grad))
        gx = torch.zeros_like(x) if need_x else None
        gw = torch.empty_like(centres) if need_w else None
        # dd/dx_i = sign(t_i) (|t_i| / d)^(p-1). For p < 2 the factor d^(1-p) moves onto the (B, N)
        # gradient, leaving |t_i|^(p-1) per element (bounded for 1 <= p < 2; clamped away from 0 for p < 1,
        # where sign(0) = 0 then gives the subgradient 0). For p > 2 the ratio |t_i| / d <= 1 avoids overflow.
        folded = p < 2.0
        if folded and p != 1.0:
            grad = grad * torch.where(d > 0, d, torch.ones_like(d)).pow(1.0 - p)
        elif not folded:
            inv_d = torch.where(d > 0, 1.0 / d, torch.zeros_like(d))
        tiny = torch.finfo(x.dtype).tiny
        for start in range(0, centres.shape[0], step):
            w = centres[start:start + step]
            g = grad[:, start:start + step]
            diff = x[:, None, :] - w[None, :, :]
            if p == 1.0:
                e = diff.sign_()
            elif folded:
                sign = diff.sign()
                r = diff.abs_()
                if p < 1.0:
                    r.clamp_min_(tiny)
                e = _power(r, p - 1.0).mul_(sign)
            else:
                sign = diff.sign()
                r = diff.abs_().mul_(inv_d[:, start:start + step, None])
                e = _power(r, p - 1.0).mul_(sign)
            if gx is not None:
                gx.add_(torch.einsum("bj,bjd->bd", g, e))
            if gw is not None:
                gw[start:start + step] = -torch.einsum("bj,bjd->jd", g, e)
        return gx, gw, None


class _L2Distance(torch.autograd.Function):
    """``d = sqrt(max(|x|^2 + |w|^2 - 2 x.w, 0))`` with the backward written as two matrix products.

    With ``H = G / d`` (0 where ``d = 0``, the subgradient at zero distance):
    ``dL/dx = x * rowsum(H) - H w`` and ``dL/dw = w * colsum(H) - H^T x``. The backward uses
    differentiable operations only and saves the output, so second derivatives work too.
    """

    @staticmethod
    def forward(ctx, x, centres):
        x2 = x.pow(2).sum(1, keepdim=True)
        w2 = centres.pow(2).sum(1)
        d = torch.addmm(w2, x, centres.T, alpha=-2.0).add_(x2).clamp_min_(0.0).sqrt_()
        ctx.save_for_backward(x, centres, d)
        return d

    @staticmethod
    def backward(ctx, grad):
        x, centres, d = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: differentiable operations only
            positive = d > 0
            h = torch.where(positive, grad / torch.where(positive, d, torch.ones_like(d)), torch.zeros_like(d))
        else:
            h = grad.div(d).masked_fill_(d == 0, 0.0)
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gx = torch.addmm(x * h.sum(1, keepdim=True), h, centres, alpha=-1.0)
        if ctx.needs_input_grad[1]:
            gw = torch.addmm(centres * h.sum(0)[:, None], h.T, x, alpha=-1.0)
        return gx, gw


def pairwise_distance(x: torch.Tensor, centres: torch.Tensor, p: float = 2.0) -> torch.Tensor:
    """l^p distance between every row of ``x`` (B, D) and every centre (N, D): returns (B, N).

    ``p = 2`` uses one matrix product ``sqrt(max(|x|^2 + |w|^2 - 2 x.w, 0))`` (gradient 0 at zero
    distance; backward in two matrix products; differentiable twice); any other ``p > 0`` uses a
    custom autograd function whose memory is O(B N) plus one bounded chunk (fused numba kernels for CPU
    float tensors, chunks of centres in torch otherwise). Under autocast (the opt-in bf16 training of
    `nngeom.book.precision`) it computes in float32: ``|x|^2 + |w|^2 - 2 x.w`` cancels near a centre.
    """
    p = _check_p(p)
    _check_pair(x, centres)
    if torch.is_autocast_enabled(x.device.type):  # opt-in bf16 training (book.precision): distances stay float32
        with torch.autocast(x.device.type, enabled=False):
            return pairwise_distance(x.float(), centres.float(), p)
    if p == 2.0:
        return _L2Distance.apply(x, centres)
    x, centres = x.contiguous(), centres.contiguous()
    if CPU_KERNEL and x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        from .lp_kernels import LpDistanceCPU  # imports numba on first use only
        return LpDistanceCPU.apply(x, centres, p)
    return _LpDistance.apply(x, centres, p)


def cosine_similarity(x: torch.Tensor, weights: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``x.w / (|x| |w|)`` for all pairs: (B, D), (N, D) -> (B, N)."""
    _check_pair(x, weights)
    return nn.functional.normalize(x, dim=1, eps=eps) @ nn.functional.normalize(weights, dim=1, eps=eps).T


def angle_distance(x: torch.Tensor, weights: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Angle ``arccos(cos(x, w))`` in radians for all pairs; cos clamped to [-1+eps, 1-eps] for finite gradients."""
    return torch.arccos(cosine_similarity(x, weights).clamp(-1.0 + eps, 1.0 - eps))


def inverse_stereographic(x: torch.Tensor) -> torch.Tensor:
    """R^n -> unit sphere of R^(n+1): ``(2x / (|x|^2 + 1), (|x|^2 - 1) / (|x|^2 + 1))`` (sec. 2.4, 2.7).

    Works on the last dimension of ``x`` (..., n); the point at infinity would map to the north pole (0, ..., 0, 1).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor, got {type(x).__name__}")
    if x.ndim == 0:
        raise ValueError("x must have a last dimension of coordinates (shape (..., n)), got a scalar")
    r2 = x.pow(2).sum(-1, keepdim=True)
    return torch.cat([2 * x, r2 - 1], dim=-1) / (r2 + 1)


def stereographic(s: torch.Tensor, pole_tol: float = 1e-12) -> torch.Tensor:
    """Inverse of :func:`inverse_stereographic`: sphere point ``(u, z)`` -> ``u / (1 - z)`` (sec. 2.7).

    The north pole (``z = 1``, within ``pole_tol``) is the image of infinity and has no finite preimage: a
    ``ValueError``.
    """
    if not isinstance(s, torch.Tensor):
        raise TypeError(f"s must be a torch tensor, got {type(s).__name__}")
    if s.ndim == 0 or s.shape[-1] < 2:
        raise ValueError("s must lie on a sphere of dimension >= 1 (at least 2 coordinates in its last dimension)")
    denominator = 1 - s[..., -1:]
    if bool((denominator.abs() < pole_tol).any()):
        raise ValueError("the north pole (last coordinate 1) is the image of infinity: it has no finite preimage")
    return s[..., :-1] / denominator


class CentreLayer(nn.Module):
    """Common part of the distance layers: ``out_features`` learnable centres in R^``in_features``."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.in_features = in_features
        self.out_features = out_features
        self.centres = nn.Parameter(torch.empty(out_features, self.centre_features()))
        self.reset_parameters()

    def centre_features(self) -> int:
        """Coordinates of a centre: those of the space `transform_input` maps into."""
        return self.in_features

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Centres uniform in ``[-1/sqrt(d), 1/sqrt(d)]``, d = `centre_features` (nn.Linear's scale), in place."""
        bound = 1.0 / math.sqrt(self.centre_features())
        nn.init.uniform_(self.centres, -bound, bound)

    @torch.no_grad()
    def init_from_data(self, x: torch.Tensor, generator: torch.Generator | None = None) -> "CentreLayer":
        """Set the centres to ``out_features`` distinct samples of ``x`` drawn without replacement."""
        if not isinstance(x, torch.Tensor):
            raise TypeError("x must be a torch tensor")
        x = x.reshape(len(x), -1)
        if x.shape[1] != self.in_features:
            raise ValueError(f"samples have {x.shape[1]} features, layer expects {self.in_features}")
        if len(x) < self.out_features:
            raise ValueError(f"cannot take {self.out_features} centres from {len(x)} samples")
        index = torch.randperm(len(x), generator=generator)[: self.out_features]
        self.centres.copy_(self.transform_input(x[index].to(self.centres)))
        return self

    def transform_input(self, x: torch.Tensor) -> torch.Tensor:
        """Map of the input space in which the centres live (identity here)."""
        return x

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError("input must be a torch tensor")
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"expected input (B, {self.in_features}), got {tuple(x.shape)}")

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class LpDistance(CentreLayer):
    """``y_j = d_p(x, w_j) = (sum_i |x_i - w_ji|^p)^(1/p)`` (Metric as Transform, sec. 2.4, Table 1)."""

    def __init__(self, in_features: int, out_features: int, p: float = 2.0):
        self.p = _check_p(p)
        super().__init__(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return pairwise_distance(x, self.centres, self.p)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p:g}"


class CosineSimilarity(CentreLayer):
    """``y_j = x.w_j / (|x| |w_j|)``; with ``angle=True`` the angle ``arccos`` of it, a metric on directions."""

    def __init__(self, in_features: int, out_features: int, angle: bool = False):
        self.angle = bool(angle)
        super().__init__(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return angle_distance(x, self.centres) if self.angle else cosine_similarity(x, self.centres)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, angle={self.angle}"


class InverseStereo(CentreLayer):
    """i-stereo: ``y_j = s(x) . w_j / |w_j|`` with ``s`` the inverse stereographic projection (sec. 2.4).

    The centres live on (or are normalised onto) the sphere of R^(in_features + 1); the output is
    the cosine of the angle on the sphere, which is a metric there (sec. 2.7).
    """

    def centre_features(self) -> int:
        return self.in_features + 1  # centres on the sphere of R^(in_features + 1)

    def transform_input(self, x: torch.Tensor) -> torch.Tensor:
        return inverse_stereographic(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return inverse_stereographic(x) @ nn.functional.normalize(self.centres, dim=1).T
