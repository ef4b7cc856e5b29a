"""The five models of *Exploring mechanisms of Neural Robustness* (sec. 2-3), trained once and shared.

The document's training settings per profile, with the source of every `paper` value, and the cached
training of the local layer and of each model (`models` defines them, `nngeom.train.fit_classifier` trains
them).

All models are the single-hidden-layer perceptron of eq. 1, reading CIFAR-10 images flattened and
scaled to unit l^p norm (p = 3, as the local layer requires; the authors train every model on the
same ``LpUnitCIFAR10`` data)::

    h = W x,   h_hat = ReLU(h)^n,   y = A h_hat + b

* KH: W = S|S|^(p-2) learnt by the local rule (`nngeom.robustness.krotov`), pruned (App. A), frozen; only the
  decoder is trained;
* BP: everything trained by backpropagation; L2: + ``l2_weight * ||W||_2^2`` (``l2_form = "squared"``,
  the standard weight penalty, used at ``paper``) or ``l2_weight * ||W||_2`` (``l2_form = "norm"``, our
  cpu deviation: the square with the same weight drives W to zero within a few epochs at the cpu
  scale, measured in the section 2 notebook); JReg: + ``jac_weight * ||d h_hat / d x||_F^2`` with
  ``jac_proj`` projections; SpecReg: + ``spec_weight *`` the spectral penalty towards n^-alpha on
  h_hat (`nngeom.robustness.regularizers`, ``spec_method``: Nassar et al.'s published penalty or our simpler
  batch reconstruction).

Cross-entropy, Adam, batches of ``batch_size``. ``trained_models(cfg)`` returns every model, training
what is missing through `nngeom.cached` (one entry per model, keyed by the knobs that shape it), so
each notebook of the document runs alone.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from .. import data
from ..book.cache import cached
from ..book.runtime import device as default_device
from ..train import fit_classifier
from . import krotov
from .fast_matmul import split_bf16_available
from .models import MODEL_NAMES, PowerModel, build, epoch_basis, regularized_loss

__all__ = ["COMMON_KEYS", "LOCAL_KEYS", "MODEL_KEYS", "MODEL_NAMES", "PAPER_ACCURACY", "TRAINING", "TRAINING_BOUNDS",
           "TRAINING_SOURCES", "accuracy_table", "cifar_lp", "local_layer", "median_summary", "model_key",
           "ranking_mode", "sources_table", "test_data", "trained_models", "trained_variant", "training_config"]

PAPER_ACCURACY = {"KH": 0.52, "BP": 0.545}

# Training knobs shared by every notebook of the document (the cache key): identical in all notebooks.
TRAINING = {
    "smoke": {"n_train": 600, "n_test": 300, "hidden": 32, "p": 3.0, "k": 2, "delta": 0.4, "power_n": 4.5,
              "init_sigma": 1.0, "local_lr": 0.5, "local_epochs": 3, "local_batch": 100, "prune_threshold": -1.0,
              "epochs": 1, "batch_size": 200, "lr": 1e-3, "decoder_lr": 1e-2, "l2_weight": 5e-4,
              "jac_weight": 1e-3, "jac_proj": 1, "spec_weight": 1.0, "spec_alpha": 1.0, "spec_tau": 5,
              "l2_form": "norm", "spec_method": "nassar", "jac_on": "h_hat", "spec_on": "h",
              "train_seed": 0},
    "cpu": {"n_train": 12000, "n_test": 2000, "hidden": 512, "p": 3.0, "k": 2, "delta": 0.4, "power_n": 4.5,
            "init_sigma": 1.0, "local_lr": 0.02, "local_epochs": 1000, "local_batch": 1000, "prune_threshold": -1.0,
            "epochs": 25, "batch_size": 500, "lr": 1e-3, "decoder_lr": 1e-2, "l2_weight": 5e-4,
            "jac_weight": 1e-3, "jac_proj": 3, "spec_weight": 1.0, "spec_alpha": 1.0, "spec_tau": 10,
            "l2_form": "norm", "spec_method": "nassar", "jac_on": "h_hat", "spec_on": "h",
              "train_seed": 0},
    "paper": {"n_train": 50000, "n_test": 10000, "hidden": 2000, "p": 3.0, "k": 2, "delta": 0.4, "power_n": 4.5,
              "init_sigma": 1.0, "local_lr": 0.02, "local_epochs": 1000, "local_batch": 1000, "prune_threshold": 0.0015,
              "epochs": 1000, "batch_size": 1000, "lr": 1e-3, "decoder_lr": 1e-3, "l2_weight": 5e-4,
              "jac_weight": 1e-3, "jac_proj": 3, "spec_weight": 1.0, "spec_alpha": 1.0, "spec_tau": 10,
              "l2_form": "squared", "spec_method": "nassar", "jac_on": "h", "spec_on": "h",
              "train_seed": 0},
}
TRAINING_BOUNDS = {"n_train": (100, 50000), "n_test": (100, 10000), "hidden": (8, None), "p": (2, None),
                   "k": (2, None), "delta": (0, None), "init_sigma": (1e-6, None), "power_n": (1, None), "local_lr": (0, None),
                   "local_epochs": (1, None), "local_batch": (1, None), "epochs": (1, None),
                   "batch_size": (2, None), "lr": (0, None), "decoder_lr": (0, None)}

# Where every training knob's `paper` value comes from (printed with the settings of every notebook).
TRAINING_SOURCES = {
    "n_train": "document sec. 2: CIFAR-10 for training (the whole training set)",
    "n_test": "document sec. 2: CIFAR-10 for testing (the whole test set)",
    "hidden": "authors' code: 2000 hidden units",
    "p": "authors' code: p = 3 (eq. 3 and the unit l^p scaling of the images)",
    "k": "authors' code: k = 2 (eq. 5)",
    "delta": "authors' code: delta = 0.4 (eq. 5)",
    "power_n": "authors' code: ReLU power n = 4.5 (eq. 1)",
    "init_sigma": "other paper: Krotov & Hopfield 2019 code, synapses i.i.d. normal with std 1",
    "local_lr": "authors' code: 0.02, annealed linearly",
    "local_epochs": "authors' code: 1000 epochs of the local rule",
    "local_batch": "authors' code: batch 1000",
    "prune_threshold": "document sec. 2 and App. A text: 0.0015 (the Fig. A1 caption says 0.015)",
    "epochs": "authors' code: ICLR-CIFAR10_Training notebook, NUMBER_OF_EPOCHS = 1000 for the supervised models",
    "batch_size": "document sec. 2: \"mini batches consisting of 1000 examples each\"",
    "lr": "authors' code: Adam 1e-3",
    "decoder_lr": "authors' code: Adam 1e-3 (cpu: ours, 1e-2, since KH's small features move slowly at 1e-3 "
                  "in 25 epochs)",
    "l2_weight": "authors' code: 5e-4",
    "l2_form": "ours: the standard squared penalty at paper (the document names L2 without formula); cpu: the "
               "norm, since the square drives W to zero at that scale (measured in sec. 2)",
    "jac_weight": "authors' code: 1e-3",
    "jac_proj": "document sec. 2: n_proj = 3 projections",
    "spec_weight": "authors' code: weight 1",
    "spec_alpha": "document sec. 2: \"for a n^-1 spectrum\"",
    "spec_tau": "other paper: Nassar et al. 2020 code, the first 10 eigenvalues left free",
    "spec_method": "other paper: Nassar et al. 2020 (document sec. 2 cites [16]'s method)",
    "jac_on": "authors' code: Trainers / Regularizers, JFReg penalises the hidden_repr the model returns, h = W x "
              "before ReLU^n (the document: \"only on hidden representation states\"); cpu: h_hat, ours, since on h "
              "the penalty is 1e-3 ||W||_F^2, a squared weight penalty that leaves the model at chance at that scale "
              "(measured in sec. 2), as the squared L2 does",
    "spec_on": "authors' code: SpecReg penalises the same hidden_repr, h = W x",
    "train_seed": "ours: one seed",
}


def sources_table(settings, local_sources: dict | None = None, profiles: dict | None = None):
    """Knob, this run's value, the smoke / cpu / paper values and the paper value's source, as a DataFrame."""
    import pandas as pd

    sources = {**TRAINING_SOURCES, **(local_sources or {})}
    rows = []
    for key in settings:
        row = {"knob": key, "this run": settings[key]}
        for name in ("smoke", "cpu", "paper"):
            row[name] = (profiles or {}).get(name, {}).get(key, TRAINING.get(name, {}).get(key))
        row["source of the paper value"] = sources.get(key, "ours")
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("knob")
    return frame.astype({c: str for c in ("this run", "smoke", "cpu", "paper")})


def training_config(settings) -> dict:
    """The training knobs of a notebook's settings: the shared cache key."""
    return {key: settings[key] for key in TRAINING["cpu"]}


def cifar_lp(split: str, n: int, p: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A stratified seeded CIFAR-10 subset, flattened (N, 3072) and scaled to unit l^p norm."""
    x, y = data.load_subset("cifar10", split, n, seed=seed, flatten=True)
    return krotov.lp_normalize(x, p), y


def _train_local(cfg: dict) -> dict:
    x, _ = cifar_lp("train", cfg["n_train"], cfg["p"], seed=cfg["train_seed"])
    generator = torch.Generator().manual_seed(int(cfg["train_seed"]))
    layer = krotov.KrotovHopfieldLayer(x.shape[1], cfg["hidden"], p=cfg["p"], k=cfg["k"], delta=cfg["delta"],
                              sigma=cfg["init_sigma"], generator=generator)
    initial = layer.synapses.clone()
    start = time.perf_counter()
    monitor = krotov.train_local(layer, x, cfg["local_epochs"], lr=cfg["local_lr"], batch_size=cfg["local_batch"],
                                 seed=cfg["train_seed"], device=default_device())
    layer.cpu()
    variance = krotov.synapse_variance(layer)
    if cfg["prune_threshold"] > 0:
        threshold = cfg["prune_threshold"]
    else:  # Otsu split, accepted only when the high-variance side is a minor mode (fewer than half the units)
        threshold = krotov.otsu_threshold(variance)
        if float((variance <= threshold).float().mean()) < 0.5:
            threshold = float(variance.max())
    keep = variance <= threshold
    every_unit_above = not bool(keep.any())
    if every_unit_above:  # no row converged below the cut-off (e.g. a dry run's truncated rule): prune nothing
        keep = torch.ones_like(keep)
    return {"initial": initial, "synapses": layer.synapses.clone(), "variance": variance,
            "threshold": float(threshold), "keep": keep, "every_unit_above": every_unit_above,
            "update_norm": torch.tensor(monitor["update_norm"]),
            "weight_change": torch.tensor(monitor["weight_change"]), "seconds": time.perf_counter() - start}


def _local_layer_entry(fast_matmul: str, **knobs) -> dict:
    if fast_matmul != ranking_mode():
        raise RuntimeError(f"the local layer was asked for with ranking {fast_matmul!r} on a machine whose float32 "
                           f"matmul mode is {ranking_mode()!r}")
    return _train_local(knobs)


def ranking_mode() -> str:
    """How the local rule's ranking product is computed here: ``split-bf16`` or ``ieee-float32`` (part of the key)."""
    return "split-bf16" if split_bf16_available() else "ieee-float32"


def local_layer(cfg: dict) -> dict:
    """The trained local layer (cached): initial and final synapses, variances, pruning threshold and mask."""
    knobs = {key: cfg[key] for key in ("n_train", "hidden", "p", "train_seed") + LOCAL_KEYS}
    return cached("nr-local-layer", _local_layer_entry, fast_matmul=ranking_mode(), **knobs)


COMMON_KEYS = ("n_train", "n_test", "hidden", "p", "power_n", "epochs", "batch_size", "train_seed")
LOCAL_KEYS = ("k", "delta", "init_sigma", "local_lr", "local_epochs", "local_batch", "prune_threshold")
MODEL_KEYS = {"KH": LOCAL_KEYS + ("decoder_lr",), "KH-raw": LOCAL_KEYS + ("decoder_lr",), "BP": ("lr",),
              "L2": ("lr", "l2_weight", "l2_form"), "JReg": ("lr", "jac_weight", "jac_proj", "jac_on"),
              "SpecReg": ("lr", "spec_weight", "spec_alpha", "spec_tau", "spec_method", "spec_on")}


def model_key(kind: str, cfg: dict) -> dict:
    """The knobs that shape model ``kind``: the arguments of its cached build (KH: plus the ranking mode)."""
    extra = {"fast_matmul": ranking_mode()} if kind in ("KH", "KH-raw") else {}
    return {"model": kind, **{key: cfg[key] for key in COMMON_KEYS + MODEL_KEYS[kind]}, **extra}


def _model_entry(model: str, fast_matmul: str | None = None, **knobs) -> dict:
    return _train_one(model, knobs)


def _train_one(kind: str, cfg: dict) -> dict:
    dev = default_device()
    train = cifar_lp("train", cfg["n_train"], cfg["p"], seed=cfg["train_seed"])
    test = cifar_lp("test", cfg["n_test"], cfg["p"], seed=cfg["train_seed"])
    torch.manual_seed(cfg["train_seed"])
    model = build(kind, cfg, local_layer(cfg) if kind in ("KH", "KH-raw") else None).to(dev)
    basis: dict[str, torch.Tensor] = {}
    nassar = kind == "SpecReg" and cfg.get("spec_method") == "nassar"

    def refresh_basis() -> None:  # Nassar et al.: the eigenbasis of h_hat over the training set, every epoch
        basis["current"] = epoch_basis(model, train[0], on=cfg["spec_on"])

    def loss(_: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return regularized_loss(model, x, y, kind, cfg, generator, basis.get("current"))  # the model being fitted

    start = time.perf_counter()
    history = fit_classifier(model, train, test, epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                             lr=cfg["decoder_lr"] if kind in ("KH", "KH-raw") else cfg["lr"], seed=cfg["train_seed"],
                             loss=loss, epoch_start=refresh_basis if nassar else None, device=dev,
                             eval_batch_size=2000, name=kind).as_dict()
    return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "history": history,
            "test_accuracy": history["test_accuracy"][-1], "seconds": time.perf_counter() - start}


def trained_models(cfg: dict) -> tuple[dict[str, PowerModel], dict]:
    """The five trained models (on `nngeom.device()`, eval mode) and their training records."""
    local = local_layer(cfg)
    models, records = {}, {}
    for kind in MODEL_NAMES:
        records[kind] = cached(f"nr-model-{kind}", _model_entry, **model_key(kind, cfg))
        model = build(kind, cfg, local if kind in ("KH", "KH-raw") else None)
        model.load_state_dict(records[kind]["state"])
        models[kind] = model.to(default_device()).eval()
    return models, records


def trained_variant(kind: str, cfg: dict, **changes) -> tuple[nn.Module, dict]:
    """One model trained with some knobs changed (e.g. ``"KH-raw"``, or ``"L2", l2_form="squared"``), cached."""
    changed = {**cfg, **changes}
    record = cached(f"nr-model-{kind}", _model_entry, **model_key(kind, changed))
    model = build(kind, changed, local_layer(changed) if kind in ("KH", "KH-raw") else None)
    model.load_state_dict(record["state"])
    return model.to(default_device()).eval(), record


def test_data(cfg: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The test subset every notebook evaluates on."""
    return cifar_lp("test", cfg["n_test"], cfg["p"], seed=cfg["train_seed"])


def accuracy_table(records: dict) -> dict[str, float]:
    return {kind: float(records[kind]["test_accuracy"]) for kind in MODEL_NAMES}


def median_summary(values: dict[str, np.ndarray]) -> dict[str, float]:
    """Median of the finite entries of every array."""
    return {k: float(np.median(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan") for k, v in values.items()}
