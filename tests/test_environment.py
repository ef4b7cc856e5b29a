"""pyproject.toml and environment.yml list the same dependencies with the same version bounds."""
import re
import tomllib

import yaml

RENAMES = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip", "-e ."}


def split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    name = match.group(1).lower().replace("_", "-")
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
