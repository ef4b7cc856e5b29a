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
# # 3 Distance-transform based epsilon-softmax neurons
#
# *On my search for locally activating neurons*, section 3 and Figures 3-5. A layer of distance neurons
# normalised by a softmax, $A = \mathrm{softmax}(-d(W, X)/\tau)$, still fires far from its centres (the write-up:
# "neurons can produce high activation in region very far away from the reference centers"). The write-up's fix is the $\epsilon$-softmax: one
# extra entry $-\epsilon$ in the softmax, the $\epsilon$ neuron, which wins wherever every centre is farther than
# $\epsilon$. It then uses these neurons for a local residual MLP $Y = X + A V$ (Fig. 4), for local classification
# neurons whose $\epsilon$ region rejects outliers (Fig. 5), for data-initialised dictionaries improved by noisy
# selection, and on MNIST to reject random inputs and adversarial examples: "after tuning value of epsilon, I was
# able to reject about 50% of adversarial examples. It also rejected some of the inputs (~6%)". It adds that
# centres far from the data "can still predict classes well, however, it did not succeed in rejecting the
# adversarial examples", and (sec. 4) that "repetitive local neuron addition and pruning" optimised the local
# residual MLP, which the same author's *Metric as Transform* (sec. 3.3) contradicts: noisy search on the local
# residual MLP "failed to get stable solution that was converging". Each of these is measured below, and so is the
# write-up's use of the $\epsilon$ activation as an uncertainty estimate.

# %% tags=["parameters"]
profile = "cpu"
# Where each `paper` value comes from: (write-up) this document, (MaT 3.x) *Metric as Transform*, the same author's
# follow-up on these experiments (seeds README), (ours) our choice where neither gives one.
resolution = None      # grid points per axis of the firing maps (ours)
taus = None            # temperatures of Fig. 3 (ours: the figure's values are not given)
epsilons = None        # epsilon values of Fig. 3 (ours)
n_spiral = None        # (ours)
spiral_epochs = None   # (ours)
residual_taus = None   # temperatures of the local residual MLP of Fig. 4; the first draws the figure (ours: not given)
classifier_epsilon = None  # fixed epsilon of the local classification neurons, Fig. 5 (ours)
n_train = None         # MNIST training images (ours; the write-up gives none)
epochs = None          # (ours, following MaT 3.2's Fashion-MNIST setting: "trained for 30 epochs")
n_keys = None          # MNIST dictionary keys (ours, following MaT 3.2's Fashion-MNIST setting: 100 of its 100 / 500)
search_rounds = None   # (ours)
n_search = None        # (MaT 3.3: 30 search units)
n_test = None          # MNIST test images used to follow the search (the MNIST test set)
n_attack = None        # (ours)
attack_lrs = None      # strengths of the normalised-gradient attack (ours; MaT 3.2 gives no values)
fgsm_strengths = None  # strengths of FGSM, L-infinity, inputs in [-1, 1] (ours)
x_rejected_target = None  # clean-rejection level at which the adversarial rejection is read (write-up: ~6 %)
search_spiral_rounds = None  # add / fine-tune / prune rounds of the local residual MLP on two spirals, sec. 4 (ours)
search_spiral_steps = None   # Adam steps per round (ours)
seed = None

# %% tags=["hide-input"]

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
import pandas as pd
import torch
from myst_nb import glue
from torch import nn

import nngeom  # noqa: E402
import nngeom.train
from nngeom.local import attacks, centre_search, similarity, rejection
from nngeom.metric import voronoi
from nngeom.local.dictionary import DictionaryMLP, LocalClassifier, LocalResidualMLP, train_dictionary_classifier
from nngeom.local.experiments import trained_dictionary

PROFILES = {
    "smoke": {"resolution": 60, "taus": [0.1, 1.0], "epsilons": [0.6, 1.5], "n_spiral": 200, "spiral_epochs": 1,
              "residual_taus": [0.3, 1.0],
              "classifier_epsilon": 0.35, "n_train": 600, "epochs": 1, "n_keys": 30, "search_rounds": 2,
              "n_search": 10, "n_test": 1000, "n_attack": 50, "attack_lrs": [10.0], "fgsm_strengths": [0.6],
              "x_rejected_target": 0.06, "search_spiral_rounds": 3, "search_spiral_steps": 5, "seed": 0},
    "cpu": {"resolution": 200, "taus": [0.1, 0.3, 1.0], "epsilons": [0.6, 1.0, 1.5], "n_spiral": 600,
            "spiral_epochs": 40, "residual_taus": [0.3, 0.1, 1.0], "classifier_epsilon": 0.35, "n_train": 12000, "epochs": 3, "n_keys": 100,
            "search_rounds": 20, "n_search": 30, "n_test": 10000, "n_attack": 500, "attack_lrs": [3.0, 10.0, 20.0],
            "fgsm_strengths": [0.2, 0.6], "x_rejected_target": 0.06, "search_spiral_rounds": 40,
            "search_spiral_steps": 20, "seed": 0},
    "paper": {"resolution": 300, "taus": [0.1, 0.3, 1.0], "epsilons": [0.6, 1.0, 1.5], "n_spiral": 1000,
              "spiral_epochs": 100, "residual_taus": [0.3, 0.1, 1.0], "classifier_epsilon": 0.35, "n_train": 60000, "epochs": 30, "n_keys": 100,
              "search_rounds": 100, "n_search": 30, "n_test": 10000, "n_attack": 2000, "attack_lrs": [3.0, 10.0, 20.0],
              "fgsm_strengths": [0.1, 0.2, 0.6], "x_rejected_target": 0.06, "search_spiral_rounds": 200,
              "search_spiral_steps": 50, "seed": 0},
}
BOUNDS = {"resolution": (10, None), "taus": (1e-6, None), "epsilons": (0, None), "n_spiral": (10, None),
          "spiral_epochs": (1, None), "residual_taus": (1e-6, None), "classifier_epsilon": (0, None), "n_train": (100, 60000), "epochs": (1, None),
          "n_keys": (1, None), "search_rounds": (0, None), "n_search": (1, None), "n_test": (100, 10000), "n_attack": (10, 10000),
          "attack_lrs": (0, None), "fgsm_strengths": (0, None), "x_rejected_target": (0, 1),
          "search_spiral_rounds": (0, None), "search_spiral_steps": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="locally-activating-neurons/s3_epsilon_softmax", bounds=BOUNDS)

# %% [markdown]
# ## Figure 3: firing regions without and with the epsilon neuron
#
# Six centres in the plane. Each panel colours the grid by the neuron that fires the most (brightness: its
# activation; black: the $\epsilon$ neuron). The write-up's $\epsilon$ is a threshold on *similarity* ("if the
# similarities goes below the threshold, the epsilon neuron produces the highest activation"; no $\epsilon$ neuron
# is "$\epsilon = -\infty$"); ours is a threshold on *distance* (`epsilon_softmax` appends $-\epsilon/\tau$), so
# $\epsilon_{\text{write-up}} = -\epsilon_{\text{ours}}$ for the similarity $-d$: the write-up's "higher
# epsilon, more $\epsilon$ activation" (its panel h) is our *smaller* $\epsilon$, the left of the bottom row. Top row: softmax without $\epsilon$ at three temperatures; middle row:
# the same with $\epsilon$; bottom row: $\epsilon$ varied at the middle temperature.

# %%
centres_2d = torch.tensor([[-1.0, -0.6], [0.7, -0.9], [0.1, 0.8], [1.3, 0.5], [-1.3, 0.9], [0.0, -0.1]])
limit = 4.0
grid, xx, yy = nngeom.toys.grid_2d(limit, S.resolution)
d_grid = torch.cdist(grid, centres_2d)
colours = plt.get_cmap("tab10")(np.arange(10))[:, :3]
eps_mid = S.epsilons[len(S.epsilons) // 2]
tau_mid = S.taus[len(S.taus) // 2]
panels = ([(f"softmax, tau={t}", similarity.softmax_similarity(d_grid, t)) for t in S.taus]
          + [(f"eps-softmax, tau={t}, eps={eps_mid}", similarity.epsilon_softmax(d_grid, eps_mid, t)) for t in S.taus]
          + [(f"eps-softmax, tau={tau_mid}, eps={e}", similarity.epsilon_softmax(d_grid, e, tau_mid)) for e in S.epsilons])
ncol = max(len(S.taus), len(S.epsilons))
fig, axes = plt.subplots(3, ncol, figsize=(4 * ncol, 12), squeeze=False)
for ax in axes.flat:
    ax.axis("off")
rows_of = [len(S.taus), len(S.taus), len(S.epsilons)]
k = 0
for r, count in enumerate(rows_of):
    for c in range(count):
        title, act = panels[k]
        k += 1
        ax = axes[r, c]
        ax.imshow(similarity.firing_map(act, S.resolution, colours), origin="lower", extent=[-limit, limit, -limit, limit])
        ax.scatter(centres_2d[:, 0], centres_2d[:, 1], c=colours[:6], edgecolors="white", marker="X", s=80)
        ax.set_title(title, fontsize=9)
fig.tight_layout()
glue("s3-firing-regions", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s3-firing-regions
# :name: fig-s3-firing-regions
#
# Recomputes Figure 3 of the write-up: top row plain softmax ($\epsilon = -\infty$ in the write-up's words),
# middle row with the $\epsilon$ neuron, bottom row with $\epsilon$ varied. Look at the outer centres in the top
# row: whether their colour reaches the edge of the plane, and whether black (the $\epsilon$ neuron) takes over
# there in the rows below.
# ```

# %% [markdown]
# How much of the plane does a centre claim *far from itself*? We measure the share of the grid where the winning
# neuron is a centre more than 1.5 away from the point and fires above 0.5. With the $\epsilon$ neuron a centre
# can only win within $\epsilon$ of itself, so for $\epsilon < 1.5$ that share is zero by construction (a check);
# the document's claim is the comparison: plain softmax fires far away, the $\epsilon$-softmax does not.

# %%
def far_firing(act):
    win = act.argmax(1)
    is_key = win < act.shape[1] - 1
    dist = d_grid.gather(1, win.clamp(max=act.shape[1] - 2)[:, None])[:, 0]
    return float((is_key & (dist > 1.5) & (act.max(1).values > 0.5)).float().mean())


far = pd.DataFrame({"tau": S.taus, "softmax": [far_firing(similarity.softmax_similarity(d_grid, t)) for t in S.taus],
                    f"eps-softmax (eps={eps_mid})": [far_firing(similarity.epsilon_softmax(d_grid, eps_mid, t)) for t in S.taus]})
nngeom.claim("L.3.far.epsilon", f"With the epsilon neuron (eps = {eps_mid:g} < 1.5) no centre fires more than 1.5 "
             "from itself (share of the grid)", paper="local activation (Fig. 3 mid)", ours=float(far.iloc[:, 2].max()),
             check=nngeom.at_most(0.0), kind="check",
             note="a centre wins only where its distance is below epsilon, so beyond epsilon it cannot win")
far_softmax_row = nngeom.claim("L.3.far.softmax", "Plain softmax neurons fire strongly far from their centres at some temperature, "
             "where the epsilon-softmax does not (largest far-firing share over temperatures)",
             paper="fires far away under certain temperatures (Fig. 3 top)", ours=float(far["softmax"].max()),
             check=nngeom.greater_than("L.3.far.epsilon"), kind="check",
             source="sec. 3, Fig. 3: \"neurons can produce high activation in region very far away from the reference "
                    "centers (W) under certain condition of temperature\"",
             note="a check: at low temperature the softmax of the outer centres tends to 1 on their unbounded Voronoi "
                  "cells, so plain softmax fires far away on any grid that reaches beyond 1.5; the write-up's point, "
                  "that the epsilon neuron removes it, is L.3.far.epsilon")
far.round(4)

# %% [markdown]
# The write-up also says how the far activation looks: "The activation grows radially in direction of center from
# other centers". We follow the ray from the centres' mean through the outermost centre and 3 units beyond it, and
# read the centre's own activation under plain softmax at every temperature on both parts: from the mean to the
# centre (the direction "from other centers" towards the centre, where it should grow) and beyond the centre (where
# growing "radially" should go on), and under the $\epsilon$-softmax (where the $\epsilon$ neuron should take over
# once the ray leaves the $\epsilon$ ball).

# %%
mean_point = centres_2d.mean(0)
outer = int(torch.argmax((centres_2d - mean_point).norm(dim=1)))
direction = (centres_2d[outer] - mean_point) / (centres_2d[outer] - mean_point).norm()
inbound = float((centres_2d[outer] - mean_point).norm())
steps_all = torch.cat([torch.linspace(-inbound, 0.0, 41)[:-1], torch.linspace(0.0, 3.0, 61)])
steps_out = steps_all[steps_all >= 0]
ray_all = centres_2d[outer] + steps_all[:, None] * direction
d_all = torch.cdist(ray_all.double(), centres_2d.double())
ray_in = {t: similarity.softmax_similarity(d_all, t)[steps_all <= 0, outer] for t in S.taus}  # mean -> centre
ray = centres_2d[outer] + steps_out[:, None] * direction
d_ray = torch.cdist(ray.double(), centres_2d.double())  # float64: near 1 the steps are below float32 rounding
ray_softmax = {t: similarity.softmax_similarity(d_ray, t)[:, outer] for t in S.taus}
ray_eps_all = similarity.epsilon_softmax(d_ray, eps_mid, tau_mid)
ray_eps, ray_eps_neuron = ray_eps_all[:, outer], ray_eps_all[:, -1]
ray_squared = {t: similarity.softmax_similarity(d_ray ** 2, t)[:, outer] for t in S.taus}  # -d^2 / tau instead
growth = {f"tau={t}": {"at the centre": float(a[0]), "3 beyond": float(a[-1]),
                       "smallest step": float((a[1:] - a[:-1]).min())} for t, a in ray_softmax.items()}
squared_grows = all(float((a[1:] - a[:-1]).min()) >= -1e-12 and float(a[-1]) > float(a[0])
                    for a in ray_squared.values())
towards = {f"tau={t}": {"at the mean": float(a[0]), "at the centre": float(a[-1]),
                         "smallest step": float((a[1:] - a[:-1]).min())} for t, a in ray_in.items()}
fig, ax = plt.subplots(figsize=(6, 3.4))
for k, (t, a) in enumerate(ray_softmax.items()):
    ax.plot(steps_all[steps_all <= 0], ray_in[t], color=f"C{k}")
    ax.plot(steps_out, a, color=f"C{k}", label=f"softmax, tau={t}")
    ax.plot(steps_out, ray_squared[t], color=f"C{k}", ls=":", label=f"softmax of -d^2, tau={t}")
ax.plot(steps_out, ray_eps, "k--", label=f"eps-softmax, tau={tau_mid}, eps={eps_mid}")
ax.axvline(0.0, color="grey", lw=0.8)
ax.set(xlabel="position on the ray from the centres' mean (left end) through the outer centre (0)",
       ylabel="the outer centre's activation")
ax.legend(fontsize=8)
fig.tight_layout()
glue("s3-radial-growth", fig, display=False)
plt.close(fig)
radial_row = nngeom.claim(
    "L.3.far.radial-growth", "Plain softmax: the outer centre's activation grows along the ray away from the other "
    "centres, at every temperature (no step down beyond 1e-12 in float64, and higher 3 units out than at the centre)",
    paper="grows radially", ours=growth,
    check=nngeom.holds(all(g["smallest step"] >= -1e-12 and g["3 beyond"] > g["at the centre"] for g in growth.values()),
                       "non-decreasing along the ray and higher at its end"),
    source="sec. 3, Fig. 3: \"The activation grows radially in direction of center from other centers\"",
    cause="reconstruction: the similarity: with -d / tau the outer centre's lead over another centre, d_j - d_o, "
          "tends to the constant (c_o - c_j).u along the ray, below its value |c_o - c_j| at the centre, so the "
          "activation settles slightly lower; with -d^2 / tau the lead grows linearly and the activation "
          f"{'rises to 1 at every temperature' if squared_grows else 'does not rise either'}")
towards_row = nngeom.claim(
    "L.3.far.radial-growth.towards", "Plain softmax: from the centres' mean to the outer centre, the centre's "
    "activation grows, at every temperature (no step down beyond 1e-12 in float64, higher at the centre than at the "
    "mean)", paper="grows in direction of center from other centers", ours=towards,
    check=nngeom.holds(all(g["smallest step"] >= -1e-12 and g["at the centre"] > g["at the mean"]
                           for g in towards.values()), "non-decreasing from the mean to the centre"),
    source="sec. 3, Fig. 3: \"The activation grows radially in direction of center from other centers\"",
    note="the part of the ray the statement names literally (towards the centre, coming from the others); "
         "L.3.far.radial-growth judges the part beyond the centre")
beyond = (d_ray[:, outer] > eps_mid).float() > 0
nngeom.claim("L.3.far.radial-epsilon", "With the epsilon neuron, once the ray leaves the epsilon ball the epsilon "
             "neuron fires more than the outer centre (smallest lead over the ray beyond the ball)",
             paper="local activation", ours=float((ray_eps_neuron - ray_eps)[beyond].min()),
             check=nngeom.greater_than(0.0), kind="check",
             note="beyond epsilon the epsilon neuron's entry -epsilon / tau exceeds the centre's -d / tau, so it leads; "
                  "how much the centre keeps depends on the temperature (the figure)")
pd.DataFrame(growth).T.round(4)

# %% [markdown]
# ```{glue:figure} s3-radial-growth
# :name: fig-s3-radial-growth
#
# Section 3, Figure 3 (a measurement the write-up describes in words): the outermost centre's activation along the
# ray from the centres' mean through it (the grey line) and 3 units beyond, with the similarity $-d/\tau$ (solid)
# and, beyond the centre, $-d^2/\tau$ (dotted). Look at whether the softmax curves rise with the distance, and how far the dashed $\epsilon$-softmax
# curve drops once the ray leaves the $\epsilon$ ball.
# ```

# %% [markdown]
# ## Figure 4: local residual MLP on two spirals
#
# $Y = X + A V$ with $\epsilon$-softmax activations ($\epsilon$ tracked as the moving average of the mean
# input-centre distance), then a linear classifier. Our epsilon neuron shifts nothing (the write-up's figure also
# draws a shift for it; we keep it at zero so that uncovered regions stay where they are).
#
# The write-up explains the figure's smooth shift by the temperature: "Due to small temperature, the highest
# activation of a neuron <<1, i.e. the activation A is smooth". Its own sec. 2.2 and sec. 4 say the opposite of
# what a small temperature does (activations "activate very sharply", "temperature is decreased for activating only
# highest similarity neurons"), and with $a = \mathrm{softmax}(-d/\tau)$, the convention of this book, a smaller
# $\tau$ makes the largest activation closer to 1. The write-up gives no temperature: the figure's model uses the
# first of `residual_taus` (ours), and the same model is trained at the others to show what the temperature does.
# We measure the largest activation of a centre (the $\epsilon$ neuron excluded) per test point and judge the Fig. 4
# statement as written ("<< 1", read as a median below 0.5) on the figure's model.

# %%
xs, ys = nngeom.toys.two_spirals(S.n_spiral, turns=1.5, noise=0.02, seed=S.seed)
xs_test, ys_test = nngeom.toys.two_spirals(S.n_spiral, turns=1.5, noise=0.02, seed=S.seed + 1)


def trained_residual(tau):
    """The local residual MLP of Fig. 4 (30 centres, epsilon = moving average) and a linear head, trained at tau."""
    nngeom.seed_everything(S.seed)
    layer = LocalResidualMLP(2, 30, tau=tau, epsilon="ema", init_scale=0.6)
    net = nn.Sequential(layer, nn.Linear(2, 2))
    hist = nngeom.train.fit_classifier(net, (xs, ys), (xs_test, ys_test), epochs=S.spiral_epochs, batch_size=32,
                                       lr=1e-2, seed=S.seed, progress=False)
    net.cpu().eval()
    with torch.no_grad():
        top = layer.activations(xs_test)[:, :-1].max(1).values  # the centres only, not the epsilon neuron
    return layer, net, hist, top


by_tau = {tau: trained_residual(tau) for tau in S.residual_taus}
residual, res_model, res_hist, largest = by_tau[S.residual_taus[0]]
with torch.no_grad():
    moved = residual(xs_test)
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
axes[0].scatter(*xs_test.T, c=ys_test, cmap="coolwarm", s=8)
c, v = residual.centres.detach(), residual.values.detach()
axes[0].quiver(c[:, 0], c[:, 1], v[:, 0], v[:, 1], angles="xy", scale_units="xy", scale=5, width=0.004)
axes[0].scatter(*c.T, marker="X", c="black", s=40)
axes[0].set_xlim(-1.5, 1.5)
axes[0].set_ylim(-1.5, 1.5)
axes[0].set_title("input space: centres and shifts (drawn at 1/5)")
axes[1].scatter(*moved.T, c=ys_test, cmap="coolwarm", s=8)
axes[1].set_title(f"output space (linear head accuracy {res_hist.test_accuracy[-1]:.3f})")
for ax in axes:
    ax.set_aspect("equal")
fig.tight_layout()
glue("s3-residual-spirals", fig, display=False)
plt.close(fig)
temperature_table = pd.DataFrame({
    "median over test points of max_i a_i": {tau: float(r[3].median()) for tau, r in by_tau.items()},
    "linear-head test accuracy": {tau: r[2].test_accuracy[-1] for tau, r in by_tau.items()}}).rename_axis("tau")
temperature_table = temperature_table.sort_index()
smallest_tau = min(by_tau)
level = temperature_table.iloc[:, 0]
below_half = [tau for tau, v in level.items() if v < 0.5]
nngeom.claim("L.3.residual-smooth", f"At a small temperature (the smallest trained, tau = {smallest_tau:g}) the "
             "highest activation of a neuron of the trained local residual MLP is well below 1 (median over test "
             "points of max_i a_i, centres only)",
             paper="highest activation << 1, due to small temperature", ours=float(level[smallest_tau]),
             check=nngeom.less_than(0.5),
             source="sec. 3, Fig. 4: \"Due to small temperature, the highest activation of a neuron <<1\"",
             note="'<< 1' read as a median below one half (ours); judged at the smallest tau trained, since the "
                  "sentence attributes the level to a small temperature; the figure shows the first tau of "
                  "residual_taus (ours; the write-up gives none). The write-up's sec. 2.2 and sec. 4 say a small "
                  "temperature makes activations sharp, which contradicts this sentence under a = softmax(-d / tau)",
             cause=(f"disagreement: under a = softmax(-d / tau), the write-up's own definition, the level falls as tau "
                    "grows (" + ", ".join(f"tau = {t:g}: {v:.2f}" for t, v in level.items()) + "); it is below "
                    f"one half only for tau >= {min(below_half):g}, a larger temperature; the sentence holds if its "
                    "temperature multiplies -d")
                   if below_half and min(below_half) > smallest_tau else
                   "open: the level at the smallest temperature is not below one half, and no larger tau trained "
                   "brings it there")
if len(by_tau) > 1:
    ordered = temperature_table.iloc[:, 0]
    nngeom.claim("L.3.residual-smooth.temperature", "Under a = softmax(-d / tau) a smaller temperature gives a larger "
                 "highest activation: the median of max_i a_i at the smallest tau trained exceeds that at the largest",
                 ours={f"tau = {tau:g}": float(v) for tau, v in ordered.items()},
                 check=nngeom.holds(bool(ordered.iloc[0] > ordered.iloc[-1]), "median at the smallest tau above "
                                    "the median at the largest"), kind="check",
                 note="our convention's consequence for trained models, chosen before the run: if it holds, the "
                      "write-up's 'due to small temperature ... << 1' reads its temperature as a multiplier of -d")
residual_row = nngeom.claim(
    "L.3.residual-spirals", "Local residual MLP shifts two spirals until a line separates them (test accuracy of "
    "the linear head)", paper="linearly separable after the residual (Fig. 4)", ours=res_hist.test_accuracy[-1],
    check=nngeom.at_least(0.95),
    source="sec. 3, Fig. 4: \"After the residual stream, the samples are shifted so that they are linearly separable\"",
    note="'linearly separable' read as at least 95 % test accuracy of the linear head: the spirals carry noise 0.02 "
         "and the test set is a fresh draw, so exact separation of the test set is not required",
    cause=f"scale: spiral_epochs = {S.spiral_epochs} of training")
temperature_table.round(3)

# %% [markdown]
# ```{glue:figure} s3-residual-spirals
# :name: fig-s3-residual-spirals
#
# Recomputes Figure 4 of the write-up: top of the write-up's figure (here left) the input space with the centres
# and their shift vectors, bottom (here right) the test points after $Y = X + AV$. Look at whether the two colours
# on the right can be split by one straight line.
# ```

# %% [markdown]
# ## Figure 5: local classification neurons reject outliers
#
# Local classification neurons: several centres per class with fixed one-hot values, trained with cross-entropy
# on the class scores; the $\epsilon$ neuron (fixed $\epsilon$ = `classifier_epsilon`) claims everything farther
# than $\epsilon$ from every centre. Outliers are defined by the data alone, never by $\epsilon$: uniform points of
# $[-3, 3]^2$ farther from the training points than 99 % of the test points are. "The region of epsilon can be used
# to reject outliers" is then judged as a comparison: the $\epsilon$ region rejects a larger share of outliers than
# of test points (one-sided Welch test on the per-point 0/1 outcomes). The rejection rate against the distance to
# the data is drawn beside it.

# %%
nngeom.seed_everything(S.seed)
clf = LocalClassifier(2, 2, centres_per_class=12, tau=0.05, epsilon=S.classifier_epsilon)
with torch.no_grad():
    for cls in range(2):
        members = xs[ys == cls]
        clf.centres[cls * 12:(cls + 1) * 12] = members[torch.randperm(len(members))[:12]]
clf_hist = nngeom.train.fit_classifier(clf, (xs, ys), (xs_test, ys_test), epochs=S.spiral_epochs, batch_size=32,
                                       lr=1e-2, seed=S.seed, progress=False)
clf.cpu().eval()
g = torch.Generator().manual_seed(S.seed)
candidates = torch.rand(4000, 2, generator=g) * 6 - 3
to_data = torch.cdist(candidates, xs).min(1).values
outlier_margin = float(torch.quantile(torch.cdist(xs_test, xs).min(1).values, 0.99))
outliers = candidates[to_data > outlier_margin]
test_pred, out_pred = clf.predict(xs_test), clf.predict(outliers)
kept = test_pred >= 0
clf_stats = {"test accuracy on accepted": float((test_pred[kept] == ys_test[kept]).float().mean()),
             "test rejected": float((~kept).float().mean()), "outliers rejected": float((out_pred < 0).float().mean()),
             "outlier margin (99 % of test points nearer)": outlier_margin, "epsilon": S.classifier_epsilon}
near_shell = (to_data > outlier_margin) & (to_data <= 2 * outlier_margin)  # the hard outliers: just off the data
shell_rejected = (clf.predict(candidates[near_shell]) < 0).float()
clf_stats["outliers in the near shell (margin to 2 x margin)"] = int(near_shell.sum())
clf_stats["near-shell outliers rejected"] = float(shell_rejected.mean()) if len(shell_rejected) else float("nan")
cgrid, cxx, cyy = nngeom.toys.grid_2d(3.0, S.resolution)
with torch.no_grad():
    scores = clf.class_scores(cgrid)
fig, axes = plt.subplots(1, 2, figsize=(11, 5), gridspec_kw={"width_ratios": [1.1, 1]})
ax = axes[0]
ax.imshow(similarity.firing_map(scores, S.resolution, np.array([[0.2, 0.4, 0.9], [0.9, 0.3, 0.2]])), origin="lower",
          extent=[-3, 3, -3, 3])
ax.scatter(*xs.T, c=ys, cmap="coolwarm", s=4, alpha=0.5)
ax.scatter(*clf.centres.detach().T, c="white", marker="X", s=40)
ax.set_title("class regions; black: epsilon neuron (rejected)")
rejected_all = (clf.predict(candidates) < 0).float().numpy()
bins = np.linspace(0, float(to_data.max()), 16)
where = np.digitize(to_data.numpy(), bins)
centres_of_bins = [(bins[i - 1] + bins[i]) / 2 for i in range(1, len(bins)) if (where == i).any()]
rates = [rejected_all[where == i].mean() for i in range(1, len(bins)) if (where == i).any()]
axes[1].plot(centres_of_bins, rates, marker="o")
axes[1].axvline(outlier_margin, color="grey", ls=":", label="outlier margin (from the test points)")
axes[1].axvline(S.classifier_epsilon, color="k", ls="--", label="epsilon (distance to a centre)")
axes[1].set(xlabel="distance to the nearest training point", ylabel="share rejected", ylim=(-0.02, 1.02))
axes[1].legend(fontsize=8)
fig.tight_layout()
glue("s3-local-classifier", fig, display=False)
plt.close(fig)
nngeom.claim("L.3.classifier-outliers.all", "The epsilon region rejects outliers more often than test points (per "
             f"point, {len(outliers)} outliers anywhere in the square against {len(xs_test)} test points)",
             paper="epsilon region rejects outliers (Fig. 5)", ours=(out_pred < 0).float().tolist(),
             check=nngeom.mean_above((~kept).float().tolist()), kind="check",
             note="a check, not the write-up's test: most uniform points of the square lie far from the spirals, "
                  "where any epsilon rejects them, so this reading can hardly fail; the document row is the near "
                  "shell below")
shell_to_centre = torch.cdist(candidates[near_shell], clf.centres.detach()).min(1).values
within_eps = float((shell_to_centre < S.classifier_epsilon).float().mean()) if len(shell_to_centre) else float("nan")
nngeom.claim("L.3.classifier-outliers", "The epsilon region rejects the outliers nearest the data (farther from the "
             "training points than 99 % of the test points, but within twice that margin) more often than test "
             "points", paper="epsilon region rejects outliers (Fig. 5)",
             ours=shell_rejected.tolist(), check=nngeom.mean_above((~kept).float().tolist()),
             source="sec. 3, Fig. 5: \"The region of epsilon can also be used to reject outliers\"",
             note="outliers: uniform points farther from the training data than 99 % of the test points (a rule "
                  "that does not involve epsilon), kept only up to twice that margin: farther out any epsilon "
                  "rejects them (the check .all)",
             cause=(f"reconstruction: epsilon = {S.classifier_epsilon} (ours, fixed) against an outlier margin of "
                    f"{outlier_margin:.3f}: {within_eps:.0%} of the near-shell outliers lie within epsilon of a "
                    "centre, where the epsilon neuron does not fire")
                   if within_eps >= 0.5 else
                   f"open: only {within_eps:.0%} of the near-shell outliers lie within epsilon = "
                   f"{S.classifier_epsilon} of a centre, yet {float(shell_rejected.mean()):.1%} are rejected")
nngeom.claim("L.3.classifier-test-kept", "... while keeping the test points of the data (share rejected)",
             paper="data classified", ours=clf_stats["test rejected"], check=nngeom.at_most(0.1), kind="check",
             note="ours, a guard for the row above (the write-up says nothing of the data kept): at most 10 % of test "
                  "points lost to the epsilon region, so that the rejection of outliers is not bought by rejecting "
                  "the data");
pd.Series(clf_stats).round(4).to_frame("value")

# %% [markdown]
# ```{glue:figure} s3-local-classifier
# :name: fig-s3-local-classifier
#
# Recomputes Figure 5 of the write-up: class regions of local classification neurons (blue, red) and the region of
# the $\epsilon$ neuron (black), left; right, the share of uniform points rejected against their distance to the
# nearest training point. Look at whether black surrounds the spirals closely and the share rises to one beyond the
# outlier margin.
# ```

# %% [markdown]
# ## Data initialisation and noisy selection on MNIST
#
# A dictionary with `n_keys` keys copied from training images and one-hot values classifies without training;
# noisy selection then adds `n_search` random training images as keys and removes the `n_search` keys whose
# removal raises the training loss least, repeatedly, without backpropagation. Inputs are scaled to $[-1, 1]$;
# the search uses the softmax similarity with $\tau = 1$. The comparison for "very good accuracy" is a random
# initialisation of the same size: `n_keys` random keys drawn per pixel from a normal distribution with the training
# images' mean and standard deviation (clipped to $[-1, 1]$), each valued with the majority label of the training
# images nearest to it (so only the keys' origin differs: random in the data's range, not data points). Accuracies are compared with a
# margin of the 95 % binomial half-width for the difference of two accuracies on the `n_test` test images.
#
# Beating random keys says little about "very good". Two stronger references without backpropagation are reported
# beside it: class prototypes of the same size (`n_keys / 10` k-means centroids per class, 20 Lloyd iterations from
# class members, ours) in the same softmax dictionary, and the nearest-neighbour classifier on all `n_train`
# training images (the level reachable with every image as a key). "Very good accuracy" is judged as *no worse than
# the same-size prototypes* by more than the binomial margin: selection is then as good as the best training-free
# dictionary of that size we know.

# %%
x_train, y_train = nngeom.data.load_subset("mnist", "train", S.n_train, seed=S.seed, flatten=True, normalize="symmetric")
x_test, y_test = nngeom.data.load_subset("mnist", "test", S.n_test, seed=S.seed, flatten=True, normalize="symmetric")
pick = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(S.seed))[:S.n_keys]
searched = DictionaryMLP.from_data(x_train[pick], y_train[pick], 10, similarity="softmax", tau=1.0).eval()


noise_g = torch.Generator().manual_seed(S.seed)
random_keys = (x_train.mean(0) + x_train.std(0) * torch.randn(S.n_keys, 784, generator=noise_g)).clamp(-1, 1)
nearest = torch.cdist(x_train, random_keys).argmin(1)
majority = torch.stack([torch.bincount(y_train[nearest == i], minlength=10).argmax() for i in range(S.n_keys)])
random_dict = DictionaryMLP.from_data(random_keys, majority, 10, similarity="softmax", tau=1.0).eval()
with torch.no_grad():
    random_init_acc = float((random_dict(x_test).argmax(1) == y_test).float().mean())


def class_prototypes(x, y, per_class, iterations=20, seed=0):
    """k-means centroids of every class (Lloyd's algorithm from ``per_class`` random members)."""
    g = torch.Generator().manual_seed(seed)
    keys, labels = [], []
    for cls in range(10):
        members = x[y == cls]
        centroids = members[torch.randperm(len(members), generator=g)[:per_class]].clone()
        for _ in range(iterations):
            assign = torch.cdist(members, centroids).argmin(1)
            for j in range(len(centroids)):
                if (assign == j).any():
                    centroids[j] = members[assign == j].mean(0)
        keys.append(centroids)
        labels.append(torch.full((len(centroids),), cls))
    return torch.cat(keys), torch.cat(labels)


proto_keys, proto_labels = class_prototypes(x_train, y_train, max(1, S.n_keys // 10), seed=S.seed)
prototype_dict = DictionaryMLP.from_data(proto_keys, proto_labels, 10, similarity="softmax", tau=1.0).eval()
with torch.no_grad():
    prototype_acc = float((prototype_dict(x_test).argmax(1) == y_test).float().mean())
    nearest_train = torch.cat([torch.cdist(chunk, x_train).argmin(1) for chunk in x_test.split(1000)])
    nn_acc = float((y_train[nearest_train] == y_test).float().mean())
search = centre_search.noisy_centre_search(searched, x_train, y_train, n_search=S.n_search, rounds=S.search_rounds,
                                           n_classes=10, test=(x_test, y_test), seed=S.seed, progress=False)
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(np.array(search.test_accuracy) * 100, marker=".", label="data-initialised, noisy selection")
ax.axhline(random_init_acc * 100, color="grey", ls=":", label="random keys, majority-label values")
ax.axhline(prototype_acc * 100, color="tab:green", ls="--", label="class k-means prototypes, same size")
ax.set_xlabel("search round")
ax.set_ylabel("MNIST test accuracy (%)")
ax.legend(fontsize=8)
glue("s3-noisy-selection", fig, display=False)
plt.close(fig)
init_margin = nngeom.accuracy_margin(search.test_accuracy[0], len(x_test))
data_init_row = nngeom.claim(
    "L.3.data-init", f"Selecting {S.n_keys} keys and values from the data classifies better than {S.n_keys} random keys "
    "with fitted values, without training (MNIST test accuracy)", paper="very good accuracy",
    ours=search.test_accuracy[0], check=nngeom.greater_than(random_init_acc, margin=init_margin), kind="check",
    note=f"a sanity baseline (random keys say little about 'very good', judged by L.3.data-init.level); margin "
         f"{init_margin:.4f}: 95 % binomial half-width for two accuracies on {len(x_test)} test images")
init_reference = pd.Series({f"random keys ({S.n_keys})": random_init_acc, f"data-selected keys ({S.n_keys})":
                            search.test_accuracy[0], f"class k-means prototypes ({len(proto_keys)})": prototype_acc,
                            f"nearest neighbour, all {len(x_train)} training images": nn_acc}).to_frame("test accuracy")
print(init_reference.round(4).to_string())
data_level_row = nngeom.claim(
    "L.3.data-init.level", f"Selecting {S.n_keys} keys from the data classifies no worse than {len(proto_keys)} class "
    "k-means prototypes in the same dictionary (MNIST test accuracy, no training)", paper="very good accuracy",
    ours=search.test_accuracy[0], check=nngeom.greater_than(prototype_acc, margin=-init_margin),
    source="sec. 3, Initialization with data points: \"I was able to get very good accuracy just by selecting the "
           "weights and values from the dataset\"",
    note=f"'very good' read as no worse than the same-size prototypes by more than the 95 % binomial margin "
         f"{init_margin:.4f} (ours: the write-up gives no level); nearest neighbour on all training images: "
         f"{nn_acc:.4f}",
    cause=None if search.test_accuracy[0] >= prototype_acc - init_margin else
    f"open: {S.n_keys} single training images cover the classes less well than {len(proto_keys)} class means "
    f"({search.test_accuracy[0]:.3f} against {prototype_acc:.3f}); the write-up gives neither its number of keys nor "
    "its accuracy")
search_margin = nngeom.accuracy_margin(search.test_accuracy[-1], len(x_test))
search_row = nngeom.claim(
    "L.3.noisy-selection", "Noisy selection improves on data initialisation (MNIST test accuracy after the search)",
    paper="better with noisy selection", ours=search.test_accuracy[-1],
    check=nngeom.greater_than(search.test_accuracy[0], margin=search_margin),
    source="sec. 3, Initialization with data points: \"and better with noisy selection\"",
    note=f"margin {search_margin:.4f}: 95 % binomial half-width for two accuracies on {len(x_test)} test images",
    cause=f"scale: search_rounds = {S.search_rounds} rounds on {S.n_train} training images")

# %% [markdown]
# ```{glue:figure} s3-noisy-selection
# :name: fig-s3-noisy-selection
#
# Section 3, "Initialization with data points" (no figure in the write-up): MNIST test accuracy of the
# data-selected dictionary before (round 0) and during noisy selection, beside the random initialisation of the
# same size (dotted) and class k-means prototypes of the same size (dashed). Look at the gaps to both lines at round 0
# and at the trend over rounds.
# ```

# %% [markdown]
# ## MNIST: rejecting random inputs and adversarial examples
#
# An $\epsilon$-softmax dictionary MLP (eq. 3) with `n_keys` data-initialised keys and one-hot values, trained
# with cross-entropy (keys at 1/100 of the values' learning rate, so that they stay close to data; $\epsilon$
# tracked as a moving average of the mean distance).
#
# **The judged attack, fixed before looking at any rejection.** The write-up names neither attack nor strength.
# Its follow-up by the same author (*Metric as Transform*, sec. 3.2) introduces for this very experiment the
# normalised-gradient attack $x + \mathrm{lr}\, g/\lVert g\rVert$, because fixed-size attacks "were unsuccessful
# due to small magnitude". We judge that attack at the **smallest strength in `attack_lrs` that fools at least half
# of the test images the model classifies correctly** (before any rejection; images it already gets wrong are not
# counted as fooled): an adversarial example has to fool the model, and the weakest such attack moves the examples
# least from the data (the largest strength if none reaches half). The rule looks only at the attack's success, never at a rejection rate. $\epsilon$ is then
# set where the write-up reads it: the largest $\epsilon$ at which at least `x_rejected_target` (~6 %) of the clean
# images are rejected. Every other attack (the other strengths, FGSM with foolbox, $L_\infty$ in $[-1, 1]$) is
# reported in the table, not judged. "Adversarial examples" can be read as every attacked image or only the
# successful ones (initially correct, wrong after the attack); the table and the judged rows give both.
#
# The write-up's premise, that an adversarial example "has higher chance to activate epsilon neuron" than a clean
# image, is judged on the same attack and $\epsilon$: per example, adversarial against clean rejections (one-sided
# Welch test on the 0/1 outcomes). Random inputs are of three kinds: uniform noise (what "random sample" most
# plainly means), Gaussian noise with the training images' pixel mean and standard deviation, and digits with their
# pixels shuffled; the write-up does not say which it used.

# %%
model, history = trained_dictionary("mnist", S.n_train, S.n_test, n_centres=S.n_keys, init="data",
                                    centre_lr_scale=0.01, epochs=S.epochs, tau=1.0, seed=S.seed)
learned = model.norm.epsilon.item()
noise = nngeom.toys.noise_images(1000, (784,), kind="uniform", scale=2.0, seed=S.seed) - 1.0
noise_rejected = model.rejects(noise).float().mean().item()
nngeom.claim("L.3.mnist-random-rejected", "Random inputs are rejected by checking whether the epsilon neuron fires "
             "most (share of 1000 uniform-noise images, at the learned epsilon)", paper="rejected easily",
             ours=noise_rejected, check=nngeom.at_least(0.99), kind="check",
             note="a check: 'easily' read as (nearly) all, at least 99 % of 1000 noise images; uniform noise lies "
                  "far from every key (below), so this reading can hardly fail; the document rows are the two kinds "
                  "of random samples that share the data's pixel statistics");
# Uniform noise lies about sqrt(784 * 4/3) = 32 from every key, far beyond the learned epsilon, so the rule above can
# hardly fail. Harder random samples: per-pixel Gaussian noise with the training images' mean and standard deviation,
# and digits with their pixels shuffled (the same intensities, no stroke).
shuffle_g = torch.Generator().manual_seed(S.seed + 2)
gaussian_noise = (x_train.mean(0) + x_train.std(0) * torch.randn(1000, 784, generator=shuffle_g)).clamp(-1, 1)
shuffled = torch.stack([row[torch.randperm(784, generator=shuffle_g)] for row in x_train[:1000]])
clean_reject_learned = model.rejects(x_test).float().mean().item()
random_kinds = {"uniform in [-1, 1]": noise, "Gaussian, pixel mean and std of the data": gaussian_noise,
                "shuffled digits": shuffled}
with torch.no_grad():
    random_table = pd.DataFrame({name: {
        "rejected at the learned epsilon": model.rejects(v).float().mean().item(),
        "median min distance to a key": float(torch.cdist(v, model.centres).min(1).values.median())}
        for name, v in random_kinds.items()}).T
    random_table.loc["clean test images"] = [clean_reject_learned,
                                             float(torch.cdist(x_test, model.centres).min(1).values.median())]
for key, name in (("gaussian", "Gaussian, pixel mean and std of the data"), ("shuffled", "shuffled digits")):
    nngeom.claim(f"L.3.mnist-random-rejected.{key}", f"Random inputs ({name}) are rejected by the epsilon neuron "
                 "(share of 1000, at the learned epsilon)", paper="rejected easily",
                 ours=float(random_table.loc[name, "rejected at the learned epsilon"]), check=nngeom.at_least(0.99),
                 source="sec. 3, Experiment on MNIST: \"I tried to reject random samples. I was able to do it easily "
                        "by checking if the epsilon neuron was firing\"",
                 note="the write-up does not say which random samples it used; uniform noise (the check above) "
                      "cannot fail, so the readings judged are random samples that share the data's pixel "
                      "statistics, with the same reading of 'easily' (at least 99 %)",
                 cause=(f"reconstruction: these samples lie at a median "
                        f"{random_table.loc[name, 'median min distance to a key']:.1f} from the nearest key, inside the "
                        f"learned epsilon {learned:.1f} (our reading: a moving average of the mean input-key distance)")
                       if random_table.loc[name, 'median min distance to a key'] < learned else
                       f"open: they lie at a median {random_table.loc[name, 'median min distance to a key']:.1f} "
                       f"from the nearest key, beyond the learned epsilon {learned:.1f}, yet fewer than 99 % are "
                       "rejected");
random_table.round(3)

# %% [markdown]
# "Using the epsilon neuron, we can calculate the uncertainty represented": if the $\epsilon$ activation measures
# uncertainty, it is higher on the test images the model gets wrong than on those it gets right (one-sided
# Mann-Whitney test; the area under the ROC curve is its effect size, 0.5 = no information).

# %%
model.eval()  # evaluation mode: the moving-average epsilon stays as learned
with torch.no_grad():
    eps_activation = model.activations(x_test)[:, -1]
    outputs = model(x_test)
    wrong = outputs.argmax(1) != y_test
    doubt = 1 - torch.softmax(outputs, dim=1).max(1).values  # the usual reference: 1 - the largest class probability
mw = stats.mannwhitneyu(eps_activation[wrong].numpy(), eps_activation[~wrong].numpy(), alternative="greater")
auroc = float(mw.statistic / (int(wrong.sum()) * int((~wrong).sum())))
reference_auroc = float(stats.mannwhitneyu(doubt[wrong].numpy(), doubt[~wrong].numpy()).statistic
                        / (int(wrong.sum()) * int((~wrong).sum())))
uncertainty_row = nngeom.claim(
    "L.3.epsilon-uncertainty", "The epsilon activation is higher on misclassified test images than on correct ones "
    f"(AUROC over {len(x_test)} test images, one-sided Mann-Whitney)", paper="epsilon activation measures uncertainty",
    ours={"AUROC": auroc, "p": float(mw.pvalue), "misclassified": int(wrong.sum()),
          "reference AUROC, 1 - max softmax of the outputs": reference_auroc},
    check=nngeom.holds(bool(mw.pvalue < 0.05), "one-sided p < 0.05"),
    source="sec. 3: \"Using the epsilon neuron, we can calculate the uncertainty represented\"",
    note="the reference (not judged: the write-up compares with nothing) is the usual baseline of Hendrycks & Gimpel "
         "(2017), one minus the largest softmax probability of the same model's outputs, on the same images")

# %%
x_att, y_att = nngeom.data.load_subset("mnist", "test", S.n_attack, seed=S.seed + 1, flatten=True, normalize="symmetric")
ratios = np.linspace(0.2, 1.6, 281)
runs = [("normalised", lr) for lr in S.attack_lrs] + [("FGSM", e) for e in S.fgsm_strengths]


def clean_rejection_epsilon(ev, target):
    """The largest epsilon at which at least ``target`` of the clean inputs are rejected (min distance > epsilon)."""
    k = max(1, int(np.ceil(target * len(ev.clean_min))))
    kth = torch.sort(ev.clean_min, descending=True).values[k - 1]
    return float(torch.nextafter(kth, torch.tensor(-np.inf, dtype=kth.dtype)))


def attack_all(model, which):
    """The attacks ``which`` against ``model``: a table, the epsilon sweeps and the per-example rejections."""
    learned = model.norm.epsilon.item()
    rows, curves, rejected, clean_rejected, successes = [], {}, {}, {}, {}
    for name, strength in which:
        if name == "normalised":
            adv = attacks.normalised_gradient_attack(model, x_att, y_att, lr=strength, bounds=(-1, 1))
        else:
            adv = attacks.foolbox_attack(model, x_att, y_att, name, strength, bounds=(-1, 1))
        ev = rejection.evaluate(model, x_att, adv, y_att)
        eps = clean_rejection_epsilon(ev, S.x_rejected_target)
        at = rejection.metrics_at(ev, eps)
        curves[(name, strength)] = rejection.sweep(ev, ratios * learned)
        rejected[(name, strength)] = (ev.adv_min > eps).float().tolist()
        clean_rejected[(name, strength)] = (ev.clean_min > eps).float().tolist()
        b = rejection.best(curves[(name, strength)])
        successful = ev.adv_wrong & ~ev.clean_wrong
        distance_shift = float(ev.adv_min.median() - ev.clean_min.median())
        successes[(name, strength)] = (ev.adv_min[successful] > eps).float().tolist()
        rows.append({"attack": name, "strength": strength,
                     "fooled (of initially correct)": float(successful.sum() / max(int((~ev.clean_wrong).sum()), 1)),
                     "eps / learned": eps / learned, "x_rejected": at["x_rejected"], "rejected": at["rejected"],
                     "rejected, successful only": float(np.mean(successes[(name, strength)]))
                     if successful.any() else float("nan"), "successful examples": int(successful.sum()),
                     "failed": at["failed"], "best measure": b["measure"], "best eps / learned": b["epsilon"] / learned,
                     "median min key distance, adversarial - clean": distance_shift})
    table = pd.DataFrame(rows)
    normal = table[table.attack == "normalised"]
    strong = normal[normal["fooled (of initially correct)"] >= 0.5]
    judged = strong.index[0] if len(strong) else normal.index[-1]
    table["judged"] = table.index == judged
    return table, curves, rejected, clean_rejected, (table.loc[judged, "attack"], table.loc[judged, "strength"])


table, curves, adv_rejected, clean_rejected, judged = attack_all(model, runs)
successful_rejected = float(table[table.judged].iloc[0]["rejected, successful only"])
fig, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 3.5), squeeze=False, sharey=True)
for ax, ((name, strength), curve) in zip(axes[0], curves.items()):
    for metric in ("x_rejected", "rejected", "failed", "measure"):
        ax.plot(ratios, curve[metric], label=metric)
    ax.axhline(S.x_rejected_target, color="grey", ls=":")
    ax.set_title(f"{name}, {strength:g}" + (" (judged)" if (name, strength) == judged else ""), fontsize=10)
    ax.set_xlabel("epsilon / learned epsilon")
axes[0, 0].legend()
fig.tight_layout()
glue("s3-adversarial-sweep", fig, display=False)
plt.close(fig)
print(f"test accuracy {history['test_accuracy'][-1]:.4f}, learned epsilon {learned:.3f}; uniform noise rejected at "
      f"the learned epsilon: {noise_rejected:.3f}")
table.round(3)

# %% [markdown]
# ```{glue:figure} s3-adversarial-sweep
# :name: fig-s3-adversarial-sweep
#
# Section 3, "Experiment on MNIST" (no figure in the write-up; the follow-up's Figs. 15-16 have this layout): for
# every attack, the share of clean images rejected (x_rejected), of adversarial examples rejected, of successful
# unrejected attacks (failed) and their sum (measure) as $\epsilon$ varies; dotted: the ~6 % clean-rejection level
# at which the write-up reads its result. Look at the rejected curve where x_rejected crosses the dotted line, in
# the panel marked judged.
# ```

# %%
judged_row = table[table.judged].iloc[0]
ABOUT = 0.05  # the precision of the write-up's "about 50%" (a rounded figure, no sample size given)
reach_half = table[[nngeom.rate_consistent(len(x_att), rounding=ABOUT).evaluate(float(r), 0.5, {}).passed for r in table["rejected"]]]
top_attack = table.loc[table["rejected"].idxmax()]
ATTACK_CAUSE = (
    f"reconstruction: the write-up names neither the attack nor its strength; {len(reach_half)} of the {len(table)} "
    "attacks of the table reach about 50 % at this clean rejection: "
    + ", ".join(f"{r['attack']} {r['strength']:g}" for _, r in reach_half.iterrows())
    if len(reach_half) else
    f"open: no attack of the table reaches about 50 % at this clean rejection (the largest, {top_attack['attack']} "
    f"{top_attack['strength']:g}, rejects {top_attack['rejected']:.1%}); the keys train {S.epochs} epochs on "
    f"{len(x_train)} images")
adv_row = nngeom.claim(
    "L.3.mnist-adv-rejected", f"Share of adversarial examples rejected where ~{S.x_rejected_target:.0%} of clean "
    f"inputs are rejected (normalised-gradient attack, lr = {judged_row['strength']:g}, chosen by the stated rule)",
    paper=0.5, ours=float(judged_row["rejected"]), check=nngeom.rate_consistent(len(x_att), rounding=ABOUT),
    source="sec. 3, Experiment on MNIST: \"I was able to reject about 50% of adversarial examples. It also rejected "
           "some of the inputs (~6%)\"",
    note=f"clean rejected there: {judged_row['x_rejected']:.3f}; attack and strength fixed by the rule above, "
         f"since the write-up names neither; the interval is widened by {ABOUT:g}, the precision of 'about 50%'",
    cause=ATTACK_CAUSE)
adv_success_row = nngeom.claim(
    "L.3.mnist-adv-rejected.successful", "... the same, counting only successful adversarial examples (initially "
    "correct, wrong after the attack)", paper=0.5, ours=successful_rejected,
    check=nngeom.rate_consistent(max(1, int(judged_row["successful examples"])), rounding=ABOUT),
    source="sec. 3, Experiment on MNIST: \"I was able to reject about 50% of adversarial examples\"",
    note="the other reading of 'adversarial examples'; the interval uses the number of successful examples, widened "
         f"by {ABOUT:g} for 'about 50%'",
    cause=ATTACK_CAUSE)
above_row = nngeom.claim(
    "L.3.mnist-adv-above-clean", "Adversarial examples fire the epsilon neuron more often than clean images at the "
    f"same epsilon (per example, the judged attack, ~{S.x_rejected_target:.0%} clean rejection)",
    paper="higher chance to activate epsilon neuron", ours=adv_rejected[judged],
    check=nngeom.mean_above(clean_rejected[judged]),
    source="sec. 3, Experiment on MNIST: \"if we input random sample, or adversarial example, then it has higher "
           "chance to activate epsilon neuron\"",
    cause=("reconstruction: the judged attack moves examples towards keys (median min key distance "
           f"{float(judged_row['median min key distance, adversarial - clean']):+.2f} against clean images), as a "
           "gradient step on softmax(-d / tau) V does when it raises another class's keys; the write-up names "
           "neither its attack nor its strength")
    if float(judged_row["median min key distance, adversarial - clean"]) < 0 else
    "open: the adversarial examples lie farther from the keys than clean images but are not rejected more often")

# %% [markdown]
# ## Centres far from the data: classify, but do not reject
#
# The write-up: "if the minimum distance between centers and data points is large, the MLP can still predict
# classes well, however, it did not succeed in rejecting the adversarial examples". We train a second dictionary
# whose keys start far from the data, uniform in $[-1, 1]^{784}$ (`init="random"`); everything else is as above
# (keys learn at 0.01 of the values' rate, so they stay far), and attack it with the same rule (normalised-gradient
# attacks only). "Far" is measured against the data's own scale: the median distance from a test image to its
# nearest training image. "Classify well" is compared with the data-centred
# model (at most the 95 % binomial margin below it); "do not reject" with the data-centred model's rejection of its
# own judged attack, per adversarial example (one-sided Welch test on the 0/1 outcomes).

# %%
far_model, far_history = trained_dictionary("mnist", S.n_train, S.n_test, n_centres=S.n_keys, init="random",
                                            centre_lr_scale=0.01, epochs=S.epochs, tau=1.0, seed=S.seed)
far_table, _, far_rejected, far_clean_rejected, far_judged = attack_all(far_model, [r for r in runs if r[0] == "normalised"])
with torch.no_grad():
    gap = {"data-centred": float(torch.cdist(model.centres, x_train).min(1).values.median()),
           "far": float(torch.cdist(far_model.centres, x_train).min(1).values.median())}
    data_scale = float(torch.cat([torch.cdist(chunk, x_train).min(1).values for chunk in x_test.split(1000)]).median())
far_summary = pd.DataFrame({
    "median distance key - nearest training image": gap,
    "test accuracy": {"data-centred": history["test_accuracy"][-1], "far": far_history["test_accuracy"][-1]},
    "judged attack strength": {"data-centred": judged[1], "far": far_judged[1]},
    "adversarial rejected at ~6 % clean": {"data-centred": float(judged_row["rejected"]),
                                           "far": float(far_table[far_table.judged].iloc[0]["rejected"])}})
acc_margin = nngeom.accuracy_margin(history["test_accuracy"][-1], S.n_test)
far_acc_row = nngeom.claim(
    "L.3.far-centres.classify", "Keys far from the data still classify well: test accuracy no lower than the "
    "data-centred model's by more than the 95 % binomial margin", paper="can still predict classes well",
    ours=far_history["test_accuracy"][-1], check=nngeom.greater_than(history["test_accuracy"][-1], margin=-acc_margin),
    source="sec. 3: \"the MLP can still predict classes well\"",
    note=f"margin {acc_margin:.4f}: 95 % binomial half-width for two accuracies on {S.n_test} test images",
    cause=(f"scale: epochs = {S.epochs} and n_train = {S.n_train} (paper profile, ours after Metric as Transform "
           f"sec. 3.2's Fashion-MNIST setting: 30 epochs on 60,000 images); the far model's test accuracy is still "
           f"rising at the last epoch ({far_history['test_accuracy'][-2]:.3f} -> {far_history['test_accuracy'][-1]:.3f})")
    if (S.epochs < 30 or S.n_train < 60000) and len(far_history["test_accuracy"]) > 1
    and far_history["test_accuracy"][-1] > far_history["test_accuracy"][-2] else
    f"open: keys kept far from the data classify worse ({far_history['test_accuracy'][-1]:.3f} against "
    f"{history['test_accuracy'][-1]:.3f}) and the far model's accuracy is no longer rising")
far_clean = far_clean_rejected[far_judged]
far_p = float(stats.ttest_ind(far_rejected[far_judged], far_clean, equal_var=False, alternative="greater").pvalue) \
    if np.std(far_rejected[far_judged]) + np.std(far_clean) > 0 else 1.0
far_rej_row = nngeom.claim(
    "L.3.far-centres.no-reject", "Keys far from the data do not reject adversarial examples: their adversarial "
    "examples fire the epsilon neuron no more often than clean images (one-sided Welch p >= 0.05, the judged attack, "
    f"~{S.x_rejected_target:.0%} clean rejection)", paper="did not succeed in rejecting",
    ours={"adversarial rejected": float(np.mean(far_rejected[far_judged])), "clean rejected": float(np.mean(far_clean)),
          "p (adversarial > clean)": far_p},
    check=nngeom.holds(far_p >= 0.05 and above_row["passed"],
                       "not more adversarial than clean rejections (Welch, 95 %), while the data-centred model "
                       "rejects more (L.3.mnist-adv-above-clean)"),
    source="sec. 3: \"however, it did not succeed in rejecting the adversarial examples\"",
    note="the write-up contrasts the far keys with the data-centred ones, which did reject: the row needs both "
         "halves, the far model's adversarial rejections no higher than its clean ones at the same epsilon, and the "
         "data-centred model's higher (L.3.mnist-adv-above-clean)",
    cause=None if above_row["passed"] else
    "open: the data-centred model does not reject adversarial examples more than clean ones either "
    "(L.3.mnist-adv-above-clean differs), so the contrast the write-up draws is not there to see")
nngeom.claim("L.3.far-centres.far", "The far keys are far: median distance key - nearest training image, as a "
             "multiple of the median distance test image - nearest training image", ours=gap["far"] / data_scale,
             check=nngeom.at_least(1.0), kind="check",
             note="the premise of the write-up's case ('minimum distance between centers and data points is large'); "
                  "the yardstick, chosen by us before the run: farther from every training image than a typical "
                  "unseen image is")
far_summary.round(3)

# %% [markdown]
# ## Section 4: adding and pruning local neurons of the local residual MLP
#
# Section 4: "I was also able to use repetitive local neuron addition and pruning to optimize the 2 layer
# local-MLP and local residual-MLP on 2D classification". The follow-up (*Metric as Transform*, sec. 3.3) reports
# the opposite for the local residual MLP. A small run of the follow-up's own spiral protocol: 20 residual units
# initialised at random training points with zero shifts and a linear head; each round adds one random training
# point as a unit (zero shift), fine-tunes everything for `search_spiral_steps` Adam steps (learning rate
# $10^{-2}$) and removes the unit whose removal raises the loss least. Every round also trains, so the search is
# compared with its **control**: the same start, rounds, random draws and fine-tuning batches with no unit added or
# removed (`add_prune=False`). Two claims, one per document:
#
# * this write-up's "optimize": over the last quarter of the rounds the search's mean test accuracy is no lower than
#   the control's by more than the 95 % binomial margin;
# * *Metric as Transform*'s "failed to get stable solution": the search's largest drop in test accuracy between two
#   consecutive rounds of the second half exceeds the control's by more than that margin.

# %%
def residual_search(add_prune):
    """The spiral search (or its control) from one seeded start; returns the per-round history."""
    nngeom.seed_everything(S.seed)
    net = LocalResidualMLP(2, 20, tau=0.3, epsilon="ema")
    start = torch.randperm(len(xs), generator=torch.Generator().manual_seed(S.seed))[:20]
    net.set_centres(xs[start], torch.zeros(20, 2))
    return centre_search.noisy_centre_search(
        net, xs, ys, n_search=1, rounds=S.search_spiral_rounds, head=nn.Linear(2, 2),
        new_values=lambda x, y: torch.zeros_like(x), fine_tune_steps=S.search_spiral_steps, lr=1e-2, batch_size=64,
        score_samples=600, test=(xs_test, ys_test), seed=S.seed, progress=False, add_prune=add_prune)


res_search_hist, res_control_hist = residual_search(True), residual_search(False)
accs, control_accs = np.array(res_search_hist.test_accuracy), np.array(res_control_hist.test_accuracy)
quarter = max(1, S.search_spiral_rounds // 4)
tail, control_tail = accs[-quarter:], control_accs[-quarter:]


def largest_drop(a):
    """The largest fall of test accuracy between two consecutive rounds of the second half (0 if none)."""
    half = a[len(a) // 2:]
    return float(max(0.0, (half[:-1] - half[1:]).max())) if len(half) > 1 else 0.0


drops = {"search": largest_drop(accs), "control": largest_drop(control_accs)}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
axes[0].plot(accs * 100, marker=".", label="add / fine-tune / prune")
axes[0].plot(control_accs * 100, marker=".", color="grey", label="control: fine-tune only")
axes[0].set_xlabel("search round")
axes[0].set_ylabel("test accuracy (%)")
axes[0].legend(fontsize=8)
axes[1].plot(res_search_hist.loss, marker=".", color="C1", label="add / fine-tune / prune")
axes[1].plot(res_control_hist.loss, marker=".", color="grey", label="control")
axes[1].set_xlabel("search round")
axes[1].set_ylabel("training loss")
fig.tight_layout()
glue("s3-residual-search", fig, display=False)
plt.close(fig)
tail_margin = nngeom.accuracy_margin(float(control_tail.mean()), len(xs_test))
res_search_row = nngeom.claim(
    "L.4.residual-search", "Repeated addition, fine-tuning and pruning of one unit optimises the local residual MLP "
    "on two spirals: mean test accuracy over the last quarter of rounds no lower than the fine-tune-only control's",
    paper="optimised (this write-up)", ours=float(tail.mean()),
    check=nngeom.greater_than(float(control_tail.mean()), margin=-tail_margin),
    source="sec. 4: \"I was also able to use repetitive local neuron addition and pruning to optimize the 2 layer "
           "local-MLP and local residual-MLP\"",
    note=f"margin {tail_margin:.4f}: 95 % binomial half-width for two accuracies on {len(xs_test)} test points")
unstable_row = nngeom.claim(
    "L.4.residual-search.unstable", "The search is unstable (Metric as Transform's report): its largest drop in test "
    "accuracy between consecutive rounds of the second half exceeds the control's by more than the binomial margin",
    paper="failed to get stable solution", ours=drops["search"],
    check=nngeom.greater_than(drops["control"], margin=tail_margin),
    kind="check",
    note=f"a check: the sentence is Metric as Transform's and is judged there (s3_3, A.3.3.residual-unstable, on "
         f"its own protocol); this statistic, one largest drop on a fixed test set of {len(xs_test)} points against "
         f"the control's plus the margin {tail_margin:.4f}, is almost always exceeded when the structure changes "
         "every round, so it cannot judge that sentence",
    cause="disagreement: this write-up (sec. 4) reports that the search worked for the local residual MLP")

# %% [markdown]
# ```{glue:figure} s3-residual-search
# :name: fig-s3-residual-search
#
# Section 4 (no figure in either document): test accuracy (left) and training loss (right) of the local residual
# MLP during add / fine-tune / prune rounds on two spirals. Look at whether the curves settle or keep jumping in
# the later rounds.
# ```

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# The firing maps and the far-firing shares compare softmax and $\epsilon$-softmax neurons; the residual MLP and
# the local classifier recompute Figures 4 and 5 with measured accuracy and outlier rejection. On MNIST the judged
# adversarial claim uses one attack and strength fixed by the rule stated above and reads the rejection where about
# 6 % of clean images are rejected; its tolerance is the binomial 95 % interval over the adversarial examples. The
# table reports every other attack without judging it.

# %%
nngeom.reading(
    f"Plain softmax lets a centre fire far from itself on up to {far['softmax'].max():.0%} of the plane "
    f"(**{far_softmax_row['verdict']}** against the $\\epsilon$-softmax's "
    f"{far.iloc[:, 2].max():.0%}). Along the ray from the centres' mean the outer centre's activation grows up to "
    f"the centre (**{towards_row['verdict']}**) and beyond it "
    f"{'keeps growing' if radial_row['passed'] else 'does not keep growing'} at every temperature run "
    f"(**{radial_row['verdict']}**; at the largest, {growth[f'tau={S.taus[-1]}']['at the centre']:.3f} at the "
    f"centre and {growth[f'tau={S.taus[-1]}']['3 beyond']:.3f} 3 units beyond). The local residual MLP's linear head reaches {res_hist.test_accuracy[-1]:.3f} "
    f"test accuracy (**{residual_row['verdict']}**); the local classifier rejects "
    f"{clf_stats['outliers rejected']:.1%} of outliers and {clf_stats['test rejected']:.1%} of test points; of the outliers "
    f"just off the data (between the outlier margin and twice it) it rejects "
    f"{clf_stats['near-shell outliers rejected']:.1%}.\n\n"
    f"On MNIST, {S.n_keys} data-selected keys give {search.test_accuracy[0]:.3f} test accuracy against "
    f"{random_init_acc:.3f} for random keys (**{data_init_row['verdict']}**) and {prototype_acc:.3f} for "
    f"{len(proto_keys)} class k-means prototypes (**{data_level_row['verdict']}** for 'very good'; nearest neighbour on "
    f"all {len(x_train)} training images: {nn_acc:.3f}), and noisy selection moves it to "
    f"{search.test_accuracy[-1]:.3f} (**{search_row['verdict']}**). Uniform noise is rejected at "
    f"{noise_rejected:.1%}, Gaussian noise with the data's pixel statistics at "
    f"{random_table.loc['Gaussian, pixel mean and std of the data', 'rejected at the learned epsilon']:.1%} and "
    f"shuffled digits at {random_table.loc['shuffled digits', 'rejected at the learned epsilon']:.1%}. The judged attack (normalised gradient, lr = {judged_row['strength']:g}, fooling "
    f"{judged_row['fooled (of initially correct)']:.0%} of the images it classified correctly) has "
    f"{judged_row['rejected']:.1%} of its adversarial examples rejected where {judged_row['x_rejected']:.1%} of clean "
    f"images are, against the write-up's about 50 % at ~6 %: **{adv_row['verdict']}** ({adv_row['detail']}); counting "
    f"only successful examples, {successful_rejected:.1%} (**{adv_success_row['verdict']}**); that its adversarial examples fire the "
    f"epsilon neuron more often than clean images is **{above_row['verdict']}**. As an uncertainty estimate the "
    f"epsilon activation separates misclassified from correct test images with AUROC "
    f"{uncertainty_row['ours']['AUROC']:.3f} (**{uncertainty_row['verdict']}**; the usual reference, one minus the "
    f"largest softmax probability of the outputs, gives {reference_auroc:.3f}). Over all attacks in the table the rejected share "
    f"at that level ranges from {table['rejected'].min():.1%} to {table['rejected'].max():.1%}.\n\n"
    f"Keys started far from the data (median distance to the nearest training image {gap['far']:.1f} against "
    f"{gap['data-centred']:.1f}) reach {far_history['test_accuracy'][-1]:.3f} test accuracy "
    f"(**{far_acc_row['verdict']}**) and reject {far_summary.loc['far', 'adversarial rejected at ~6 % clean']:.1%} "
    f"of their adversarial examples against {far_rej_row['ours']['clean rejected']:.1%} of clean images "
    f"(**{far_rej_row['verdict']}** for 'do not reject').\n\n"
    f"The add / fine-tune / prune search on the local residual MLP ends at a mean test accuracy of {tail.mean():.3f} "
    f"over the last quarter of its {S.search_spiral_rounds} rounds against {control_tail.mean():.3f} for fine-tuning "
    f"alone (**{res_search_row['verdict']}** for this write-up's 'optimize'); its largest drop between consecutive "
    f"rounds of the second half is {drops['search']:.3f} against the control's {drops['control']:.3f} "
    f"(**{unstable_row['verdict']}** for Metric as Transform's 'failed to get stable solution'). "
    + {(True, False): "Our run supports this write-up: the search optimises and stays as stable as the control.",
       (False, True): "Our run supports Metric as Transform: the search falls behind the control and is unstable.",
       (True, True): "Both statements hold in our run: the search ends where fine-tuning alone does, but drops "
                     "further than the control on the way.",
       (False, False): "Our run supports neither: the search falls behind the control without being less stable."}[
        (bool(res_search_row["passed"]), bool(unstable_row["passed"]))])
