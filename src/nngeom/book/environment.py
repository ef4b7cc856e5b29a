"""What a result was computed with: library versions, the commit, the device, the float32 matmul mode.

`versions()` and `provenance()` are recorded with every ledger and shown on
every page; `fingerprint()` is the part of them that decides whether an
executed notebook is still current (the runner's stamps): a new torch, another
kind of device or another verdict of the fast float32 matmul calibration
re-executes the notebooks.
"""
from __future__ import annotations

import datetime
import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

__all__ = ["commit", "device_kind", "fingerprint", "LIBRARIES", "provenance", "versions"]

LIBRARIES = ("torch", "torchvision", "numpy", "scipy", "umap-learn", "foolbox")


def versions() -> dict[str, str]:
    """Installed versions of the libraries a result depends on (``missing`` when absent)."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


@functools.lru_cache(maxsize=None)
def commit(root: str | None = None) -> str:
    """Short commit of the book's repository, with ``+changes`` when the tree is dirty; ``unknown`` outside git."""
    where = root or os.environ.get("NNGEOM_ROOT") or str(Path.cwd())
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_kind() -> str:
    """``cpu`` or the CUDA device's name, as `nngeom.device()` would choose."""
    import torch

    from .runtime import device

    chosen = device()
    if chosen.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(chosen)})"
    return f"{chosen.type} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def fingerprint() -> dict[str, str]:
    """The environment facts that invalidate an executed notebook: torch, device kind, fast-matmul verdict, and
    the opt-in arithmetic of `precision` when set."""
    from ..robustness import fast_matmul  # a probe of this machine's float32 arithmetic, not a science module
    from .precision import mode

    return {"torch": versions()["torch"], "device": device_kind(),
            "fast_matmul": "split-bf16" if fast_matmul.split_bf16_available() else "ieee-float32", **mode()}


def provenance() -> dict:
    """Everything recorded beside a ledger: date, commit, device, versions, fast-matmul mode."""
    return {"date": datetime.date.today().isoformat(), "commit": commit(), **fingerprint(),
            "versions": versions()}
