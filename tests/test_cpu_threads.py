"""nngeom.cpu_threads.run_ranges: the parts cover range(n) once each, with aligned inner bounds, on every thread."""
import threading

import numpy as np
import pytest
import torch

from nngeom.cpu_threads import parts_for, run_ranges


@pytest.mark.parametrize("n, parts, align", [(10, None, 1), (500, 4, 4), (7, 4, 4), (3, 8, 1), (1, None, 4)])
def test_parts_cover_the_range_once_with_aligned_bounds(n, parts, align):
    seen, calls, lock = np.zeros(n, dtype=int), [], threading.Lock()

    def kernel(part, start, stop):
        with lock:
            calls.append((part, start, stop))
            seen[start:stop] += 1

    run_ranges(kernel, n, lambda part: (part,), parts, align)
    expected = parts_for(n) if parts is None else min(parts, n)
    assert sorted(part for part, _, _ in calls) == list(range(expected))  # each part exactly once
    assert np.all(seen == 1)
    starts = sorted(start for _, start, stop in calls if stop > start)  # (parts past the end are empty)
    assert all(start % align == 0 for start in starts)
    assert starts[0] == 0 and max(stop for _, _, stop in calls) == n


def test_more_parts_than_threads_use_every_thread_and_the_caller(monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    names, barrier = set(), threading.Barrier(2, timeout=10)

    def kernel(part, start, stop):
        names.add(threading.current_thread().name)
        if part < 2:
            barrier.wait()  # the first two parts run at the same time, on two threads

    run_ranges(kernel, 100, lambda part: (part,), parts=6, align=4)
    assert threading.current_thread().name in names and len(names) == 2
