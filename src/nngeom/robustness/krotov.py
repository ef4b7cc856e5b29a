"""Krotov-Hopfield local learning layer and hybrid model (Neural robustness, sec. 2, eq. 3-5, Appendix A).

Forward pass of the local layer with synapses S (hidden x input)::

    h_i(x) = sum_j S_ij |S_ij|^(p-2) x_j                                    (eq. 3)

Batched learning rule (eq. 4-5), applied to inputs scaled to unit l^p norm::

    dS_ij = lambda * E_x[ g(h_i(x)) (x_j - h_i(x) S_ij) ]                    (eq. 4)
    g(h_i) = 1 for the strongest unit, -delta for the k-th strongest, 0 else (eq. 5)

As in Krotov and Hopfield's published code (and the robustness document's ``FKHL3``), the
increment is divided by its largest absolute entry before the step, so ``lambda`` is the largest
change of any synapse; ``lambda`` is annealed linearly to zero over the epochs. Because g has two
non-zero entries per input, the update touches only the rows of the units that won or came k-th and
is assembled by scatter-adds instead of a dense (hidden x batch) @ (batch x input) product; the one
dense product left, the ranking h = W x, runs on the CPU in `nngeom.robustness.fast_matmul`'s split-bf16 mode
where that mode is verified to keep float32 accuracy.

Appendix A prunes non-converged units: a unit whose synapse row has a variance above a threshold
is removed. The hybrid model is frozen local layer -> ReLU(h)^n -> linear decoder (eq. 1).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..book.budget import loop
from .fast_matmul import fast_float32_matmul

__all__ = ["HybridModel", "KrotovHopfieldLayer", "lp_normalize", "otsu_threshold", "prune",
           "published_minibatches", "synapse_variance", "train_local"]


def lp_normalize(x: torch.Tensor, p: float = 3.0, eps: float = 1e-12) -> torch.Tensor:
    """Flatten ``x`` to (N, D) and scale every row to unit l^p norm."""
    if p <= 0:
        raise ValueError(f"p must be > 0, got {p}")
    flat = x.reshape(len(x), -1)
    return flat / flat.abs().pow(p).sum(1, keepdim=True).pow(1.0 / p).clamp_min(eps)


class KrotovHopfieldLayer(nn.Module):
    """Krotov-Hopfield layer ``h = x @ (S |S|^(p-2))^T`` with the local learning rule of eq. 4-5.

    Synapses are initialised i.i.d. normal with std ``sigma`` (default 1, as in Krotov and Hopfield's
    code: rows start far outside the unit l^p sphere, and a winner's norm shrinks towards 1, which
    lets other units win in turn); they are a buffer, not a parameter: no gradient reaches them.
    """

    synapses: torch.Tensor

    def __init__(self, in_features: int, hidden: int, p: float = 3.0, k: int = 2, delta: float = 0.4,
                 sigma: float = 1.0, generator: torch.Generator | None = None):
        super().__init__()
        for name, value in (("in_features", in_features), ("hidden", hidden)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if in_features < 1 or hidden < 1:
            raise ValueError(f"in_features and hidden must be >= 1 (got {in_features}, {hidden})")
        if p < 2:
            raise ValueError(f"p must be >= 2 for S|S|^(p-2) to be defined at 0, got {p}")
        if not 2 <= k <= hidden:
            raise ValueError(f"k must lie in [2, hidden={hidden}], got {k}")
        if delta < 0:
            raise ValueError(f"delta must be >= 0, got {delta}")
        self.in_features, self.hidden = int(in_features), int(hidden)
        self.p, self.k, self.delta = float(p), int(k), float(delta)
        if sigma <= 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
        synapses = torch.randn(hidden, in_features, generator=generator) * float(sigma)
        self.register_buffer("synapses", synapses)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, hidden={self.hidden}, p={self.p:g}, k={self.k}, delta={self.delta:g}"

    def effective_weight(self) -> torch.Tensor:
        """W = S |S|^(p-2), the matrix of eq. 1 that eq. 3 multiplies with x."""
        S = self.synapses
        if self.p == 3.0:
            return S * S.abs()
        if self.p == 2.0:
            return S
        return S * S.abs().pow(self.p - 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), -1) @ self.effective_weight().T

    def increment_rows(self, x: torch.Tensor, fast_matmul: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """The non-zero rows of sum_b g(h_ib)(x_bj - h_ib S_ij) (eq. 4 without lambda and the 1/B of E).

        Only the units that are some input's winner or k-th strongest have g != 0, so the increment is
        returned as ``(units, rows)`` with ``rows[r]`` the increment of unit ``units[r]``. With
        ``fast_matmul`` the ranking product h = W x runs in `nngeom.robustness.fast_matmul`'s split-bf16 mode
        where that is verified accurate (it affects float32 CPU products only).
        """
        x = x.reshape(len(x), -1)
        with fast_float32_matmul(fast_matmul):
            h = self.forward(x)
        top = torch.topk(h, self.k, dim=1)
        winner_and_kth = [0, self.k - 1]
        units, slot = torch.unique(top.indices[:, winner_and_kth].T, return_inverse=True)  # slot: (2, B)
        weight = torch.tensor([1.0, -self.delta], dtype=x.dtype, device=x.device)[:, None]
        h_pair = top.values[:, winner_and_kth].T
        # sum_b g_ib h_ib, the coefficient of S_ij, then + sum_b g_ib x_bj
        coef = torch.zeros(len(units), dtype=x.dtype, device=x.device)
        coef.index_add_(0, slot.reshape(-1), (weight * h_pair).reshape(-1))
        rows = self.synapses[units] * coef.neg_()[:, None]
        rows.index_add_(0, slot[0], x)
        rows.index_add_(0, slot[1], x, alpha=-self.delta)
        return units, rows

    def increment(self, x: torch.Tensor, fast_matmul: bool = True) -> torch.Tensor:
        """The full (hidden x input) increment of eq. 4, zero outside the units `increment_rows` returns."""
        units, rows = self.increment_rows(x, fast_matmul)
        return torch.zeros_like(self.synapses).index_copy_(0, units, rows)

    @torch.no_grad()
    def learning_step(self, x: torch.Tensor, lr: float, precision: float = 1e-30, fast_matmul: bool = True) -> float:
        """One batched update ``S += lr * dS / max|dS|``; returns max|dS| (a convergence monitor)."""
        units, rows = self.increment_rows(x, fast_matmul)
        scale = max(rows.abs().max().item(), precision)
        self.synapses.index_add_(0, units, rows, alpha=lr / scale)
        return scale


def published_minibatches(S: np.ndarray, images: np.ndarray, lr: float, batch: int, p: float, k: int, delta: float,
                          precision: float = 1e-30) -> tuple[np.ndarray, float]:
    """Krotov and Hopfield's published NumPy minibatch loop, transcribed: the independent reference of this module.

    ``images`` (rows) are taken in order, ``len(images) // batch`` minibatches; per minibatch (inputs as columns)
    ``tot = (sign(S) |S|^(p-1)) @ inputs``, ``g`` = 1 for each input's strongest unit and ``-delta`` for its k-th
    (eq. 5), ``ds = g @ inputs.T - (sum_b g tot)[:, None] * S`` (eq. 4) and ``S += lr * ds / max|ds|``. It works
    in the dtype of ``S`` (updated in place) and returns ``(S, max|ds| of the last minibatch)``. Used by the tests
    and by ``benchmarks/bench_krotov.py`` as the peer of `KrotovHopfieldLayer.learning_step`.
    """
    hid, n_in = S.shape
    scale = precision
    for i in range(len(images) // batch):
        inputs = images[i * batch:(i + 1) * batch].T
        tot = np.dot(np.sign(S) * np.abs(S) ** (p - 1), inputs)
        order = np.argsort(tot, axis=0)
        g = np.zeros((hid, batch), dtype=S.dtype)
        g[order[hid - 1, :], np.arange(batch)] = 1.0
        g[order[hid - k], np.arange(batch)] = -delta
        ds = np.dot(g, inputs.T) - np.sum(g * tot, axis=1)[:, None] * S
        scale = max(float(np.abs(ds).max()), precision)
        S += lr * ds / scale
    return S, scale


def train_local(layer: KrotovHopfieldLayer, x: torch.Tensor, epochs: int, lr: float = 0.02, batch_size: int = 1000,
                seed: int = 0, progress: bool = False, device: torch.device | None = None,
                fast_matmul: bool = True) -> dict:
    """Unsupervised training with a linearly annealed learning rate ``lr * (1 - epoch / epochs)``.

    ``x`` must already be scaled to unit l^p norm (`lp_normalize`). Returns a monitor dict with
    per-epoch ``update_norm`` (mean of max|dS| over batches) and ``weight_change`` (relative
    Frobenius change of S over the epoch), both tending to zero as the synapses converge.
    ``fast_matmul=False`` ranks the units with an IEEE float32 product (see `KrotovHopfieldLayer.increment_rows`).
    """
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0 (got {epochs}, {batch_size}, {lr})")
    x = x.reshape(len(x), -1)
    if x.shape[1] != layer.in_features:
        raise ValueError(f"inputs have {x.shape[1]} features, the layer expects {layer.in_features}")
    dev = device or layer.synapses.device
    layer.to(dev)
    x = x.to(dev)
    generator = torch.Generator().manual_seed(int(seed))
    monitor: dict[str, list[float]] = {"update_norm": [], "weight_change": []}
    epoch_range = range(epochs)
    if progress:  # imported only when asked: tqdm.auto warns in kernels without ipywidgets
        from tqdm.auto import tqdm
        epoch_range = tqdm(epoch_range, desc="local rule", leave=False)
    for epoch in loop(epoch_range, "local rule epochs", total=epochs):
        eps = lr * (1.0 - epoch / epochs)
        before = layer.synapses.clone()
        order = torch.randperm(len(x), generator=generator).to(dev)
        norms = [layer.learning_step(x[order[i:i + batch_size]], eps, fast_matmul=fast_matmul) for i in range(0, len(x), batch_size)]
        monitor["update_norm"].append(float(np.mean(norms)))
        monitor["weight_change"].append(float((layer.synapses - before).norm() / before.norm().clamp_min(1e-30)))
    return monitor


def synapse_variance(layer: KrotovHopfieldLayer) -> torch.Tensor:
    """Variance of every unit's synapse row S_i. (Appendix A, Fig. A1 b)."""
    return layer.synapses.var(dim=1)


def otsu_threshold(values: torch.Tensor | np.ndarray, bins: int = 128) -> float:
    """Threshold between two modes of ``values`` maximising the between-class variance (Otsu)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size < 2:
        raise ValueError("need at least two values to split")
    counts, edges = np.histogram(v, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)
    w1 = w0[-1] - w0
    m0 = np.cumsum(counts * centres)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(edges[1:][np.argmax(between[:-1])])


def prune(layer: KrotovHopfieldLayer, threshold: float) -> tuple[KrotovHopfieldLayer, torch.Tensor]:
    """A copy of ``layer`` without the units whose synapse variance exceeds ``threshold``; and the kept mask."""
    keep = synapse_variance(layer) <= threshold
    if int(keep.sum()) < layer.k:
        raise ValueError(f"threshold {threshold:g} keeps {int(keep.sum())} units, fewer than k = {layer.k}")
    pruned = KrotovHopfieldLayer(layer.in_features, int(keep.sum()), p=layer.p, k=layer.k, delta=layer.delta)
    pruned.synapses = layer.synapses[keep].clone()
    return pruned, keep


class HybridModel(nn.Module):
    """Frozen local layer -> ReLU(h)^n -> linear decoder ``y = A h_hat + b`` (eq. 1; the KH model)."""

    def __init__(self, layer: KrotovHopfieldLayer, n: float = 4.5, classes: int = 10):
        super().__init__()
        if n < 1:
            raise ValueError(f"the ReLU power n must be >= 1, got {n}")
        self.local = layer
        self.n = float(n)
        self.decoder = nn.Linear(layer.hidden, classes)

    def extra_repr(self) -> str:
        return f"n={self.n:g}"

    def encoder_weight(self) -> torch.Tensor:
        """The (fixed) matrix W of eq. 1."""
        return self.local.effective_weight()

    def pre(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-activations h = W x."""
        return self.local(x)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """Latent activations h_hat = ReLU(W x)^n."""
        return torch.relu(self.pre(x)).pow(self.n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.hidden(x))
