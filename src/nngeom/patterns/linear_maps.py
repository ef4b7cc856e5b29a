"""Exact local linear maps of a ReLU network, W_{a,x} and b_{a,x}, and what the document does with them.

*Study on Activation Patterns*, sec. 6, eq. (51)-(55): inside the linear region of x a unit is
a(x) = <x, W_{a,x}> + b_{a,x}. Instead of back-propagating (which the document found noisy), the rows of the
weight matrices are masked with the activation pattern of x and multiplied back to the input:
    v <- M^L[i];  v <- v (x) a^{L-1}(x);  v <- (M^{L-1})^T v;  ... down to the input space,
and the bias collects M^l^T-propagated biases on the way. ``local_affine`` does exactly this for an
``nn.Sequential`` of Flatten / Linear (weight-normed too) / ReLU / BatchNorm1d in eval mode (an affine map).

Also here: singular values of a stack of W_{a,x} (sec. 6.2), the greedy decomposition of W_x onto a
dictionary of W_{x_i} (eq. 56-58) and the angle between W_{a,x} and W_{a,x+eps} (sec. 6.4).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["angle_degrees", "autograd_affine", "fourier_magnitudes", "greedy_decomposition", "input_gradients",
           "local_affine", "noise_angles", "singular_values"]


def _ops(model: nn.Sequential, x: torch.Tensor, upto: int | None):
    """Forward ``x`` through the first ``upto`` modules, recording each affine step and ReLU mask."""
    if not isinstance(model, nn.Sequential):
        raise TypeError("local_affine needs an nn.Sequential of Flatten / Linear / ReLU / BatchNorm1d")
    modules = list(model)[:upto]
    ops: list[tuple] = []
    h = x.flatten(1)
    for module in modules:
        if isinstance(module, nn.Flatten):
            continue
        if isinstance(module, nn.Linear):
            ops.append(("affine", module.weight, module.bias))
            h = module(h)
        elif isinstance(module, nn.ReLU):
            mask = (h > 0).to(h.dtype)
            ops.append(("mask", mask))
            h = h * mask
        elif isinstance(module, nn.BatchNorm1d):
            if module.training:
                raise ValueError("BatchNorm1d must be in eval mode (running statistics) to be affine")
            if module.running_var is None or module.running_mean is None:
                raise ValueError("BatchNorm1d without running statistics (track_running_stats=False) is not affine")
            scale = module.weight / torch.sqrt(module.running_var + module.eps)
            shift = module.bias - module.running_mean * scale
            ops.append(("diag", scale, shift))
            h = h * scale + shift
        else:
            raise TypeError(f"{type(module).__name__} is not piecewise linear in x; local_affine supports "
                            "Flatten, Linear, ReLU and eval-mode BatchNorm1d")
    return ops, h


@torch.no_grad()
def local_affine(model: nn.Sequential, x: torch.Tensor, units=None, upto: int | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """W (B, k, D) and b (B, k) with  out_units(x') = W x' + b  for every x' in the linear region of x.

    ``upto``: keep the first ``upto`` modules (default all); ``units``: indices of the output units kept
    (default all). D = x[0].numel(): W_{a,x} has the shape of a flattened image.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a batched tensor (B, ...), got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"x must be a batched tensor (B, ...), got shape {tuple(x.shape)}")
    ops, h = _ops(model, x, upto)
    n_out = h.shape[1]
    index = torch.arange(n_out) if units is None else torch.as_tensor(units).reshape(-1)
    V = torch.eye(n_out, dtype=h.dtype, device=h.device)[index].expand(len(x), -1, -1).clone()
    c = torch.zeros(len(x), len(index), dtype=h.dtype, device=h.device)
    for op in reversed(ops):
        if op[0] == "affine":
            _, weight, bias = op
            if bias is not None:
                c = c + V @ bias
            V = V @ weight
        elif op[0] == "mask":
            V = V * op[1][:, None, :]
        else:
            _, scale, shift = op
            c = c + V @ shift
            V = V * scale
    return V, c


def input_gradients(model: nn.Module, x: torch.Tensor, unit: int, batch_size: int = 500) -> torch.Tensor:
    """W_{a,x} (B, D) of output ``unit`` for any piecewise-linear network (convolutions, max pooling), by autograd.

    In eval mode the samples of a batch do not interact, so the gradient of sum_k a(x_k) with respect to the batch
    is the stack of the W_{a,x_k}; for a ReLU / max-pool network it is exact inside each linear region (sec. 6).
    The model's ``requires_grad`` flags and training mode are left as they were.
    """
    was_training = model.training
    model.eval()
    rows = []
    try:
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size].detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(model(batch)[:, unit].sum(), batch)
            rows.append(grad.flatten(1))
    finally:
        model.train(was_training)
    return torch.cat(rows)


def autograd_affine(model: nn.Module, x: torch.Tensor, units=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference: Jacobian of the chosen output units by autograd, and b = f(x) - J x (one sample at a time)."""
    Ws, bs = [], []
    for sample in x:
        flat = sample.reshape(-1).detach().clone()

        def f(v):
            out = model(v.reshape(1, *sample.shape))[0]
            return out if units is None else out[torch.as_tensor(units)]

        J = torch.autograd.functional.jacobian(f, flat)
        with torch.no_grad():
            Ws.append(J)
            bs.append(f(flat) - J @ flat)
    return torch.stack(Ws), torch.stack(bs)


def singular_values(stack: torch.Tensor, normalise: bool = True) -> torch.Tensor:
    """Singular values of the matrix whose rows are the W_{a,x_k} (sec. 6.2, Fig. 32-33).

    With ``normalise`` every row is scaled to unit norm first, so that the spectrum measures how many
    directions the maps span, not their lengths.
    """
    stack = torch.as_tensor(stack).reshape(len(stack), -1).double()
    if normalise:
        stack = stack / stack.norm(dim=1, keepdim=True).clamp_min(1e-300)
    return torch.linalg.svdvals(stack)


def fourier_magnitudes(stack: torch.Tensor, image_shape: tuple[int, ...] = (3, 32, 32)) -> torch.Tensor:
    """|FFT2| of every W_{a,x_k} seen as an image (the "SVD on ... fft" variant of sec. 6.2, Fig. 32-33).

    Rows are reshaped to ``image_shape`` (C, H, W); the 2-D discrete Fourier transform is taken per channel and its
    magnitude flattened back to a row. The magnitude is invariant to circular shifts of the image, so maps that
    differ by a translation of the same pattern become identical rows.
    """
    stack = torch.as_tensor(stack).reshape(len(stack), *image_shape)
    return torch.fft.fft2(stack.double()).abs().reshape(len(stack), -1)


def greedy_decomposition(target: torch.Tensor, dictionary: torch.Tensor, steps: int = 10) -> dict:
    """Decompose ``target`` onto rows of ``dictionary`` greedily (eq. 56-58, sec. 6.3).

    Each step picks j = argmax_i |cos(W_x, W_{x_i})| and removes <W_x, W_{x_j}> / ||W_{x_j}||^2 W_{x_j}.
    Returns indices, coefficients, the remainder and 'remainder_ratio' = ||W_x,step i|| / ||W_x,step 0||
    for i = 0..steps (Fig. 36-37).
    """
    if not isinstance(steps, int):
        raise TypeError(f"steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    D = torch.as_tensor(dictionary).reshape(len(dictionary), -1).double()
    r = torch.as_tensor(target).reshape(-1).double().clone()
    if D.shape[1] != r.numel():
        raise ValueError(f"dictionary rows have {D.shape[1]} entries, target has {r.numel()}")
    norms = D.norm(dim=1).clamp_min(1e-300)
    start = r.norm()
    indices, coefficients, ratios = [], [], [1.0]
    for _ in range(steps):
        cos = (D @ r) / (norms * r.norm().clamp_min(1e-300))
        j = int(cos.abs().argmax())
        coefficient = float((D[j] @ r) / norms[j] ** 2)
        r = r - coefficient * D[j]
        indices.append(j)
        coefficients.append(coefficient)
        ratios.append(float(r.norm() / start))
    return {"indices": indices, "coefficients": coefficients, "remainder": r,
            "remainder_ratio": np.array(ratios)}


def angle_degrees(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Angle between matching rows of u and v, in degrees (sec. 6.4)."""
    u = torch.as_tensor(u).reshape(len(u), -1).double()
    v = torch.as_tensor(v).reshape(len(v), -1).double()
    cos = (u * v).sum(1) / (u.norm(dim=1) * v.norm(dim=1)).clamp_min(1e-300)
    return torch.rad2deg(torch.arccos(cos.clamp(-1, 1)))


@torch.no_grad()
def noise_angles(model: nn.Sequential, x: torch.Tensor, sigma: float, unit: int, n_noise: int = 1,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Angles between W_{a,x} and W_{a,x+eps}, eps ~ N(0, sigma^2 I), for ``n_noise`` draws per image."""
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    W, _ = local_affine(model, x, units=[unit])
    repeated = x.repeat_interleave(n_noise, 0)
    noisy = repeated + sigma * torch.randn(repeated.shape, generator=generator)
    Wn, _ = local_affine(model, noisy, units=[unit])
    return angle_degrees(W.repeat_interleave(n_noise, 0)[:, 0], Wn[:, 0])
