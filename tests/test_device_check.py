"""The device check finds what would mix devices on a GPU, on a CPU-only machine, and passes clean code."""
import json
import subprocess
import sys
import textwrap


def run_checked(code: str, tmp_path) -> list[dict]:
    log = tmp_path / "device.jsonl"
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    env = {"NNGEOM_DEVICE_CHECK": str(log), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_mistakes_are_found_where_they_are_made(tmp_path):
    found = run_checked("""
        import torch, nngeom
        from torch import nn
        dev = nngeom.device()
        assert dev == torch.device("cpu", 0)
        model = nn.Linear(4, 3).to(dev)
        out = model(torch.randn(8, 4).to(dev))
        labels = torch.randint(0, 3, (8,))
        hits = (out.argmax(1) == labels).float()   # mistake 1: labels left on the CPU
        noisy = out + torch.randn(8, 3)            # mistake 2: noise made on the CPU
        array = out.detach().numpy()               # mistake 3: .numpy() on a GPU tensor
        rows = out[torch.tensor([0, 1])]           # indexing with a CPU index: legal, and still on the GPU
        shifted = rows - torch.ones(2, 3)          # mistake 4: a CPU tensor again
    """, tmp_path)
    assert [f["where"].split(":")[1] for f in found] == ["9", "10", "11", "13"]
    assert found[2]["problem"].startswith(".numpy()")


def test_device_clean_code_passes(tmp_path):
    found = run_checked("""
        import torch, nngeom
        from torch import nn
        dev = nngeom.device()
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(dev)
        x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
        opt = torch.optim.Adam(model.parameters())
        for i in range(0, 32, 8):
            xb, yb = x[i:i + 8].to(dev), y[i:i + 8].to(dev)
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad(); loss.backward(); opt.step()
        out = model(x.to(dev))
        mask = torch.zeros(32, 3, device=out.device) + out
        ok = (out.argmax(1).cpu() == y).float().mean().item() * torch.tensor(2.0)
        array = out.detach().cpu().numpy()
        scaled = out * torch.tensor(0.5)
        heads = torch.arange(32, device=dev)
        picked = heads[torch.tensor([3, 5])]       # an index made on the CPU picks from a GPU tensor
        summed = torch.zeros(32, 3, device=dev).index_add_(0, picked, out[picked].detach())
        model[0].weight = nn.Parameter(model[0].weight.detach().clone())  # a new Parameter on the GPU stays there
        again = model(x.to(dev))
    """, tmp_path)
    assert found == []
