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
#
# Every statement of this section is a property of the functions themselves ($-\lVert x - w\rVert_p$ is largest, 0,
# at $x = w$; $w \cdot x = \lVert w\rVert \lVert x\rVert \cos\theta$ is linear, so unbounded and scaled by the
# weight's length; the largest softmax entry grows as $\tau$ falls). Our numbers therefore verify the book's
# constructions and are recorded as **checks**, not as reproductions of the write-up.

# %% tags=["parameters"]
profile = "cpu"
# The write-up gives no number for section 2.2: every knob below is ours.
resolution = None   # grid points per axis (ours)
limit = None        # the grid covers [-limit, limit]^2 (ours)
taus = None         # softmax temperatures (ours)
trials = None       # random pairs of weights for the magnitude test (ours)
seed = None

# %% tags=["hide-input"]

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from myst_nb import glue

import nngeom  # noqa: E402
from nngeom.local import similarity
from nngeom.metric import voronoi
from nngeom.metric.distances import pairwise_distance

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
grid, xx, yy = nngeom.toys.grid_2d(S.limit, S.resolution)
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
glue("s2_2-similarity", fig, display=False)
plt.close(fig)
peaks = pd.DataFrame(where).T
peaks

# %% [markdown]
# ```{glue:figure} s2_2-similarity
# :name: fig-s2_2-similarity
#
# Section 2.2 (no figure in the write-up): similarity to one reference point $w$ (red cross) for three $l^p$
# distances and the dot product; the white circle marks the maximum on the grid. Look at whether the maximum sits
# on the reference point or on the border of the grid.
# ```

# %%
step = 2 * S.limit / (S.resolution - 1)
metric_peak_error = max(where[k]["distance of peak from w"] for k in ("l1", "l2", "l20"))
nngeom.claim("L.2.2.metric-peak", "l^p similarities are maximal at the reference point (distance of the grid "
             "maximum from w, at most one grid step)", paper="bounded, maximal at the centre", ours=metric_peak_error,
             check=nngeom.at_most(step), kind="check",
             note="a distance is 0 exactly at w; the grid resolves w to one step")
nngeom.claim("L.2.2.dot-unbounded", "The dot product's maximum over a region lies on its border (unbounded)",
             paper="not bounded", ours=bool(where["dot product"]["peak on the grid border"]),
             check=nngeom.equals(True), kind="check", note="a linear function has its maximum over a box at a corner");

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
nngeom.claim("L.2.2.dot-magnitude", "Dot product: a longer weight wins despite a larger angle (share of such "
             "pairs is above the cosine's 0)", paper="large weights activate higher despite the angle", ours=share_dot,
             check=nngeom.greater_than(cos_prefers_w2), kind="check",
             note="w.x = |w||x|cos(angle): the weight's length multiplies the score, which the cosine leaves out");

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
    a = similarity.softmax_similarity(d, tau)
    y = a[:, :-1] @ values
    axes[r, 0].imshow(similarity.firing_map(a, S.resolution, colours), origin="lower",
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
glue("s2_2-softmax-dictionary", fig, display=False)
plt.close(fig)
hardness = pd.DataFrame(rows)
temperature_row = nngeom.claim(
    "L.2.2.temperature", "Lower temperature makes the softmax activations sharper (mean max activation)",
    paper="sharper for low tau", ours=dict(zip([f"tau={t}" for t in S.taus], hardness["mean max activation"])),
    check=nngeom.order([f"tau={t}" for t in sorted(S.taus)], descending=True), kind="check",
    note="the largest entry of softmax(z / tau) is non-increasing in tau")
hardness.round(4)

# %% [markdown]
# ```{glue:figure} s2_2-softmax-dictionary
# :name: fig-s2_2-softmax-dictionary
#
# Section 2.2, $Y = \mathrm{softmax}\{\mathrm{similarity}(Q, K); \tau\}\, V$ (no figure in the write-up): one row
# per temperature; left the winning key (hue) and its activation (brightness), right the output $Y$. Look at how
# the boundaries between keys soften from the top row (the lowest temperature) to the bottom one.
# ```

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# The peak table locates the maximum of every similarity on the grid; the magnitude test counts how often a longer
# weight wins the dot product although it is farther in angle; the temperature table gives the mean largest
# activation and entropy of the softmax dictionary for each $\tau$. All four rows are checks of constructions.

# %%
dot_peak = where["dot product"]
nngeom.reading(
    f"The $l^p$ maxima lie at most {metric_peak_error:.3f} from $w$ (grid step {step:.3f}); the dot product's maximum "
    f"is at ({dot_peak['peak x']:.2f}, {dot_peak['peak y']:.2f}), "
    f"{'on' if dot_peak['peak on the grid border'] else 'inside'} the border of the grid. Among the "
    f"{int(closer_angle.sum())} pairs where $w_1$ is closer in angle, the dot product prefers the longer $w_2$ in "
    f"{share_dot:.1%}. The mean largest activation goes "
    + ", ".join(f"{m:.3f} at $\\tau$ = {t:g}" for t, m in zip(hardness["tau"], hardness["mean max activation"]))
    + f" (ordering check: **{temperature_row['verdict']}**).")
