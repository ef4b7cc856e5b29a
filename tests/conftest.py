"""Shared fixtures: the project root, and data only from the offline folder CI provides."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _isolated_build(tmp_path, monkeypatch):
    """Unit tests write claims and caches under a temporary root, never into the real _build."""
    monkeypatch.setenv("NNGEOM_ROOT", str(tmp_path / "book-root"))
    yield
