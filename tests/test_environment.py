"""pyproject.toml, environment.yml and the lock (requirements/lock.txt) agree on the dependencies."""
import re
import tomllib
from pathlib import Path

import pytest
import yaml

RENAMES = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip", "-e ."}


def split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()  # PEP 503
    return RENAMES.get(name, name), match.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject(project_root):
    project = tomllib.loads((project_root / "pyproject.toml").read_text())["project"]
    wanted = dict(split(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((project_root / "environment.yml").read_text())
    listed = {}
    for entry in env["dependencies"]:
        for item in entry["pip"] if isinstance(entry, dict) else [entry]:
            if item in NOT_PACKAGES or item.startswith(("python=", "-e")):
                continue
            name, spec = split(item)
            listed[name] = spec
    assert listed == wanted


def test_design_card_packages_are_dependencies(project_root):
    project = tomllib.loads((project_root / "pyproject.toml").read_text())["project"]
    names = {split(r)[0] for r in project["dependencies"]}
    for package in ["torch", "torchvision", "jupyter-book", "jupytext", "papermill", "matplotlib", "seaborn",
                    "umap-learn", "foolbox"]:
        assert package in names
    jb = next(r for r in project["dependencies"] if r.startswith("jupyter-book"))
    assert "<2" in jb  # Jupyter Book 1.x (_config.yml / _toc.yml), not the 2.x MyST engine


def test_foolbox_import_warning_is_silenced_in_pytest_config(project_root):
    config = tomllib.loads((project_root / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert any("foolbox" in rule for rule in config["filterwarnings"])


# --- the lock: requirements/lock.txt (pip-compile, `make lock`) pins what the book is built and tested with ---

def read_lock(project_root) -> tuple[dict[str, str], set[str]]:
    """{name: pinned version} of the lock, and the names pip-compile marks as wanted by pyproject.toml itself."""
    pins, direct, current = {}, set(), None
    for line in (project_root / "requirements" / "lock.txt").read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line):
            current = split(match.group(1))[0]
            pins[current] = match.group(2)
        elif line.strip().startswith("#") and "nngeom (pyproject.toml)" in line and current:
            direct.add(current)
        elif line.strip() and not line.startswith((" ", "#")):
            raise AssertionError(f"unexpected line in the lock (pins only, no index or path): {line!r}")
    return pins, direct


def lock_inputs(project_root) -> dict[str, str]:
    lines = (project_root / "requirements" / "lock.in").read_text().splitlines()
    return dict(split(line) for line in lines if line.strip() and not line.startswith("#"))


def test_lock_pins_every_direct_dependency_within_its_range(project_root):
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((project_root / "pyproject.toml").read_text())["project"]
    wanted = dict(split(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"])
    pins, direct = read_lock(project_root)
    assert direct == set(wanted), "lock and pyproject.toml disagree on the direct dependencies: run `make lock`"
    for name, spec in wanted.items():
        assert pins[name] in SpecifierSet(spec), f"lock pins {name}=={pins[name]}, outside pyproject's {spec!r}"


def test_lock_agrees_with_environment_yml(project_root):
    from packaging.specifiers import SpecifierSet

    env = yaml.safe_load((project_root / "environment.yml").read_text())
    pins, _ = read_lock(project_root)
    python = next(e for e in env["dependencies"] if isinstance(e, str) and e.startswith("python="))
    header = (project_root / "requirements" / "lock.txt").read_text()
    assert f"with Python {python.split('=')[1]}" in header, "the lock was compiled for another Python"
    for entry in env["dependencies"]:
        for item in entry["pip"] if isinstance(entry, dict) else [entry]:
            if item in NOT_PACKAGES or item.startswith(("python=", "-e")):
                continue
            name, spec = split(item)
            assert name in pins, f"environment.yml lists {name}, which the lock does not pin"
            assert pins[name] in SpecifierSet(spec), f"lock pins {name}=={pins[name]}, environment.yml says {spec}"


def test_lock_holds_the_installer_and_the_build_backend(project_root):
    """`make venv` installs pip and the build backend from the lock, then `pip install --no-build-isolation -e .`."""
    build = tomllib.loads((project_root / "pyproject.toml").read_text())["build-system"]["requires"]
    inputs = lock_inputs(project_root)
    assert dict(split(r) for r in build).items() <= inputs.items(), "requirements/lock.in must list [build-system]"
    pins, _ = read_lock(project_root)
    assert {"pip", *inputs} <= set(pins)
    makefile = (project_root / "Makefile").read_text()
    assert "-r $(LOCK)" in makefile and "--no-deps --no-build-isolation -e ." in makefile


def test_the_project_venv_holds_the_locked_versions(project_root):
    """`make venv` installs the lock: in .venv every locked package is at its pinned version (torch included)."""
    import sys
    from importlib import metadata

    if Path(sys.prefix).resolve() != (project_root / ".venv").resolve():
        pytest.skip(f"not the project's .venv ({sys.prefix}): versions are whatever that environment has")
    pins, _ = read_lock(project_root)
    installed = {split(d.metadata["Name"])[0]: d.version for d in metadata.distributions()}
    wrong = {name: (pin, installed.get(name)) for name, pin in pins.items() if installed.get(name) != pin}
    assert not wrong, f"(locked, installed) differ: {wrong}; run `make venv` (touch requirements/lock.txt)"


CUDA_ONLY = re.compile(r"^(nvidia-|cuda-|triton$)")


def test_binder_installs_the_locked_versions_with_cpu_torch(project_root):
    """binder/requirements.txt (`make lock` writes it) = the lock without CUDA libraries, torch's CPU build, `-e .`."""
    pins, _ = read_lock(project_root)
    lines = [l for l in (project_root / "binder" / "requirements.txt").read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    binder = {}
    for line in lines:
        if line.startswith("--extra-index-url") or line == "-e .":
            continue
        name, version = line.split("==")
        binder[split(name)[0]] = version
    expected = {n: v + ("+cpu" if n in ("torch", "torchvision") else "") for n, v in pins.items()
                if not CUDA_ONLY.match(n) and n != "pip"}
    assert binder == expected, "binder/requirements.txt is stale: run `make lock` (or make binder/requirements.txt)"
    assert "-e ." in lines and any(l.startswith("--extra-index-url") and "/whl/cpu" in l for l in lines)
    python = (project_root / "binder" / "runtime.txt").read_text().strip()
    assert f"with Python {python.removeprefix('python-')}" in (project_root / "requirements" / "lock.txt").read_text()
