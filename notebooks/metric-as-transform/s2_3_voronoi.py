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
# # 2.3 Voronoi diagrams of transforms
#
# *Metric as Transform*, section 2.3 and Figure 3. A layer of neurons partitions its input space:
# each input belongs to the neuron that responds most. For a **linear** layer that is
# $\arg\max_i (w_i \cdot x + b_i)$; for a **distance** layer it is $\arg\min_i (\lVert x - c_i\rVert^2 + b_i)$.
# Both produce a (generalised) Voronoi partition. The document compares them with and without bias and
# under a common shift of the parameters, and concludes that the centres of a distance transform lie
# inside their own sets, which makes them more interpretable than the sets of a linear transform.
#
# This notebook draws the six panels of Figure 3 for one random layer and then measures the properties
# behind the figure over many random layers, so that the statement rests on numbers rather than one picture.

# %% tags=["parameters"]
profile = "cpu"
n_neurons = None       # neurons (regions) per layer
resolution = None      # grid points per axis for the figure and the measurements
limit = None           # the grid covers [-limit, limit]^2
trials = None          # random layers over which the properties are measured
shift = None           # common shift added to every weight / centre
seed = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import nngeom
from nngeom import voronoi

PROFILES = {
    "smoke": {"n_neurons": 6, "resolution": 120, "limit": 3.0, "trials": 20, "shift": [1.0, 0.5], "seed": 0},
    "cpu": {"n_neurons": 6, "resolution": 400, "limit": 3.0, "trials": 500, "shift": [1.0, 0.5], "seed": 0},
    "paper": {"n_neurons": 6, "resolution": 600, "limit": 3.0, "trials": 2000, "shift": [1.0, 0.5], "seed": 0},
}
BOUNDS = {"n_neurons": (2, None), "resolution": (10, None), "limit": (0.1, None), "trials": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s2_3_voronoi", bounds=BOUNDS)

# %% [markdown]
# ## One random layer, six partitions
#
# Weights (linear) and centres (distance) are the same random points in the plane, so the two
# transforms are compared on equal parameters. The bias is random too. The third column adds the same
# shift vector to every weight / centre.

# %%
generator = nngeom.seed_everything(S.seed)
points, xx, yy = voronoi.grid_2d(S.limit, S.resolution)
params = torch.randn(S.n_neurons, 2, generator=generator) * 1.2
bias = torch.randn(S.n_neurons, generator=generator)
shift_vec = torch.tensor(S.shift)

panels = {
    ("linear", "no bias"): voronoi.linear_regions(points, params),
    ("linear", "bias"): voronoi.linear_regions(points, params, bias),
    ("linear", "shifted"): voronoi.linear_regions(points, params + shift_vec),
    ("distance", "no bias"): voronoi.distance_regions(points, params),
    ("distance", "bias"): voronoi.distance_regions(points, params, bias),
    ("distance", "shifted"): voronoi.distance_regions(points, params + shift_vec),
}

fig, axes = plt.subplots(2, 3, figsize=(12, 8), sharex=True, sharey=True)
cmap = plt.get_cmap("tab10", S.n_neurons)
for ax, ((kind, variant), labels) in zip(axes.flat, panels.items()):
    ax.pcolormesh(xx, yy, labels.reshape(xx.shape), cmap=cmap, vmin=-0.5, vmax=S.n_neurons - 0.5,
                  shading="auto", alpha=0.55)
    shown = params + shift_vec if variant == "shifted" else params
    ax.scatter(shown[:, 0], shown[:, 1], c=np.arange(S.n_neurons), cmap=cmap, vmin=-0.5,
               vmax=S.n_neurons - 0.5, edgecolors="black", s=70, zorder=3)
    ax.scatter([0], [0], marker="+", c="black", s=80)
    ax.set_title(f"{kind}, {variant}")
    ax.set_xlim(-S.limit, S.limit)
    ax.set_ylim(-S.limit, S.limit)
    ax.set_aspect("equal")
fig.suptitle("Regions of linear (top) and l2-distance (bottom) transforms; dots: weights / centres")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Where do the parameters fall?
#
# For each of many random layers we ask in which region each neuron's own parameter point lies.
# For a distance layer without bias a centre is at distance zero from itself and therefore always in its
# own cell. For a linear layer, $w_i$ lies in region $i$ only when $w_i \cdot w_i \ge w_j \cdot w_i$ for every $j$,
# which fails whenever a longer weight vector points in a similar direction.

# %%
own_linear, own_distance, own_linear_bias, own_distance_bias = [], [], [], []
for _ in range(S.trials):
    W = torch.randn(S.n_neurons, 2, generator=generator) * 1.2
    b = torch.randn(S.n_neurons, generator=generator)
    own_linear.append(voronoi.own_cell_fraction(voronoi.linear_regions(W, W)))
    own_distance.append(voronoi.own_cell_fraction(voronoi.distance_regions(W, W)))
    own_linear_bias.append(voronoi.own_cell_fraction(voronoi.linear_regions(W, W, b)))
    own_distance_bias.append(voronoi.own_cell_fraction(voronoi.distance_regions(W, W, b)))

summary = {
    "linear, no bias": np.mean(own_linear), "linear, bias": np.mean(own_linear_bias),
    "distance, no bias": np.mean(own_distance), "distance, bias": np.mean(own_distance_bias),
}
for name, value in summary.items():
    print(f"{name:>18}: {value:.3f} of parameter points lie in their own region")

fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(summary), list(summary.values()), color=["tab:orange", "tab:orange", "tab:blue", "tab:blue"])
ax.set_xlim(0, 1.05)
ax.set_xlabel(f"fraction of neurons whose parameter lies in its own region ({S.trials} random layers)")
fig.tight_layout()
plt.show()

nngeom.claim("A.2.3.centres-inside", "Distance-transform centres lie inside their own Voronoi sets",
             paper="all centres inside", ours=summary["distance, no bias"], check=nngeom.at_least(1.0))
nngeom.claim("A.2.3.linear-not-inside", "Linear weights often lie outside their own sets (less interpretable)",
             paper="not inside in general", ours=summary["linear, no bias"], check=nngeom.at_most(0.95))

# %% [markdown]
# ## Bias and shift
#
# Three further properties follow from the formulas and are visible in Figure 3:
#
# * without bias, linear regions are cones from the origin: scaling an input by $\alpha > 0$ never changes its region;
# * adding the same vector $s$ to every weight leaves the linear partition unchanged (the term $s \cdot x$ is common to
#   all neurons), whereas the distance partition moves with its centres: region$(x; C + s)$ = region$(x - s; C)$;
# * a uniform scale and shift of all activations (the normalisation remark of section 2.4) keeps every region.

# %%
scaled = voronoi.agreement(voronoi.linear_regions(points, params), voronoi.linear_regions(points * 3.7, params))
linear_shift = voronoi.agreement(panels[("linear", "no bias")], panels[("linear", "shifted")])
distance_moves = voronoi.agreement(panels[("distance", "shifted")], voronoi.distance_regions(points - shift_vec, params))
distance_shift_changes = 1 - voronoi.agreement(panels[("distance", "no bias")], panels[("distance", "shifted")])
scores = points @ params.T + bias
uniform_norm = voronoi.agreement(scores.argmax(1), (2.5 * scores - 4.0).argmax(1))
per_neuron = (scores - scores.mean(0)) / scores.std(0)
per_neuron_norm = voronoi.agreement(scores.argmax(1), per_neuron.argmax(1))

table = {
    "linear, no bias: region unchanged by scaling x": scaled,
    "linear: region unchanged by a common shift of weights": linear_shift,
    "distance: shifted partition = translated partition": distance_moves,
    "distance: fraction of points changing region under the shift": distance_shift_changes,
    "uniform scale/shift of activations keeps regions": uniform_norm,
    "per-neuron standardisation (BatchNorm-like) keeps regions": per_neuron_norm,
}
for name, value in table.items():
    print(f"{value:6.3f}  {name}")

nngeom.claim("A.2.3.linear-cones", "Without bias, linear regions are cones from the origin",
             paper="cones (Fig. 3)", ours=scaled, check=nngeom.at_least(1.0))
nngeom.claim("A.2.3.linear-shift-invariant", "A common shift of linear weights leaves the partition unchanged",
             paper="unchanged (Fig. 3)", ours=linear_shift, check=nngeom.at_least(1.0))
nngeom.claim("A.2.3.distance-shift-moves", "A common shift of centres translates the distance partition",
             paper="translated (Fig. 3)", ours=distance_moves, check=nngeom.at_least(1.0))
nngeom.claim("A.2.4.uniform-normalisation", "Normalisation with uniform scale and shift keeps the Voronoi sets",
             paper="unchanged", ours=uniform_norm, check=nngeom.at_least(1.0))

# %% [markdown]
# ## Reading the result
#
# Every centre of the distance layer lies in its own cell, in every random layer; linear weight vectors lie in
# their own region only for the fraction printed above. The caveat the document leaves implicit is visible in the
# last row of the table: the normalisation that keeps the partition must be *uniform* across neurons;
# per-neuron standardisation (what BatchNorm does to a layer's outputs) moves the boundaries.
