"""A cache for expensive artefacts (trained weights, embeddings), shared by a document's notebooks.

``cached(name, key, make)`` returns ``make()``'s result, computed once per
distinct ``key`` (every setting that shapes the artefact) and per version of
the ``nngeom`` sources. Files live in ``_build/cache/<name>-<hash>.pt``, are
written atomically (temporary file + rename) and read with
``torch.load(..., weights_only=True)``: tensors, numbers, strings and plain
containers only. ``$NNGEOM_CACHE=off`` disables it.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch

from .runtime import build_dir

PACKAGE_DIR = Path(__file__).resolve().parent


def source_hash() -> str:
    """SHA-256 over every ``.py`` file of the nngeom package (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def key_hash(key: Any) -> str:
    """Stable short hash of a JSON-serialisable key plus the package source hash."""
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256((text + source_hash()).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    return build_dir() / "cache"


def enabled() -> bool:
    return os.environ.get("NNGEOM_CACHE", "on").lower() not in {"off", "0", "false", "no"}


def cached(name: str, key: Any, make: Callable[[], Any]) -> Any:
    """Load ``name`` for ``key`` from the cache, or call ``make()`` and store its result."""
    if not enabled():
        return make()
    path = cache_dir() / f"{name}-{key_hash(key)}.pt"
    if path.is_file():
        return torch.load(path, map_location="cpu", weights_only=True)
    value = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(value, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return value
