"""Opt-in faster arithmetic for the training loop: bfloat16 autocast and ``torch.compile``.

Two environment variables, both off by default, meant for the ``paper`` profile on a GPU:

* ``NNGEOM_PRECISION=bf16``: `train.fit_classifier` runs every batch's forward pass and objective under
  ``torch.autocast(device, dtype=torch.bfloat16)``. Matrix products and convolutions then round their inputs to
  bfloat16 (8 significant bits, relative rounding 2^-9 = 0.2 %); reductions, softmax and losses stay in float32,
  and so do the parameters, the gradients' accumulation and the optimizer's state. The distance layers of
  *Metric as Transform* opt out (`metric.distances.pairwise_distance` computes in float32 inside autocast): the
  l^2 distance ``|x|^2 + |w|^2 - 2 x.w`` cancels catastrophically near a centre, where the local neurons of
  sec. 3 live, so a bfloat16 product there would change what the claims measure.
* ``NNGEOM_COMPILE=1``: the model's forward pass in `train.fit_classifier` goes through ``torch.compile`` (the
  inductor backend; on the CPU it needs a C compiler). Evaluation and everything outside the training loop run
  the plain model.

Both change results in the last bits (bfloat16 far more than that), so when set they are part of every cache key
(`cache.key_hash`) and of the environment fingerprint that decides whether an executed notebook is current: a
model trained in bfloat16 never answers a float32 request. Neither has been validated against the claims at the
documents' scale (no GPU was available to the book's authors); `tests/test_precision.py` bounds the error of one
training run, and the README says which notebooks are expected to tolerate them.
"""
from __future__ import annotations

import contextlib
import os
from typing import Callable

import torch
from torch import nn

__all__ = ["autocast", "compiled_forward", "mode", "PRECISIONS"]

PRECISIONS = ("float32", "bf16")


def _precision() -> str:
    value = os.environ.get("NNGEOM_PRECISION", "float32").strip() or "float32"
    if value not in PRECISIONS:
        raise ValueError(f"NNGEOM_PRECISION must be one of {', '.join(PRECISIONS)}, got {value!r}")
    return value


def _compile() -> bool:
    value = os.environ.get("NNGEOM_COMPILE", "0").strip() or "0"
    if value not in ("0", "1"):
        raise ValueError(f"NNGEOM_COMPILE must be 0 or 1, got {value!r}")
    return value == "1"


def mode() -> dict[str, str]:
    """The non-default arithmetic of this run (empty by default, so default keys and stamps never change)."""
    chosen = {}
    if _precision() != "float32":
        chosen["precision"] = _precision()
    if _compile():
        chosen["compile"] = "inductor"
    return chosen


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """``torch.autocast(device.type, bfloat16)`` under ``NNGEOM_PRECISION=bf16``; else a context that does nothing."""
    if _precision() == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def compiled_forward(model: nn.Module) -> Callable[..., torch.Tensor] | nn.Module:
    """``torch.compile(model)`` under ``NNGEOM_COMPILE=1`` (it shares the model's parameters); else the model."""
    return torch.compile(model) if _compile() else model
