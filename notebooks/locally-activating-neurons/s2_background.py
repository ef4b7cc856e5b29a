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
# *On my search for locally activating neurons*, section 2 and Figures 1-2. The write-up: "due to global influence
# of ReLU neurons I could not easily add or remove neurons without causing large change to the learned function";
# "removing neurons with large slope would highly degrade the whole function, requiring finetuening"; and "to fit a
# new neuron properly, other neurons must adjust as well (fine-tuning). However, a locally activating neuron (like
# RBF) do not effect regions far away from centers, making it suitable to modify a small region."
#
# A two-layer ReLU network builds a function by superposing rectified linear pieces (Fig. 1 in 1-D, Fig. 2 in
# 2-D). Each ReLU neuron is active on a half-space, and the farther an input lies from its boundary the more it
# fires. This notebook fits a ReLU network and a network of locally activating neurons to the same data and
# measures both operations of section 2.1: **removing** one neuron (the share of the input domain where the output
# moves by more than a threshold) and **adding** one neuron to fit a local modification of the target, with and
# without fine-tuning the others. Most claims compare the two kinds of network; the rows that judge one network
# against the threshold alone (the local network's removals, the slope comparison within ReLU) say so.
#
# The local network is the $\epsilon$-softmax dictionary of section 3 with scalar values,
# $y = \sum_i a_i v_i$, $a = \mathrm{softmax}([-\lVert x - k_i\rVert, -\epsilon]/\tau)$; removing key $i$ renormalises
# the others (closed form in `DictionaryLayer.outputs_without_each`).

# %% tags=["parameters"]
profile = "cpu"
# The write-up gives no number for section 2: every knob below is ours (the local networks' epsilon, 0.5 in 1-D and
# 0.8 in 2-D, and the RBF width 0.3 are ours too, set in the cells that use them).
hidden = None       # hidden neurons of both networks (ours)
steps = None        # Adam steps of the fits (ours)
resolution = None   # grid points per axis for the 2-D measurement (ours)
threshold = None    # output change counted as "changed", as a fraction of the target's standard deviation (ours)
tau = None          # temperature of the local network (ours)
add_steps = None    # Adam steps after adding one neuron, the new neuron alone, then all neurons (ours)
seed = None

# %% tags=["hide-input"]

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from myst_nb import glue
from scipy import stats
from torch import nn

import nngeom  # noqa: E402
from nngeom.metric import voronoi
from nngeom.local.dictionary import DictionaryMLP

PROFILES = {
    "smoke": {"hidden": 12, "steps": 80, "resolution": 40, "threshold": 0.05, "tau": 0.1, "add_steps": 40,
              "seed": 0},
    "cpu": {"hidden": 20, "steps": 3000, "resolution": 120, "threshold": 0.05, "tau": 0.1, "add_steps": 1000,
            "seed": 0},
    "paper": {"hidden": 20, "steps": 10000, "resolution": 200, "threshold": 0.05, "tau": 0.1, "add_steps": 3000,
              "seed": 0},
}
BOUNDS = {"hidden": (2, None), "steps": (1, None), "resolution": (10, None), "threshold": (0, None),
          "tau": (1e-6, None), "add_steps": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="locally-activating-neurons/s2_background", bounds=BOUNDS)


def fit_mse(model, x, y, steps, lr=1e-2):
    """Full-batch Adam on the mean squared error: the package's training loop with an MSE loss; the last loss."""
    history = nngeom.train.fit_classifier(model, (x, y), epochs=steps, batch_size=len(x), lr=lr, shuffle=False,
                                          loss=lambda net, xb, yb, _: nn.functional.mse_loss(net(xb), yb),
                                          device=x.device)
    model.eval()
    return history.loss[-1]


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


def far_change(model, x, without, full, scale):
    """Share of the inputs farther than ``epsilon + 5 tau`` from a key whose output still moves when that key is
    removed, over all keys. There the key's weight is at most ``e^-5`` of the epsilon neuron's."""
    far = torch.cdist(x, model.centres.detach()) > model.norm.epsilon + 5 * model.norm.tau   # (B, H)
    moved = (without - full).abs() > S.threshold * scale
    return float((moved & far).float().sum() / far.float().sum().clamp_min(1))


def masked(param, column=False, last=1):
    """Freeze all but the last ``last`` rows (or columns) of ``param`` (gradient mask): only the new neurons learn."""
    mask = torch.zeros_like(param)
    if column:
        mask[:, -last:] = 1.0
    else:
        mask[-last:] = 1.0
    param.register_hook(lambda grad: grad * mask)


def with_new_relus(model, kinks):
    """Copy of a Linear-ReLU-Linear network with one more hidden neuron per kink (output weights 0: no change yet)."""
    first, last = model[0], model[2]
    h, d = first.weight.shape
    k = len(kinks)
    grown = nn.Sequential(nn.Linear(d, h + k), nn.ReLU(), nn.Linear(h + k, 1))
    with torch.no_grad():
        grown[0].weight[:h], grown[0].bias[:h] = first.weight, first.bias
        grown[0].weight[h:] = 1.0
        grown[0].bias[h:] = -torch.tensor(kinks, dtype=grown[0].bias.dtype)
        grown[2].weight[:, :h], grown[2].weight[:, h:] = last.weight, 0.0
        grown[2].bias.copy_(last.bias)
    return grown


def with_new_key(model, x0, v0):
    """Copy of a DictionaryMLP with one more key at ``x0`` and value ``v0``."""
    grown = DictionaryMLP(model.in_features, model.n_centres, 1, similarity="epsilon_softmax", tau=model.norm.tau,
                          epsilon=float(model.norm.epsilon))
    grown.set_centres(torch.cat([model.centres.detach(), x0]), torch.cat([model.values.detach(), v0]))
    return grown


def train_new_only(model, x, y, steps, kind, new=1):
    """Fit only the ``new`` added neurons (all other parameters frozen)."""
    if kind == "relu":
        masked(model[0].weight, last=new)
        masked(model[0].bias, last=new)
        masked(model[2].weight, column=True, last=new)
        model[2].bias.requires_grad_(False)
    else:
        masked(model.centres)
        masked(model.values)
    return fit_mse(model, x, y, steps)


# %% [markdown]
# ## Figure 1: a 1-D function from superposed ReLUs
#
# $y = \sin 2x + 0.3x^2$ on $[-2, 2]$, fitted by `hidden` ReLU neurons. Thin lines: each neuron's contribution
# $w_i\, \mathrm{relu}(u_i x + b_i)$; thick line: their sum plus the output bias. Right: the same data fitted by
# `hidden` $\epsilon$-softmax keys initialised at data points.

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
glue("s2-relu-1d", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s2-relu-1d
# :name: fig-s2-relu-1d
#
# Recomputes Figure 1 of the write-up (left) beside the local network (right). Look at how far each thin line
# reaches: a ReLU piece grows without bound on one side of its kink, an $\epsilon$-softmax piece is a bump around
# its key.
# ```

# %% [markdown]
# ## Removing one neuron: global versus local change (1-D)
#
# For every hidden neuron: the share of the 200 training inputs whose output moves by more than `threshold`
# times the target's standard deviation when that neuron alone is removed. The claims compare the two networks
# over their neurons (one-sided Welch test), so the threshold only sets what "changed" means for both. A second
# measurement checks the construction of the local network: beyond $\epsilon + 5\tau$ from a key, the key's
# weight is at most $e^{-5}$ of the $\epsilon$ neuron's, so its removal should move nothing there.

# %%
scale_1d = y1.std().item()
with torch.no_grad():
    full_relu = relu_1d(x1)
    without_relu, _ = relu_without_each(relu_1d, x1)
    full_local = local_1d(x1)
    without_local = local_1d.outputs_without_each(x1)[..., 0]
share_relu1 = affected_share(full_relu, without_relu, scale_1d)
share_local1 = affected_share(full_local, without_local, scale_1d)
share_1d = pd.DataFrame({"ReLU": share_relu1.numpy(), "local": share_local1.numpy()})
share_1d.describe().loc[["mean", "min", "max"]].round(3)

# %%
relu_1d_row = nngeom.claim(
    "L.2.remove.relu-1d", "1-D: removing one ReLU neuron changes the function over a larger share of the domain "
    "than removing one local neuron (per-neuron shares)", paper="global (ReLU) vs local change",
    ours=share_relu1.tolist(), check=nngeom.mean_above(share_local1.tolist()),
    source="sec. 2, Fig. 1: \"due to global influence of ReLU neurons I could not easily add or remove neurons "
           "without causing large change\"",
    cause="open: the local network's keys may have widened (trained centres and values) until they overlap as "
          "much as ReLU half-lines")
far_1d = far_change(local_1d, x1, without_local, full_local, scale_1d)
nngeom.claim("L.2.remove.local-1d", "1-D: removing a local key moves nothing farther than epsilon + 5 tau from it "
             "(share of such inputs that move)", ours=far_1d, check=nngeom.at_most(0.0), kind="check",
             note="follows from the epsilon-softmax: there the key's weight is below e^-5 of the epsilon neuron's");

# %% [markdown]
# ## Adding one neuron to change a small region (1-D)
#
# Section 2.1 contrasts the two kinds of neuron when a small part of the function must change. We add a bump
# $0.8\, e^{-((x - 1)/0.15)^2}$ to the target and give each trained network the fewest new neurons that can form a
# bump: one key at $x_0 = 1$ for the local network, valued at the network's current output there (so that it
# changes little before training), and **three** ReLUs for the ReLU network, with kinks at $x_0 - 0.3$, $x_0$ and
# $x_0 + 0.3$ and output weights 0 (a hat $a\,r(x - x_0 + w) - 2a\,r(x - x_0) + a\,r(x - x_0 - w)$ is zero
# outside $|x - x_0| < w$, so a ReLU triplet *can* be local). First only the new neurons learn (`add_steps` Adam
# steps, everything else frozen); then all neurons are fine-tuned for `add_steps` more. We measure the error on the
# modified target over the domain, how much the function moved outside the modified region $|x - x_0| > 0.45$ with
# the new neurons alone, and what the fine-tuning gains: the write-up says ReLU networks need it ("other neurons
# must adjust as well") and local ones do not.

# %%
x0 = 1.0
y1_mod = y1 + 0.8 * torch.exp(-((x1 - x0) / 0.15) ** 2)
outside = (x1[:, 0] - x0).abs() > 0.45
with torch.no_grad():
    before = {"ReLU": relu_1d(x1), "local": local_1d(x1)}
KINKS = [x0 - 0.3, x0, x0 + 0.3]
with torch.no_grad():
    current_at_x0 = local_1d(torch.tensor([[x0]]))
grown = {"ReLU": with_new_relus(relu_1d, KINKS), "local": with_new_key(local_1d, torch.tensor([[x0]]), current_at_x0)}
add_rows = []
nngeom.seed_everything(S.seed)
for name, model in grown.items():
    train_new_only(model, x1, y1_mod, S.add_steps, "relu" if name == "ReLU" else "local",
                   new=len(KINKS) if name == "ReLU" else 1)
    with torch.no_grad():
        out_new = model(x1)
    tuned = with_new_relus(relu_1d, KINKS) if name == "ReLU" else with_new_key(local_1d, torch.tensor([[x0]]),
                                                                               current_at_x0)
    tuned.load_state_dict(model.state_dict())
    for p in tuned.parameters():
        p.requires_grad_(True)
    fit_mse(tuned, x1, y1_mod, S.add_steps)
    with torch.no_grad():
        out_tuned = tuned(x1)
    add_rows.append({"network": name,
                     "MSE, new neuron alone": float(((out_new - y1_mod) ** 2).mean()),
                     "MSE, after fine-tuning all": float(((out_tuned - y1_mod) ** 2).mean()),
                     "change outside the region, new neuron alone": float(
                         (out_new - before[name])[outside].abs().mean()),
                     "curve new": out_new[:, 0], "curve tuned": out_tuned[:, 0]})
adding = pd.DataFrame(add_rows).set_index("network")
shown = adding.drop(columns=["curve new", "curve tuned"])

fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for ax, name in zip(axes, ("ReLU", "local")):
    ax.plot(x1, y1_mod, color="grey", lw=3, alpha=0.5, label="modified target")
    ax.plot(x1, before[name], "k:", label="before")
    ax.plot(x1, adding.loc[name, "curve new"], label="new neuron alone")
    ax.plot(x1, adding.loc[name, "curve tuned"], "--", label="after fine-tuning all")
    ax.axvspan(x0 - 0.45, x0 + 0.45, color="C2", alpha=0.08)
    ax.set_title(f"{name}: {len(KINKS) if name == 'ReLU' else 1} added neuron(s)")
axes[0].legend(fontsize=8)
fig.tight_layout()
glue("s2-add-neuron", fig, display=False)
plt.close(fig)
shown.round(4)

# %% [markdown]
# ```{glue:figure} s2-add-neuron
# :name: fig-s2-add-neuron
#
# Section 2.1 (no figure in the write-up): adding neurons at $x_0 = 1$ to fit a local bump (shaded: the modified
# region; one local key, three ReLUs). Compare, for each network, the solid curve (only the new neurons learned)
# with the target inside the shaded band and with the dotted curve outside it, and the dashed curve (all neurons
# fine-tuned) with the solid one.
# ```

# %%
drop = {name: shown.loc[name, "MSE, new neuron alone"] - shown.loc[name, "MSE, after fine-tuning all"]
        for name in ("ReLU", "local")}
gain = {name: drop[name] / max(shown.loc[name, "MSE, new neuron alone"], 1e-12) for name in ("ReLU", "local")}
nngeom.claim("L.2.1.add-local", "1-D: the new neurons trained alone fit a local modification of the target better "
             "when it is one local neuron than when it is three ReLUs (MSE on the modified target)",
             paper="local neuron suitable to modify a small region", ours=float(shown.loc["local", "MSE, new neuron alone"]),
             check=nngeom.less_than(float(shown.loc["ReLU", "MSE, new neuron alone"])),
             source="sec. 2.1: \"a locally activating neuron (like RBF) do not effect regions far away from centers, "
                    "making it suitable to modify a small region\"")
nngeom.claim("L.2.1.add-outside", "1-D: the new neurons alone move the function outside the modified region "
             "less when local than when ReLU (mean |change| outside)",
             paper="no effect far from the centre", ours=float(shown.loc["local", "change outside the region, new neuron alone"]),
             check=nngeom.less_than(float(shown.loc["ReLU", "change outside the region, new neuron alone"])),
             source="sec. 2.1: \"the effect of neurons are global, and when trying to modify a small part, we can "
                    "add new neurons\"",
             note="three ReLUs can form a bump that is zero outside the region, so this comparison can go either way")
nngeom.claim("L.2.1.add-finetune", "1-D: fine-tuning all neurons after the addition helps the ReLU network more "
             "than the local one (relative drop of the MSE from the new neurons alone to all fine-tuned)",
             paper="other neurons must adjust (ReLU); the local neuron needs no fine-tuning", ours=gain,
             check=nngeom.holds(bool(gain["ReLU"] > gain["local"]), "ReLU's relative gain > the local network's"),
             source="sec. 2.1: \"to fit a new neuron properly, other neurons must adjust as well (fine-tuning)\"",
             note=f"absolute drop of the MSE: ReLU {drop['ReLU']:.4f}, local {drop['local']:.4f}; base fit before the "
                  f"modification: ReLU {loss_relu_1d:.4f}, local {loss_local_1d:.4f}",
             cause=f"open: fine-tuning brings the local network back to its base-fit error "
                   f"({shown.loc['local', 'MSE, after fine-tuning all']:.4f} against {loss_local_1d:.4f}) while the "
                   f"ReLU network stays at {shown.loc['ReLU', 'MSE, after fine-tuning all']:.4f}, "
                   f"{shown.loc['ReLU', 'MSE, after fine-tuning all'] / max(shown.loc['local', 'MSE, new neuron alone'], 1e-12):.1f}x "
                   "the lone local key: in our 1-D setting fine-tuning does not make the ReLU fit 'proper'");

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

grid, xx, yy = nngeom.toys.grid_2d(1.0, S.resolution)
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
glue("s2-relu-2d", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s2-relu-2d
# :name: fig-s2-relu-2d
#
# Recomputes Figure 2 of the write-up. Top of the write-up's figure (here left): the fitted function; bottom
# (here right): the boundary of every ReLU neuron, thick in proportion to its activation for the input $\times$.
# Look at how many lines are thick, i.e. how many neurons take part in the output at one point.
# ```

# %% [markdown]
# ## Removing one neuron: global versus local change (2-D)
#
# The same measurement on a grid of the square. In addition, section 2.1 singles out neurons with a **large
# slope**: we split the ReLU neurons at the median of their slope $|w_i|\,\lVert u_i\rVert$ and compare how much
# the mean squared error against the target function grows when a neuron of either half is removed.

# %%
scale_2d = y2.std().item()
target_grid = torch.sin(3 * grid[:, :1]) * torch.cos(2 * grid[:, 1:])
with torch.no_grad():
    full_relu2 = relu_2d(grid)
    without_relu2, _ = relu_without_each(relu_2d, grid)
    full_local2 = local_2d(grid)
    without_local2 = local_2d.outputs_without_each(grid)[..., 0]
share_relu2 = affected_share(full_relu2, without_relu2, scale_2d)
share_local2 = affected_share(full_local2, without_local2, scale_2d)
share_2d = pd.DataFrame({"ReLU": share_relu2.numpy(), "local": share_local2.numpy()})
slope = (relu_2d[2].weight.detach()[0].abs() * relu_2d[0].weight.detach().norm(dim=1))
mse_full = float(((full_relu2 - target_grid) ** 2).mean())
degrade = ((without_relu2 - target_grid) ** 2).mean(0) - mse_full
steep = slope >= slope.median()

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
glue("s2-remove-2d", fig, display=False)
plt.close(fig)
share_2d.describe().loc[["mean", "min", "max"]].round(3)

# %% [markdown]
# ```{glue:figure} s2-remove-2d
# :name: fig-s2-remove-2d
#
# Section 2.1 (no figure in the write-up): the absolute change of the output when the median neuron (by affected
# share) is removed, ReLU left, local right (its key: cyan cross). Look at whether the bright region is a
# half-plane or a patch around the key.
# ```

# %%
nngeom.claim("L.2.remove.relu-2d", "2-D: removing one ReLU neuron changes the function over a larger share of the "
             "domain than removing one local neuron (per-neuron shares)", paper="global (ReLU) vs local change",
             ours=share_relu2.tolist(), check=nngeom.mean_above(share_local2.tolist()),
             source="sec. 2: \"due to global influence of ReLU neurons I could not easily add or remove neurons\"",
             cause="open: the local network's keys may have widened until they overlap as much as ReLU half-planes")
far_2d = far_change(local_2d, grid, without_local2, full_local2, scale_2d)
nngeom.claim("L.2.remove.local-2d", "2-D: removing a local key moves nothing farther than epsilon + 5 tau from it "
             "(share of such grid points that move)", ours=far_2d, check=nngeom.at_most(0.0), kind="check",
             note="follows from the epsilon-softmax: there the key's weight is below e^-5 of the epsilon neuron's")
slope_test = stats.mannwhitneyu(degrade[steep].numpy(), degrade[~steep].numpy(), alternative="greater")
nngeom.claim("L.2.remove.relu-slope", "2-D: removing a ReLU neuron of the steeper half raises the error against the "
             "target more than removing one of the flatter half (one-sided Mann-Whitney over neurons)",
             paper="large slope: high degradation",
             ours={"steep mean": float(degrade[steep].mean()), "flat mean": float(degrade[~steep].mean()),
                   "neurons per half": int(steep.sum())},
             check=nngeom.holds(bool(slope_test.pvalue < 0.05), f"Mann-Whitney p = {slope_test.pvalue:.3g} < 0.05"),
             source="sec. 2.1: \"removing neurons with large slope would highly degrade the whole function\"",
             note="a rank test: the per-neuron degradations are heavy-tailed (a few neurons carry most of the fit), "
                  "where a mean test on about ten values per half is dominated by one value",
             cause=f"open: with {int(steep.sum())} neurons per half (the same at paper) the ranks of the two halves "
                   f"overlap (p = {slope_test.pvalue:.3g})");

# %% [markdown]
# ## Radial basis functions: local, but not disentangled (2-D)
#
# Section 2.1 first found locality in the radial basis function ("RBF had the benefit of locally activating around
# a center") and then left it: "we later find that, we need to use softmax function for disentanglement where
# radial basis function does not produce desirable property"; section 5 adds "I was able to use softmax to
# disentangle activation regions". The write-up defines neither the RBF network nor "disentanglement". Ours: an
# RBF network $y = \sum_i v_i \exp(-\lVert x - c_i\rVert^2 / \sigma_i^2) + b$ with the same number of neurons,
# started from the same keys and values as the local network (all widths $\sigma_i = 0.3$, ours) and fitted with
# the same loss and steps. Its removal share is measured as above (an RBF neuron is removed by dropping its term).
#
# Disentanglement is read as *how many neurons share the explanation of one input*: with the activations
# normalised over the neurons, $q_i(x) = a_i(x) / \sum_j a_j(x)$ (for the $\epsilon$-softmax over the keys, the
# $\epsilon$ neuron left out), the effective number of active neurons is $N_\text{eff}(x) = \exp H(q(x))$, 1 when a
# single neuron explains $x$ and $N$ when all share it equally. Per neuron we average $N_\text{eff}$ over the grid
# points where that neuron is the most active one (its region), so that both networks give one value per neuron
# and are compared with the same one-sided test as the removal shares.

# %%
class RBFNetwork(nn.Module):
    """``y = sum_i v_i exp(-||x - c_i||^2 / sigma_i^2) + b`` (sec. 2.1's radial basis function network)."""

    def __init__(self, centres, values, width):
        super().__init__()
        self.centres = nn.Parameter(centres.clone())
        self.values = nn.Parameter(values.clone().reshape(-1))
        self.log_width = nn.Parameter(torch.full((len(centres),), float(np.log(width))))
        self.bias = nn.Parameter(torch.zeros(1))

    def activations(self, x):
        return torch.exp(-torch.cdist(x, self.centres) ** 2 / torch.exp(2 * self.log_width))

    def forward(self, x):
        return (self.activations(x) @ self.values + self.bias)[:, None]


def effective_neurons(a):
    """``exp H(q)`` with ``q = a / sum(a)`` per row: the effective number of neurons sharing each input."""
    q = a / a.sum(1, keepdim=True).clamp_min(1e-30)
    return torch.exp(-(q * torch.log(q.clamp_min(1e-30))).sum(1))


def per_region_mean(value, a):
    """Per neuron: the mean of ``value`` over the inputs where that neuron is the most active (nan if none)."""
    owner = a.argmax(1)
    return np.array([float(value[owner == i].mean()) if (owner == i).any() else np.nan for i in range(a.shape[1])])


rbf_2d = RBFNetwork(x2[pick], y2[pick], width=0.3)
loss_rbf_2d = fit_mse(rbf_2d, x2, y2, S.steps)
with torch.no_grad():
    a_rbf = rbf_2d.activations(grid)
    full_rbf2 = rbf_2d(grid)
    without_rbf2 = full_rbf2 - a_rbf * rbf_2d.values
    a_local = local_2d.activations(grid)[:, :-1]
share_rbf2 = affected_share(full_rbf2, without_rbf2, scale_2d)
neff_rbf, neff_local = effective_neurons(a_rbf), effective_neurons(a_local)
region_rbf, region_local = per_region_mean(neff_rbf, a_rbf), per_region_mean(neff_local, a_local)
rbf_table = pd.DataFrame({
    "MSE on the data": [loss_relu_2d, loss_rbf_2d, loss_local_2d],
    "removal share, mean over neurons": [share_relu2.mean().item(), share_rbf2.mean().item(),
                                         share_local2.mean().item()],
    "N_eff, mean over the grid": [np.nan, neff_rbf.mean().item(), neff_local.mean().item()],
    "N_eff in a neuron's region, mean over neurons": [np.nan, np.nanmean(region_rbf), np.nanmean(region_local)],
    "neurons owning a region": [np.nan, int(np.isfinite(region_rbf).sum()), int(np.isfinite(region_local).sum())],
}, index=["ReLU", "RBF", "epsilon-softmax"])
shown_rbf = rbf_table.round(4).astype(object).where(rbf_table.notna(), "n/a")
shown_rbf["neurons owning a region"] = [v if isinstance(v, str) else int(v) for v in shown_rbf["neurons owning a region"]]
print(f"RBF widths after the fit: {torch.exp(rbf_2d.log_width).detach().numpy().round(3)}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
top = max(float(neff_rbf.max()), float(neff_local.max()))
for ax, neff, model, title in ((axes[0], neff_rbf, rbf_2d, "RBF"), (axes[1], neff_local, local_2d, "epsilon-softmax")):
    im = ax.pcolormesh(xx, yy, neff.reshape(xx.shape), shading="auto", cmap="cividis", vmin=1, vmax=top)
    fig.colorbar(im, ax=ax, label="effective number of active neurons")
    ax.scatter(*model.centres.detach().T, marker="x", c="red", s=30)
    ax.set_title(f"{title}: N_eff per input")
    ax.set_aspect("equal")
fig.tight_layout()
glue("s2-rbf-disentangle", fig, display=False)
plt.close(fig)
shown_rbf

# %% [markdown]
# ```{glue:figure} s2-rbf-disentangle
# :name: fig-s2-rbf-disentangle
#
# Section 2.1 (no figure in the write-up): the effective number of neurons sharing each input, $\exp H(q)$, for the
# fitted RBF network (left) and the $\epsilon$-softmax network (right), on one colour scale; red crosses are the
# centres. Look at whether each input is explained by one neuron (dark) or by several (bright).
# ```

# %%
rbf_local_row = nngeom.claim(
    "L.2.1.rbf-local", "2-D: removing one RBF neuron changes the function over a smaller share of the domain than "
    "removing one ReLU neuron (per-neuron shares)", paper="RBF: locally activating around a center",
    ours=share_rbf2.tolist(), check=nngeom.mean_below(share_relu2.tolist()),
    source="sec. 2.1: \"RBF had the benefit of locally activating around a center\"",
    cause="open: the fitted widths may have grown until the RBF neurons act over most of the square")
rbf_entangled_row = nngeom.claim(
    "L.2.1.rbf-entangled", "2-D: in its own region an epsilon-softmax key shares the input with fewer neurons than "
    "an RBF neuron does (per-neuron mean of exp H(q))", paper="softmax disentangles, RBF does not",
    ours=region_local[np.isfinite(region_local)].tolist(),
    check=nngeom.mean_below(region_rbf[np.isfinite(region_rbf)].tolist()),
    source="sec. 2.1: \"we need to use softmax function for disentanglement where radial basis function does not "
           "produce desirable property\"",
    note="disentanglement read as the effective number of active neurons (ours: the write-up gives no measure)",
    cause="open: with these widths and temperature the two networks share inputs equally; the write-up names "
          "neither");

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# Both networks fit the same data (mean squared errors printed above). Removal is measured per neuron as the share
# of the domain whose output moves by more than `threshold` times the target's standard deviation; addition as the
# error on a locally modified target with one new neuron, alone and after fine-tuning all.

# %%
rows = {r["id"]: r for r in nngeom.book.ledger.current_rows()}  # this run's verdicts
nngeom.reading(
    f"Removing one neuron changed on average {share_1d['ReLU'].mean():.0%} (ReLU) against "
    f"{share_1d['local'].mean():.0%} (local) of the 1-D domain and {share_2d['ReLU'].mean():.0%} against "
    f"{share_2d['local'].mean():.0%} of the square: the ReLU-against-local comparison is "
    f"**{rows['L.2.remove.relu-1d']['verdict']}** in 1-D and **{rows['L.2.remove.relu-2d']['verdict']}** in 2-D "
    f"({rows['L.2.remove.relu-2d']['detail']}). Removing a steep ReLU neuron raised the error by "
    f"{float(degrade[steep].mean()):.3g} on average against {float(degrade[~steep].mean()):.3g} for a flat one "
    f"(**{rows['L.2.remove.relu-slope']['verdict']}**).\n\n"
    f"With one added neuron trained alone the error on the modified target was "
    f"{shown.loc['local', 'MSE, new neuron alone']:.4f} (local) against {shown.loc['ReLU', 'MSE, new neuron alone']:.4f} "
    f"(ReLU), and the function moved by {shown.loc['local', 'change outside the region, new neuron alone']:.4f} "
    f"against {shown.loc['ReLU', 'change outside the region, new neuron alone']:.4f} outside the modified region "
    f"(**{rows['L.2.1.add-local']['verdict']}**, **{rows['L.2.1.add-outside']['verdict']}**). Fine-tuning all ReLU "
    f"neurons brought the ReLU error to {shown.loc['ReLU', 'MSE, after fine-tuning all']:.4f} "
    f"(**{rows['L.2.1.add-finetune']['verdict']}**).\n\n"
    f"The RBF network (MSE {loss_rbf_2d:.5f}) changed on average {share_rbf2.mean():.0%} of the square per removed "
    f"neuron against {share_relu2.mean():.0%} for ReLU (**{rbf_local_row['verdict']}** for 'locally activating'). "
    f"In its own region an epsilon-softmax key shared the input with {np.nanmean(region_local):.2f} effective "
    f"neurons on average against {np.nanmean(region_rbf):.2f} for an RBF neuron (**{rbf_entangled_row['verdict']}** "
    f"for 'softmax disentangles, RBF does not').")
