"""Which ``nngeom`` source files a piece of code depends on, found by reading its import statements.

`closure(modules)` follows ``import`` / ``from ... import`` statements (also
those inside functions) from the given ``nngeom`` modules through the package,
transitively, and returns the module files reached; `notebook_modules(code)`
gives the ``nngeom`` modules a notebook's code imports. The runner hashes the
closure of a notebook's imports (so editing ``book/report.py`` reruns nothing,
and editing ``metric/voronoi.py`` reruns only the notebooks that import it); the cache
hashes the closure of the module that defines an artefact's builder.
"""
from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

__all__ = ["PACKAGE", "PACKAGE_DIR", "closure", "closure_hash", "module_file", "notebook_modules"]

PACKAGE = "nngeom"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def module_file(name: str) -> Path | None:
    """The source file of module ``name`` (``nngeom.x.y``), or None when it is not a module of the package."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    parts = name.split(".")[1:]
    base = PACKAGE_DIR.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_DIR).with_suffix("")
    parts = [PACKAGE, *relative.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, current: str, is_package: bool) -> set[str]:
    """Absolute names of the modules an AST imports (``from a import b`` yields a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = current if is_package else current.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    package = package.rsplit(".", 1)[0]
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@functools.lru_cache(maxsize=None)
def _direct(path: Path) -> frozenset[str]:
    name = _module_name(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    return frozenset(_imported(tree, name, path.name == "__init__.py"))


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def closure(modules: set[str] | list[str]) -> list[Path]:
    """Every package file reached from ``modules`` (their parent packages' ``__init__`` included), sorted."""
    seen: set[Path] = set()
    stack = [parent for name in modules for parent in _parents(name)]
    while stack:
        path = module_file(stack.pop())
        if path is None or path in seen:
            continue
        seen.add(path)
        stack.extend(parent for name in _direct(path) for parent in _parents(name))
    return sorted(seen)


def closure_hash(modules: set[str] | list[str]) -> str:
    """SHA-256 over the names and contents of `closure(modules)`."""
    digest = hashlib.sha256()
    for path in closure(modules):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def notebook_modules(code: str) -> set[str]:
    """The ``nngeom`` modules a notebook's code imports (IPython magics and shell lines are skipped)."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return {PACKAGE}  # unparsable code: depend on the package root (and through it on what it imports)
    return {name for name in _imported(tree, "__main__", False) if name.split(".")[0] == PACKAGE}
