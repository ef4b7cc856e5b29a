"""Profiles and parameters of a notebook.

Every notebook starts with a cell tagged ``parameters`` (``profile = "cpu"`` and
each knob of its section set to ``None``) and then resolves them::

    S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s2_3_voronoi")

``PROFILES`` maps ``smoke`` / ``cpu`` / ``paper`` to the value of every knob.
A knob left at ``None`` takes the profile's value; anything else is an override
and must have the profile value's type. An unknown profile, an unknown knob
(papermill injects whatever ``-p`` names) or a value of the wrong type raises
`ParameterError` naming what is allowed. Resolving settings writes nothing: the
notebook's ledger starts with its first claim. In a notebook the resolved
settings show as a one-line provenance note with the full table folded under it.
"""
from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

__all__ = ["notebook_parameters", "ParameterError", "PROFILE_NAMES", "Settings", "settings"]

PROFILE_NAMES = ("smoke", "cpu", "paper")
_IPYTHON_NAMES = {"In", "Out", "exit", "quit", "get_ipython", "display"}


class ParameterError(ValueError):
    """A profile, parameter name or parameter value that the notebook does not accept."""


class Settings(Mapping):
    """Resolved knobs of one run: ``S.epochs`` or ``S["epochs"]``, plus ``S.profile`` and ``S.section``."""

    def __init__(self, profile: str, values: dict[str, Any], overridden: set[str], section: str | None,
                 paper: Mapping[str, Any] | None = None):
        self._values = dict(values)
        self.profile = profile
        self.section = section
        self.overridden = frozenset(overridden)
        self.paper = dict(paper) if paper is not None else None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> Any:
        values = self.__dict__.get("_values")
        if values is None or key.startswith("__"):  # during copy / unpickling, before __dict__ is filled
            raise AttributeError(key)
        try:
            return values[key]
        except KeyError:
            raise AttributeError(f"no parameter {key!r}; known: {', '.join(sorted(values))}") from None

    def __reduce__(self):
        return (Settings, (self.profile, self._values, set(self.overridden), self.section, self.paper))

    def differs_from_paper(self) -> dict[str, tuple[Any, Any]]:
        """Knobs whose value is not the ``paper`` profile's: name -> (ours, paper)."""
        if self.paper is None:
            return {}
        return {k: (v, self.paper.get(k)) for k, v in self._values.items() if k in self.paper and self.paper[k] != v}

    def provenance_line(self) -> str:
        """One line for the top of a page: profile, knobs that differ from ``paper``, date, commit, device, versions."""
        from .environment import provenance

        info = provenance()
        differs = self.differs_from_paper()
        knobs = ", ".join(f"{k} = {_short(v)} (paper {_short(p)})" for k, (v, p) in differs.items())
        scale = (f"the documents' settings" if not differs and self.profile == "paper"
                 else (f"knobs that differ from `paper`: {knobs}" if differs else "every knob at its `paper` value"))
        lib = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if k in ("torch", "torchvision", "numpy"))
        return (f"Built with the **{self.profile}** profile; {scale}. {info['date']}, commit {info['commit']}, "
                f"{info['device']}, float32 matmul {info['fast_matmul']}; {lib}.")

    def _ipython_display_(self) -> None:
        import html as _html

        from IPython.display import display

        line = _html.escape(self.provenance_line()).replace("**", "").replace("`", "")
        page = (f'<div class="admonition note nngeom-provenance"><p class="admonition-title">Provenance</p>'
                f"<p>{line}</p><details><summary>every setting</summary>{self._repr_html_()}</details></div>")
        display({"text/html": page, "text/plain": self.provenance_line() + "\n" + self.table()}, raw=True)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of every knob plus the profile."""
        return {"profile": self.profile, **self._values}

    def table(self) -> str:
        """The resolved settings as a text table, marking overrides."""
        width = max([len(k) for k in self._values] + [7])
        lines = [f"{'profile':<{width}}  {self.profile}"]
        for key, value in self._values.items():
            mark = "   (override)" if key in self.overridden else ""
            lines.append(f"{key:<{width}}  {value!r}{mark}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{k}</code></td><td><code>{v!r}</code></td>"
            f"<td>{'override' if k in self.overridden else ''}</td></tr>"
            for k, v in self._values.items()
        )
        return (f"<table><thead><tr><th>setting</th><th>value</th><th></th></tr></thead><tbody>"
                f"<tr><td><code>profile</code></td><td><code>{self.profile!r}</code></td><td></td></tr>{rows}"
                f"</tbody></table>")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        inner = {_type_name(v) for v in value} or {"any"}
        return f"list of {'/'.join(sorted(inner))}"
    return type(value).__name__


def _conforms(value: Any, reference: Any) -> bool:
    """Does an override have the type of the profile value it replaces?"""
    if reference is None:
        return True
    if isinstance(reference, bool):
        return isinstance(value, bool)
    if isinstance(reference, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(reference, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(reference, str):
        return isinstance(value, str)
    if isinstance(reference, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            return False
        if not reference:
            return True
        return all(any(_conforms(v, r) for r in reference) for v in value)
    if isinstance(reference, dict):
        return isinstance(value, dict)
    return isinstance(value, type(reference))


def _coerce(value: Any, reference: Any) -> Any:
    if isinstance(reference, float) and isinstance(value, int):
        return float(value)
    if isinstance(reference, (list, tuple)) and isinstance(value, tuple):
        return list(value)
    return value


def notebook_parameters(namespace: Mapping[str, Any], exclude: tuple[Any, ...] = ()) -> dict[str, Any]:
    """Names a notebook's parameter cells defined: globals that are not modules, callables or IPython's own."""
    found = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in _IPYTHON_NAMES or name.isupper():
            continue
        if isinstance(value, (types.ModuleType, type)) or callable(value):
            continue
        if any(value is ex for ex in exclude):
            continue
        found[name] = value
    return found


def settings(profiles: Mapping[str, Mapping[str, Any]], namespace: Mapping[str, Any] | None = None, *,
             section: str | None = None, profile: str | None = None, bounds: Mapping[str, tuple] | None = None,
             show: bool = True, **overrides: Any) -> Settings:
    """Resolve a notebook's knobs for one profile, validate them and print the table.

    ``namespace`` (usually ``globals()``) supplies ``profile`` and every knob;
    keyword ``overrides`` do the same outside a notebook. ``bounds`` maps a knob
    to ``(low, high)`` (either may be ``None``) checked on numbers and on every
    element of lists. ``section`` ("<document>/<notebook>") names where claims go.
    """
    given = dict(notebook_parameters(namespace or {}))
    given.update(overrides)
    chosen = profile if profile is not None else given.pop("profile", "cpu")
    given.pop("profile", None)
    if not isinstance(chosen, str) or chosen not in profiles:
        raise ParameterError(f"unknown profile {chosen!r}: choose one of {', '.join(repr(p) for p in profiles)}")
    base = dict(profiles[chosen])
    known = set().union(*(set(p) for p in profiles.values()))
    unknown = sorted(set(given) - known)
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(map(repr, unknown))}: this notebook accepts "
                             f"profile, {', '.join(sorted(known))}")
    values, overridden = {}, set()
    for key in (list(base) + sorted(known - set(base))):
        reference = base.get(key, next((p[key] for p in profiles.values() if key in p), None))
        value = given.get(key)
        if value is None:
            values[key] = base.get(key, reference)
            continue
        if not _conforms(value, reference):
            raise ParameterError(f"parameter {key!r} must be {_type_name(reference)} (like {reference!r}), "
                                 f"got {value!r} ({_type_name(value)})")
        values[key] = _coerce(value, reference)
        overridden.add(key)
    for key, (low, high) in (bounds or {}).items():
        items = values.get(key)
        for item in (items if isinstance(items, (list, tuple)) else [items]):
            if item is None or not isinstance(item, (int, float)):
                continue
            if (low is not None and item < low) or (high is not None and item > high):
                raise ParameterError(f"parameter {key!r} = {items!r} is out of range: each value must lie in "
                                     f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]")
    resolved = Settings(chosen, values, overridden, section, paper=profiles.get("paper"))
    from . import ledger

    ledger.remember_settings(resolved)
    if show:
        _show(resolved)
    return resolved


def _show(resolved: Settings) -> None:
    """Display the provenance note in a notebook; print the table elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency of the book
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        from .theme import use_book_theme

        use_book_theme()
        display(resolved)
    else:
        print(resolved.table())
