"""mypy over src/nngeom with the settings of pyproject.toml's [tool.mypy] (check_untyped_defs included): no errors."""
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_type_checks():
    cache = ROOT / "_build" / "mypy-cache"  # incremental: a warm cache makes this test take a second or two
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache),
                                      "--no-error-summary", str(ROOT / "src" / "nngeom")])
    assert status == 0, f"mypy found errors:\n{stdout}{stderr}"
