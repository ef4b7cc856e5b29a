"""The five models of *Exploring mechanisms of Neural Robustness* (sec. 2-3), trained once and shared.

All models are the single-hidden-layer perceptron of eq. 1, reading CIFAR-10 images flattened and
scaled to unit l^p norm (p = 3, as the local layer requires; the authors train every model on the
same ``LpUnitCIFAR10`` data)::

    h = W x,   h_hat = ReLU(h)^n,   y = A h_hat + b

* KH: W = S|S|^(p-2) learnt by the local rule (`nngeom.krotov`), pruned (App. A), frozen; only the
  decoder is trained;
* BP: everything trained by backpropagation; L2: + ``l2_weight * ||W||_2^2`` (``l2_form = "squared"``,
  the standard weight penalty, used at ``paper``) or ``l2_weight * ||W||_2`` (``l2_form = "norm"``, our
  cpu deviation: the square with the same weight drives W to zero within a few epochs at the cpu
  scale, measured in the section 2 notebook); JReg: + ``jac_weight * ||d h_hat / d x||_F^2`` with
  ``jac_proj`` projections; SpecReg: + ``spec_weight *`` the spectral penalty towards n^-alpha on
  h_hat (`nngeom.regularizers`, ``spec_method``: Nassar et al.'s published penalty or our simpler
  batch reconstruction).

Cross-entropy, Adam, batches of ``batch_size``. ``trained_models(cfg)`` returns every model, training
what is missing through `nngeom.cached` (one entry per model, keyed by the knobs that shape it), so
each notebook of the document runs alone.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import data, krotov, regularizers
from .book.budget import loop
from .book.cache import cached
from .book.runtime import device as default_device
from .fast_matmul import split_bf16_available

MODEL_NAMES = ("KH", "BP", "L2", "JReg", "SpecReg")
VARIANTS = ("KH-raw",)  # KH on the unpruned local layer (App. A: pruning "leaves performance unaffected")
PAPER_ACCURACY = {"KH": 0.52, "BP": 0.545}

# Training knobs shared by every notebook of the document (the cache key): identical in all notebooks.
TRAINING = {
    "smoke": {"n_train": 600, "n_test": 300, "hidden": 32, "p": 3.0, "k": 2, "delta": 0.4, "power_n": 4.5,
              "init_sigma": 1.0, "local_lr": 0.5, "local_epochs": 3, "local_batch": 100, "prune_threshold": -1.0,
              "epochs": 1, "batch_size": 200, "lr": 1e-3, "decoder_lr": 1e-2, "l2_weight": 5e-4,
              "jac_weight": 1e-3, "jac_proj": 1, "spec_weight": 1.0, "spec_alpha": 1.0, "spec_tau": 5,
              "l2_form": "norm", "spec_method": "nassar", "train_seed": 0},
    "cpu": {"n_train": 6000, "n_test": 1000, "hidden": 256, "p": 3.0, "k": 2, "delta": 0.4, "power_n": 4.5,
            "init_sigma": 1.0, "local_lr": 0.02, "local_epochs": 1000, "local_batch": 1000, "prune_threshold": -1.0,
            "epochs": 25, "batch_size": 500, "lr": 1e-3, "decoder_lr": 1e-2, "l2_weight": 5e-4,
            "jac_weight": 1e-3, "jac_proj": 3, "spec_weight": 1.0, "spec_alpha": 1.0, "spec_tau": 10,
            "l2_form": "norm", "spec_method": "nassar", "train_seed": 0},
    "paper": {"n_train": 50000, "n_test": 10000, "hidden": 2000, "p": 3.0, "k": 2, "delta": 0.4, "power_n": 4.5,
              "init_sigma": 1.0, "local_lr": 0.02, "local_epochs": 1000, "local_batch": 1000, "prune_threshold": 0.0015,
              "epochs": 1000, "batch_size": 1000, "lr": 1e-3, "decoder_lr": 1e-3, "l2_weight": 5e-4,
              "jac_weight": 1e-3, "jac_proj": 3, "spec_weight": 1.0, "spec_alpha": 1.0, "spec_tau": 10,
              "l2_form": "squared", "spec_method": "nassar", "train_seed": 0},
}
TRAINING_BOUNDS = {"n_train": (100, 50000), "n_test": (100, 10000), "hidden": (8, None), "p": (2, None),
                   "k": (2, None), "delta": (0, None), "init_sigma": (1e-6, None), "power_n": (1, None), "local_lr": (0, None),
                   "local_epochs": (1, None), "local_batch": (1, None), "epochs": (1, None),
                   "batch_size": (2, None), "lr": (0, None), "decoder_lr": (0, None)}
L2_FORMS = ("squared", "norm")
SPEC_METHODS = ("nassar", "batch")

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
    "epochs": "ours: no source (the authors' 1000 epochs are the local layer's); 1000 taken as an upper bound",
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


class PowerMLP(nn.Module):
    """h = W x (no bias), h_hat = ReLU(h)^n, y = A h_hat + b: eq. 1 trained end to end."""

    def __init__(self, in_features: int, hidden: int, n: float = 4.5, classes: int = 10):
        super().__init__()
        self.encoder = nn.Linear(in_features, hidden, bias=False)
        self.n = float(n)
        self.decoder = nn.Linear(hidden, classes)

    def extra_repr(self) -> str:
        return f"n={self.n:g}"

    def encoder_weight(self) -> torch.Tensor:
        return self.encoder.weight

    def pre(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.reshape(len(x), -1))

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.pre(x)).pow(self.n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.hidden(x))


def regularized_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str, cfg: dict,
                     generator: torch.Generator | None = None, basis: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy plus the regulariser of model ``kind`` (one forward pass through the encoder).

    ``basis``: the epoch's eigenvectors of the hidden covariance (SpecReg with ``spec_method = "nassar"``).
    """
    if kind == "JReg":
        x = x.detach().requires_grad_(True)
    h = model.hidden(x)
    loss = F.cross_entropy(model.decoder(h), y)
    if kind == "L2":
        if cfg["l2_form"] not in L2_FORMS:
            raise ValueError(f"l2_form must be one of {L2_FORMS}, got {cfg['l2_form']!r}")
        root = cfg["l2_form"] == "norm"
        loss = loss + cfg["l2_weight"] * regularizers.lp_weight_penalty(model.encoder_weight(), 2.0, root=root)
    elif kind == "JReg":
        loss = loss + cfg["jac_weight"] * regularizers.jacobian_penalty(x, h, cfg["jac_proj"], generator)
    elif kind == "SpecReg":
        if cfg["spec_method"] == "nassar":
            if basis is None:
                raise ValueError("spec_method 'nassar' needs the epoch's eigenbasis")
            penalty = regularizers.nassar_spectral_penalty(h, basis, cfg["spec_alpha"], cfg["spec_tau"])
        elif cfg["spec_method"] == "batch":
            penalty = regularizers.spectral_penalty(h, cfg["spec_alpha"], cfg["spec_tau"])
        else:
            raise ValueError(f"spec_method must be one of {SPEC_METHODS}, got {cfg['spec_method']!r}")
        loss = loss + cfg["spec_weight"] * penalty
    elif kind not in ("KH", "KH-raw", "BP"):
        raise ValueError(f"unknown model {kind!r}: choose one of {', '.join(MODEL_NAMES)}")
    return loss


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2000) -> float:
    dev = next(model.parameters()).device
    hits = sum((model(x[i:i + batch_size].to(dev)).argmax(1).cpu() == y[i:i + batch_size]).sum().item()
               for i in range(0, len(x), batch_size))
    return hits / len(x)


def fit(model: nn.Module, kind: str, train, test, cfg: dict, lr: float, progress: bool = False) -> dict:
    """Adam on the trainable parameters for ``cfg['epochs']`` epochs; per-epoch loss and test accuracy."""
    dev = next(model.parameters()).device
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    generator = torch.Generator().manual_seed(int(cfg["train_seed"]))
    x, y = train
    history = {"loss": [], "test_accuracy": []}
    epochs = range(cfg["epochs"])
    if progress:  # imported only when asked: tqdm.auto warns in kernels without ipywidgets
        from tqdm.auto import tqdm
        epochs = tqdm(epochs, desc=kind, leave=False)
    nassar = kind == "SpecReg" and cfg.get("spec_method") == "nassar"
    for _ in loop(epochs, f"{kind} epochs", total=cfg["epochs"]):
        basis = epoch_basis(model, x) if nassar else None
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for i in loop(range(0, len(x), cfg["batch_size"]), f"{kind} batches"):
            idx = order[i:i + cfg["batch_size"]]
            loss = regularized_loss(model, x[idx].to(dev), y[idx].to(dev), kind, cfg, generator, basis)
            opt.zero_grad(set_to_none=True)
            loss.backward(inputs=params)  # no gradient for the inputs that JReg differentiates through
            opt.step()
            total += loss.item() * len(idx)
        history["loss"].append(total / len(x))
        history["test_accuracy"].append(accuracy(model, *test))
    return history


@torch.no_grad()
def epoch_basis(model: nn.Module, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Eigenvectors (columns, descending eigenvalues) of the covariance of h_hat over all of ``x`` (Nassar et al.)."""
    dev = next(model.parameters()).device
    h = torch.cat([model.hidden(x[i:i + batch_size].to(dev)).double() for i in range(0, len(x), batch_size)])
    return regularizers.eigenbasis(h).to(next(model.parameters()).dtype)


def _train_local(cfg: dict) -> dict:
    x, _ = cifar_lp("train", cfg["n_train"], cfg["p"], seed=cfg["train_seed"])
    generator = torch.Generator().manual_seed(int(cfg["train_seed"]))
    layer = krotov.LocalLayer(x.shape[1], cfg["hidden"], p=cfg["p"], k=cfg["k"], delta=cfg["delta"],
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


def layer_from(synapses: torch.Tensor, cfg: dict) -> krotov.LocalLayer:
    layer = krotov.LocalLayer(synapses.shape[1], synapses.shape[0], p=cfg["p"], k=min(cfg["k"], len(synapses)),
                              delta=cfg["delta"])
    layer.synapses = synapses.clone()
    return layer


def build(kind: str, cfg: dict, local: dict | None = None) -> nn.Module:
    """An untrained model of ``kind`` (KH gets the pruned trained local layer)."""
    if kind in ("KH", "KH-raw"):
        local = local or local_layer(cfg)
        rows = local["synapses"][local["keep"]] if kind == "KH" else local["synapses"]
        return krotov.HybridModel(layer_from(rows, cfg), n=cfg["power_n"])
    return PowerMLP(3072, cfg["hidden"], n=cfg["power_n"])


COMMON_KEYS = ("n_train", "n_test", "hidden", "p", "power_n", "epochs", "batch_size", "train_seed")
LOCAL_KEYS = ("k", "delta", "init_sigma", "local_lr", "local_epochs", "local_batch", "prune_threshold")
MODEL_KEYS = {"KH": LOCAL_KEYS + ("decoder_lr",), "KH-raw": LOCAL_KEYS + ("decoder_lr",), "BP": ("lr",),
              "L2": ("lr", "l2_weight", "l2_form"), "JReg": ("lr", "jac_weight", "jac_proj"),
              "SpecReg": ("lr", "spec_weight", "spec_alpha", "spec_tau", "spec_method")}


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
    model = build(kind, cfg).to(dev)
    start = time.perf_counter()
    history = fit(model, kind, train, test, cfg, cfg["decoder_lr"] if kind in ("KH", "KH-raw") else cfg["lr"])
    return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "history": history,
            "test_accuracy": history["test_accuracy"][-1], "seconds": time.perf_counter() - start}


def trained_models(cfg: dict) -> tuple[dict[str, nn.Module], dict]:
    """The five trained models (on `nngeom.device()`, eval mode) and their training records."""
    local = local_layer(cfg)
    models, records = {}, {}
    for kind in MODEL_NAMES:
        records[kind] = cached(f"nr-model-{kind}", _model_entry, **model_key(kind, cfg))
        model = build(kind, cfg, local)
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
