"""Dry runs: loops cut short and extrapolated, kept apart from the book, turned into a cost plan."""
import json
import types

import pytest
import torch

from nngeom.book import budget, plan, runner
from tests.test_runner import HEADER

SWEEP = HEADER + '''
# %% [markdown]
# # Sweep

# %% tags=["parameters"]
profile = "cpu"
seeds = None

# %%
import torch
import nngeom
from nngeom.train import fit_classifier
PROFILES = {"smoke": {"seeds": 2}, "cpu": {"seeds": 3}, "paper": {"seeds": 50}}
S = nngeom.settings(PROFILES, globals(), section="doc/sweep")

# %%
x, y = torch.randn(512, 8), torch.randint(0, 2, (512,))
accs = []
for seed in nngeom.sweep(range(S.seeds), "seeds"):
    model = torch.nn.Linear(8, 2)
    accs.append(fit_classifier(model, (x, y), (x, y), epochs=30, batch_size=16, seed=seed, progress=False).best)
nngeom.claim("T.ran", "ran", ours=len(accs), check=nngeom.holds(len(accs) > 0), kind="check")
'''


def test_nested_loops_extrapolate_to_the_full_run(monkeypatch, tmp_path):
    log = tmp_path / "loops.jsonl"
    monkeypatch.setenv("NNGEOM_DRY_RUN", "2")
    monkeypatch.setenv("NNGEOM_DRY_RUN_LOG", str(log))
    clock = types.SimpleNamespace(now=0.0)
    # a fake clock, so the extrapolation is pinned exactly and no test depends on the machine's speed
    monkeypatch.setattr(budget, "time", types.SimpleNamespace(perf_counter=lambda: clock.now))
    outer_steps = 0
    for _ in budget.loop(range(10), "outer"):
        outer_steps += 1
        for _ in budget.loop(range(100), "inner"):
            clock.now += 0.01
    records = [json.loads(line) for line in log.read_text().splitlines()]
    inner, outer = records[0], records[-1]
    assert outer_steps == 2 and inner["steps_run"] == 2 and inner["steps_full"] == 100
    assert outer["loop"] == "outer" and outer["depth"] == 0 and outer["steps_full"] == 10
    # the full run: 10 x 100 steps of 10 ms = 10 s; the dry run took 2 x 2 steps = 40 ms
    assert outer["seconds_full"] == pytest.approx(10.0) and outer["seconds_run"] == pytest.approx(0.04)


def test_ordinary_runs_are_not_cut(monkeypatch):
    monkeypatch.delenv("NNGEOM_DRY_RUN", raising=False)
    assert list(budget.loop(range(5), "x")) == [0, 1, 2, 3, 4]


def test_dry_run_of_a_notebook_and_its_plan(tmp_path):
    (tmp_path / "notebooks" / "doc").mkdir(parents=True)
    source = tmp_path / "notebooks" / "doc" / "sweep.py"
    source.write_text(SWEEP)
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/doc/sweep\n"
                                       "  - file: notebooks/doc/not_run\n")
    (outcome,) = runner.dry_run(tmp_path, [source], "paper", steps=2)
    assert outcome.status == "ok", outcome.message
    assert outcome.peak_mib > 50  # the kernel's peak resident memory was measured
    folder = tmp_path / "_build" / "dry-run" / "paper"
    claims = json.loads((folder / "doc" / "sweep" / "claims" / "doc" / "sweep.json").read_text())
    assert claims["claims"][0]["ours"] == 2 and claims["claims"][0]["verdict"].startswith("not judged")
    assert not (tmp_path / "_build" / "claims").exists() and not (tmp_path / "_build" / "stamps").exists()
    records = [json.loads(line) for line in (folder / "loops" / "doc--sweep.jsonl").read_text().splitlines()]
    seeds = [r for r in records if r["loop"] == "seeds"][0]
    assert seeds["steps_full"] == 50 and seeds["steps_run"] == 2 and seeds["flops_run"] > 0
    epochs = [r for r in records if r["loop"] == "fit_classifier.epochs"]
    assert epochs and all(r["steps_full"] == 30 and r["steps_run"] == 2 for r in epochs)
    batches = [r for r in records if r["loop"] == "fit_classifier.batches"]
    assert batches and batches[0]["steps_full"] == 32
    (row,) = plan.estimates(tmp_path, "paper", tflops=10)
    # 50 seeds x 30 epochs x 32 batches of a 8 -> 2 linear layer: the FLOPs scale with the full loop sizes
    assert row["flops"] == pytest.approx(seeds["flops_full"]) and row["flops"] > 50 * 30 * 32 * 2 * 16 * 8 * 2
    assert row["cpu_hours"] * 3600 > seeds["seconds_run"]
    text = plan.write(tmp_path, "paper", 10).read_text()
    assert "doc/sweep" in text and "10 TFLOP/s" in text and "measured on the build machine" in text
    # a notebook of the book without a dry run is named, and the total says it leaves it out
    assert "Not dry-run yet (1 notebooks" in text and "`doc/not_run`" in text and "all 1 dry-run notebooks" in text
    # a fresh clone has no dry run of its own: the plan is the committed snapshot, and says where it came from
    plan.write_snapshot(tmp_path, [row], "paper", 10)
    import shutil
    shutil.rmtree(tmp_path / "_build" / "dry-run")
    text = plan.write(tmp_path, "paper").read_text()
    assert "doc/sweep" in text and "10 TFLOP/s" in text and "book/plan-paper.json" in text


def test_flop_counter_counts_matmuls():
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        torch.randn(16, 8) @ torch.randn(8, 4)
    assert counter.get_total_flops() == 2 * 16 * 8 * 4


def test_flop_count_includes_cdist_and_the_lp_distance_kernels(tmp_path):
    """The dry run's FLOP count sees torch.cdist and the l^p layers (elementwise and numba kernels), by formula."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import json, torch
        from nngeom.book import budget
        from nngeom.metric.distances import LP_FLOPS_BACKWARD, LP_FLOPS_FORWARD, pairwise_distance
        import nngeom.metric.distances as distances
        budget.start_flop_counter()
        x, w = torch.randn(6, 5, requires_grad=True), torch.randn(4, 5, requires_grad=True)
        counts = {}
        start = budget._flops(); torch.cdist(x, w).sum().backward(); counts["cdist"] = budget._flops() - start
        for path in ("numba", "torch"):
            distances.CPU_KERNEL = path == "numba"
            start = budget._flops(); pairwise_distance(x, w, 1.5).sum().backward()
            counts[path] = budget._flops() - start
        start = budget._flops(); x @ w.T; counts["matmul"] = budget._flops() - start
        print(json.dumps(counts))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={"NNGEOM_DRY_RUN": "2", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    pairs = 6 * 4 * 5
    assert counts["cdist"] == 3 * pairs * 3  # forward 3 per pair and feature, each input's gradient as many
    assert counts["numba"] == counts["torch"] == (4 + 8) * pairs
    assert counts["matmul"] == 2 * pairs  # the counter's own count is unchanged


def test_flop_counter_allows_input_gradients():
    """Input gradients through a module (every attack does this) run under the dry run's counter, and are counted."""
    model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    x = torch.randn(16, 8, requires_grad=True)
    with budget.flop_counter() as counter:
        (grad,) = torch.autograd.grad(torch.nn.functional.cross_entropy(model(x), torch.zeros(16, dtype=torch.long)), x)
    assert grad.shape == x.shape
    # forward 2 x 16 x (8 x 4 + 4 x 2); backward at least the input gradients of both layers
    assert counter.get_total_flops() >= 2 * 2 * 16 * (8 * 4 + 4 * 2)
