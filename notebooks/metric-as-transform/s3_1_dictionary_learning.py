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
# # 3.1 Dictionary learning as a two-layer network
#
# *Metric as Transform*, section 3.1, Table 3 and Figures 11-12. A two-layer network can be read as a
# dictionary: the first layer holds **keys** $k_i$ (centres), the second their **values** $v_i$, and a query $x$
# returns $y = \sum_i a_i(x)\, v_i$ where $a_i$ turns the distances $d_i = \lVert x - k_i \rVert_2$ into similarities.
# The document compares three normalisations:
#
# * un-normalised (3.1.1, after UMAP): $s_i = \exp\!\big(-(d_i - \min_j d_j)/(\sigma\tau)\big)$, $\sigma$ the standard
#   deviation of the distances over the keys, $\tau = 0.5$;
# * softmax (3.1.2): $a_i = \mathrm{softmax}_i(-d_i/\tau)$;
# * $\epsilon$-softmax (3.1.3): $a = \mathrm{softmax}([-d_1, \dots, -d_N, -\epsilon]/\tau)$, one extra neuron that wins
#   when every key is farther than $\epsilon$.
#
# It claims that (i) keys copied from training samples with one-hot values already classify MNIST and
# Fashion-MNIST well **without any training** (Table 3), (ii) the un-normalised and softmax similarities can fire
# far away from their key while $\epsilon$-softmax is truly local (Figure 11), and (iii) a local residual MLP
# $y = x + \sum_i a_i v_i$ untangles two spirals with interpretable centres and shifts (Figure 12).

# %% tags=["parameters"]
profile = "cpu"
datasets = None      # Table 3 datasets
widths = None        # numbers of keys h
seeds = None         # random draws of keys per width
n_test = None        # test inputs per dataset (10000: the whole test set)
tau_table = None     # temperature of the un-normalised similarity in Table 3
tau_maps = None      # temperatures shown in the 2-D maps
epsilon_map = None   # epsilon of the 2-D maps
resolution = None    # grid points per axis of the 2-D maps
n_spiral = None      # two-spirals training points
spiral_centres = None
spiral_tau = None
spiral_epochs = None
seed = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

import nngeom
import nngeom.train
from nngeom import local, voronoi
from nngeom.dictionary import LocalResidualMLP, data_initialised_accuracy

PROFILES = {
    "smoke": {"datasets": ["mnist", "fashion_mnist"], "widths": [10, 50, 200], "seeds": 2, "n_test": 300,
              "tau_table": 0.5, "tau_maps": [0.2, 1.0], "epsilon_map": 1.0, "resolution": 60, "n_spiral": 200,
              "spiral_centres": 20, "spiral_tau": 0.3, "spiral_epochs": 1, "seed": 0},
    "cpu": {"datasets": ["mnist", "fashion_mnist"], "widths": [10, 50, 200, 1000, 5000, 20000], "seeds": 5,
            "n_test": 4000, "tau_table": 0.5, "tau_maps": [0.1, 0.3, 1.0], "epsilon_map": 1.0, "resolution": 200,
            "n_spiral": 600, "spiral_centres": 30, "spiral_tau": 0.3, "spiral_epochs": 40, "seed": 0},
    "paper": {"datasets": ["mnist", "fashion_mnist"], "widths": [10, 50, 200, 1000, 5000, 20000], "seeds": 20,
              "n_test": 10000, "tau_table": 0.5, "tau_maps": [0.1, 0.3, 1.0], "epsilon_map": 1.0, "resolution": 300,
              "n_spiral": 1000, "spiral_centres": 30, "spiral_tau": 0.3, "spiral_epochs": 100, "seed": 0},
}
BOUNDS = {"widths": (1, 60000), "seeds": (1, None), "n_test": (1, 10000), "tau_table": (1e-6, None),
          "tau_maps": (1e-6, None), "epsilon_map": (0, None), "resolution": (10, None), "n_spiral": (10, None),
          "spiral_centres": (1, None), "spiral_tau": (1e-6, None), "spiral_epochs": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s3_1_dictionary_learning", bounds=BOUNDS)

# %% [markdown]
# ## Table 3: data-initialised dictionaries without training
#
# For each width $h$ and seed we copy $h$ training images drawn uniformly at random as keys, set the values to
# their one-hot labels and classify the test set with the un-normalised similarity ($\tau = 0.5$). There is no
# training at all. Distances are computed in chunks of 2500 test images against all keys (never the
# test $\times$ keys $\times$ 784 tensor), and the keys of width $h$ are the first $h$ of one random draw of the
# largest width, so that one pass serves every column. The document uses 20 seeds and the whole test set;
# the `cpu` profile uses the seeds and test images printed above.

# %%
PAPER_T3 = {
    "mnist": {"mean": [36.48, 60.76, 76.40, 85.61, 88.56, 89.43], "std": [3.29, 3.49, 2.21, 0.83, 0.39, 0.20],
              "max": [42.69, 67.86, 81.0, 87.03, 89.57, 89.79]},
    "fashion_mnist": {"mean": [37.75, 58.08, 67.75, 72.60, 73.96, 74.43], "std": [6.63, 3.47, 1.84, 1.43, 0.45, 0.21],
                      "max": [50.23, 62.10, 70.20, 75.08, 74.74, 74.94]},
}
PAPER_WIDTHS = [10, 50, 200, 1000, 5000, 20000]

results = {}
for name in S.datasets:
    x_train, y_train = nngeom.data.load_subset(name, "train", None, flatten=True)
    x_test, y_test = nngeom.data.load_subset(name, "test", S.n_test, seed=S.seed, flatten=True)
    runs = [data_initialised_accuracy(x_train, y_train, x_test, y_test, S.widths, 10, seed=S.seed + s,
                                      tau=S.tau_table, device=nngeom.device()) for s in range(S.seeds)]
    results[name] = {h: 100 * np.array([r[h] for r in runs]) for h in S.widths}

rows = []
for name, per_width in results.items():
    for h, acc in per_width.items():
        paper = PAPER_T3[name]
        k = PAPER_WIDTHS.index(h) if h in PAPER_WIDTHS else None
        rows.append({"dataset": name, "h": h, "ours mean": acc.mean(), "paper mean": paper["mean"][k] if k is not None else None,
                     "ours std": acc.std(ddof=1) if len(acc) > 1 else 0.0, "paper std": paper["std"][k] if k is not None else None,
                     "ours max": acc.max(), "paper max": paper["max"][k] if k is not None else None})
table3 = pd.DataFrame(rows).set_index(["dataset", "h"])
table3.round(2)

# %%
fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 3.8), squeeze=False)
for ax, (name, per_width) in zip(axes[0], results.items()):
    hs = list(per_width)
    means = [per_width[h].mean() for h in hs]
    stds = [per_width[h].std(ddof=1) if len(per_width[h]) > 1 else 0.0 for h in hs]
    ax.errorbar(hs, means, yerr=stds, marker="o", capsize=3, label=f"ours ({S.seeds} seeds)")
    ax.plot(PAPER_WIDTHS, PAPER_T3[name]["mean"], "k--", marker="s", alpha=0.6, label="document")
    ax.set_xscale("log")
    ax.set_xlabel("keys h (training samples, no training)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(name)
    ax.legend()
fig.tight_layout()
plt.show()

for name, per_width in results.items():
    short = "mnist" if name == "mnist" else "fmnist"
    for h, acc in per_width.items():
        if h not in PAPER_WIDTHS:
            continue
        k = PAPER_WIDTHS.index(h)
        paper = PAPER_T3[name]
        tol = max(1.5, 2 * paper["std"][k])
        nngeom.claim(f"A.T3.{short}.h{h}.mean", f"Table 3, {name}, h={h}: mean test accuracy (%) without training",
                     paper=paper["mean"][k], ours=float(acc.mean()), check=nngeom.within(tol),
                     note=f"{len(acc)} seeds, {S.n_test} test images")
        if len(acc) > 1:
            nngeom.claim(f"A.T3.{short}.h{h}.std", f"Table 3, {name}, h={h}: std over seeds (%)",
                         paper=paper["std"][k], ours=float(acc.std(ddof=1)),
                         check=nngeom.within(max(1.0, paper["std"][k])), judged_at=("paper",))
        nngeom.claim(f"A.T3.{short}.h{h}.max", f"Table 3, {name}, h={h}: max over seeds (%)",
                     paper=paper["max"][k], ours=float(acc.max()), check=nngeom.within(max(2.0, 2 * paper["std"][k])),
                     judged_at=("paper",))

# %% [markdown]
# ## Figure 11: where do the neurons fire?
#
# Five keys in the plane. For each normalisation we draw, over a grid much wider than the keys, the
# activation of the winning neuron (colour = which neuron, brightness = its activation), and then measure the two
# problems the document names: (1) a neuron whose activation is highest far from its key, and (2) activations
# that do not sum to one. "Far" is a circle of radius 25 around the keys.

# %%
keys_2d = torch.tensor([[-1.0, -0.5], [0.8, -0.9], [0.2, 0.9], [1.4, 0.6], [-1.2, 1.0]])
limit = 4.0
grid, xx, yy = voronoi.grid_2d(limit, S.resolution)
step = 2 * limit / (S.resolution - 1)
angles = torch.linspace(0, 2 * np.pi, 721)[:-1]
far = 25.0 * torch.stack([angles.cos(), angles.sin()], dim=1)


def maps(kind, tau, epsilon=None):
    return local.similarity(torch.cdist(grid, keys_2d), kind, tau, epsilon), local.similarity(
        torch.cdist(far, keys_2d), kind, tau, epsilon)


def draw(ax, act, title):
    colours = plt.get_cmap("tab10")(np.arange(10))[:, :3]
    ax.imshow(local.firing_map(act, S.resolution, colours), origin="lower", extent=[-limit, limit, -limit, limit])
    ax.scatter(keys_2d[:, 0], keys_2d[:, 1], c=colours[:5], edgecolors="white", marker="X", s=90)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


settings_11 = [("unnormalised", 0.5, None), ("softmax", S.tau_maps[0], None),
               ("epsilon_softmax", S.tau_maps[0], S.epsilon_map)]
fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
measured = {}
for ax, (kind, tau, eps) in zip(axes, settings_11):
    act, act_far = maps(kind, tau, eps)
    draw(ax, act, f"{kind}, tau={tau}" + (f", eps={eps}" if eps is not None else ""))
    peak = grid[act[:, :-1].argmax(0)]
    measured[kind] = {
        "max distance of a neuron's peak from its key": float((peak - keys_2d).norm(dim=1).max()),
        "largest activation of a key neuron far away": float(act_far[:, :-1].max()),
        "epsilon neuron far away (min over circle)": float(act_far[:, -1].min()),
        "max |sum of activations - 1| on grid": float((act.sum(1) - 1).abs().max()),
    }
fig.suptitle("Winning neuron (colour) and its activation (brightness); black = epsilon neuron")
fig.tight_layout()
plt.show()
pd.DataFrame(measured).round(4)

# %% [markdown]
# The temperature controls the hardness: at low $\tau$ the maps approach the Voronoi cells of the keys, at high
# $\tau$ neighbouring neurons share the input. With $\epsilon$ the regions stay bounded for every temperature.

# %%
fig, axes = plt.subplots(2, len(S.tau_maps), figsize=(4.2 * len(S.tau_maps), 8.4), squeeze=False)
for j, tau in enumerate(S.tau_maps):
    draw(axes[0, j], maps("softmax", tau)[0], f"softmax, tau={tau}")
    draw(axes[1, j], maps("epsilon_softmax", tau, S.epsilon_map)[0], f"epsilon-softmax, tau={tau}, eps={S.epsilon_map}")
fig.tight_layout()
plt.show()

eps_m, soft_m, un_m = measured["epsilon_softmax"], measured["softmax"], measured["unnormalised"]
nngeom.claim("A.3.1.eps-peak-at-centre", "epsilon-softmax: every neuron's activation is maximal at its key",
             paper="maximal at centre (Fig. 11)", ours=eps_m["max distance of a neuron's peak from its key"],
             check=nngeom.at_most(1.5 * step), note="peak location on the grid; tolerance 1.5 grid steps")
nngeom.claim("A.3.1.eps-vanishes-far", "epsilon-softmax: key neurons vanish far from every key",
             paper="local activation", ours=eps_m["largest activation of a key neuron far away"],
             check=nngeom.at_most(1e-3))
nngeom.claim("A.3.1.softmax-fires-far", "softmax without epsilon: some neuron fires strongly far from its key",
             paper="fires far away (Fig. 11)", ours=soft_m["largest activation of a key neuron far away"],
             check=nngeom.at_least(0.5))
nngeom.claim("A.3.1.unnormalised-fires-far", "un-normalised: some neuron reaches its maximum 1 far from its key",
             paper="activates highest away from key", ours=un_m["largest activation of a key neuron far away"],
             check=nngeom.at_least(0.99))
nngeom.claim("A.3.1.unnormalised-sum", "un-normalised: activations do not sum to one",
             paper="sum != 1", ours=un_m["max |sum of activations - 1| on grid"], check=nngeom.at_least(0.1));

# %% [markdown]
# ## Figure 12: local residual MLP on two spirals
#
# $y = x + \sum_i a_i v_i$ with $\epsilon$-softmax activations ($\epsilon$ tracked as the moving average of the mean
# input-key distance), followed by a linear classifier. Keys and shifts are trained together by backpropagation
# (Adam). A linear classifier on the raw input is the baseline: the spirals are not linearly separable.

# %%
xs, ys = nngeom.toys.two_spirals(S.n_spiral, turns=1.5, noise=0.02, seed=S.seed)
xs_test, ys_test = nngeom.toys.two_spirals(S.n_spiral, turns=1.5, noise=0.02, seed=S.seed + 1)

nngeom.seed_everything(S.seed)
residual = LocalResidualMLP(2, S.spiral_centres, tau=S.spiral_tau, epsilon="ema", init_scale=0.6)
spiral_model = nn.Sequential(residual, nn.Linear(2, 2))
hist = nngeom.train.fit_classifier(spiral_model, (xs, ys), (xs_test, ys_test), epochs=S.spiral_epochs,
                                   batch_size=32, lr=1e-2, seed=S.seed, progress=False)
nngeom.seed_everything(S.seed)
linear = nn.Linear(2, 2)
hist_linear = nngeom.train.fit_classifier(linear, (xs, ys), (xs_test, ys_test), epochs=S.spiral_epochs,
                                          batch_size=32, lr=1e-2, seed=S.seed, progress=False)
spiral_model.cpu().eval()
print(f"local residual MLP: final test accuracy {hist.test_accuracy[-1]:.3f}; linear on raw input: "
      f"{hist_linear.test_accuracy[-1]:.3f}; learned epsilon {residual.norm.epsilon.item():.3f}")

# %%
with torch.no_grad():
    moved = residual(xs_test)
    centres, shifts = residual.centres.detach(), residual.values.detach()
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
axes[0].scatter(xs_test[:, 0], xs_test[:, 1], c=ys_test, cmap="coolwarm", s=8, alpha=0.6)
axes[0].quiver(centres[:, 0], centres[:, 1], shifts[:, 0], shifts[:, 1], angles="xy", scale_units="xy", scale=5,
               width=0.004, color="black")
axes[0].scatter(centres[:, 0], centres[:, 1], marker="X", c="black", s=50)
axes[0].set_xlim(-1.5, 1.5)
axes[0].set_ylim(-1.5, 1.5)
axes[0].set_title("input space: keys (x) and their shifts v_i (drawn at 1/5)")
axes[1].scatter(moved[:, 0], moved[:, 1], c=ys_test, cmap="coolwarm", s=8, alpha=0.6)
w, b = spiral_model[1].weight.detach(), spiral_model[1].bias.detach()
normal = w[1] - w[0]
span = torch.linspace(moved.min(), moved.max(), 2)
if normal[1].abs() > 1e-6:
    axes[1].plot(span, -(normal[0] * span + (b[1] - b[0])) / normal[1], "k--", label="linear decision boundary")
    axes[1].legend()
axes[1].set_xlim(moved[:, 0].min() - 0.2, moved[:, 0].max() + 0.2)
axes[1].set_ylim(moved[:, 1].min() - 0.2, moved[:, 1].max() + 0.2)
axes[1].set_title("output space y = x + sum_i a_i v_i")
for ax in axes:
    ax.set_aspect("equal")
fig.tight_layout()
plt.show()

nngeom.claim("A.3.1.4.residual-spirals", "A local residual MLP makes two spirals linearly separable",
             paper="spirals classified (Fig. 12)", ours=hist.test_accuracy[-1], check=nngeom.at_least(0.95))
nngeom.claim("A.3.1.4.linear-baseline", "A linear classifier alone cannot separate the spirals",
             paper="not linearly separable", ours=hist_linear.test_accuracy[-1], check=nngeom.at_most(0.8));

# %% [markdown]
# ## Reading the result
#
# Table 3 is recomputed from scratch: the printed table puts our mean, standard deviation and maximum over seeds
# beside the document's, and the claims record each mean with a tolerance of twice the document's standard
# deviation (at least 1.5 points). The spread and maximum depend on the number of seeds and are judged only
# at the document's scale. In the 2-D maps the measurements, not only the pictures, show the two defects of the
# un-normalised and softmax similarities far from the keys and their absence with $\epsilon$-softmax; the
# residual MLP's shift vectors carry the two arms apart so that a line separates them.
