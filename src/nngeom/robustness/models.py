"""The single-hidden-layer perceptron of *Exploring mechanisms of Neural Robustness* (eq. 1) and its losses.

    h = W x,   h_hat = ReLU(h)^n,   y = A h_hat + b

* ``PowerMLP``: the perceptron trained end to end (BP and the three regularised models);
* ``layer_from`` / ``build``: KH is `krotov.HybridModel` on a trained (pruned) Krotov-Hopfield layer;
* ``regularized_loss(model, x, y, kind, cfg)``: cross-entropy plus the regulariser of ``kind`` (sec. 2
  "Supervised learning", Appendix D; `regularizers`): L2 on W (``l2_form``: the squared norm or the norm),
  the Jacobian penalty with ``jac_proj`` random projections, the spectral penalty towards n^-alpha
  (``spec_method``: Nassar et al.'s published penalty on the epoch's eigenbasis, or our batch reconstruction);
  the Jacobian penalty acts on the representation ``jac_on`` and the spectral one on ``spec_on``: ``"h"`` =
  W x, the ``hidden_repr`` that the authors' trainer regularises, or ``"h_hat"`` = ReLU(W x)^n;
* ``epoch_basis``: the eigenbasis of the covariance of that representation over the training set that
  Nassar et al.'s penalty projects on, recomputed every epoch.

The trained models, their settings and their cache live in `experiments`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import krotov, regularizers

__all__ = ["L2_FORMS", "MODEL_NAMES", "PowerMLP", "PowerModel", "REG_TARGETS", "SPEC_METHODS", "VARIANTS", "build", "epoch_basis", "layer_from",
           "regularized_loss", "regularized_representation"]

MODEL_NAMES = ("KH", "BP", "L2", "JReg", "SpecReg")
VARIANTS = ("KH-raw",)  # KH on the unpruned local layer (App. A: pruning "leaves performance unaffected")
L2_FORMS = ("squared", "norm")
SPEC_METHODS = ("nassar", "batch")
REG_TARGETS = ("h", "h_hat")  # the representation the Jacobian and spectral penalties act on


def regularized_representation(model: "PowerModel", x: torch.Tensor, h_hat: torch.Tensor, on: str) -> torch.Tensor:
    """``h = W x`` (``on = "h"``) or ``h_hat`` itself (``"h_hat"``): what JReg (``jac_on``) or SpecReg (``spec_on``)
    penalises."""
    if on not in REG_TARGETS:
        raise ValueError(f"the regularised representation must be one of {REG_TARGETS}, got {on!r}")
    return model.pre(x) if on == "h" else h_hat


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


PowerModel = PowerMLP | krotov.HybridModel
"""Either model of eq. 1: both expose ``encoder_weight()``, ``pre(x)``, ``hidden(x)``, ``decoder`` and ``n``."""


def regularized_loss(model: PowerModel, x: torch.Tensor, y: torch.Tensor, kind: str, cfg: dict,
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
        target = regularized_representation(model, x, h, cfg.get("jac_on", "h_hat"))
        loss = loss + cfg["jac_weight"] * regularizers.jacobian_penalty(x, target, cfg["jac_proj"], generator)
    elif kind == "SpecReg":
        target = regularized_representation(model, x, h, cfg.get("spec_on", "h_hat"))
        if cfg["spec_method"] == "nassar":
            if basis is None:
                raise ValueError("spec_method 'nassar' needs the epoch's eigenbasis")
            penalty = regularizers.nassar_spectral_penalty(target, basis, cfg["spec_alpha"], cfg["spec_tau"])
        elif cfg["spec_method"] == "batch":
            penalty = regularizers.spectral_penalty(target, cfg["spec_alpha"], cfg["spec_tau"])
        else:
            raise ValueError(f"spec_method must be one of {SPEC_METHODS}, got {cfg['spec_method']!r}")
        loss = loss + cfg["spec_weight"] * penalty
    elif kind not in ("KH", "KH-raw", "BP"):
        raise ValueError(f"unknown model {kind!r}: choose one of {', '.join(MODEL_NAMES)}")
    return loss


@torch.no_grad()
def epoch_basis(model: PowerModel, x: torch.Tensor, batch_size: int = 2000, on: str = "h_hat") -> torch.Tensor:
    """Eigenvectors (columns, descending eigenvalues) of the covariance of the representation ``on`` (h or h_hat)
    over all of ``x`` (Nassar et al.)."""
    if on not in REG_TARGETS:
        raise ValueError(f"the regularised representation must be one of {REG_TARGETS}, got {on!r}")
    dev = next(model.parameters()).device
    represent = model.pre if on == "h" else model.hidden
    h = torch.cat([represent(x[i:i + batch_size].to(dev)).double() for i in range(0, len(x), batch_size)])
    return regularizers.eigenbasis(h).to(next(model.parameters()).dtype)


def layer_from(synapses: torch.Tensor, cfg: dict) -> krotov.KrotovHopfieldLayer:
    """A Krotov-Hopfield layer holding ``synapses`` (hidden x input), with the rule's ``p``, ``k``, ``delta``."""
    layer = krotov.KrotovHopfieldLayer(synapses.shape[1], synapses.shape[0], p=cfg["p"],
                                       k=min(cfg["k"], len(synapses)), delta=cfg["delta"])
    layer.synapses = synapses.clone()
    return layer


def build(kind: str, cfg: dict, local: dict | None = None) -> PowerModel:
    """An untrained model of ``kind``; KH and KH-raw need ``local``, the trained local layer (pruned rows for KH)."""
    if kind in ("KH", "KH-raw"):
        if local is None:
            raise ValueError(f"model {kind!r} needs the trained local layer (experiments.local_layer(cfg))")
        rows = local["synapses"][local["keep"]] if kind == "KH" else local["synapses"]
        return krotov.HybridModel(layer_from(rows, cfg), n=cfg["power_n"])
    return PowerMLP(3072, cfg["hidden"], n=cfg["power_n"])
