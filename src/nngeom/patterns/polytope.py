"""How far can an image move and keep its activation pattern? (*Study on Activation Patterns*, sec. 6.5.)

The document's noisy exploration of one linear region (polytope), transcribed:
  N copies of the input x; noise range sigma.  Repeat:
    add uniform noise U(-sigma, sigma) to the N images; keep those whose activation pattern (on the chosen
    layers) equals x's; if fewer than 20 % remain, sigma <- sigma / 2; if none remain, restart from N copies of
    x; refill to N images by copying the survivors; drop the 10 % with the lowest cumulative l2 distance to the
    others (to promote diversity).
The final sigma is the "noise scale" the document reports (1e-4 to 1e-3.2 for a 3-layer net, Fig. 40-43).
Every kept image lies in the same linear region as x, by construction.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

__all__ = ["explore"]


@torch.no_grad()
def explore(pattern_fn: Callable[[torch.Tensor], np.ndarray], x: torch.Tensor, n_images: int = 100,
            sigma: float = 1.0, iterations: int = 100, keep_fraction: float = 0.2, drop_fraction: float = 0.1,
            generator: torch.Generator | None = None) -> dict:
    """Run the exploration; ``pattern_fn(batch)`` returns the (B, units) 0-1 patterns compared with x's.

    Returns {'sigma': final sigma, 'sigmas': per iteration, 'survival': per iteration, 'images': the final
    population (all with x's pattern), 'max_distance': largest l2 distance of a kept image to x}.
    """
    if n_images < 2 or sigma <= 0 or iterations < 1 or not 0 < keep_fraction < 1 or not 0 <= drop_fraction < 1:
        raise ValueError("need n_images >= 2, sigma > 0, iterations >= 1, fractions in (0, 1)")
    reference = np.asarray(pattern_fn(x[None]))[0]
    population = x[None].repeat(n_images, *([1] * x.ndim))
    sigmas, survival = [], []
    for _ in range(iterations):
        noise = (torch.rand(population.shape, generator=generator) * 2 - 1) * sigma
        candidates = population + noise
        same = (np.asarray(pattern_fn(candidates)) == reference).all(axis=1)
        fraction = float(same.mean())
        sigmas.append(sigma)
        survival.append(fraction)
        if fraction < keep_fraction:
            sigma /= 2
        if not same.any():
            population = x[None].repeat(n_images, *([1] * x.ndim))
            continue
        kept = candidates[torch.from_numpy(same)]
        population = kept[torch.arange(n_images) % len(kept)]
        n_drop = int(drop_fraction * n_images)
        if n_drop:
            flat = population.reshape(n_images, -1)
            spread = torch.cdist(flat, flat).sum(1)
            population = population[spread.argsort()[n_drop:]]
    distances = (population - x).reshape(len(population), -1).norm(dim=1)
    return {"sigma": sigma, "sigmas": np.array(sigmas), "survival": np.array(survival),
            "images": population, "max_distance": float(distances.max())}
