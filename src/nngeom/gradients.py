"""The gradient of a classifier's loss with respect to its input, shared by the attacks of two documents.

``input_gradient(model, x, y) = d/dx sum_i CE(model(x_i), y_i)``: the direction of FGSM and PGD (*Neural
robustness*, sec. 2 "Perturbation experiments") and of the normalised-gradient attack of *Metric as Transform*
sec. 3.2. Computed in evaluation mode on the model's device (the caller's mode is restored) and returned on
``x``'s device, whether or not gradients are enabled where it is called.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["input_gradient"]


def input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Gradient of the summed cross-entropy of ``model(x)`` against labels ``y`` with respect to ``x``."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("x and y must be torch tensors")
    if len(x) != len(y):
        raise ValueError(f"x and y must have as many rows ({len(x)} inputs, {len(y)} labels)")
    was_training = model.training
    model.eval()
    try:
        dev = next(model.parameters()).device
        with torch.enable_grad():
            xg = x.detach().to(dev).requires_grad_(True)
            loss = nn.functional.cross_entropy(model(xg), y.to(dev), reduction="sum")
            (grad,) = torch.autograd.grad(loss, xg)
    finally:
        model.train(was_training)
    return grad.detach().to(x.device)
