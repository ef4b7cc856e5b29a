"""Run a GIL-releasing (numba ``nogil``) kernel on ``torch.get_num_threads()`` threads over ranges of an axis.

``run_ranges(kernel, n, args)`` calls ``kernel(*args(part), start, stop)`` for contiguous ranges that cover
``range(n)``, one per thread by default (the calling thread is one of them), and waits for all of them. Used by
:mod:`nngeom.metric.lp_kernels` and :mod:`nngeom.umap.sgd`; a persistent pool keeps the per-call cost to tens of
microseconds.
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


def run_ranges(kernel: Callable[..., object], n: int, args: Callable[[int], tuple], parts: int | None = None,
               align: int = 1) -> None:
    """``kernel(*args(part), start, stop)`` for ``parts`` (default ``parts_for(n)``) contiguous ranges of
    ``range(n)``, whose inner bounds are multiples of ``align``, on ``torch.get_num_threads()`` threads.

    With more parts than threads, each thread takes the next part when it finishes one, so that a core shared with
    another process's (or torch's spinning OpenMP) thread does less of the work; results stay deterministic as
    long as each part writes its own output (``args(part)``).
    """
    parts = parts_for(n) if parts is None else max(1, min(parts, n))
    threads = min(parts, torch.get_num_threads())
    bounds = [min(n, -(-(n * t // parts) // align) * align) for t in range(parts)] + [n]
    todo = iter(range(parts))  # shared by the threads; taking the next item holds the GIL, so each part runs once

    def drain() -> None:
        for t in todo:
            kernel(*args(t), bounds[t], bounds[t + 1])

    if threads == 1:
        drain()
        return
    if not _POOL or _POOL[0]._max_workers < threads - 1:
        _POOL[:] = [concurrent.futures.ThreadPoolExecutor(threads - 1, thread_name_prefix="nngeom-cpu")]
    futures = [_POOL[0].submit(drain) for _ in range(threads - 1)]
    drain()  # the calling thread works too
    for future in futures:
        future.result()
