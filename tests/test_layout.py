"""The package's layout and conventions (issue: one home per idea).

* every module declares ``__all__``, listing exactly the public functions, classes and constants it defines;
* the subpackages of the science (``metric``, ``local``, ``robustness``, ``patterns``) import nothing in their
  ``__init__``, so that a notebook depends (for its stamp) only on the modules it imports;
* the book machinery (``nngeom.book``) imports no science module, and no science module imports the runner,
  the report or the plan;
* no two classes of the package share a name.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from nngeom.book import imports

PACKAGE = Path(imports.PACKAGE_DIR)
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")
SCIENCE_PACKAGES = ("metric", "local", "robustness", "patterns")


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _public_definitions(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name) and target.id[:1].isupper() and target.id != "__all__":
                    names.add(target.id)
    return names


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "__init__.py" or p.parent == PACKAGE],
                         ids=lambda p: _name(p))
def test_every_module_declares_its_public_names(path):
    module = importlib.import_module(_name(path))
    assert hasattr(module, "__all__"), f"{_name(path)} declares no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{_name(path)}.__all__ lists names it does not have: {missing}"
    if path.name != "__init__.py":
        unlisted = _public_definitions(ast.parse(path.read_text())) - set(module.__all__)
        assert not unlisted, f"{_name(path)} defines public names missing from __all__: {sorted(unlisted)}"


@pytest.mark.parametrize("package", SCIENCE_PACKAGES)
def test_science_subpackages_import_nothing_and_say_what_they_serve(package):
    init = PACKAGE / package / "__init__.py"
    tree = ast.parse(init.read_text())
    assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], \
        f"nngeom.{package}/__init__.py imports modules: every notebook importing one module would depend on all"
    doc = ast.get_docstring(tree) or ""
    assert "sec." in doc, f"nngeom.{package} does not say which document sections it serves"
    modules = {p.stem for p in (PACKAGE / package).glob("*.py") if p.name != "__init__.py"}
    unnamed = [m for m in modules if f"``{m}``" not in doc]
    assert not unnamed, f"nngeom.{package}'s docstring does not describe {unnamed}"


def test_book_machinery_and_science_stay_apart():
    book = {p for p in MODULES if p.parent.name == "book"}
    for path in book:
        reached = {_name(p) for p in imports.closure({_name(path)})}
        science = [n for n in reached if n.count(".") and n.split(".")[1] in SCIENCE_PACKAGES]
        allowed = {"nngeom.robustness", "nngeom.robustness.fast_matmul"}  # the float32 probe of the fingerprint
        assert set(science) <= allowed, f"{_name(path)} imports science modules {sorted(set(science) - allowed)}"
    for path in set(MODULES) - book:
        reached = {_name(p) for p in imports.closure({_name(path)})}
        forbidden = reached & {"nngeom.book.runner", "nngeom.book.report", "nngeom.book.plan", "nngeom.book.execution"}
        assert not forbidden, f"{_name(path)} imports the book's runner or report: {sorted(forbidden)}"


def test_no_two_classes_share_a_name():
    seen: dict[str, str] = {}
    for path in MODULES:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                assert node.name not in seen, f"class {node.name} is defined in {seen[node.name]} and {_name(path)}"
                seen[node.name] = _name(path)
    assert {"KrotovHopfieldLayer", "DictionaryLayer"} <= set(seen)


def test_the_flat_modules_are_gone():
    """The old flat science modules moved into subpackages; nothing imports them any more."""
    flat = ["distances", "lp_kernels", "generalized", "resnet", "voronoi", "metric_axioms", "inversion", "local",
            "dictionary", "dictionary_models", "centre_search", "rejection", "attacks", "krotov", "fast_matmul",
            "regularizers", "spectrum", "robust_models", "landscape"]
    assert not [m for m in flat if (PACKAGE / f"{m}.py").exists()]
