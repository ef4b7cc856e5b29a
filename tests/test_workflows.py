"""The GitHub workflows, the CI entry point, publishing and the launch buttons (the workflows cannot run here)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

WORKFLOWS = sorted((Path(__file__).resolve().parents[1] / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_validates_against_the_github_schema(workflow):
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                             "vendor.github-workflows", str(workflow)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gpu_job_runs_the_paper_profile_sharded_and_publishes():
    gpu = yaml.safe_load((WORKFLOWS[0].parent / "gpu-book.yml").read_text())
    notebooks = gpu["jobs"]["notebooks"]
    assert "gpu" in notebooks["runs-on"] and "self-hosted" in notebooks["runs-on"]
    commands = " ".join(step.get("run", "") for step in notebooks["steps"])
    assert "PROFILE=paper" in commands and "SHARD=" in commands
    assert any("deploy-pages" in step.get("uses", "") for step in gpu["jobs"]["publish"]["steps"])


def test_gpu_shards_restore_their_models_and_stamps_keyed_by_the_environment_fingerprint():
    """A push that changes one notebook re-executes one notebook: the cache carries models, stamps and pages."""
    gpu = yaml.safe_load((WORKFLOWS[0].parent / "gpu-book.yml").read_text())
    steps = gpu["jobs"]["notebooks"]["steps"]
    names = [step.get("uses", step.get("run", "")) for step in steps]
    cache = next(i for i, name in enumerate(names) if name.startswith("actions/cache"))
    execute = next(i for i, name in enumerate(names) if "make notebooks" in name)
    assert cache < execute
    settings = steps[cache]["with"]
    assert "steps.environment.outputs.fingerprint" in settings["key"] and "job-index" in settings["key"]
    assert settings["restore-keys"] in settings["key"]
    for path in ("_build/cache", "_build/stamps", "_build/claims", "notebooks/**/*.ipynb"):
        assert path in settings["path"]
    assert "python -m nngeom fingerprint" in " ".join(names)
    done = subprocess.run([sys.executable, "-m", "nngeom", "fingerprint"], capture_output=True, text=True)
    assert done.returncode == 0 and re.fullmatch(r"[0-9a-f]{16}\n", done.stdout)


def test_ci_entry_runs_the_readme_test_command(project_root):
    assert "make test" in (project_root / ".ci" / "run").read_text()
    assert "make test" in (project_root / "README.md").read_text()
    cpu = yaml.safe_load((project_root / ".github" / "workflows" / "cpu.yml").read_text())
    assert any(step.get("run") == "make test" for step in cpu["jobs"]["test"]["steps"])


# --- publishing and launching: one repository address (_config.yml), the books and notebooks the workflows publish ---

ROOT = Path(__file__).resolve().parents[1]
ADDRESS = re.compile(r"(?:github\.com/|mybinder\.org/v2/gh/|colab\.research\.google\.com/github/)"
                     r"([A-Za-z0-9_.\-]+)/([A-Za-z0-9_.\-]+)|([A-Za-z0-9\-]+)\.github\.io/([A-Za-z0-9_.\-]+)")
NOT_OURS = {("actions", "checkout"), ("actions", "setup-python"), ("actions", "cache"), ("actions", "upload-artifact"),
            ("actions", "download-artifact"), ("actions", "upload-pages-artifact"), ("actions", "deploy-pages")}


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def owner_and_name() -> tuple[str, str]:
    url = config()["repository"]["url"]
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)/?", url)
    assert match, f"repository.url must be a GitHub repository, not {url!r}"
    return match.group(1), match.group(2)


def load_workflow(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_the_repository_address_is_written_in_config_only():
    """README badges, binder/ and the workflows name the repository of _config.yml (or read it), never another."""
    ours = owner_and_name()
    files = [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "environment.yml", ROOT / "Makefile",
             *(ROOT / "binder").iterdir(), *(ROOT / ".github" / "workflows").iterdir(), *(ROOT / "book").glob("*.md")]
    for path in files:
        for match in ADDRESS.finditer(path.read_text()):
            owner, name = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            if (owner, name) in NOT_OURS:
                continue
            assert (owner, name.removesuffix(".git")) == ours, f"{path.relative_to(ROOT)} names {match.group(0)}"


def test_readme_badges_point_at_this_repository_workflow_book_and_binder():
    owner, name = owner_and_name()
    readme = (ROOT / "README.md").read_text()
    branch = config()["repository"]["branch"]
    assert f"https://github.com/{owner}/{name}/actions/workflows/cpu.yml/badge.svg" in readme
    assert f"https://{owner}.github.io/{name}/" in readme
    assert f"https://mybinder.org/v2/gh/{owner}/{name}/{branch}" in readme


def test_cpu_workflow_publishes_the_cpu_book_on_every_push_to_main_unless_a_gpu_runner_does():
    cpu, gpu = load_workflow("cpu.yml"), load_workflow("gpu-book.yml")
    assert cpu[True]["push"]["branches"] == ["main"]  # YAML reads the key `on` as True
    book, publish = cpu["jobs"]["book"], cpu["jobs"]["publish"]
    assert "github.event_name == 'push'" in book["if"] and "refs/heads/main" in book["if"]
    assert "vars.NNGEOM_GPU_RUNNER != 'true'" in book["if"]
    assert "vars.NNGEOM_GPU_RUNNER == 'true'" in gpu["jobs"]["notebooks"]["if"]
    for workflow, profile in ((cpu, "cpu"), (gpu, "paper")):
        job = workflow["jobs"]["book"]
        assert re.search(rf"make (book|html) PROFILE={profile}\b", runs(job))
        assert f"make publish-notebooks PROFILE={profile}" in runs(job)
        assert job["permissions"]["contents"] == "write"
        upload = next(s for s in job["steps"] if "upload-pages-artifact" in s.get("uses", ""))
        assert upload["with"]["path"] == "_build/html"
        assert workflow["jobs"]["publish"]["needs"] == "book"
        assert any("deploy-pages" in s.get("uses", "") for s in workflow["jobs"]["publish"]["steps"])
        assert workflow["jobs"]["publish"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert publish["environment"]["name"] == "github-pages"


def test_published_branch_holds_every_executed_notebook_with_a_setup_cell(tmp_path):
    """binder/publish_executed.py: one commit on top of HEAD adding every _toc.yml notebook's .ipynb; HEAD stays."""
    import nbformat

    sys.path.insert(0, str(ROOT / "binder"))
    try:
        import publish_executed
    finally:
        sys.path.remove(str(ROOT / "binder"))
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("_config.yml", "_toc.yml", ".gitignore"):
        (repo / name).write_text((ROOT / name).read_text())
    notebooks = publish_executed.executed_notebooks(repo)
    assert len(notebooks) >= 20 and all(str(p).startswith("notebooks/") and p.suffix == ".ipynb" for p in notebooks)
    for path in notebooks:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).with_suffix(".py").write_text("# %%\n1\n")
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), repo / path)

    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "sources")
    head, status = git("rev-parse", "HEAD"), git("status", "--porcelain")
    commit = publish_executed.publish(repo, push=False)
    assert git("rev-parse", "HEAD") == head and git("status", "--porcelain") == status
    assert git("rev-parse", f"{commit}^") == head
    published = set(git("ls-tree", "-r", "--name-only", commit).splitlines())
    assert {str(p) for p in notebooks} <= published
    first = nbformat.reads(git("show", f"{commit}:{notebooks[0]}"), as_version=4).cells[0]
    url = config()["repository"]["url"]
    assert "colab-setup" in first.metadata["tags"] and f"git+{url}@{head}" in first.source


@pytest.mark.reader
def test_every_launch_button_of_the_built_book_opens_a_published_notebook(smoke_book):
    """Binder and Colab links of the built smoke book: this repository, the published branch, a published path."""
    sys.path.insert(0, str(ROOT / "binder"))
    try:
        import publish_executed
    finally:
        sys.path.remove(str(ROOT / "binder"))
    smoke_book.build()
    html = smoke_book.html
    assert (html / "index.html").is_file(), "the smoke book was not built"
    owner, name = owner_and_name()
    branch = config()["repository"]["branch"]
    published = {str(p) for p in publish_executed.executed_notebooks(ROOT)}
    binder = re.compile(rf"https://mybinder\.org/v2/gh/([^/]+)/([^/]+)/([^?\"]+)\?urlpath=tree/([^\"&]+)")
    colab = re.compile(r"https://colab\.research\.google\.com/github/([^/]+)/([^/]+)/blob/([^/]+)/([^\"?#]+)")
    seen = {"binder": set(), "colab": set()}
    for page in html.rglob("*.html"):
        text = page.read_text(errors="replace")
        for kind, pattern in (("binder", binder), ("colab", colab)):
            for match in pattern.finditer(text):
                where, path = match.groups()[:3], match.group(4)
                assert where == (owner, name, branch), f"{page.relative_to(html)}: {match.group(0)}"
                assert path in published, f"{page.relative_to(html)}: {path} is not published by the workflows"
                seen[kind].add(path)
    assert seen["binder"] == published and seen["colab"] == published, "a notebook page lacks a launch button"


def test_ci_entry_installs_chromium_for_the_browser_test(project_root):
    ci = (project_root / ".ci" / "run").read_text()
    assert "apt-get install" in ci and "chromium" in ci and ci.index("chromium") < ci.index("make test")
