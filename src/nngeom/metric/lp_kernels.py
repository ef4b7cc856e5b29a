"""Fused CPU kernels (numba) for the l^p distance layer (Metric as Transform, sec. 2.4, Table 1).

Forward, for every pair (b, j), with ``t_i = x_bi - w_ji`` and a per-pair scale ``c`` (1, or ``1 / max_i |t_i|``
for p > 8 against over- and underflow):

    s_bj = sum_i (c |t_i|)^p,        d_bj = s_bj^(1/p) / c.

Backward, given ``G_bj`` (the incoming gradient, already multiplied by ``d^(1-p)`` for p < 2 and set to 0 at
``d = 0`` by the caller) and ``c_bj`` (1 for p < 2, ``1 / d_bj`` above):

    e_bji = sign(t_i) (c_bj |t_i|)^(p-1),   dL/dx_bi = sum_j G_bj e_bji,   dL/dw_ji = -sum_b G_bj e_bji,

with ``|t_i|`` floored at the smallest normal number for p < 1 (so that ``sign(0) = 0`` gives the subgradient 0).
These are the formulas of :class:`nngeom.metric.distances._LpDistance`; here one pass over the pairs computes the sum
(forward) or both gradients (backward) without ever holding the (batch x centres x features) tensor, the
differences stay in registers. Each power is specialised once per call by ``kind``: 1, sqrt, 1/sqrt, an integer
power by repeated squaring (as the torch path), or ``pow``. Both split the centres over ``torch.get_num_threads()``
threads (the kernels release the GIL); in the backward each thread sums its own dL/dx, which are then added
(memory: threads x batch x features).

Compiled lazily on first use (``cache=True``: the compiled code is reused by later processes).
"""
from __future__ import annotations

import math

import numba
import numpy as np
import torch

from ..cpu_threads import parts_for, run_ranges
from .distances import count_lp_flops

__all__ = ["lp_backward", "lp_forward", "LpDistanceCPU", "power_kind"]

ONE, SQRT, RSQRT, INT, REAL = 0, 1, 2, 3, 4

def power_kind(e: float) -> tuple[int, int]:
    """How ``r ** e`` is computed (the same choices as ``distances._power``): (kind, integer exponent)."""
    if e == 1.0:
        return ONE, 1
    if e == 0.5:
        return SQRT, 0
    if e == -0.5:
        return RSQRT, 0
    if float(e).is_integer() and 2 <= e <= 64:
        return INT, int(e)
    return REAL, 0


@numba.njit(inline="always", fastmath=True)
def _ipow(r, k):
    """``r ** k`` for 1 <= k < 128 by repeated squaring (fixed trip count, so the caller's loop vectorises)."""
    out = r * 0 + 1
    base = r
    for bit in range(7):
        if (k >> bit) & 1:
            out = out * base
        base = base * base
    return out


@numba.njit(inline="always", fastmath=True)
def _pair_sum(x, b, w, j, c, kind, e, k):
    """``sum_i (c |x_bi - w_ji|)^e``."""
    s = c * 0
    n = x.shape[1]
    if kind == ONE:
        for i in range(n):
            s += abs(x[b, i] - w[j, i]) * c
    elif kind == SQRT:
        for i in range(n):
            s += math.sqrt(abs(x[b, i] - w[j, i]) * c)
    elif kind == INT:
        for i in range(n):
            s += _ipow(abs(x[b, i] - w[j, i]) * c, k)
    else:
        for i in range(n):
            s += (abs(x[b, i] - w[j, i]) * c) ** e
    return s


@numba.njit(nogil=True, fastmath=True, cache=True)
def lp_forward(x, w, p, kind, k, scaled, tiny, out, j0, j1):
    """``out[b, j] = d_p(x_b, w_j)`` for centres ``j0 <= j < j1``; ``kind, k`` from :func:`power_kind` of p;
    ``scaled`` for p > 8; ``tiny``: the smallest normal number (p, tiny: scalars of x's dtype)."""
    batch, features = x.shape
    one = p * 0 + 1
    inv_p = one / p
    for j in range(j0, j1):
        for b in range(batch):
            if scaled:
                m = tiny * 0
                for i in range(features):
                    m = max(m, abs(x[b, i] - w[j, i]))
                m = max(m, tiny)
                s = _pair_sum(x, b, w, j, one / m, kind, p, k)
                out[b, j] = m * s ** inv_p
            else:
                s = _pair_sum(x, b, w, j, one, kind, p, k)
                if kind == ONE:
                    out[b, j] = s
                elif kind == SQRT:
                    out[b, j] = s * s
                else:
                    out[b, j] = s ** inv_p


@numba.njit(inline="always", fastmath=True)
def _pair_grad(x, b, w, j, gx, gw, g, c, kind, e, k, floor):
    """``gx_b += g e`` and ``gw_j -= g e`` with ``e_i = sign(t_i) max(c |t_i|, floor)^e``, ``t = x_b - w_j``;
    ``kind`` ONE here means ``e = 0`` (the sign alone)."""
    n = x.shape[1]
    if kind == ONE:
        for i in range(n):
            t = x[b, i] - w[j, i]
            v = g if t > 0 else (-g if t < 0 else np.float32(0))
            gx[b, i] += v
            gw[j, i] -= v
    elif kind == SQRT:
        for i in range(n):
            t = x[b, i] - w[j, i]
            v = g * math.sqrt(max(abs(t) * c, floor))
            v = v if t > 0 else (-v if t < 0 else np.float32(0))
            gx[b, i] += v
            gw[j, i] -= v
    elif kind == RSQRT:
        for i in range(n):
            t = x[b, i] - w[j, i]
            v = g / math.sqrt(max(abs(t) * c, floor))
            v = v if t > 0 else (-v if t < 0 else np.float32(0))
            gx[b, i] += v
            gw[j, i] -= v
    elif kind == INT:
        for i in range(n):
            t = x[b, i] - w[j, i]
            v = g * _ipow(max(abs(t) * c, floor), k)
            v = v if t > 0 else (-v if t < 0 else np.float32(0))
            gx[b, i] += v
            gw[j, i] -= v
    else:
        for i in range(n):
            t = x[b, i] - w[j, i]
            v = g * max(abs(t) * c, floor) ** e
            v = v if t > 0 else (-v if t < 0 else np.float32(0))
            gx[b, i] += v
            gw[j, i] -= v


@numba.njit(nogil=True, fastmath=True, cache=True)
def lp_backward(x, w, g, c, e, kind, k, floor, gx, gw, j0, j1):
    """For centres ``j0 <= j < j1``: add their part of dL/dx to ``gx`` and write dL/dw into ``gw`` (both zeroed).

    ``g`` (B, N): the folded incoming gradient G; ``c`` (B, N) the scales (or a (1, 1) array of ones when every
    scale is 1); ``kind, k`` from :func:`power_kind` of ``e = p - 1``; ``floor``: smallest ``c |t|`` used.
    """
    unscaled = c.shape[0] == 1
    for j in range(j0, j1):
        for b in range(x.shape[0]):
            gbj = g[b, j]
            if gbj != 0:
                cbj = c[0, 0] if unscaled else c[b, j]
                _pair_grad(x, b, w, j, gx, gw, gbj, cbj, kind, e, k, floor)

class LpDistanceCPU(torch.autograd.Function):
    """``d_bj = (sum_i |x_bi - w_ji|^p)^(1/p)`` for contiguous CPU float tensors, with the backward above
    (the same formulas, subgradients and scaling as :class:`nngeom.metric.distances._LpDistance`)."""

    @staticmethod
    def forward(ctx, x, centres, p):
        dtype = x.detach().numpy().dtype.type
        out = x.new_empty(x.shape[0], centres.shape[0])
        kind, k = power_kind(p)
        args = (x.detach().numpy(), centres.detach().numpy(), dtype(p), kind, k, p > 8.0,
                dtype(torch.finfo(x.dtype).tiny), out.numpy())
        run_ranges(lp_forward, centres.shape[0], lambda part: args)
        ctx.save_for_backward(x, centres, out)
        ctx.p = p
        count_lp_flops(x, centres)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        x, centres, d = (t.detach() for t in ctx.saved_tensors)
        grad = grad.detach()
        count_lp_flops(x, centres, backward=True)
        p = ctx.p
        positive = d > 0
        grad = torch.where(positive, grad, torch.zeros_like(grad))
        if p < 2.0:
            if p != 1.0:
                grad = grad * torch.where(positive, d, torch.ones_like(d)).pow(1.0 - p)
            scale = torch.ones(1, 1, dtype=d.dtype)
        else:
            scale = torch.where(positive, 1.0 / d, torch.zeros_like(d))
        grad = grad.contiguous()
        parts = parts_for(centres.shape[0])
        gx_parts = x.new_zeros(parts, *x.shape)
        gw = torch.zeros_like(centres)
        dtype = x.numpy().dtype.type
        # e = p - 1: 0 is the sign alone (ONE in _pair_grad), 1 the plain |t| (an integer power)
        kind, k = (ONE, 0) if p == 1.0 else (INT, 1) if p == 2.0 else power_kind(p - 1.0)
        floor = torch.finfo(x.dtype).tiny if p < 1.0 else 0.0
        args = (x.numpy(), centres.numpy(), grad.numpy(), scale.numpy(), dtype(p - 1.0), kind, k, dtype(floor))
        gx_np, gw_np = gx_parts.numpy(), gw.numpy()
        run_ranges(lp_backward, centres.shape[0], lambda part: (*args, gx_np[part], gw_np))
        gx = gx_parts.sum(0) if ctx.needs_input_grad[0] else None
        return gx, gw if ctx.needs_input_grad[1] else None, None
