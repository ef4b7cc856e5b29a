"""Distance convolutions and a ResNet-20 whose convolutions are chosen by name (Metric as Transform, sec. 2.4, Table 2).

A convolution compares every input patch ``p`` (``C k k`` values) with each kernel ``w_j``:

* ``"linear"``: the dot product ``p . w_j`` (``nn.Conv2d``);
* ``"l2"``: the similarity ``-|p - w_j|_2``, through ``|p|^2 + |w_j|^2 - 2 p . w_j``: two convolutions
  (``|p|^2`` is a convolution of ``x^2`` with a kernel of ones), clamped at 0, square root with
  gradient 0 at zero distance;
* ``"istereo"``: the cosine between the inverse stereographic projection of the patch,
  ``s(p) = (2p, |p|^2 - 1) / (|p|^2 + 1)``, and a unit kernel ``w_j / |w_j|`` in R^(Ckk+1).

ResNet-20 is the CIFAR ResNet of He et al. (2016): a 3x3 convolution with 16 channels, three stages of
three basic blocks (16, 32, 64 channels, stride 2 at the start of stages 2 and 3), global average pooling
and a linear classifier. As in the authors' code (derived from chenyaofo/CIFAR-pretrained-models), the
shortcut where the shape changes is a 1x1 convolution of the same kind + BatchNorm ("option B"; option A,
zero padding, is available). Every convolution is of the chosen kind; BatchNorm follows each one.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .distances import safe_sqrt

__all__ = ["BasicBlock", "cifar_augment", "conv", "conv3x3", "CONVOLUTIONS", "IStereoConv2d", "L2Conv2d",
           "ResNet", "resnet20"]


class _PatchConv(nn.Module):
    """Shared parts of the distance convolutions: a ``(out, in, k, k)`` kernel and patch norms."""

    ones: torch.Tensor

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, extra: int = 0):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("kernel_size", kernel_size), ("stride", stride)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if isinstance(padding, bool) or not isinstance(padding, int):
            raise TypeError(f"padding must be an int, got {type(padding).__name__}")
        if padding < 0:
            raise ValueError(f"padding must be a non-negative int, got {padding!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Conv2d's default
        self.register_buffer("ones", torch.ones(1, in_channels, kernel_size, kernel_size), persistent=False)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")

    def dot(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, stride=self.stride, padding=self.padding)

    def patch_sq_norm(self, x: torch.Tensor) -> torch.Tensor:
        """``|p|^2`` of every patch: (B, 1, H', W')."""
        return F.conv2d(x * x, self.ones, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class L2Conv2d(_PatchConv):
    """``y_j = -|p - w_j|_2`` for every patch ``p`` (similarity: largest where the patch equals the kernel).

    With ``normalize=True`` (the authors' code, "normalize similar to UMAP") the similarities of each patch
    are standardised over the output channels, ``(y - mean_j y) / sqrt(var_j y + eps)``: this removes the
    part ``-|p|`` shared by every kernel when the patch is far from all of them, without which a deep
    network of l2 convolutions starts with all channels carrying the same patch-energy map.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 normalize: bool = True, eps: float = 1e-5):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding)
        self.normalize, self.eps = bool(normalize), float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        w2 = self.weight.pow(2).sum((1, 2, 3)).view(1, -1, 1, 1)
        d2 = self.patch_sq_norm(x) + w2 - 2 * self.dot(x)
        y = -safe_sqrt(d2)
        if self.normalize and self.out_channels > 1:
            y = y - y.mean(1, keepdim=True)
            y = y / torch.sqrt(y.pow(2).mean(1, keepdim=True) + self.eps)
        return y

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, normalize={self.normalize}"


class IStereoConv2d(_PatchConv):
    """``y_j = s(p) . w_j / |w_j|``, ``s`` the inverse stereographic projection of the patch."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding)
        # Weight of the extra (north-pole) coordinate of the sphere.
        self.pole = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        p2 = self.patch_sq_norm(x)
        norm = (self.weight.pow(2).sum((1, 2, 3)) + self.pole.pow(2)).sqrt().view(1, -1, 1, 1)
        num = 2 * self.dot(x) + (p2 - 1) * self.pole.view(1, -1, 1, 1)
        return num / ((p2 + 1) * norm)


CONVOLUTIONS: dict[str, type[L2Conv2d] | type[IStereoConv2d] | None] = {"linear": None, "l2": L2Conv2d, "istereo": IStereoConv2d}


def conv(kind: str, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1) -> nn.Module:
    """A ``kernel_size`` convolution ('same' padding, no bias) of the named kind: 'linear', 'l2' or 'istereo'."""
    if kind not in CONVOLUTIONS:
        raise ValueError(f"unknown convolution {kind!r}: choose one of {sorted(CONVOLUTIONS)}")
    padding = kernel_size // 2
    distance_conv = CONVOLUTIONS[kind]
    if distance_conv is None:  # 'linear'
        return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)
    return distance_conv(in_channels, out_channels, kernel_size, stride=stride, padding=padding)


def conv3x3(kind: str, in_channels: int, out_channels: int, stride: int = 1) -> nn.Module:
    """A 3x3 convolution (padding 1, no bias) of the named kind: 'linear', 'l2' or 'istereo'."""
    return conv(kind, in_channels, out_channels, 3, stride)


class BasicBlock(nn.Module):
    """``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``.

    Where the shape changes the shortcut is a 1x1 convolution of the same kind + BatchNorm (``shortcut="B"``,
    the authors' code) or parameter-free subsampling and zero padding (``"A"``, He et al.'s CIFAR ResNet).
    """

    def __init__(self, kind: str, in_channels: int, out_channels: int, stride: int = 1, shortcut: str = "B"):
        super().__init__()
        if shortcut not in ("A", "B"):
            raise ValueError(f"shortcut must be 'A' or 'B', got {shortcut!r}")
        self.conv1 = conv3x3(kind, in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(kind, out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.stride = stride
        self.pad = out_channels - in_channels
        self.downsample = None
        if shortcut == "B" and (stride != 1 or in_channels != out_channels):
            self.downsample = nn.Sequential(conv(kind, in_channels, out_channels, 1, stride),
                                            nn.BatchNorm2d(out_channels))

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample is not None:
            return self.downsample(x)
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        if self.pad:
            x = F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR ResNet with ``6 n + 2`` layers (n = 3: ResNet-20) and convolutions of kind ``conv``."""

    def __init__(self, conv: str = "linear", depth: int = 20, num_classes: int = 10, in_channels: int = 3,
                 width: int = 16, shortcut: str = "B"):
        super().__init__()
        if not isinstance(depth, int):
            raise TypeError(f"depth must be an int, got {type(depth).__name__}")
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6 n + 2 (20, 32, 44, ...), got {depth!r}")
        if conv not in CONVOLUTIONS:
            raise ValueError(f"unknown convolution {conv!r}: choose one of {sorted(CONVOLUTIONS)}")
        self.conv_kind, self.depth = conv, depth
        n = (depth - 2) // 6
        self.conv1 = conv3x3(conv, in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        blocks, channels = [], width
        for stage, out_channels in enumerate((width, 2 * width, 4 * width)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(conv, channels, out_channels, stride, shortcut))
                channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels, num_classes)
        for m in self.modules():  # the authors' initialisation; distance kernels keep their own
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.blocks(out)
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))

    def extra_repr(self) -> str:
        return f"conv={self.conv_kind!r}, depth={self.depth}"


def resnet20(conv: str = "linear", num_classes: int = 10, shortcut: str = "B") -> ResNet:
    """ResNet-20 for CIFAR-10 with convolutions of kind ``conv`` ('linear', 'l2' or 'istereo')."""
    return ResNet(conv, 20, num_classes, shortcut=shortcut)


def cifar_augment(x: torch.Tensor, padding: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random crop after zero padding by ``padding`` and random horizontal flip, per image of a (B, C, H, W) batch."""
    if x.dim() != 4:
        raise ValueError(f"expected a (B, C, H, W) batch, got {tuple(x.shape)}")
    b, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (b,), generator=generator).tolist()
    dx = torch.randint(0, 2 * padding + 1, (b,), generator=generator).tolist()
    flip = torch.rand(b, generator=generator) < 0.5
    out = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(b)])
    return torch.where(flip.to(x.device)[:, None, None, None], out.flip(-1), out)
