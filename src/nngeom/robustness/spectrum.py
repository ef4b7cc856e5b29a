"""Ordered covariance (PCA) spectra and power-law exponents (Neural robustness, sec. 2, sec. 3, Appendix C).

For representations h (N samples x D features) the spectrum is the descending list of eigenvalues
lambda_1 >= ... >= lambda_D of Cov(h, h). A power law ``lambda_n = lambda_1 n^-alpha`` (eq. 2) is
scale-free, so it is detected in the normalised spectrum ``lambda_n / lambda_1 = n^-alpha`` (eq. A7)
and alpha is the negative slope of a linear regression of log(lambda_n / lambda_1) on log n (eq. A8)
in a window away from both ends. White Gaussian noise has a flat spectrum (alpha = 0); the exponent
that the same regression finds on it is the error proxy of sec. 3.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["covariance_spectrum", "fit_power_law", "noise_control", "normalized", "numerical_rank", "PowerLawFit",
           "white_noise"]


def covariance_spectrum(h: torch.Tensor | np.ndarray) -> np.ndarray:
    """Descending eigenvalues of the covariance of the rows of ``h`` (float64, length min(N - 1, D))."""
    x = torch.as_tensor(h).detach().to(torch.float64).reshape(len(h), -1)
    if len(x) < 2:
        raise ValueError("need at least two samples for a covariance")
    x = x - x.mean(0, keepdim=True)
    gram = x.T @ x if x.shape[1] <= x.shape[0] else x @ x.T
    lam = torch.linalg.eigvalsh(gram / (len(x) - 1)).flip(0).clamp_min(0).cpu().numpy()
    return lam[: min(len(x) - 1, x.shape[1])]


def normalized(lam: np.ndarray) -> np.ndarray:
    """lambda_n / lambda_1 (eq. A7)."""
    lam = np.asarray(lam, dtype=np.float64)
    if lam.size == 0 or lam[0] <= 0:
        raise ValueError("spectrum must be non-empty with lambda_1 > 0")
    return lam / lam[0]


def numerical_rank(lam: np.ndarray, rtol: float = 1e-10) -> int:
    """Number of eigenvalues above ``rtol * lambda_1``: the part of a spectrum a log-log fit can use.

    Dead units (constant zero activations) and fewer samples than dimensions leave exact zeros at the tail.
    """
    lam = np.asarray(lam, dtype=np.float64)
    return int((lam > rtol * lam[0]).sum()) if lam.size and lam[0] > 0 else 0


@dataclass(frozen=True)
class PowerLawFit:
    """Exponent alpha (lambda_n ~ n^-alpha), intercept of the log-log line and the fit window [lo, hi]."""

    alpha: float
    intercept: float
    lo: int
    hi: int
    r2: float


def fit_power_law(lam: np.ndarray, window: tuple[int, int] | None = None) -> PowerLawFit:
    """Least-squares slope of log(lambda_n / lambda_1) against log n for lo <= n <= hi (1-based).

    The default window skips the first 10 % and the last 50 % of the spectrum (boundary effects).
    """
    lam = normalized(lam)
    count = len(lam)
    lo, hi = window if window is not None else (max(2, count // 10), max(3, count // 2))
    hi = min(hi, count)
    if not 1 <= lo < hi:
        raise ValueError(f"fit window [{lo}, {hi}] is empty for a spectrum of length {count}")
    n = np.arange(lo, hi + 1)
    y = lam[lo - 1:hi]
    if np.any(y <= 0):
        raise ValueError("the spectrum has non-positive eigenvalues inside the fit window; shrink the window")
    lx, ly = np.log(n), np.log(y)
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (slope * lx + intercept)
    r2 = 1 - resid.var() / ly.var() if ly.var() > 0 else 1.0
    return PowerLawFit(alpha=float(-slope), intercept=float(intercept), lo=int(lo), hi=int(hi), r2=float(r2))


def white_noise(n: int, shape: tuple[int, ...], scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    """Gaussian white noise inputs: ``n`` samples of ``shape`` with std ``scale``."""
    if n < 2 or scale <= 0:
        raise ValueError(f"need n >= 2 and scale > 0 (got {n}, {scale})")
    generator = torch.Generator().manual_seed(int(seed))
    return torch.randn((n, *shape), generator=generator) * scale


def noise_control(n: int, dim: int, window: tuple[int, int] | None = None, seed: int = 0) -> float:
    """|alpha| that `fit_power_law` finds on the spectrum of D-dimensional white noise (true alpha = 0)."""
    lam = covariance_spectrum(white_noise(n, (dim,), seed=seed))
    return abs(fit_power_law(lam, window).alpha)
