"""Dry runs: the documents' full-size settings with every long loop stopped after a few steps.

The library's long loops (training epochs and batches, the local rule's epochs,
UMAP's layout epochs, attack iterations, geodesic and centre searches) and the
notebooks' sweeps over seeds and configurations iterate through `loop`. In an
ordinary run it yields everything and costs nothing. In a dry run
(``$NNGEOM_DRY_RUN`` = the number of steps to keep, set by
``python -m nngeom run --dry-run``) it yields only the first steps, times them,
counts their floating-point operations (one `torch.utils.flop_counter`
counter for the whole kernel), and appends one JSON line per loop to
``$NNGEOM_DRY_RUN_LOG``: the steps the full run would take, the steps run, the
seconds and FLOPs they took, and the same extrapolated to the full loop.

Extrapolation composes through nesting. For a loop that ran k of its K steps
in time T, of which its inner loops took t_run and are estimated at t_full::

    estimate = K / k * (T - t_run + t_full)

and likewise for FLOPs, so an epoch loop whose batch loop was cut too is
estimated at (epochs x batches) steps, not at the few batches it ran.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["count_flops", "dry_run_steps", "flop_counter", "is_dry_run", "loop", "start_flop_counter"]

_T = TypeVar("_T")
_stack: list[dict] = []
_counter: dict[str, Any] = {"mode": None, "extra": 0.0}


def dry_run_steps() -> int | None:
    """Steps each loop keeps in a dry run (``$NNGEOM_DRY_RUN``), None in an ordinary run."""
    value = os.environ.get("NNGEOM_DRY_RUN", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def is_dry_run() -> bool:
    return dry_run_steps() is not None


def _cdist_flops(x1_shape, x2_shape, *args, out_shape=None, **kwargs) -> int:
    """``torch.cdist``: a difference, a power and a sum per pair and feature (3 FLOPs; the counter has none)."""
    *batch, rows, features = x1_shape
    count = 3 * rows * x2_shape[-2] * features
    for size in batch:
        count *= size
    return count


def _cdist_backward_flops(grad_shape, x1_shape, x2_shape, *args, out_shape=None, **kwargs) -> int:
    """The gradient of one input (autograd calls it once per input): as many operations as the forward."""
    return _cdist_flops(x1_shape, x2_shape)


def start_flop_counter() -> None:
    """Count FLOPs for the rest of this process (dry runs only; entered once, at ``import nngeom``).

    `torch.utils.flop_counter` counts matrix products and convolutions; ``torch.cdist`` is added here, and the
    l^p distance layers, whose elementwise and numba kernels it cannot see, report theirs with `count_flops`.
    """
    if _counter["mode"] is not None or not is_dry_run():
        return
    mode = flop_counter()
    mode.__enter__()
    _counter["mode"] = mode


class _GlobalTotalsOnly:
    """Stands in for the counter's module tracker: every FLOP goes to "Global", and no module hook is installed.

    The tracker's backward hooks break ``torch.autograd.grad`` with respect to a leaf that is a module's input
    (``_will_engine_execute_node``: "A leaf node was passed ..."), which every input gradient and attack does; the
    dry run needs only the total.
    """

    parents = frozenset({"Global"})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def flop_counter():
    """A `torch.utils.flop_counter.FlopCounterMode` counting totals only, with ``torch.cdist`` added."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    aten = torch.ops.aten
    mode = FlopCounterMode(display=False, custom_mapping={aten._cdist_forward: _cdist_flops,
                                                          aten._cdist_backward: _cdist_backward_flops})
    mode.mod_tracker = _GlobalTotalsOnly()  # type: ignore[assignment]
    return mode


def count_flops(flops: float) -> None:
    """Add FLOPs the counter cannot see (an elementwise or compiled kernel); nothing outside a dry run."""
    if _counter["mode"] is not None:
        _counter["extra"] += float(flops)


def _flops() -> float:
    mode = _counter["mode"]
    return float(mode.get_total_flops()) + _counter["extra"] if mode is not None else 0.0


def _log(record: dict) -> None:
    path = os.environ.get("NNGEOM_DRY_RUN_LOG")
    if not path:
        return
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")


def loop(iterable: Iterable[_T], name: str, total: int | None = None) -> Iterator[_T]:
    """Iterate over ``iterable``; in a dry run only over its first steps, recording what the full loop costs.

    ``total`` gives the full number of steps when ``iterable`` has no ``len``.
    """
    keep = dry_run_steps()
    if keep is None:
        yield from iterable
        return
    full = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)  # type: ignore[arg-type]
    frame = {"children_run_s": 0.0, "children_full_s": 0.0, "children_run_flops": 0.0, "children_full_flops": 0.0}
    _stack.append(frame)
    start, flops0, ran = time.perf_counter(), _flops(), 0
    try:
        for item in iterable:
            if ran >= keep:
                break
            ran += 1
            yield item
    finally:
        _stack.pop()
        seconds, flops = time.perf_counter() - start, _flops() - flops0
        steps = full if full is not None else ran
        scale = steps / ran if ran else 0.0
        est_s = scale * (seconds - frame["children_run_s"] + frame["children_full_s"])
        est_flops = scale * (flops - frame["children_run_flops"] + frame["children_full_flops"])
        if _stack:
            parent = _stack[-1]
            parent["children_run_s"] += seconds
            parent["children_full_s"] += est_s
            parent["children_run_flops"] += flops
            parent["children_full_flops"] += est_flops
        _log({"loop": name, "depth": len(_stack), "steps_full": steps, "steps_run": ran, "seconds_run": seconds,
              "flops_run": flops, "seconds_full": est_s, "flops_full": est_flops,
              "seconds_per_step": (seconds / ran) if ran else 0.0})
