"""The GitHub workflows and CI entry point are well formed (they cannot run here)."""
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


def test_ci_entry_runs_the_readme_test_command(project_root):
    assert "make test" in (project_root / ".ci" / "run").read_text()
    assert "make test" in (project_root / "README.md").read_text()
    cpu = yaml.safe_load((project_root / ".github" / "workflows" / "cpu.yml").read_text())
    assert any(step.get("run") == "make test" for step in cpu["jobs"]["test"]["steps"])
