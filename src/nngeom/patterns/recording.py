"""Activation patterns a_j(x) = 1[f_j(x) > 0] of every ReLU (or SELU) layer, stored bit-packed.

*Study on Activation Patterns*, sec. 1, eq. (5): for a network f_j(x) = rho(A^j f_{j-1}(x) + b^j) the
activation pattern of layer j is the 0-1 vector a_j(x) in {0, 1}^{n_j}. ``record_patterns`` registers
forward hooks on the activation modules (``nn.ReLU``, ``nn.SELU``; for a convnet a layer's pattern is its
whole feature map, flattened), forwards the inputs in batches and keeps the patterns packed 8 units per
byte (``numpy.packbits``), so 16,000 images x 256 units take 512 kB.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
import torch
from torch import nn

__all__ = ["activation_modules", "ACTIVATION_TYPES", "Patterns", "record"]

ACTIVATION_TYPES = (nn.ReLU, nn.SELU)


@dataclass
class Patterns:
    """Bit-packed 0-1 patterns of one layer: ``packed`` (N, ceil(n_bits / 8)) uint8, ``n_bits`` units."""

    packed: np.ndarray
    n_bits: int

    def __post_init__(self):
        if not isinstance(self.packed, np.ndarray) or self.packed.dtype != np.uint8:
            raise TypeError("packed must be a 2-D uint8 numpy array, got "
                            + (str(self.packed.dtype) if isinstance(self.packed, np.ndarray)
                               else type(self.packed).__name__))
        if self.packed.ndim != 2:
            raise ValueError(f"packed must be a 2-D uint8 numpy array, got shape {self.packed.shape}")
        if self.packed.shape[1] != (self.n_bits + 7) // 8:
            raise ValueError(f"{self.packed.shape[1]} bytes per row cannot hold exactly {self.n_bits} bits")

    @classmethod
    def from_bool(cls, bits) -> "Patterns":
        """Pack a (N, n) boolean / 0-1 array or tensor."""
        if isinstance(bits, torch.Tensor):
            bits = bits.detach().cpu().numpy()
        bits = np.asarray(bits)
        if bits.ndim != 2:
            raise ValueError(f"patterns must be 2-D (samples, units), got shape {bits.shape}")
        return cls(np.packbits(bits.astype(bool), axis=1), int(bits.shape[1]))

    def __len__(self) -> int:
        return len(self.packed)

    def __getitem__(self, index) -> "Patterns":
        rows = self.packed[index]
        return Patterns(rows[None] if rows.ndim == 1 else rows, self.n_bits)

    def unpack(self) -> np.ndarray:
        """(N, n_bits) uint8 array of 0 / 1."""
        return np.unpackbits(self.packed, axis=1, count=self.n_bits)

    def probability(self) -> np.ndarray:
        """P_X((f_j(x))_i > 0) per unit i (eq. 6), estimated on the recorded samples."""
        return self.unpack().mean(axis=0)

    @staticmethod
    def concat(layers: list["Patterns"]) -> "Patterns":
        """All layers side by side (the pattern of the whole network, a(x) = (a_1(x), ..., a_p(x)))."""
        if not layers:
            raise ValueError("need at least one layer")
        return Patterns.from_bool(np.concatenate([layer.unpack() for layer in layers], axis=1))


def activation_modules(model: nn.Module) -> dict[str, nn.Module]:
    """The ReLU / SELU modules of ``model`` in forward order, named 'layer1', 'layer2', ..."""
    found = [m for m in model.modules() if isinstance(m, ACTIVATION_TYPES)]
    if not found:
        raise ValueError("the model has no nn.ReLU / nn.SELU module to record (functional relu is invisible)")
    return {f"layer{i + 1}": m for i, m in enumerate(found)}


@torch.no_grad()
@overload
def record(model: nn.Module, x: torch.Tensor, batch_size: int = ..., values: Literal[False] = ...,
           batch_statistics: bool = ...) -> dict[str, Patterns]: ...
@overload
def record(model: nn.Module, x: torch.Tensor, batch_size: int = ..., *, values: Literal[True],
           batch_statistics: bool = ...) -> tuple[dict[str, Patterns], dict[str, torch.Tensor]]: ...
def record(model: nn.Module, x: torch.Tensor, batch_size: int = 1024, values: bool = False,
           batch_statistics: bool = False
           ) -> dict[str, Patterns] | tuple[dict[str, Patterns], dict[str, torch.Tensor]]:
    """Patterns of every activation layer for inputs ``x``; with ``values`` also the activations f_j(x).

    The model runs in eval mode; ``batch_statistics`` runs it in train mode instead, so that BatchNorm
    normalises with the statistics of each batch (what an untrained BatchNorm network does in training;
    its running statistics are then updated as a side effect).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    modules = activation_modules(model)
    bits: dict[str, list[np.ndarray]] = {name: [] for name in modules}
    outputs: dict[str, list[torch.Tensor]] = {name: [] for name in modules}
    current: dict[str, torch.Tensor] = {}
    handles = [m.register_forward_hook(lambda _m, _i, out, name=name: current.__setitem__(name, out))
               for name, m in modules.items()]
    was_training = model.training
    model.train(batch_statistics)
    dev = next(model.parameters()).device
    try:
        for start in range(0, len(x), batch_size):
            model(x[start:start + batch_size].to(dev))
            for name in modules:
                out = current[name].flatten(1)
                bits[name].append(np.packbits((out > 0).cpu().numpy(), axis=1))
                if values:
                    outputs[name].append(out.cpu())
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    sizes = {name: int(current[name][0].numel()) for name in modules}
    patterns = {name: Patterns(np.concatenate(bits[name]), sizes[name]) for name in modules}
    if values:
        return patterns, {name: torch.cat(outputs[name]) for name in modules}
    return patterns
