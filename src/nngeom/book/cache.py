"""A cache for expensive artefacts (trained weights, embeddings), shared by a document's notebooks.

``cached(name, build, **arguments)`` returns ``build(**arguments)``, computed once
per distinct set of arguments: the key *is* the call, so a setting cannot shape
the artefact without also being part of its key. The key also holds the
builder's qualified name and a hash of the ``nngeom`` sources the builder's
module imports, transitively (a builder defined in a notebook depends on the
whole package and on its own source text). Arguments must be plain JSON (numbers, strings, booleans, None,
lists and string-keyed dicts): anything else raises ``TypeError`` rather than
being stringified into a key that could collide.

Files live in ``_build/cache/<name>-<hash>.pt``, are written atomically
(temporary file + rename) under a per-entry lock (two notebooks run in
parallel never build the same artefact twice), and are read with
``torch.load(..., weights_only=True)``: tensors, numbers, strings and plain
containers only. A truncated entry counts as absent and is rebuilt.
``$NNGEOM_CACHE=off`` disables the cache.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import json
import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

import torch

from . import precision
from .imports import PACKAGE, closure_hash
from .runtime import build_dir

__all__ = ["cache_dir", "cached", "enabled", "key_hash", "plain_json", "source_hash"]


def plain_json(value: Any, where: str = "argument") -> Any:
    """``value`` itself when it is plain JSON; else ``TypeError`` naming the offending part."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TypeError(f"cache key {where} is {value!r}: not plain JSON")
        return value
    if isinstance(value, (list, tuple)):
        return [plain_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise TypeError(f"cache key {where} has a non-string key {k!r}")
        return {k: plain_json(v, f"{where}.{k}") for k, v in value.items()}
    raise TypeError(f"cache key {where} is a {type(value).__name__} ({value!r:.60}): cache keys are plain JSON "
                    f"(numbers, strings, booleans, None, lists, dicts); pass the settings that build it instead")


def source_hash(builder: Callable | None = None) -> str:
    """Hash of the ``nngeom`` sources ``builder``'s module imports, transitively.

    A builder defined outside the package (in a notebook) depends on the whole package and on its own source
    text, so that editing a literal inside it (a weight decay, say) builds a new artefact.
    """
    module = getattr(builder, "__module__", None) or ""
    if module.startswith(PACKAGE + "."):
        return closure_hash({module})
    try:  # IPython keeps the source of functions defined in cells
        own = inspect.getsource(builder) if builder is not None else ""
    except (OSError, TypeError):
        own = ""
    return _package_hash() + hashlib.sha256(own.encode()).hexdigest()


def _package_hash() -> str:
    from .imports import PACKAGE_DIR

    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def key_hash(name: str, builder: Callable, arguments: dict) -> str:
    """Stable short hash of the call ``builder(**arguments)`` and the sources it depends on."""
    call = {"name": name, "builder": f"{getattr(builder, '__module__', '?')}.{getattr(builder, '__qualname__', '?')}",
            "arguments": plain_json(arguments)}
    if arithmetic := precision.mode():  # bf16 / compiled training: never the answer to a default request
        call["arithmetic"] = arithmetic
    text = json.dumps(call, sort_keys=True) + source_hash(builder)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_dir() -> Path:
    """``$NNGEOM_CACHE_DIR`` (a dry run's own cache), else ``_build/cache``."""
    chosen = os.environ.get("NNGEOM_CACHE_DIR")
    return Path(chosen) if chosen else build_dir() / "cache"


def enabled() -> bool:
    return os.environ.get("NNGEOM_CACHE", "on").lower() not in {"off", "0", "false", "no"}


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load(path: Path) -> tuple[bool, Any]:
    if not path.is_file():
        return False, None
    try:
        return True, torch.load(path, map_location="cpu", weights_only=True)
    except (EOFError, RuntimeError, zipfile.BadZipFile, pickle.UnpicklingError) as error:
        if "weights_only" in str(error) or "Unsupported global" in str(error):
            raise  # not truncated: an entry holding objects that are not plain data is never loaded
        path.unlink(missing_ok=True)  # truncated or corrupt: rebuild
        return False, None


def cached(name: str, build: Callable[..., Any], /, *positional: Any, **arguments: Any) -> Any:
    """``build(**arguments)``, loaded from the cache when this exact call was made before."""
    if positional or not callable(build):
        raise TypeError(f"cached({name!r}, build, ...): build must be a function, got {type(build).__name__} "
                        f"(the key is built from the call: cached(name, function, **arguments))")
    if not enabled():
        return build(**arguments)
    path = cache_dir() / f"{name}-{key_hash(name, build, arguments)}.pt"
    with _locked(path):
        found, value = _load(path)
        if found:
            return value
        value = build(**arguments)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            torch.save(value, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return value
