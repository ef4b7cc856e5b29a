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
# # 2 Background: ReLU neurons act globally
#
# *On my search for locally activating neurons*, section 2 and Figures 1-2. A two-layer ReLU network builds a
# function by superposing rectified linear pieces (Fig. 1 in 1-D, Fig. 2 in 2-D). Each ReLU neuron is active on a
# half-space, and the farther an input lies from its boundary the more it fires; so adding or removing a neuron
# changes the function over a large part of the input domain and the others must be fine-tuned. A locally
# activating neuron would change only a neighbourhood of its centre. This notebook fits both kinds of network to
# the same data and **measures** the claim: for every hidden neuron, the share of the input domain where removing
# it changes the output by more than a threshold.
#
# The local network is the $\epsilon$-softmax dictionary of section 3 with scalar values,
# $y = \sum_i a_i v_i$, $a = \mathrm{softmax}([-\lVert x - k_i\rVert, -\epsilon]/\tau)$; removing key $i$ renormalises
# the others (closed form in `LocalLayer.outputs_without_each`).

# %% tags=["parameters"]
profile = "cpu"
hidden = None       # hidden neurons of both networks
steps = None        # Adam steps of the fits
resolution = None   # grid points per axis for the 2-D measurement
threshold = None    # output change counted as "changed", as a fraction of the target's standard deviation
tau = None          # temperature of the local network
seed = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

import nngeom
from nngeom import voronoi
from nngeom.dictionary import DictionaryMLP

PROFILES = {
    "smoke": {"hidden": 12, "steps": 80, "resolution": 40, "threshold": 0.05, "tau": 0.1, "seed": 0},
    "cpu": {"hidden": 20, "steps": 3000, "resolution": 120, "threshold": 0.05, "tau": 0.1, "seed": 0},
    "paper": {"hidden": 20, "steps": 10000, "resolution": 200, "threshold": 0.05, "tau": 0.1, "seed": 0},
}
BOUNDS = {"hidden": (2, None), "steps": (1, None), "resolution": (10, None), "threshold": (0, None),
          "tau": (1e-6, None)}
S = nngeom.settings(PROFILES, globals(), section="locally-activating-neurons/s2_background", bounds=BOUNDS)


def fit_mse(model, x, y, steps, lr=1e-2):
    """Full-batch Adam on the mean squared error (glue for this notebook's small regressions)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return loss.item()


def relu_without_each(model, x):
    """Outputs of a Linear-ReLU-Linear network with hidden neuron i removed, for every i: (B, H)."""
    first, last = model[0], model[2]
    with torch.no_grad():
        h = torch.relu(first(x))                     # (B, H)
        contrib = h * last.weight[0]                 # (B, H)
        return (model(x) - contrib), contrib


def affected_share(full, without, scale):
    """Per neuron: share of the inputs whose output moves by more than ``threshold * scale``."""
    return ((without - full).abs() > S.threshold * scale).float().mean(0)


# %% [markdown]
# ## Figure 1: a 1-D function from superposed ReLUs
#
# $y = \sin 2x + 0.3x^2$ on $[-2, 2]$, fitted by `hidden` ReLU neurons. Thin lines: each neuron's contribution
# $w_i\, \mathrm{relu}(u_i x + b_i)$; thick line: their sum plus the output bias.

# %%
nngeom.seed_everything(S.seed)
x1, y1 = nngeom.toys.regression_1d(200, seed=S.seed)
relu_1d = nn.Sequential(nn.Linear(1, S.hidden), nn.ReLU(), nn.Linear(S.hidden, 1))
loss_relu_1d = fit_mse(relu_1d, x1, y1, S.steps)
local_1d = DictionaryMLP.from_data(x1[torch.linspace(0, 199, S.hidden).long()], torch.zeros(S.hidden).long(), 1,
                                   similarity="epsilon_softmax", tau=S.tau, epsilon=0.5)
with torch.no_grad():
    local_1d.values.copy_(y1[torch.linspace(0, 199, S.hidden).long()])
loss_local_1d = fit_mse(local_1d, x1, y1, S.steps)
print(f"MSE: ReLU {loss_relu_1d:.5f}, local {loss_local_1d:.5f}")

xs = torch.linspace(-2.5, 2.5, 500)[:, None]
_, parts = relu_without_each(relu_1d, xs)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
axes[0].plot(xs, parts, lw=0.8)
with torch.no_grad():
    axes[0].plot(xs, relu_1d(xs), "k", lw=2.5, label="network")
axes[0].scatter(x1[::5], y1[::5], s=8, c="grey", label="data")
axes[0].set_title("ReLU network: superposed neurons")
axes[0].legend()
with torch.no_grad():
    a = local_1d.activations(xs)
    axes[1].plot(xs, a[:, :-1] * local_1d.values[:, 0], lw=0.8)
    axes[1].plot(xs, local_1d(xs), "k", lw=2.5, label="network")
    axes[1].plot(xs, a[:, -1], "k:", label="epsilon neuron")
axes[1].scatter(x1[::5], y1[::5], s=8, c="grey")
axes[1].set_title("epsilon-softmax dictionary: a_i v_i")
axes[1].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Removing one neuron: global versus local change (1-D)

# %%
scale_1d = y1.std().item()
with torch.no_grad():
    full_relu = relu_1d(x1)
    without_relu, _ = relu_without_each(relu_1d, x1)
    full_local = local_1d(x1)
    without_local = local_1d.outputs_without_each(x1)[..., 0]
share_1d = pd.DataFrame({"ReLU": affected_share(full_relu, without_relu, scale_1d).numpy(),
                         "local": affected_share(full_local, without_local, scale_1d).numpy()})
print(share_1d.describe().loc[["mean", "min", "max"]].round(3))

# %% [markdown]
# ## Figure 2: a 2-D function and the neurons firing for one input
#
# $y = \sin(3x_1)\cos(2x_2)$ on $[-1, 1]^2$. Left: the ReLU network's function. Right: the boundary line of every
# ReLU neuron; for the input marked $\times$ a line is drawn thick in proportion to that neuron's activation, and
# dashed where the neuron is off.

# %%
nngeom.seed_everything(S.seed)
x2, y2 = nngeom.toys.regression_2d(600, seed=S.seed)
relu_2d = nn.Sequential(nn.Linear(2, S.hidden), nn.ReLU(), nn.Linear(S.hidden, 1))
loss_relu_2d = fit_mse(relu_2d, x2, y2, S.steps)
pick = torch.randperm(600, generator=torch.Generator().manual_seed(S.seed))[:S.hidden]
local_2d = DictionaryMLP.from_data(x2[pick], torch.zeros(S.hidden).long(), 1, similarity="epsilon_softmax",
                                   tau=S.tau, epsilon=0.8)
with torch.no_grad():
    local_2d.values.copy_(y2[pick])
loss_local_2d = fit_mse(local_2d, x2, y2, S.steps)
print(f"MSE: ReLU {loss_relu_2d:.5f}, local {loss_local_2d:.5f}")

grid, xx, yy = voronoi.grid_2d(1.0, S.resolution)
query = torch.tensor([[0.3, -0.4]])
with torch.no_grad():
    surface = relu_2d(grid).reshape(xx.shape)
    w, b = relu_2d[0].weight.detach(), relu_2d[0].bias.detach()
    act = torch.relu(query @ w.T + b)[0]
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
im = axes[0].pcolormesh(xx, yy, surface, shading="auto", cmap="viridis")
fig.colorbar(im, ax=axes[0])
axes[0].set_title("ReLU network on the 2-D regression")
t = torch.linspace(-1.5, 1.5, 2)
for i in range(S.hidden):
    wi, bi = w[i], b[i]
    if wi[1].abs() > wi[0].abs():
        px, py = t, -(wi[0] * t + bi) / wi[1]
    else:
        px, py = -(wi[1] * t + bi) / wi[0], t
    on = act[i] > 0
    axes[1].plot(px, py, "-" if on else "--", lw=0.5 + 6 * float(act[i] / act.max().clamp_min(1e-9)),
                 color="C0" if on else "grey")
axes[1].scatter(*query.T, marker="x", c="red", s=120, zorder=3)
axes[1].set_xlim(-1, 1)
axes[1].set_ylim(-1, 1)
axes[1].set_aspect("equal")
axes[1].set_title(f"ReLU boundaries; {int((act > 0).sum())} of {S.hidden} neurons fire for x")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Removing one neuron: global versus local change (2-D)

# %%
scale_2d = y2.std().item()
with torch.no_grad():
    full_relu2 = relu_2d(grid)
    without_relu2, _ = relu_without_each(relu_2d, grid)
    full_local2 = local_2d(grid)
    without_local2 = local_2d.outputs_without_each(grid)[..., 0]
share_relu2 = affected_share(full_relu2, without_relu2, scale_2d)
share_local2 = affected_share(full_local2, without_local2, scale_2d)
share_2d = pd.DataFrame({"ReLU": share_relu2.numpy(), "local": share_local2.numpy()})
print(share_2d.describe().loc[["mean", "min", "max"]].round(3))

fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
i_relu, i_local = int(share_relu2.argsort()[len(share_relu2) // 2]), int(share_local2.argsort()[len(share_local2) // 2])
for ax, change, title in ((axes[0], (without_relu2[:, i_relu] - full_relu2[:, 0]), "ReLU: remove one neuron"),
                          (axes[1], (without_local2[:, i_local] - full_local2[:, 0]), "local: remove one key")):
    im = ax.pcolormesh(xx, yy, change.abs().reshape(xx.shape), shading="auto", cmap="magma")
    fig.colorbar(im, ax=ax)
    ax.set_title(title + " (|change|, median neuron)")
    ax.set_aspect("equal")
axes[1].scatter(*local_2d.centres.detach()[i_local], marker="x", c="cyan", s=80)
fig.tight_layout()
plt.show()

nngeom.claim("L.2.remove.relu-1d", "1-D: removing a ReLU neuron changes the function over a large share "
             "(at least a quarter) of the domain", paper="global change", ours=float(share_1d["ReLU"].mean()),
             check=nngeom.at_least(0.25))
nngeom.claim("L.2.remove.local-1d", "1-D: removing a local neuron changes a smaller share than removing a ReLU",
             paper="local change", ours=float(share_1d["local"].mean()), check=nngeom.less_than("L.2.remove.relu-1d"))
nngeom.claim("L.2.remove.relu-2d", "2-D: removing a ReLU neuron changes the function over a large share "
             "(at least a quarter) of the domain", paper="global change", ours=float(share_2d["ReLU"].mean()),
             check=nngeom.at_least(0.25))
nngeom.claim("L.2.remove.local-2d", "2-D: removing a local neuron changes a smaller share than removing a ReLU",
             paper="local change", ours=float(share_2d["local"].mean()), check=nngeom.less_than("L.2.remove.relu-2d"));

# %% [markdown]
# ## Reading the result
#
# Both networks fit the same data (mean squared errors printed above). The tables give, over the hidden neurons,
# the share of the domain whose output moves by more than `threshold` times the target's standard deviation when
# that one neuron is removed: for ReLU neurons it is the half-space on which they fire, for $\epsilon$-softmax keys
# the neighbourhood where they win. The claims compare the means.
