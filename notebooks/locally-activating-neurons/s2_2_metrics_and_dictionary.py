# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2.2 Metrics, dictionaries and softmax similarity
#
# *On my search for locally activating neurons*, section 2.2. Metrics such as the $l^p$ distances give a similarity
# between an input and a reference point that is **bounded** and **maximal at the reference**; the dot product
# is neither: its maximum over a region lies on the region's border and it grows with the weight's magnitude, so
# "neurons with large weights activate higher despite the angle". A two-layer network then reads as a dictionary,
# $Y = \mathrm{similarity}(Q, K)\, V$, and a softmax with temperature $\tau$ normalises the similarities so that
# the activations become unimodal and sharper as $\tau$ decreases. This notebook shows each statement in 2-D and
# measures it.

# %% tags=["parameters"]
profile = "cpu"
resolution = None   # grid points per axis
limit = None        # the grid covers [-limit, limit]^2
taus = None         # softmax temperatures
trials = None       # random pairs of weights for the magnitude test
seed = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import nngeom
from nngeom import local, voronoi
from nngeom.distances import pairwise_distance

PROFILES = {
    "smoke": {"resolution": 60, "limit": 3.0, "taus": [0.1, 1.0], "trials": 200, "seed": 0},
    "cpu": {"resolution": 241, "limit": 3.0, "taus": [0.05, 0.2, 1.0], "trials": 5000, "seed": 0},
    "paper": {"resolution": 401, "limit": 3.0, "taus": [0.05, 0.2, 1.0], "trials": 20000, "seed": 0},
}
BOUNDS = {"resolution": (11, None), "limit": (0.1, None), "taus": (1e-6, None), "trials": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="locally-activating-neurons/s2_2_metrics_and_dictionary",
                    bounds=BOUNDS)

# %% [markdown]
# ## Similarity to one reference point
#
# The reference (weight or centre) is $w = (0.8, 0.5)$. Similarities: $-\lVert x - w\rVert_p$ for $p = 1, 2, \infty$
# (approximated by $p = 20$) and the dot product $w \cdot x$. We record where on the grid each is maximal.

# %%
grid, xx, yy = voronoi.grid_2d(S.limit, S.resolution)
w = torch.tensor([[0.8, 0.5]])
sims = {f"l{p:g}": -pairwise_distance(grid, w, p)[:, 0] for p in (1.0, 2.0, 20.0)}
sims["dot product"] = (grid @ w.T)[:, 0]
fig, axes = plt.subplots(1, len(sims), figsize=(4.2 * len(sims), 4))
where = {}
for ax, (name, s) in zip(axes, sims.items()):
    ax.contourf(xx, yy, s.reshape(xx.shape), levels=25, cmap="viridis")
    peak = grid[s.argmax()]
    where[name] = {"peak x": float(peak[0]), "peak y": float(peak[1]), "distance of peak from w": float((peak - w[0]).norm()),
                   "peak on the grid border": bool(peak.abs().max() >= S.limit - 1e-6)}
    ax.scatter(*w.T, marker="X", c="red", s=80)
    ax.scatter(*peak, marker="o", facecolors="none", edgecolors="white", s=120)
    ax.set_title(name)
    ax.set_aspect("equal")
fig.suptitle("similarity to w (red); white circle: maximum on the grid")
fig.tight_layout()
plt.show()
peaks = pd.DataFrame(where).T
peaks

# %%
step = 2 * S.limit / (S.resolution - 1)
metric_peak_error = max(where[k]["distance of peak from w"] for k in ("l1", "l2", "l20"))
nngeom.claim("L.2.2.metric-peak", "l^p similarities are maximal at the reference point",
             paper="bounded, maximal at the centre", ours=metric_peak_error, check=nngeom.at_most(step))
nngeom.claim("L.2.2.dot-unbounded", "The dot product's maximum over a region lies on its border (unbounded)",
             paper="not bounded", ours=bool(where["dot product"]["peak on the grid border"]),
             check=nngeom.equals(True));

# %% [markdown]
# ## Magnitude beats angle for the dot product
#
# For random inputs $x$ and pairs of weights, $w_2$ drawn three times longer than $w_1$ on average: among the
# pairs where $w_1$ is closer in angle to $x$, how often does the dot product nevertheless prefer $w_2$?

# %%
g = torch.Generator().manual_seed(S.seed)
x = torch.randn(S.trials, 2, generator=g)
w1 = torch.randn(S.trials, 2, generator=g)
w2 = torch.randn(S.trials, 2, generator=g) * 3
cos1 = torch.nn.functional.cosine_similarity(x, w1, dim=1)
cos2 = torch.nn.functional.cosine_similarity(x, w2, dim=1)
closer_angle = cos1 > cos2
dot_prefers_w2 = (x * w2).sum(1) > (x * w1).sum(1)
share_dot = float((dot_prefers_w2 & closer_angle).sum() / closer_angle.sum())
cos_prefers_w2 = float(((cos2 > cos1) & closer_angle).sum() / closer_angle.sum())
print(f"pairs where w1 is closer in angle: {int(closer_angle.sum())}; the dot product still prefers the longer w2 "
      f"in {share_dot:.1%} of them (the cosine, by construction, in {cos_prefers_w2:.1%})")
nngeom.claim("L.2.2.dot-magnitude", "Dot product: a longer weight wins despite a larger angle (share of such pairs)",
             paper="large weights activate higher despite the angle", ours=share_dot, check=nngeom.at_least(0.1))

# %% [markdown]
# ## A softmax dictionary in 2-D
#
# Five keys with scalar values; $Y = \mathrm{softmax}(-\lVert Q - K\rVert/\tau)\, V$. The left column shows the
# winning key's activation, the right column the output $Y$. As $\tau$ decreases the activation becomes
# unimodal (one key takes everything, the Voronoi cell of its key) and $Y$ becomes piecewise constant.

# %%
keys = torch.tensor([[-1.0, -0.5], [0.8, -0.9], [0.2, 0.9], [1.4, 0.6], [-1.2, 1.0]])
values = torch.tensor([[1.0], [-1.0], [0.5], [2.0], [-0.5]])
d = torch.cdist(grid, keys)
fig, axes = plt.subplots(len(S.taus), 2, figsize=(9, 4 * len(S.taus)), squeeze=False)
rows = []
colours = plt.get_cmap("tab10")(np.arange(10))[:, :3]
for r, tau in enumerate(S.taus):
    a = local.softmax_similarity(d, tau)
    y = a[:, :-1] @ values
    axes[r, 0].imshow(local.firing_map(a, S.resolution, colours), origin="lower",
                      extent=[-S.limit, S.limit, -S.limit, S.limit])
    axes[r, 0].set_title(f"winning key and its activation, tau={tau}")
    im = axes[r, 1].pcolormesh(xx, yy, y.reshape(xx.shape), shading="auto", cmap="coolwarm")
    fig.colorbar(im, ax=axes[r, 1])
    axes[r, 1].set_title(f"Y = softmax(-d / tau) V, tau={tau}")
    for ax in axes[r]:
        ax.scatter(*keys.T, c="black", marker="X", s=60)
    entropy = -(a[:, :-1] * a[:, :-1].clamp_min(1e-30).log()).sum(1)
    rows.append({"tau": tau, "mean max activation": float(a.max(1).values.mean()), "mean entropy": float(entropy.mean())})
fig.tight_layout()
plt.show()
hardness = pd.DataFrame(rows)
print(hardness.round(4).to_string(index=False))
nngeom.claim("L.2.2.temperature", "Lower temperature makes the softmax activations sharper (mean max activation)",
             paper="sharper for low tau", ours=dict(zip([f"tau={t}" for t in S.taus], hardness["mean max activation"])),
             check=nngeom.order([f"tau={t}" for t in sorted(S.taus)], descending=True));

# %% [markdown]
# ## Reading the result
#
# The peak table locates the maximum of every similarity on the grid: for the metrics it is the reference point,
# for the dot product a corner of the grid, i.e. it would keep growing outside. The magnitude test counts how often
# a longer weight wins the dot product although it is farther in angle. The temperature table shows the mean
# largest activation and entropy of the softmax dictionary for each $\tau$.
