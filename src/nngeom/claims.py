"""The reproduction ledger: every number, ordering or statement a notebook checks against a document.

``claim(id, statement, paper, ours, check)`` records one row: the document's
value (``paper``), the value this run computed (``ours``), the check that
compares them and its verdict. Rows go to ``_build/claims/<section>.json``; the
report page gathers them. ``paper`` is never used as ``ours``.

Verdicts: ``reproduced`` (the check passes), ``differs`` (it fails) and
``not judged at this profile`` (the claim is only judged at scales where the
document's setting is approached; by default ``cpu`` and ``paper``).
"""
from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .runtime import build_dir

REPRODUCED, DIFFERS, NOT_JUDGED = "reproduced", "differs", "not judged at this profile"

_state: dict[str, Any] = {"section": None, "profile": "cpu", "rows": {}}


@dataclass(frozen=True)
class Check:
    """A named comparison ``ok(ours, paper, ledger) -> bool``."""

    describe: str
    ok: Callable[[Any, Any, dict], bool]


def _number(value: Any) -> float:
    if isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "item"):
        return float(value.item())
    raise TypeError(f"expected a number, got {value!r}")


def within(tol: float, relative: bool = False) -> Check:
    """|ours - paper| <= tol (or tol * |paper| when relative)."""
    def ok(ours, paper, _):
        bound = tol * abs(_number(paper)) if relative else tol
        return abs(_number(ours) - _number(paper)) <= bound
    return Check(f"within {tol:g}{' x |paper|' if relative else ''} of paper", ok)


def at_least(threshold: float) -> Check:
    """ours >= threshold."""
    return Check(f">= {threshold:g}", lambda ours, paper, _: _number(ours) >= threshold)


def at_most(threshold: float) -> Check:
    """ours <= threshold."""
    return Check(f"<= {threshold:g}", lambda ours, paper, _: _number(ours) <= threshold)


def between(low: float, high: float) -> Check:
    """low <= ours <= high."""
    return Check(f"in [{low:g}, {high:g}]", lambda ours, paper, _: low <= _number(ours) <= high)


def _reference(other, ledger, name: str) -> float:
    if isinstance(other, str):
        if other not in ledger:
            raise KeyError(f"{name}({other!r}): no such claim recorded yet in this notebook")
        return _number(ledger[other]["ours"])
    return _number(other)


def _describe(other) -> str:
    return f"claim {other}" if isinstance(other, str) else f"{_number(other):.4g}"


def greater_than(other, margin: float = 0.0) -> Check:
    """ours > other + margin; ``other`` is a number computed by the notebook or the id of an earlier claim."""
    def ok(ours, paper, ledger):
        return _number(ours) > _reference(other, ledger, "greater_than") + margin
    return Check(f"> {_describe(other)}" + (f" + {margin:g}" if margin else ""), ok)


def less_than(other, margin: float = 0.0) -> Check:
    """ours < other - margin; ``other`` is a number computed by the notebook or the id of an earlier claim."""
    def ok(ours, paper, ledger):
        return _number(ours) < _reference(other, ledger, "less_than") - margin
    return Check(f"< {_describe(other)}" + (f" - {margin:g}" if margin else ""), ok)


def order(names: list[str], descending: bool = True) -> Check:
    """``ours`` is a mapping name -> value whose values follow ``names`` in (descending) order."""
    def ok(ours, paper, _):
        values = [_number(ours[n]) for n in names]
        pairs = zip(values, values[1:])
        return all(a >= b for a, b in pairs) if descending else all(a <= b for a, b in pairs)
    sign = " >= " if descending else " <= "
    return Check("order " + sign.join(names), ok)


def holds(condition: bool, describe: str = "holds") -> Check:
    """A qualitative statement whose truth the notebook computed (``condition``)."""
    value = bool(condition)
    return Check(describe, lambda ours, paper, _: value)


def equals(expected: Any) -> Check:
    """ours == expected (labels, classifications)."""
    return Check(f"== {expected!r}", lambda ours, paper, _: ours == expected)


def _plain(value: Any) -> Any:
    """JSON-friendly copy of numbers, arrays, tensors and containers."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def claims_dir() -> Path:
    return build_dir() / "claims"


def start_section(settings) -> None:
    """Begin a fresh ledger for the notebook whose settings were just resolved."""
    section = settings.section or os.environ.get("NNGEOM_SECTION") or "adhoc/notebook"
    _state.update(section=section, profile=settings.profile, rows={})
    _write()


def _write() -> None:
    path = claims_dir() / f"{_state['section']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"section": _state["section"], "profile": _state["profile"], "claims": list(_state["rows"].values())}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=1)
    os.replace(tmp, path)


def claim(id: str, statement: str, ours: Any, check: Check, paper: Any = None,
          judged_at: tuple[str, ...] = ("cpu", "paper"), note: str = "") -> dict:
    """Record one reproduction claim and return its row (also printed)."""
    if not isinstance(check, Check):
        raise TypeError("check must be a Check (within, at_least, at_most, between, greater_than, "
                        "less_than, order, holds, equals)")
    passed = bool(check.ok(ours, paper, _state["rows"]))
    judged = _state["profile"] in judged_at
    row = {
        "id": id, "statement": statement, "paper": _plain(paper), "ours": _plain(ours),
        "check": check.describe, "passed": passed, "profile": _state["profile"],
        "judged_at": list(judged_at), "verdict": (REPRODUCED if passed else DIFFERS) if judged else NOT_JUDGED,
        "note": note,
    }
    _state["rows"][id] = row
    _write()
    shown = f"{row['ours']:.4g}" if isinstance(row["ours"], float) else repr(row["ours"])
    print(f"[{row['verdict']}] {id}: {statement} | paper={row['paper']!r} ours={shown} ({check.describe})")
    return row


def load_all(root: Path | None = None) -> list[dict]:
    """Every recorded claim under ``<root>/_build/claims`` with its section."""
    base = (root / "_build" / "claims") if root else claims_dir()
    rows = []
    for path in sorted(base.rglob("*.json")):
        data = json.loads(path.read_text())
        for row in data.get("claims", []):
            rows.append({"section": data["section"], **row})
    return rows
