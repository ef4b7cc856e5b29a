"""The reproduction ledger: what the documents claim, what this run computed, and whether it holds.

``claim(id, statement, ours=..., check=..., paper=..., kind=..., source=..., cause=..., note=...)``
records one row. Two kinds:

* ``kind="document"``: something the document states (a number, an ordering, a
  qualitative statement). It needs ``source=`` (section, table / figure /
  equation, and where the document says it in words a quotation of at most 25
  words). A source that starts with ``authors' code`` or ``other paper`` marks a
  value that is not in the document's text; the report lists those apart.
* ``kind="check"``: verifies our code, an identity, a theorem or a construction
  of the book. Shown, never counted as reproduction.

A document claim whose check is a hand-picked threshold (`checks.within`,
`checks.at_least`, ...) must give the threshold's reason in ``note``. A judged
claim that fails (a document claim or a check) gets a ``cause``: one of ``scale``,
``reconstruction``, ``disagreement`` or ``open``, followed by ``: <why>``;
a notebook passes the cause it expects should the claim fail, and a failure
with none recorded is filed as ``open``.

Verdicts: ``reproduced`` (the check passes), ``differs`` (it fails) and ``not
judged at this profile`` (by default a claim is judged at ``cpu`` and
``paper``). The ledger of a notebook starts with its first claim (or with
`start`), from the settings the notebook resolved. Rows go to
``<ledger dir>/<document>/<notebook>.json``: the runner points the ledger dir at
the book's ``_build/claims`` (or at a run folder for runs with overrides);
any other execution (papermill by hand, an interactive kernel) writes under
``_build/runs/adhoc/claims`` and never touches the book's ledger.
"""
from __future__ import annotations

import html
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .budget import is_dry_run
from .checks import Check
from .runtime import build_dir

__all__ = ["anchor", "CAUSES", "claim", "claim_line", "ClaimRow", "claims_table", "current_rows", "DIFFERS", "KINDS", "ledger_dir",
           "load_all", "MAX_QUOTE_WORDS", "NOT_JUDGED", "origin_of", "PRINT_WIDTH", "remember_settings", "REPRODUCED", "short",
           "start"]

REPRODUCED, DIFFERS, NOT_JUDGED = "reproduced", "differs", "not judged at this profile"
KINDS = ("document", "check")
CAUSES = ("scale", "reconstruction", "disagreement", "open")
MAX_QUOTE_WORDS = 25

_state: dict[str, Any] = {"section": None, "profile": None, "rows": {}, "started": False, "settings": None,
                          "provenance": None}


def ledger_dir() -> Path:
    """Where ledgers are written: ``$NNGEOM_LEDGER_DIR`` (set by the runner), else ``_build/runs/adhoc/claims``."""
    chosen = os.environ.get("NNGEOM_LEDGER_DIR")
    return Path(chosen) if chosen else build_dir() / "runs" / "adhoc" / "claims"


def remember_settings(settings) -> None:
    """Called by `nngeom.settings`: the section and profile the next ledger will use (nothing is written)."""
    _state.update(settings=settings, started=False)


def start(settings=None, section: str | None = None, profile: str | None = None) -> None:
    """Begin a fresh ledger for this notebook (the first `claim` does it implicitly)."""
    settings = settings or _state["settings"]
    section = section or getattr(settings, "section", None) or os.environ.get("NNGEOM_SECTION") or "adhoc/notebook"
    profile = profile or getattr(settings, "profile", None) or "cpu"
    from .environment import provenance

    overrides = sorted(getattr(settings, "overridden", ()))
    _state.update(section=section, profile=profile, rows={}, started=True,
                  provenance={**provenance(), "overrides": overrides})
    _write()


def _plain(value: Any) -> Any:
    """JSON-friendly copy of numbers, arrays, tensors and containers."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _write() -> None:
    path = ledger_dir() / f"{_state['section']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"section": _state["section"], "profile": _state["profile"], "provenance": _state["provenance"],
               "claims": list(_state["rows"].values())}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=1)
    os.replace(tmp, path)


def origin_of(source: str | None) -> str:
    """``document``, ``authors' code`` or ``other paper``: where a claimed value comes from."""
    text = (source or "").strip().lower()
    if text.startswith("authors' code") or text.startswith("authors’ code"):
        return "authors' code"
    if text.startswith("other paper"):
        return "other paper"
    return "document"


class ClaimRow(dict):
    """A claim's row: a plain dict that a notebook cell ending in ``claim(...)`` does not display again.

    ``claim`` has printed the row's two lines when it was recorded; without this, a cell whose last line is a
    claim would also show the whole dict.
    """

    def _ipython_display_(self) -> None:
        pass


PRINT_WIDTH = 88  # characters of a printed claim line: the output column of a 1400 px page without scrolling


def _validate(id: str, kind: str, source: str | None, cause: str | None, check: Check, note: str) -> None:
    if not isinstance(id, str) or not id:
        raise TypeError("claim id must be a non-empty string")
    if id in _state["rows"]:
        raise ValueError(f"duplicate claim id {id!r} in {_state['section']}: ids are unique per notebook")
    if not isinstance(check, Check):
        raise TypeError("check must be a Check (within, at_least, at_most, between, greater_than, less_than, "
                        "order, holds, equals, mean_consistent, rate_consistent, mean_above, mean_below)")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "document":
        if not isinstance(source, str) or not source.strip():
            raise ValueError(f"document claim {id!r} needs source= (section and table / figure / equation or a "
                             f"quotation); a claim the document does not make is kind='check'")
        for quote in re.findall(r'"([^"]*)"|“([^”]*)”', source):
            words = len(" ".join(quote).split())
            if words > MAX_QUOTE_WORDS:
                raise ValueError(f"claim {id!r}: quotations in source= are at most {MAX_QUOTE_WORDS} words "
                                 f"({words} given)")
        if check.hand_picked and not note.strip():
            raise ValueError(f"document claim {id!r} uses a hand-picked threshold ({check.describe}): give its "
                             f"reason in note=, or use a statistical check (mean_consistent, rate_consistent, ...)")
    if cause is not None:
        category = cause.split(":", 1)[0].strip()
        if category not in CAUSES:
            raise ValueError(f"cause must start with one of {', '.join(CAUSES)} (then ': why'), got {cause!r}")


def claim(id: str, statement: str, ours: Any, check: Check, paper: Any = None, *, kind: str = "document",
          source: str | None = None, cause: str | None = None, note: str = "",
          judged_at: tuple[str, ...] = ("cpu", "paper")) -> ClaimRow:
    """Record one claim and return its row; prints its verdict and value in two short lines."""
    if not _state["started"]:
        start()
    _validate(id, kind, source, cause, check, note)
    outcome = check.evaluate(ours, paper, _state["rows"])
    judged = _state["profile"] in judged_at and not is_dry_run()
    verdict = (REPRODUCED if outcome.passed else DIFFERS) if judged else NOT_JUDGED
    if verdict == DIFFERS:  # a check that differs needs its explanation as much as a document claim
        cause = cause or "open: not yet understood"
    row = ClaimRow({
        "id": id, "statement": statement, "kind": kind, "source": source or "", "origin": origin_of(source),
        "paper": _plain(paper), "ours": _plain(ours), "check": check.describe, "detail": outcome.detail,
        "passed": bool(outcome.passed), "profile": _state["profile"], "judged_at": list(judged_at),
        "verdict": verdict, "cause": cause if verdict == DIFFERS else "", "expected_cause": cause or "",
        "note": note,
    })
    _state["rows"][id] = row
    _write()
    print(claim_line(row))
    return row


def claim_line(row: dict, width: int = PRINT_WIDTH) -> str:
    """The two short lines a claim prints: verdict, id and kind, then the value (the table gives the rest)."""
    head = f"[{row['verdict']}] {row['id']} ({row['kind']})"
    return head[:width] + "\n    ours = " + short(row["ours"], width - 11)


def current_rows() -> list[dict]:
    """The claims recorded so far by this notebook."""
    return list(_state["rows"].values())


def short(value: Any, limit: int = 70) -> str:
    """A compact text form of a claimed value."""
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {short(v, 14)}" for k, v in value.items())
    elif isinstance(value, list):
        text = "[" + ", ".join(short(v, 12) for v in value[:6]) + (", ..." if len(value) > 6 else "") + "]"
    elif value is None:
        text = ""
    else:
        text = str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def anchor(claim_id: str) -> str:
    """The HTML anchor of a claim's row in its notebook's claims table."""
    return "claim-" + re.sub(r"[^A-Za-z0-9]+", "-", claim_id).strip("-").lower()


def claims_table(rows: list[dict] | None = None):
    """The notebook's claims as a rendered table (claim, source, paper, ours, verdict, cause), for display."""
    from IPython.display import HTML

    rows = current_rows() if rows is None else rows
    body = []
    for r in rows:
        verdict_class = {REPRODUCED: "reproduced", DIFFERS: "differs"}.get(r["verdict"], "not-judged")
        source = r["source"] if r["kind"] == "document" else "check of the book's own code or construction"
        body.append(
            f'<tr id="{anchor(r["id"])}"><td><code>{html.escape(r["id"])}</code><br>{html.escape(r["statement"])}'
            f'</td><td>{html.escape(source)}</td><td>{html.escape(short(r["paper"]))}</td>'
            f'<td>{html.escape(short(r["ours"]))}<br><small>{html.escape(r["check"])}'
            f'{"; " + html.escape(r["detail"]) if r["detail"] else ""}</small></td>'
            f'<td><span class="nngeom-verdict nngeom-{verdict_class}">{html.escape(r["verdict"])}</span></td>'
            f'<td>{html.escape(r["cause"] or r["note"])}</td></tr>')
    return HTML('<table class="nngeom-claims"><thead><tr><th>claim</th><th>source</th><th>paper</th><th>ours</th>'
                '<th>verdict</th><th>cause / note</th></tr></thead><tbody>' + "".join(body) + "</tbody></table>")


def load_all(root: Path | None = None) -> list[dict]:
    """Every claim of the book's ledger (``<root>/_build/claims``) with its section and provenance."""
    base = (root / "_build" / "claims") if root else build_dir() / "claims"
    rows = []
    for path in sorted(base.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # a truncated ledger counts as absent; its notebook's stamp decides what the report says
        for row in data.get("claims", []):
            rows.append({"section": data["section"], "provenance": data.get("provenance") or {}, **row})
    return rows
