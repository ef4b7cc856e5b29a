"""Executing one notebook of the book: pairing, papermill into a temporary file, stamps, re-rendering.

A book run (no overrides) executes ``notebooks/<doc>/<name>.py`` into a
temporary notebook and ledger under ``_build/tmp`` and moves both into place
(``notebooks/<doc>/<name>.ipynb``, ``_build/claims/<doc>/<name>.json``) only on
success, so an interrupted or failing run never leaves a broken page or ledger
behind: its partial output goes to ``_build/failed/`` and its stamp says
``failed``. A run with overrides writes its notebook and claims to
``_build/runs/<profile>/<doc>/<name>-<hash>/`` and never replaces the book's.

The stamp (``_build/stamps/<doc>/<name>.json``) records what the notebook was
executed from: the profile and overrides, a hash of its *code* cells, a hash of
the ``nngeom`` sources its imports reach (`imports.closure`), the environment
fingerprint, and the hash of the executed notebook. It is current only when all
of them match; a notebook whose Markdown alone changed is re-rendered (new
Markdown and cell tags, old outputs) without executing.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import environment
from .imports import closure_hash, notebook_modules

__all__ = ["code_text", "dry_run_folder", "execute", "fingerprint", "is_current", "rerender", "run_folder",
           "RunOutcome", "section_of", "sha256", "stamp_path", "tidy", "worker", "write_json"]


@dataclass
class RunOutcome:
    notebook: str
    status: str  # "ok", "skipped", "rendered", "failed"
    seconds: float
    message: str = ""
    where: str = ""
    peak_mib: float = 0.0


def section_of(root: Path, source: Path) -> str:
    """``<document>/<notebook stem>`` of a source under ``notebooks/``."""
    relative = source.resolve().relative_to((root / "notebooks").resolve())
    return str(relative.with_suffix(""))


def stamp_path(root: Path, source: Path) -> Path:
    return root / "_build" / "stamps" / (section_of(root, source) + ".json")


def _read(source: Path):
    import jupytext

    notebook = jupytext.read(source)
    notebook.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    return notebook


def code_text(source: Path) -> str:
    """The code cells of a notebook source, joined (with the ``parameters`` tag, which changes execution, as a
    comment line: the text must stay Python, since `imports.notebook_modules` parses it for the library it uses)."""
    parts = []
    for cell in _read(source).cells:
        if cell.cell_type == "code":
            tag = "# [parameters]\n" if "parameters" in cell.metadata.get("tags", []) else ""
            parts.append(tag + cell.source)
    return "\n# <cell>\n".join(parts)


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def fingerprint(source: Path, profile: str, parameters: dict) -> dict:
    """What an executed notebook depends on (see the module docstring)."""
    code = code_text(source)
    return {"profile": profile, "parameters": parameters, "code": sha256(code),
            "library": closure_hash(notebook_modules(code)), "environment": environment.fingerprint()}


def _read_stamp(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None  # absent or truncated: counts as absent


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=1)
    os.replace(tmp, path)


def is_current(root: Path, source: Path, expected: dict) -> bool:
    """The book's executed notebook was produced, successfully, from exactly ``expected``."""
    stamp, target = _read_stamp(stamp_path(root, source)), source.with_suffix(".ipynb")
    if stamp is None or stamp.get("status") != "ok" or not target.is_file():
        return False
    if stamp.get("executed") != sha256(target.read_bytes()):
        return False  # the executed notebook was replaced or damaged since its stamp was written
    return all(stamp.get(k) == v for k, v in expected.items())


def rerender(source: Path, target: Path) -> bool:
    """Put the source's Markdown and cell metadata around the executed outputs; False when code cells differ."""
    import nbformat

    fresh, executed = _read(source), nbformat.read(target, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    old_code = [c for c in executed.cells if c.cell_type == "code" and c not in injected]
    new_code = [c for c in fresh.cells if c.cell_type == "code"]
    if len(old_code) != len(new_code) or any(a.source != b.source for a, b in zip(old_code, new_code)):
        return False
    cells, olds = [], iter(old_code)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            old = next(olds)
            cell.outputs, cell.execution_count = old.outputs, old.execution_count
            cell.metadata = {**{k: v for k, v in old.metadata.items() if k != "tags"}, **cell.metadata}
        cells.append(cell)
        if "parameters" in cell.metadata.get("tags", []):
            cells.extend(injected)
    executed.cells = cells
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".ipynb.tmp")
    os.close(fd)
    nbformat.write(executed, tmp)
    tidy(Path(tmp))
    os.replace(tmp, target)
    return True


def tidy(path: Path) -> None:
    """On the page: papermill's injected-parameters cell removed, the parameters cell folded (hide-input)."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        elif "parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
    nbformat.write(notebook, path)


def run_folder(root: Path, section: str, profile: str, parameters: dict) -> Path:
    """Where a run with overrides keeps its notebook and claims."""
    digest = sha256(json.dumps(parameters, sort_keys=True))[:10]
    return root / "_build" / "runs" / profile / f"{section}-{digest}"


def _error_line(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def dry_run_folder(root: Path, profile: str) -> Path:
    """Where ``run --dry-run`` keeps notebooks, claims, loop logs and its cache: apart from the book."""
    return root / "_build" / "dry-run" / profile


def execute(root: Path, source: Path, profile: str, parameters: dict, progress: bool = False,
            threads: int | None = None, dry_run: int | None = None) -> RunOutcome:
    """Execute one notebook (see the module docstring); returns its outcome.

    ``dry_run`` = steps kept per loop (`nngeom.book.budget`): the notebook, its claims, its loop log and its
    cache go to `dry_run_folder`, never to the book's.
    """
    import papermill

    section = section_of(root, source)
    book_run = not parameters and not dry_run
    expected = fingerprint(source, profile, parameters)
    work = Path(tempfile.mkdtemp(prefix=section.replace("/", "-") + "-", dir=_ensure(root / "_build" / "tmp")))
    ledger = work / "claims"
    env = {"NNGEOM_ROOT": str(root), "NNGEOM_SECTION": section, "NNGEOM_LEDGER_DIR": str(ledger),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    if dry_run:
        folder = dry_run_folder(root, profile)
        log = _ensure(folder / "loops") / (section.replace("/", "--") + ".jsonl")
        log.unlink(missing_ok=True)
        env.update(NNGEOM_DRY_RUN=str(dry_run), NNGEOM_DRY_RUN_LOG=str(log),
                   NNGEOM_CACHE_DIR=str(_ensure(folder / "cache")))
    if threads:
        env.update(NNGEOM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    start = time.perf_counter()
    unexecuted, executed = work / "input.ipynb", work / "output.ipynb"
    try:
        import nbformat

        nbformat.write(_read(source), unexecuted)
        papermill.execute_notebook(str(unexecuted), str(executed), parameters={"profile": profile, **parameters},
                                   cwd=str(source.parent), kernel_name="python3", progress_bar=progress,
                                   request_save_on_cell_execute=True)
        seconds = time.perf_counter() - start
        tidy(executed)
        if book_run:
            target = source.with_suffix(".ipynb")
            _move_ledger(ledger, root / "_build" / "claims")
            os.replace(executed, target)
            write_json(stamp_path(root, source), {**expected, "status": "ok", "seconds": seconds,
                                                   "executed": sha256(target.read_bytes())})
            return RunOutcome(section, "ok", seconds, where=str(target.relative_to(root)))
        folder = (dry_run_folder(root, profile) / section) if dry_run else run_folder(root, section, profile,
                                                                                      parameters)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        _move_ledger(ledger, folder / "claims")
        os.replace(executed, folder / source.with_suffix(".ipynb").name)
        write_json(folder / "run.json", {**expected, "status": "ok", "seconds": seconds})
        return RunOutcome(section, "ok", seconds, where=str(folder.relative_to(root)))
    except Exception as error:  # papermill raises PapermillExecutionError with the failing cell's message
        seconds = time.perf_counter() - start
        kept = root / "_build" / "failed" / (section + ".ipynb")
        if executed.is_file():
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(executed, kept)
        if book_run:
            write_json(stamp_path(root, source), {**expected, "status": "failed", "seconds": seconds})
        return RunOutcome(section, "failed", seconds, _error_line(error), where=str(kept.relative_to(root)))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _move_ledger(written: Path, destination: Path) -> None:
    """Move the ledger files a run wrote (``<doc>/<name>.json``) into ``destination``."""
    for path in written.rglob("*.json") if written.is_dir() else []:
        target = destination / path.relative_to(written)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)


def worker(argument: str) -> int:
    """Entry point of a parallel worker process: execute one notebook given as JSON, print the outcome as JSON."""
    import resource

    job = json.loads(argument)
    outcome = execute(Path(job["root"]), Path(job["source"]), job["profile"], job["parameters"],
                      threads=job.get("threads"), dry_run=job.get("dry_run"))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the kernel's peak resident MiB
    print("NNGEOM-OUTCOME " + json.dumps({**asdict(outcome), "peak_mib": peak}), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(worker(sys.argv[1]))
