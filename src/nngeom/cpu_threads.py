"""Run a GIL-releasing (numba ``nogil``) kernel on ``torch.get_num_threads()`` threads over ranges of an axis.

``run_ranges(kernel, n, args)`` calls ``kernel(*args(part), start, stop)`` for contiguous ranges that cover
``range(n)``, one per thread, and waits for all of them. Used by :mod:`nngeom.metric.lp_kernels` and
:mod:`nngeom.umap.sgd`; a persistent pool keeps the per-call cost to tens of microseconds.
"""
from __future__ import annotations

import concurrent.futures
from typing import Callable

import torch

__all__ = ["parts_for", "run_ranges"]

_POOL: list[concurrent.futures.ThreadPoolExecutor] = []


def parts_for(n: int) -> int:
    """Number of ranges ``run_ranges`` uses for n items."""
    return max(1, min(torch.get_num_threads(), n))


def run_ranges(kernel: Callable[..., object], n: int, args: Callable[[int], tuple]) -> None:
    """``kernel(*args(part), start, stop)`` for ``parts_for(n)`` contiguous ranges of ``range(n)``, in parallel."""
    parts = parts_for(n)
    if parts == 1:
        kernel(*args(0), 0, n)
        return
    if not _POOL or _POOL[0]._max_workers < parts:
        _POOL[:] = [concurrent.futures.ThreadPoolExecutor(parts, thread_name_prefix="nngeom-cpu")]
    bounds = [n * t // parts for t in range(parts + 1)]
    futures = [_POOL[0].submit(kernel, *args(t), bounds[t], bounds[t + 1]) for t in range(parts)]
    for future in futures:
        future.result()
