"""Devices, seeds and the project's folders.

`device()` picks CUDA when it exists (never a hard-coded ``cuda:0``);
`seed_everything(seed)` makes CPU runs repeat exactly; `project_root()` and
`build_dir()` locate the book so that notebooks, the runner and the tests agree
on where claims, caches and timings live.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

__all__ = ["apply_thread_limit", "build_dir", "device", "project_root", "ROOT_MARKERS", "seed_everything"]

ROOT_MARKERS = ("_toc.yml", "_config.yml")


def apply_thread_limit() -> None:
    """Use ``$NNGEOM_THREADS`` CPU threads (the runner sets cores / jobs for each parallel notebook)."""
    threads = os.environ.get("NNGEOM_THREADS")
    if threads and threads.isdigit() and int(threads) > 0:
        torch.set_num_threads(int(threads))


def device(prefer: str | None = None) -> torch.device:
    """The device to compute on: ``$NNGEOM_DEVICE``, else CUDA when available, else CPU."""
    choice = prefer or os.environ.get("NNGEOM_DEVICE")
    if choice:
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if os.environ.get("NNGEOM_DEVICE_CHECK"):
        return torch.device("cpu", 0)  # nngeom.book.device_check: the compute device, told apart from "cpu"
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); returns a torch generator seeded alike."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


def project_root(start: Path | str | None = None) -> Path:
    """The book's root: ``$NNGEOM_ROOT``, else the nearest folder above ``start`` holding ``_toc.yml``."""
    env = os.environ.get("NNGEOM_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return here


def build_dir() -> Path:
    """``<root>/_build``: claims, caches, timings and the HTML book."""
    return project_root() / "_build"
