"""Float32 matrix products on the CPU through oneDNN's split-bfloat16 mode, used only where verified accurate.

Since PyTorch 2.9, ``torch.backends.mkldnn.matmul.fp32_precision = "bf16"`` lets oneDNN compute a
float32 matmul with bfloat16 arithmetic and float32 output. On CPUs with AVX512-BF16 the oneDNN of
this project's torch keeps nearly float32 accuracy, as a split algorithm would (each operand a sum
of bfloat16 terms, hi + lo; measured, not documented), at about twice the speed (AMD EPYC,
1000 x 3072 @ 3072 x 2000: 26 ms against 59 ms; rms error 1.8e-5 against 8.3e-6 for IEEE float32
and 7e-2 for plain bfloat16 inputs).

How a given machine's oneDNN implements the mode is not documented, so `split_bf16_available`
measures it once on a calibration product and the fast path is taken only when its error is within
``TOLERANCE`` times the IEEE float32 error; elsewhere (no AVX512-BF16, a single-pass bf16 kernel,
an older torch, CUDA tensors) `fast_float32_matmul` changes nothing.
"""
from __future__ import annotations

import contextlib
import functools

import torch

__all__ = ["calibration", "fast_float32_matmul", "split_bf16_available", "TOLERANCE"]

TOLERANCE = 8.0  # accepted rms error, in units of the IEEE float32 rms error (plain bf16 is ~5000x)


def _precision_flag():
    matmul = getattr(getattr(torch.backends, "mkldnn", None), "matmul", None)
    return matmul if matmul is not None and hasattr(matmul, "fp32_precision") else None


@contextlib.contextmanager
def _flag(value: str):
    flag = _precision_flag()
    previous = flag.fp32_precision
    flag.fp32_precision = value
    try:
        yield
    finally:
        flag.fp32_precision = previous


@functools.lru_cache(maxsize=1)
def calibration() -> dict:
    """rms errors against float64 of IEEE float32 and of the split-bf16 mode on one 512 x 1024 @ 1024 x 512 product."""
    flag = _precision_flag()
    if flag is None or not torch.backends.mkldnn.is_available():
        return {"available": False, "reason": "this torch has no oneDNN fp32_precision switch"}
    g = torch.Generator().manual_seed(0)
    a = torch.rand(512, 1024, generator=g)
    b = torch.randn(1024, 512, generator=g)
    exact = a.double() @ b.double()
    with _flag("ieee"):
        ieee = a @ b
    try:
        with _flag("bf16"):
            fast = a @ b
    except RuntimeError as error:  # a oneDNN without bf16 support may refuse the mode
        return {"available": False, "reason": f"bf16 mode refused: {error}"}
    e_ieee, e_fast = (float((r.double() - exact).pow(2).mean().sqrt()) for r in (ieee, fast))
    if torch.equal(fast, ieee):
        reason = "bf16 mode computes exactly what IEEE float32 does (no bf16 kernel here)"
    elif e_fast > TOLERANCE * e_ieee:
        reason = f"bf16-mode rms error {e_fast:.2e} exceeds {TOLERANCE:g} x the IEEE float32 error {e_ieee:.2e}"
    else:
        reason = ""
    return {"available": not reason, "rms_ieee": e_ieee, "rms_split_bf16": e_fast, "reason": reason}


def split_bf16_available() -> bool:
    """Whether this machine's oneDNN computes float32 matmuls in bf16 mode within ``TOLERANCE`` of IEEE float32."""
    return calibration()["available"]


@contextlib.contextmanager
def fast_float32_matmul(enabled: bool = True):
    """Run the float32 CPU matmuls inside the block in split-bf16 mode when `split_bf16_available`; else as they are."""
    if enabled and split_bf16_available():
        with _flag("bf16"):
            yield
    else:
        yield
