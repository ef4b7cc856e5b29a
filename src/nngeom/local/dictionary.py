"""Local (dictionary) layers built on distance neurons (Metric as Transform, sec. 3.1-3.3; *locally activating
neurons*, sec. 3).

Every layer here computes distances ``d_i = d_p(x, k_i)`` to N centres (keys), turns them into activations
``a = normalise(d)`` of shape (B, N + 1) with ``nngeom.local.similarity`` (last column: the epsilon neuron) and outputs

    y = passthrough(x) + sum_i a_i v_i + a_eps * u_eps(x)

* ``DictionaryMLP`` (sec. 3.1, eq. 3 of the write-up): passthrough 0, u_eps = 0; ``y = a . V``. With
  ``from_data`` the keys are training samples and the values their one-hot targets (Table 3);
* ``LocalResidualMLP`` (sec. 3.1.4, eq. 2): passthrough x, u_eps = 0; ``y = x + a . V``;
* ``EpsilonHighwayMLP`` (sec. 3.3): passthrough 0, u_eps = x; ``y = a_eps x + a . V``;
* ``LocalClassifier`` (sec. 3.2 "For classification layer", write-up Fig. 5): a dictionary whose values are
  fixed one-hot class vectors; the epsilon neuron rejects inputs where it fires the most.

Because the activations are a softmax, dropping centre i renormalises the others:
``y_without_i = passthrough + (s - a_i v_i) / (1 - a_i)`` with ``s = y - passthrough``; ``outputs_without_each``
uses this closed form (noisy centre search, sec. 3.3).

``data_initialised_accuracy`` evaluates untrained data-initialised dictionaries of several widths in one chunked
pass (Table 3); ``train_dictionary_classifier`` trains the epsilon-softmax dictionaries of sec. 3.2 with a
separate key learning rate.
"""
from __future__ import annotations

import torch
from torch import nn

from ..metric.distances import pairwise_distance, squared_l2
from .similarity import EpsilonSoftmax, similarity as normalise, unnormalised_scores

__all__ = ["data_initialised_accuracy", "DictionaryLayer", "DictionaryMLP", "EpsilonHighwayMLP",
           "LocalClassifier", "LocalResidualMLP", "train_dictionary_classifier"]


class DictionaryLayer(nn.Module):
    """Base of the local layers: keys (N, D), values (N, out), an ``EpsilonSoftmax`` normaliser."""

    passthrough_input = False   # y gets + x (residual)
    epsilon_passes_input = False  # the epsilon neuron outputs x (highway)

    def __init__(self, in_features: int, n_centres: int, out_features: int, *, p: float = 2.0,
                 similarity: str = "epsilon_softmax", tau: float = 1.0, epsilon: float | str | None = "ema",
                 momentum: float = 0.9, bias: bool = False, init_scale: float = 1.0):
        super().__init__()
        for name, value in (("in_features", in_features), ("n_centres", n_centres), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if (self.passthrough_input or self.epsilon_passes_input) and out_features != in_features:
            raise ValueError(f"{type(self).__name__} needs out_features == in_features ({in_features})")
        self.p = float(p)
        if not self.p > 0:
            raise ValueError(f"p must be > 0, got {p}")
        self.in_features, self.out_features = in_features, out_features
        self.centres = nn.Parameter(torch.randn(n_centres, in_features) * init_scale)
        self.values = nn.Parameter(torch.randn(n_centres, out_features) * 0.1)
        self.norm = EpsilonSoftmax(similarity, tau, epsilon if similarity == "epsilon_softmax" else None,
                                   momentum, n_centres, bias)

    @property
    def n_centres(self) -> int:
        return self.centres.shape[0]

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """``d_p(x, k_i)`` (B, N) for flattened inputs."""
        return pairwise_distance(self._flat(x), self.centres, self.p)

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a tensor, got {type(x).__name__}")
        x = x.reshape(len(x), -1)
        if x.shape[1] != self.in_features:
            raise ValueError(f"expected {self.in_features} input features, got {x.shape[1]}")
        return x

    def activations(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N + 1) activations; the last column is the epsilon neuron."""
        return self.norm(self.distances(x))

    def combine(self, a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``passthrough(x) + a[:, :N] V + a_eps u_eps(x)``."""
        x = self._flat(x)
        y = a[:, :-1] @ self.values
        if self.epsilon_passes_input:
            y = y + a[:, -1:] * x
        if self.passthrough_input:
            y = y + x
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.combine(self.activations(x), x)

    def outputs_without_each(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, out): the output with centre i removed, for every i (closed form, softmax renormalisation)."""
        if self.norm.kind == "unnormalised":
            raise ValueError("leave-one-out renormalisation needs a softmax-type similarity")
        x = self._flat(x)
        a = self.activations(x)
        base = x if self.passthrough_input else torch.zeros_like(a[:, :1]).expand(-1, self.out_features)
        s = self.combine(a, x) - base
        ai = a[:, :-1, None]
        rest = (s[:, None, :] - ai * self.values[None]) / (1 - ai).clamp_min(1e-12)
        return base[:, None, :] + rest

    @torch.no_grad()
    def set_centres(self, centres: torch.Tensor, values: torch.Tensor) -> None:
        """Replace keys and values (the number of centres may change; a per-centre bias is reset to 0)."""
        centres = centres.reshape(len(centres), -1).to(self.centres)
        values = values.to(self.values)
        if centres.shape[1] != self.in_features or values.shape != (len(centres), self.out_features):
            raise ValueError(f"need centres (M, {self.in_features}) and values (M, {self.out_features}); got "
                             f"{tuple(centres.shape)} and {tuple(values.shape)}")
        self.centres = nn.Parameter(centres.clone())
        self.values = nn.Parameter(values.clone())
        if self.norm.bias is not None:
            self.norm.bias = nn.Parameter(torch.zeros(len(centres), device=centres.device))

    def extra_repr(self) -> str:
        return f"in={self.in_features}, centres={self.n_centres}, out={self.out_features}, p={self.p:g}"


class DictionaryMLP(DictionaryLayer):
    """``y = normalise(-d_p(x, K)) . V`` (Metric as Transform, sec. 3.1; write-up eq. 3). Output = logits.

    ``similarity`` in {'unnormalised', 'softmax', 'epsilon_softmax'}; ``epsilon`` a number or 'ema'.
    """

    @classmethod
    def from_data(cls, x: torch.Tensor, y: torch.Tensor, n_classes: int, **kwargs) -> "DictionaryMLP":
        """Keys = the samples ``x``, values = one-hot ``y`` (sec. 3.1.1, Table 3: no training)."""
        x = x.reshape(len(x), -1)
        if len(x) != len(y):
            raise ValueError(f"x and y differ in length ({len(x)} vs {len(y)})")
        if y.dtype != torch.long:
            raise TypeError(f"y must be int64 labels in [0, {n_classes}), got dtype {y.dtype}")
        if len(y) and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"y must be int64 labels in [0, {n_classes})")
        model = cls(x.shape[1], len(x), n_classes, **kwargs)
        model.set_centres(x, nn.functional.one_hot(y, n_classes).float())
        return model

    def rejects(self, x: torch.Tensor) -> torch.Tensor:
        """True where the epsilon neuron fires the most (sec. 3.2)."""
        a = self.activations(x)
        return a.argmax(dim=1) == a.shape[1] - 1


class LocalResidualMLP(DictionaryLayer):
    """``y = x + epsilon-softmax(-d(x, K) / tau) . V`` (sec. 3.1.4, write-up eq. 2); V = shift of each centre."""

    passthrough_input = True

    def __init__(self, features: int, n_centres: int, **kwargs):
        super().__init__(features, n_centres, features, **kwargs)


class EpsilonHighwayMLP(DictionaryLayer):
    """``y = a_eps x + sum_i a_i v_i`` (sec. 3.3): the input passes where no centre claims it."""

    epsilon_passes_input = True

    def __init__(self, features: int, n_centres: int, **kwargs):
        super().__init__(features, n_centres, features, **kwargs)


class LocalClassifier(DictionaryLayer):
    """Local classification neurons with fixed one-hot values and an epsilon neuron that rejects.

    ``centres_per_class`` keys per class; the class score is the summed activation of its keys. ``forward``
    returns ``log`` of the class scores renormalised over the classes (logits for cross-entropy);
    ``predict`` returns the class, or ``-1`` where the epsilon neuron fires the most (sec. 3.2, write-up Fig. 5).
    """

    def __init__(self, in_features: int, n_classes: int, centres_per_class: int = 1, **kwargs):
        if isinstance(centres_per_class, bool) or not isinstance(centres_per_class, int):
            raise TypeError(f"centres_per_class must be an int, got {type(centres_per_class).__name__}")
        if centres_per_class < 1:
            raise ValueError(f"centres_per_class must be a positive int, got {centres_per_class!r}")
        super().__init__(in_features, n_classes * centres_per_class, n_classes, **kwargs)
        labels = torch.arange(n_classes).repeat_interleave(centres_per_class)
        del self.values
        self.register_buffer("values", nn.functional.one_hot(labels, n_classes).float())
        self.n_classes = n_classes

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C + 1): summed activation of each class's keys, then the epsilon neuron."""
        a = self.activations(x)
        return torch.cat([a[:, :-1] @ self.values, a[:, -1:]], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.class_scores(x)[:, :-1]
        return torch.log(scores.clamp_min(1e-30))

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.class_scores(x)
        out = scores.argmax(dim=1)
        return torch.where(out == self.n_classes, torch.full_like(out, -1), out)

    @torch.no_grad()
    def set_centres(self, centres: torch.Tensor, values: torch.Tensor | None = None) -> None:
        raise NotImplementedError("LocalClassifier keys are set per class: assign .centres.data directly")


@torch.no_grad()
def data_initialised_accuracy(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
                              y_test: torch.Tensor, widths, n_classes: int, *, seed: int = 0,
                              similarity: str = "unnormalised", tau: float = 0.5, p: float = 2.0,
                              chunk: int = 2500, device: torch.device | None = None) -> dict[int, float]:
    """Test accuracy of untrained data-initialised dictionaries, one per width h (Metric as Transform, Table 3).

    Keys = ``max(widths)`` training samples drawn uniformly at random (``seed``); the dictionary of width h
    uses the first h of them (nested draws: each is still a uniform random subset), values = one-hot labels.
    Distances are computed once per chunk of ``chunk`` test inputs against all keys, so memory is
    ``chunk x max(widths)``, never test x keys x features.
    """
    widths = sorted(int(h) for h in widths)
    if not widths or widths[0] < 1:
        raise ValueError(f"widths must be positive ints, got {widths}")
    if widths[-1] > len(x_train):
        raise ValueError(f"more centres ({widths[-1]}) than training samples ({len(x_train)})")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    dev = device or x_train.device
    g = torch.Generator().manual_seed(int(seed))
    pick = torch.randperm(len(x_train), generator=g)[:widths[-1]]
    keys = x_train.reshape(len(x_train), -1)[pick].to(dev)
    values = nn.functional.one_hot(y_train[pick], n_classes).float().to(dev)
    xt = x_test.reshape(len(x_test), -1)
    correct = dict.fromkeys(widths, 0)
    for i in range(0, len(xt), chunk):
        xb = xt[i:i + chunk].to(dev)
        # no gradient needed here: for p = 2 skip pairwise_distance's gradient-safe square root
        d = squared_l2(xb, keys).sqrt_() if p == 2.0 else pairwise_distance(xb, keys, p)
        yb = y_test[i:i + chunk].to(dev)
        for h in widths:
            dh = d if h == d.shape[1] else d[:, :h]
            if similarity == "unnormalised":  # fast path: no epsilon column to append and drop
                a = unnormalised_scores(dh, tau)
            else:
                a = normalise(dh, similarity, tau, epsilon=float("inf"))[:, :-1]
            correct[h] += int(((a @ values[:h]).argmax(1) == yb).sum())
    return {h: correct[h] / len(xt) for h in widths}


def train_dictionary_classifier(x: torch.Tensor, y: torch.Tensor, test: tuple[torch.Tensor, torch.Tensor], *,
                                n_centres: int, n_classes: int, init: str = "data", centre_lr_scale: float = 1.0,
                                epochs: int = 30, lr: float = 1e-3, batch_size: int = 64, tau: float = 1.0,
                                epsilon: float | str = "ema", seed: int = 0, progress: bool = False):
    """An epsilon-softmax ``DictionaryMLP`` trained with cross-entropy (Metric as Transform, sec. 3.2).

    ``init``: 'data' (keys = random training samples, values = their one-hot labels) or 'random' (keys uniform
    in the inputs' range, values N(0, 0.1^2)); the keys learn at ``lr * centre_lr_scale`` (the document's
    x1 / x0.01), the values at ``lr``. Returns ``(model, history)`` (``nngeom.train.History``).
    """
    from ..train import fit_classifier
    if init not in ("data", "random"):
        raise ValueError(f"init must be 'data' or 'random', got {init!r}")
    if n_centres > len(x):
        raise ValueError(f"more centres ({n_centres}) than training samples ({len(x)})")
    x = x.reshape(len(x), -1)
    g = torch.Generator().manual_seed(int(seed))
    model = DictionaryMLP(x.shape[1], n_centres, n_classes, tau=tau, epsilon=epsilon)
    if init == "data":
        pick = torch.randperm(len(x), generator=g)[:n_centres]
        model.set_centres(x[pick], nn.functional.one_hot(y[pick], n_classes).float())
    else:
        lo, hi = x.min().item(), x.max().item()
        model.set_centres(lo + (hi - lo) * torch.rand(n_centres, x.shape[1], generator=g),
                          0.1 * torch.randn(n_centres, n_classes, generator=g))
    rest = [p for name, p in model.named_parameters() if name != "centres"]
    groups = [{"params": [model.centres], "lr": lr * centre_lr_scale}, {"params": rest, "lr": lr}]
    history = fit_classifier(model, (x, y), (test[0].reshape(len(test[0]), -1), test[1]), epochs=epochs,
                             batch_size=batch_size, lr=lr, param_groups=groups, seed=seed, progress=progress)
    return model.eval(), history
