"""Fused CPU kernels (numba) for the l^p distance layer (Metric as Transform, sec. 2.4, Table 1).

Forward, for every pair (b, j), with ``t_i = x_bi - w_ji`` and a per-pair scale ``c`` (1, or ``1 / max_i |t_i|``
for p > 8 against over- and underflow):

    s_bj = sum_i (c |t_i|)^p,        d_bj = s_bj^(1/p) / c.

Backward, with ``G_bj`` the incoming gradient times ``d^(1-p)`` for p < 2, 0 where ``d = 0`` (:func:`lp_fold`), and
``c_bj`` 1 for p < 2, ``1 / d_bj`` above:

    e_bji = sign(t_i) (c_bj |t_i|)^(p-1),   dL/dx_bi = sum_j G_bj e_bji,   dL/dw_ji = -sum_b G_bj e_bji,

with ``|t_i|`` floored at the smallest normal number for p < 1 (so that ``sign(0) = 0`` gives the subgradient 0).
These are the formulas of :class:`nngeom.metric.distances._LpDistance`.

How it is fast (Issue 17; ``benchmarks/bench_distances.py``):

* The (batch x centres x features) tensor is never held: one pass over the pairs computes the sums (forward) or
  both gradients (backward), and the loop over features vectorises. For p = 1 the pass walks over tiles of 4 inputs
  x 4 centres whose 16 running sums stay in registers (each loaded x_bi and w_ji serves four pairs).
* Each power is specialised once per call by ``kind``: 0 (the sign alone), 1, sqrt, 1/sqrt, an integer power by
  repeated squaring (as the torch path), ``exp(e ln r)`` in float64 for float32 tensors (:func:`_explog`: it
  vectorises, unlike ``pow``, and rounded to float32 it is ``pow``'s value to one unit in the last place), or ``pow``
  itself for float64 tensors.
* Arithmetic stays in the tensors' dtype (numba promotes float32 + int to float64, and ``math.sqrt`` returns
  float64: both are avoided), accumulators start from constant zeros, and numba's ``numpy`` error model drops the
  ZeroDivisionError check of each division; each of these kept the loops from vectorising.
* The centres are split into ``PARTS_PER_THREAD`` parts per thread, taken by whichever of
  ``torch.get_num_threads()`` threads is free (the kernels release the GIL). Each part sums its own dL/dx, added in
  a fixed order afterwards (deterministic; memory: parts x batch x features), and the buffers and per-pair factors
  are prepared in numpy / numba rather than torch, whose OpenMP workers would otherwise spin on the same cores.

Compiled lazily on first use (``cache=True``: the compiled code is reused by later processes).
"""
from __future__ import annotations

import math
import threading

import numba
import numpy as np
import torch
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ..cpu_threads import parts_for, run_ranges
from .distances import count_lp_flops

__all__ = ["explog_pow", "lp_backward", "lp_fold", "lp_forward", "LpDistanceCPU", "PARTS_PER_THREAD", "power_kind"]

ZERO, ONE, SQRT, RSQRT, INT, REAL, EXPLOG = -1, 0, 1, 2, 3, 4, 5


def power_kind(e: float, dtype: type = np.float32) -> tuple[int, int]:
    """How ``r ** e`` is computed (the same choices as ``distances._power``; a general power by :func:`_explog` for
    float32): (kind, integer exponent)."""
    if e == 0.0:
        return ZERO, 0
    if e == 1.0:
        return ONE, 1
    if e == 0.5:
        return SQRT, 0
    if e == -0.5:
        return RSQRT, 0
    if float(e).is_integer() and 2 <= e <= 64:
        return INT, int(e)
    return (EXPLOG if np.dtype(dtype) == np.float32 else REAL), 0


@intrinsic
def _bits(typingctx, x):
    """The 64 bits of a float64 as an int64 (a bitcast, which vectorises)."""
    if x != types.float64:
        return None
    return types.int64(types.float64), lambda context, builder, sig, args: builder.bitcast(args[0], ir.IntType(64))


@intrinsic
def _from_bits(typingctx, n):
    """The float64 whose bits are the int64 ``n``."""
    if n != types.int64:
        return None
    return types.float64(types.int64), lambda context, builder, sig, args: builder.bitcast(args[0], ir.DoubleType())


_LN2 = 0.6931471805599453
_SQRT2 = 1.4142135623730951
_MANTISSA = (1 << 52) - 1
_ONE_BITS = 1023 << 52


@numba.njit(inline="always", fastmath=True, error_model="numpy")
def _explog(r, e):
    """``r ** e`` for a float32 ``r > 0`` and a float64 ``e``, as ``exp(e ln r)`` in float64, rounded to float32.

    ``ln r = k ln 2 + 2 atanh(u)`` with ``r = 2^k m``, ``m`` in [1/sqrt 2, sqrt 2) and ``u = (m - 1) / (m + 1)``
    (|u| < 0.172; the series to u^11 leaves < 2e-11); ``exp y = 2^n exp f`` with ``n = round(y / ln 2)``,
    |f| <= ln 2 / 2 (Taylor to f^10, < 3e-13 relative): both far below float32's 6e-8, also for exponents up to
    64. Exponent and mantissa come from the bits, so a loop around it vectorises. ``y`` is clipped to [-110, 100],
    beyond which the float32 result is 0 or inf anyway.
    """
    bits: int = _bits(np.float64(r))  # type: ignore[call-arg]  # (numba intrinsics: typed by numba)
    k = (bits >> 52) - 1023
    m = _from_bits((bits & _MANTISSA) | _ONE_BITS)
    high = m > _SQRT2
    m = m * 0.5 if high else m
    k = k + 1 if high else k
    u = (m - 1.0) / (m + 1.0)
    u2 = u * u
    series = 1.0 + u2 * (1 / 3 + u2 * (1 / 5 + u2 * (1 / 7 + u2 * (1 / 9 + u2 * (1 / 11)))))
    y = e * (np.float64(k) * _LN2 + 2.0 * u * series)
    y = min(max(y, -110.0), 100.0)
    n = math.floor(y * (1 / _LN2) + 0.5)
    f = y - n * _LN2
    q = 1.0 + f * (1.0 + f * (1 / 2 + f * (1 / 6 + f * (1 / 24 + f * (1 / 120 + f * (1 / 720 + f * (
        1 / 5040 + f * (1 / 40320 + f * (1 / 362880 + f / 3628800)))))))))
    return np.float32(q * _from_bits((np.int64(n) + 1023) << 52))


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def explog_pow(r, e, out):
    """``out_i = r_i ** e`` by :func:`_explog` (float32 arrays, ``r > 0``, float64 ``e``); the tests' handle on it."""
    for i in range(r.shape[0]):
        out[i] = _explog(r[i], e)


@numba.njit(inline="always", fastmath=True, error_model="numpy")
def _ipow(r, k):
    """``r ** k`` for 1 <= k < 128 by repeated squaring (fixed trip count, so the caller's loop vectorises)."""
    out = np.float32(1)
    base = r
    for bit in range(7):
        if (k >> bit) & 1:
            out = out * base
        base = base * base
    return out


@numba.njit(inline="always", fastmath=True, error_model="numpy")
def _pair_sum(x, b, w, j, c, kind, e, k):
    """``sum_i (c |x_bi - w_ji|)^e``."""
    s = np.float32(0)  # float64 once added to float64 terms
    n = x.shape[1]
    if kind == ONE:
        for i in range(n):
            s += abs(x[b, i] - w[j, i]) * c
    elif kind == SQRT:
        for i in range(n):
            s += np.sqrt(abs(x[b, i] - w[j, i]) * c)
    elif kind == INT:
        for i in range(n):
            s += _ipow(abs(x[b, i] - w[j, i]) * c, k)
    elif kind == EXPLOG:
        e64 = np.float64(e)
        for i in range(n):
            s += _explog(abs(x[b, i] - w[j, i]) * c, e64)
    else:
        for i in range(n):
            s += (abs(x[b, i] - w[j, i]) * c) ** e
    return s


@numba.njit(nogil=True, fastmath=True, error_model="numpy", cache=True)
def _l1_tiles(x, w, out, j0, j1, b1):
    """``out[b, j] = sum_i |x_bi - w_ji|`` for ``b < b1``, ``j0 <= j < j1`` (``b1``, ``j1 - j0``: multiples of 4),
    in tiles of 4 x 4 pairs whose 16 sums stay in registers."""
    for j in range(j0, j1, 4):
        for b in range(0, b1, 4):
            # the zeros are constants: accumulators that start from a loaded value vectorise badly (2.5x slower)
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = np.float32(0)
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = np.float32(0)
            for i in range(x.shape[1]):
                x0, x1, x2, x3 = x[b, i], x[b + 1, i], x[b + 2, i], x[b + 3, i]
                w0, w1, w2, w3 = w[j, i], w[j + 1, i], w[j + 2, i], w[j + 3, i]
                s00 += abs(x0 - w0); s01 += abs(x0 - w1); s02 += abs(x0 - w2); s03 += abs(x0 - w3)  # noqa: E702
                s10 += abs(x1 - w0); s11 += abs(x1 - w1); s12 += abs(x1 - w2); s13 += abs(x1 - w3)  # noqa: E702
                s20 += abs(x2 - w0); s21 += abs(x2 - w1); s22 += abs(x2 - w2); s23 += abs(x2 - w3)  # noqa: E702
                s30 += abs(x3 - w0); s31 += abs(x3 - w1); s32 += abs(x3 - w2); s33 += abs(x3 - w3)  # noqa: E702
            out[b, j], out[b, j + 1], out[b, j + 2], out[b, j + 3] = s00, s01, s02, s03
            out[b + 1, j], out[b + 1, j + 1], out[b + 1, j + 2], out[b + 1, j + 3] = s10, s11, s12, s13
            out[b + 2, j], out[b + 2, j + 1], out[b + 2, j + 2], out[b + 2, j + 3] = s20, s21, s22, s23
            out[b + 3, j], out[b + 3, j + 1], out[b + 3, j + 2], out[b + 3, j + 3] = s30, s31, s32, s33


@numba.njit(nogil=True, fastmath=True, error_model="numpy", cache=True)
def lp_forward(x, w, p, kind, k, scaled, tiny, out, j0, j1):
    """``out[b, j] = d_p(x_b, w_j)`` for centres ``j0 <= j < j1``; ``kind, k`` from :func:`power_kind` of p;
    ``scaled`` for p > 8; ``tiny``: the smallest normal number (p, tiny: scalars of x's dtype)."""
    batch, features = x.shape
    one = np.float32(1)  # (p * 0 + 1 would be float64: numba promotes float32 + int to float64)
    inv_p = one / p
    if kind == ONE and not scaled:  # tiles of 4 x 4 pairs, then the rows and columns they leave over
        j_tiles, b_tiles = j0 + (j1 - j0) // 4 * 4, batch // 4 * 4
        _l1_tiles(x, w, out, j0, j_tiles, b_tiles)
        for j in range(j0, j1):
            for b in range(b_tiles if j < j_tiles else 0, batch):
                out[b, j] = _pair_sum(x, b, w, j, one, kind, p, k)
        return
    for j in range(j0, j1):
        for b in range(batch):
            if scaled:
                m = np.float32(0)
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


@numba.njit(inline="always", fastmath=True, error_model="numpy")
def _pair_grad(x, b, w, j, gx, gw, g, c, kind, e, k, floor):
    """``gx_b += g e`` and ``gw_j -= g e`` with ``e_i = sign(t_i) max(c |t_i|, floor)^e``, ``t = x_b - w_j``.

    One loop per kind, written out: with the power chosen inside a shared loop (an inlined dispatcher), numba took
    minutes to compile the kernels and LLVM no longer vectorised the integer and exp/log powers."""
    n = x.shape[1]
    if kind == ZERO:
        for i in range(n):
            t = x[b, i] - w[j, i]
            v = g if t > 0 else (-g if t < 0 else np.float32(0))
            gx[b, i] += v
            gw[j, i] -= v
    elif kind == SQRT:
        for i in range(n):
            t = x[b, i] - w[j, i]
            v = g * np.sqrt(max(abs(t) * c, floor))
            v = v if t > 0 else (-v if t < 0 else np.float32(0))
            gx[b, i] += v
            gw[j, i] -= v
    elif kind == RSQRT:
        for i in range(n):
            t = x[b, i] - w[j, i]
            v = g / np.sqrt(max(abs(t) * c, floor))
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
    elif kind == EXPLOG:
        e64 = np.float64(e)
        for i in range(n):
            t = x[b, i] - w[j, i]
            v = g * _explog(max(abs(t) * c, floor), e64)
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


@numba.njit(inline="always", fastmath=True, error_model="numpy")
def _signed(g, a, b):
    """``g sign(a - b)``."""
    return g * (np.float32(a > b) - np.float32(a < b))


@numba.njit(nogil=True, fastmath=True, error_model="numpy", cache=True)
def _l1_grad_tile(x, b, w, j, g, gx, gw):
    """p = 1 for the 4 x 4 pairs r, q < 4 of a tile:
    ``gx_(b+r) += sum_q G sign(t)``, ``gw_(j+q) -= sum_r G sign(t)``."""
    g00, g01, g02, g03 = g[b, j], g[b, j + 1], g[b, j + 2], g[b, j + 3]
    g10, g11, g12, g13 = g[b + 1, j], g[b + 1, j + 1], g[b + 1, j + 2], g[b + 1, j + 3]
    g20, g21, g22, g23 = g[b + 2, j], g[b + 2, j + 1], g[b + 2, j + 2], g[b + 2, j + 3]
    g30, g31, g32, g33 = g[b + 3, j], g[b + 3, j + 1], g[b + 3, j + 2], g[b + 3, j + 3]
    for i in range(x.shape[1]):
        x0, x1, x2, x3 = x[b, i], x[b + 1, i], x[b + 2, i], x[b + 3, i]
        w0, w1, w2, w3 = w[j, i], w[j + 1, i], w[j + 2, i], w[j + 3, i]
        v00, v01, v02, v03 = _signed(g00, x0, w0), _signed(g01, x0, w1), _signed(g02, x0, w2), _signed(g03, x0, w3)
        v10, v11, v12, v13 = _signed(g10, x1, w0), _signed(g11, x1, w1), _signed(g12, x1, w2), _signed(g13, x1, w3)
        v20, v21, v22, v23 = _signed(g20, x2, w0), _signed(g21, x2, w1), _signed(g22, x2, w2), _signed(g23, x2, w3)
        v30, v31, v32, v33 = _signed(g30, x3, w0), _signed(g31, x3, w1), _signed(g32, x3, w2), _signed(g33, x3, w3)
        gx[b, i] += v00 + v01 + v02 + v03
        gx[b + 1, i] += v10 + v11 + v12 + v13
        gx[b + 2, i] += v20 + v21 + v22 + v23
        gx[b + 3, i] += v30 + v31 + v32 + v33
        gw[j, i] -= v00 + v10 + v20 + v30
        gw[j + 1, i] -= v01 + v11 + v21 + v31
        gw[j + 2, i] -= v02 + v12 + v22 + v32
        gw[j + 3, i] -= v03 + v13 + v23 + v33


@numba.njit(nogil=True, fastmath=True, error_model="numpy", cache=True)
def lp_backward(x, w, g, c, e, kind, k, floor, gx, gw, j0, j1):
    """For centres ``j0 <= j < j1``: add their part of dL/dx to ``gx`` and write dL/dw into ``gw`` (both zeroed).

    ``g`` (B, N): the folded incoming gradient G; ``c`` (B, N) the scales (or a (1, 1) array of ones when every
    scale is 1); ``kind, k`` from :func:`power_kind` of ``e = p - 1``; ``floor``: smallest ``c |t|`` used.
    """
    unscaled = c.shape[0] == 1
    batch = x.shape[0]
    j_tiles, b_tiles = j0, 0
    if kind == ZERO:  # p = 1: tiles of 4 x 4 pairs, then the rows and columns they leave over
        j_tiles, b_tiles = j0 + (j1 - j0) // 4 * 4, batch // 4 * 4
        for j in range(j0, j_tiles, 4):
            for b in range(0, b_tiles, 4):
                _l1_grad_tile(x, b, w, j, g, gx, gw)
    for j in range(j0, j1):
        for b in range(b_tiles if j < j_tiles else 0, batch):
            gbj = g[b, j]
            if gbj != 0:
                cbj = c[0, 0] if unscaled else c[b, j]
                _pair_grad(x, b, w, j, gx, gw, gbj, cbj, kind, e, k, floor)

@numba.njit(nogil=True, fastmath=True, error_model="numpy", cache=True)
def lp_fold(grad, d, p, explog, folded, scale):
    """The backward's per-pair factors: ``folded = grad d^(1-p)`` for p < 2 (``grad`` itself above) and, for
    p >= 2, ``scale = 1 / d``; both 0 where ``d = 0`` (the subgradient at zero distance). In numba rather than
    torch: a torch elementwise op here wakes its OpenMP workers, which then spin on the cores the kernels use
    (l^1 forward + backward took 16 ms instead of 11). ``explog``: the power by :func:`_explog` (float32)."""
    e = np.float64(1.0) - np.float64(p)
    for b in range(d.shape[0]):
        for j in range(d.shape[1]):
            dbj = d[b, j]
            positive = dbj > 0
            if p >= 2:
                folded[b, j] = grad[b, j] if positive else grad[b, j] * 0
                scale[b, j] = 1 / dbj if positive else dbj * 0
            elif p == 1:
                folded[b, j] = grad[b, j] if positive else grad[b, j] * 0
            elif explog:
                folded[b, j] = grad[b, j] * _explog(dbj, e) if positive else grad[b, j] * 0
            else:
                folded[b, j] = grad[b, j] * dbj ** e if positive else grad[b, j] * 0


#: Parts of the centres per thread, taken by whichever thread is free (see ``cpu_threads.run_ranges``).
PARTS_PER_THREAD = 2

_SCRATCH = threading.local()


def _scratch(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A zeroed array of this thread's, reused between calls (the threads' partial dL/dx)."""
    buffer = getattr(_SCRATCH, "buffer", None)
    if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
        buffer = _SCRATCH.buffer = np.empty(shape, dtype=dtype)
    buffer.fill(0)
    return buffer


class LpDistanceCPU(torch.autograd.Function):
    """``d_bj = (sum_i |x_bi - w_ji|^p)^(1/p)`` for contiguous CPU float tensors, with the backward above
    (the same formulas, subgradients and scaling as :class:`nngeom.metric.distances._LpDistance`)."""

    @staticmethod
    def forward(ctx, x, centres, p):
        dtype = x.detach().numpy().dtype.type
        out = x.new_empty(x.shape[0], centres.shape[0])
        kind, k = power_kind(p, dtype)
        args = (x.detach().numpy(), centres.detach().numpy(), dtype(p), kind, k, p > 8.0,
                dtype(torch.finfo(x.dtype).tiny), out.numpy())
        n = centres.shape[0]
        run_ranges(lp_forward, n, lambda part: args, PARTS_PER_THREAD * parts_for(n), align=4)
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
        dtype = x.numpy().dtype.type
        d_np = d.numpy()
        folded = np.empty_like(d_np)
        scale = np.empty_like(d_np) if p >= 2.0 else np.ones((1, 1), dtype=dtype)
        lp_fold(np.ascontiguousarray(grad.numpy()), d_np, dtype(p), dtype is np.float32, folded, scale)
        parts = min(PARTS_PER_THREAD * parts_for(centres.shape[0]), -(-centres.shape[0] // 4))
        gx_parts = _scratch((parts, *x.shape), dtype)
        gw = np.empty(centres.shape, dtype=dtype)
        gw.fill(0)  # (np.zeros: fresh zero pages, faulted by both kernel threads at once: 8 ms at 256 x 784 -> 500)
        kind, k = power_kind(p - 1.0, dtype)  # e = p - 1
        floor = torch.finfo(x.dtype).tiny if p < 1.0 else 0.0
        args = (x.numpy(), centres.numpy(), folded, scale, dtype(p - 1.0), kind, k, dtype(floor))
        run_ranges(lp_backward, centres.shape[0], lambda part: (*args, gx_parts[part], gw), parts, align=4)
        gx = torch.from_numpy(gx_parts.sum(0)) if ctx.needs_input_grad[0] else None
        return gx, torch.from_numpy(gw) if ctx.needs_input_grad[1] else None, None
