"""Speed of the local learning rule and of the Jacobian regulariser (Neural robustness, sec. 2).

1. One epoch of the Krotov-Hopfield rule (eq. 4-5) on CIFAR-10 (default: 50,000 images, 2000 units,
   batch 1000, float32) with `nngeom.robustness.krotov` (its ranking product in split-bf16 mode when
   `nngeom.robustness.fast_matmul` verifies it, and again in IEEE float32) against a direct NumPy transcription of the published
   algorithm (minibatch loop, argsort, dense g matrix, same arithmetic), which lives here as the peer, run in
   float32 (our dtype) and in float64 (NumPy's default, what the published code computes in). All start from the
   same synapses; the final synapses of ours and the float32 peer are compared, and along one IEEE epoch
   we count the inputs whose winner or k-th unit the split-bf16 ranking would change.
2. One training step of the PowerMLP with the Jacobian regulariser (1 projection) against a plain step.

Median of ``--repeats`` runs after a warm-up. Writes _build/benchmarks/krotov.json.

    .venv/bin/python benchmarks/bench_krotov.py [--images 50000] [--hidden 2000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
import torch

from nngeom.robustness import experiments, krotov, models
from nngeom.robustness.fast_matmul import calibration, fast_float32_matmul, split_bf16_available
from nngeom.book.runtime import build_dir


def torch_epoch(layer: krotov.KrotovHopfieldLayer, x: torch.Tensor, eps: float, batch: int, fast: bool = True) -> None:
    for i in range(len(x) // batch):
        layer.learning_step(x[i * batch:(i + 1) * batch], eps, fast_matmul=fast)


def selection_agreement(layer: krotov.KrotovHopfieldLayer, x: torch.Tensor, eps: float, batch: int) -> dict:
    """Along one IEEE-float32 epoch: how often the split-bf16 ranking picks another winner or k-th unit."""
    differ = total = 0
    for i in range(len(x) // batch):
        xb = x[i * batch:(i + 1) * batch]
        picks = []
        for fast in (True, False):
            with fast_float32_matmul(fast):
                top = torch.topk(layer(xb), layer.k, dim=1).indices
            picks.append(top[:, [0, layer.k - 1]])
        differ += int((picks[0] != picks[1]).any(1).sum())
        total += len(xb)
        layer.learning_step(xb, eps, fast_matmul=False)
    return {"inputs": total, "different_selection": differ}


def timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def bench_local_rule(images: int, hidden: int, batch: int, repeats: int) -> dict:
    x, _ = experiments.cifar_lp("train", images, 3.0, seed=0)
    g = torch.Generator().manual_seed(0)
    layer = krotov.KrotovHopfieldLayer(x.shape[1], hidden, p=3.0, k=2, delta=0.4, generator=g)
    S0 = layer.synapses.clone()
    M = x.numpy()

    def ours():
        layer.synapses = S0.clone()
        torch_epoch(layer, x, 0.02, batch)

    def ours_ieee():
        layer.synapses = S0.clone()
        torch_epoch(layer, x, 0.02, batch, fast=False)

    M64 = M.astype(np.float64)

    def peer():
        return krotov.published_minibatches(S0.numpy().copy(), M, np.float32(0.02), batch, 3.0, 2, np.float32(0.4))[0]

    def peer64():  # the published code's dtype: NumPy's default float64
        return krotov.published_minibatches(S0.numpy().astype(np.float64), M64, 0.02, batch, 3.0, 2, 0.4)[0]

    t_ours = timed(ours, repeats)
    t_ieee = timed(ours_ieee, repeats)
    t_peer = timed(peer, repeats)
    t_peer64 = timed(peer64, repeats)
    S_peer = peer()

    def rel_diff():
        return float(np.abs(layer.synapses.numpy() - S_peer).max() / np.abs(S_peer).max())

    ours()
    diff = rel_diff()
    ours_ieee()
    diff_ieee = rel_diff()
    layer.synapses = S0.clone()
    agreement = selection_agreement(layer, x, 0.02, batch)
    return {"images": images, "hidden": hidden, "batch": batch, "split_bf16": split_bf16_available(),
            "calibration": calibration(), "ours_s": t_ours, "ours_ieee_s": t_ieee, "peer_float32_s": t_peer,
            "peer_float64_s": t_peer64, "ours_median_s": statistics.median(t_ours),
            "ours_ieee_median_s": statistics.median(t_ieee),
            "peer_median_s": statistics.median(t_peer), "peer64_median_s": statistics.median(t_peer64),
            "speedup": statistics.median(t_peer) / statistics.median(t_ours),
            "speedup_ieee": statistics.median(t_peer) / statistics.median(t_ieee),
            "speedup_vs_float64": statistics.median(t_peer64) / statistics.median(t_ours),
            "max_rel_diff_synapses": diff, "max_rel_diff_synapses_ieee": diff_ieee, "selection": agreement}


def bench_jacobian_step(hidden: int, batch: int, repeats: int) -> dict:
    torch.manual_seed(0)
    x = torch.rand(batch, 3072)
    x = krotov.lp_normalize(x, 3.0)
    y = torch.randint(0, 10, (batch,))
    cfg = dict(experiments.TRAINING["paper"])
    cfg["jac_proj"] = 1
    model = models.PowerMLP(3072, hidden)
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    gen = torch.Generator().manual_seed(0)

    def step(kind):  # the step of fit_classifier with the regularised loss
        loss = models.regularized_loss(model, x, y, kind, cfg, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward(inputs=params)
        opt.step()

    def steps(kind):
        for _ in range(5):
            step(kind)

    t_plain = timed(lambda: steps("BP"), repeats)
    t_jac = timed(lambda: steps("JReg"), repeats)
    return {"hidden": hidden, "batch": batch, "plain_s_per_5_steps": t_plain, "jacobian_s_per_5_steps": t_jac,
            "ratio": statistics.median(t_jac) / statistics.median(t_plain)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50000)
    parser.add_argument("--hidden", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, cpu count {os.cpu_count()}")
    local = bench_local_rule(args.images, args.hidden, args.batch, args.repeats)
    jac = bench_jacobian_step(args.hidden, args.batch, args.repeats)
    print(f"\nlocal rule, one epoch ({local['images']} images, {local['hidden']} units, batch {local['batch']}):")
    mode = "split-bf16 ranking" if local["split_bf16"] else f"IEEE (split-bf16 off: {local['calibration']['reason']})"
    print(f"  {'nngeom.robustness.krotov':<22}{local['ours_median_s']:9.2f} s   {mode}")
    print(f"  {'  same, IEEE ranking':<22}{local['ours_ieee_median_s']:9.2f} s   speed-up {local['speedup_ieee']:.2f}x")
    print(f"  {'NumPy peer, float32':<22}{local['peer_median_s']:9.2f} s   speed-up {local['speedup']:.2f}x (target >= 3x)")
    print(f"  {'NumPy peer, float64':<22}{local['peer64_median_s']:9.2f} s   speed-up {local['speedup_vs_float64']:.2f}x "
          f"(the published code's dtype)")
    print(f"  max relative synapse difference after one epoch from the float32 peer: "
          f"{local['max_rel_diff_synapses']:.1e} (IEEE ranking: {local['max_rel_diff_synapses_ieee']:.1e})")
    sel = local["selection"]
    print(f"  inputs whose winner or k-th unit the split-bf16 ranking changes: {sel['different_selection']} "
          f"of {sel['inputs']}")
    print(f"\nJacobian-regularised step (1 projection) vs plain step ({jac['hidden']} units, batch {jac['batch']}):")
    print(f"  plain {statistics.median(jac['plain_s_per_5_steps']) / 5 * 1e3:.1f} ms, "
          f"JReg {statistics.median(jac['jacobian_s_per_5_steps']) / 5 * 1e3:.1f} ms, "
          f"ratio {jac['ratio']:.2f} (target <= 2.5)")
    out = build_dir() / "benchmarks" / "krotov.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"local_rule": local, "jacobian_step": jac, "torch": torch.__version__,
                               "threads": torch.get_num_threads()}, indent=2))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
