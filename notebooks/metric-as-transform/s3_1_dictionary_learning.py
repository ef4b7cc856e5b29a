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
#
# Our choices for Figure 12 (the document gives none): `spiral_centres` centres at `spiral_tau`, initial shift scale 0.6, Adam with
# learning rate $10^{-2}$ and batches of 32, spirals of 1.5 turns with noise 0.02.

# %% tags=["parameters"]
profile = "cpu"
datasets = None      # Table 3 datasets
widths = None        # numbers of keys h
seeds = None         # random draws of keys per width
n_test = None        # test inputs per dataset (10000: the whole test set)
tau_table = None     # temperature of the un-normalised similarity in Table 3
extra_seeds = None   # further key draws at the widths 10 and 50 (how far 20 draws can wander)
tau_maps = None      # temperatures shown in the 2-D maps
epsilon_map = None   # epsilon of the 2-D maps
resolution = None    # grid points per axis of the 2-D maps
n_configs = None     # random key configurations for the similarity-function test (sec. 3.1.2)
n_spiral = None      # two-spirals training points
spiral_centres = None
spiral_tau = None
spiral_epochs = None
seed = None

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.stats
import seaborn as sns
import torch
from myst_nb import glue
from torch import nn

import nngeom
import nngeom.train
from nngeom.local import similarity
from nngeom.metric import voronoi
from nngeom.book.checks import welch_interval
from nngeom.local.dictionary import LocalResidualMLP, data_initialised_accuracy

PROFILES = {
    "smoke": {"datasets": ["mnist", "fashion_mnist"], "widths": [10, 50, 200], "seeds": 2, "n_test": 300,
              "tau_table": 0.5, "extra_seeds": 3, "tau_maps": [0.2, 1.0], "epsilon_map": 1.0, "resolution": 60,
              "n_configs": 3, "n_spiral": 200, "spiral_centres": 20, "spiral_tau": 0.3, "spiral_epochs": 1, "seed": 0},
    # Table 3 at the document's own scale (20 seeds, whole test sets): it fits the cpu budget (about 4 minutes)
    "cpu": {"datasets": ["mnist", "fashion_mnist"], "widths": [10, 50, 200, 1000, 5000, 20000], "seeds": 20,
            "n_test": 10000, "tau_table": 0.5, "extra_seeds": 100, "tau_maps": [0.1, 0.3, 1.0], "epsilon_map": 1.0,
            "resolution": 200, "n_configs": 20, "n_spiral": 600, "spiral_centres": 30, "spiral_tau": 0.3,
            "spiral_epochs": 40, "seed": 0},
    "paper": {"datasets": ["mnist", "fashion_mnist"], "widths": [10, 50, 200, 1000, 5000, 20000], "seeds": 20,
              "n_test": 10000, "tau_table": 0.5, "extra_seeds": 100, "tau_maps": [0.1, 0.3, 1.0], "epsilon_map": 1.0,
              "resolution": 300, "n_configs": 50, "n_spiral": 1000, "spiral_centres": 30, "spiral_tau": 0.3,
              "spiral_epochs": 100, "seed": 0},
}
BOUNDS = {"widths": (1, 60000), "seeds": (1, None), "n_test": (1, 10000), "tau_table": (1e-6, None),
          "extra_seeds": (0, None), "tau_maps": (1e-6, None), "epsilon_map": (0, None), "resolution": (10, None),
          "n_configs": (1, None), "n_spiral": (10, None), "spiral_centres": (1, None), "spiral_tau": (1e-6, None),
          "spiral_epochs": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s3_1_dictionary_learning", bounds=BOUNDS)

# %% [markdown]
# ## Table 3: data-initialised dictionaries without training
#
# For each width $h$ and seed we copy $h$ training images drawn uniformly at random as keys, set the values to
# their one-hot labels and classify the test set with the un-normalised similarity ($\tau = 0.5$). There is no
# training at all. Distances are computed in chunks of 2500 test images against all keys (never the
# test $\times$ keys $\times$ 784 tensor), and the keys of width $h$ are the first $h$ of one random draw of the
# largest width, so that one pass serves every column. The document uses 20 seeds and the whole test set, and so
# do the `cpu` and `paper` profiles.
#
# The authors' code (`12_Metric_Transform_OverFitting_2Layer_FMNIST.ipynb` and `dtnnlib.DistanceTransform_MinExp`
# of their repository) fixes the choices the text leaves open: keys are the first $h$ images of a shuffled loader
# (uniform draws, not per class), $\sigma$ is the unbiased standard deviation of the distances over the keys plus
# $10^{-5}$ under the square root, the scale is $2 = 1/\tau$, and the output layer is an `nn.Linear` whose weights
# are set to the one-hot values while its bias keeps its random initialisation. Their table reports `np.std`
# (no degrees-of-freedom correction).

# %%
PAPER_T3 = {
    "mnist": {"mean": [36.48, 60.76, 76.40, 85.61, 88.56, 89.43], "std": [3.29, 3.49, 2.21, 0.83, 0.39, 0.20],
              "max": [42.69, 67.86, 81.0, 87.03, 89.57, 89.79]},
    "fashion_mnist": {"mean": [37.75, 58.08, 67.75, 72.60, 73.96, 74.43], "std": [6.63, 3.47, 1.84, 1.43, 0.45, 0.21],
                      "max": [50.23, 62.10, 70.20, 75.08, 74.74, 74.94]},
}
PAPER_WIDTHS = [10, 50, 200, 1000, 5000, 20000]
PAPER_SEEDS = 20  # sec. 3.1.1 and the authors' code: 20 seeds

results, loaded = {}, {}
for name in S.datasets:
    x_train, y_train = nngeom.data.load_subset(name, "train", None, flatten=True)
    x_test, y_test = nngeom.data.load_subset(name, "test", S.n_test, seed=S.seed, flatten=True)
    loaded[name] = (x_train, y_train, x_test, y_test)
    runs = [data_initialised_accuracy(x_train, y_train, x_test, y_test, S.widths, 10, seed=S.seed + s,
                                      tau=S.tau_table, device=nngeom.device()) for s in nngeom.sweep(range(S.seeds), "Table 3 seeds")]
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
long = pd.DataFrame([{"dataset": name, "h": h, "accuracy (%)": a} for name, per_width in results.items()
                     for h, acc in per_width.items() for a in acc])
fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 3.8), squeeze=False)
for ax, (name, per_width) in zip(axes[0], results.items()):
    sub = long[long.dataset == name]
    sns.stripplot(data=sub, x="h", y="accuracy (%)", ax=ax, color="C0", alpha=0.5, size=3, native_scale=True,
                  log_scale=True)
    ax.plot(list(per_width), [per_width[h].mean() for h in per_width], "C0-o", label=f"ours, mean of {S.seeds} seeds")
    paper_hs = [h for h in PAPER_WIDTHS if h in per_width]
    ax.errorbar(paper_hs, [PAPER_T3[name]["mean"][PAPER_WIDTHS.index(h)] for h in paper_hs],
                yerr=[PAPER_T3[name]["std"][PAPER_WIDTHS.index(h)] for h in paper_hs], fmt="ks--", alpha=0.6,
                capsize=3, label="document: mean +- std")
    ax.set_xlabel("keys h (training samples, no training)")
    ax.set_title(name)
    ax.legend(fontsize=8)
fig.tight_layout()
glue("s3_1-table3", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s3_1-table3
# :name: fig-s3_1-table3
#
# Recomputes Table 3 of the document: each dot is one random draw of keys (one seed), the blue line our mean and
# the dashed black line the document's mean with its standard deviation. Look at whether the document's mean sits
# inside our cloud of seeds at every width, and at how the spread shrinks as $h$ grows.
# ```

# %% [markdown]
# ### Which choices could move the small widths?
#
# At $h = 10$ a uniform draw leaves out on average about a third of the classes, so the draw dominates the
# accuracy. We recompute $h = 10$ and $h = 50$ three ways on the same seeds: our reconstruction (uniform draws,
# biased $\sigma$), the authors' code exactly (uniform draws, unbiased $\sigma + 10^{-5}$, the output layer's random
# bias kept, inputs in $[-1, 1]$), and a draw stratified per class ($h / 10$ keys per class), which the text does
# not exclude but the authors' code does not do. Then `extra_seeds` further uniform draws show where the mean of
# many draws lies.

# %%
def authors_accuracy(x_train, y_train, x_test, y_test, h, seed, stratified=False):
    """One seed of the authors' Table 3 pipeline (DistanceTransform_MinExp, then nn.Linear with one-hot weights)."""
    g = torch.Generator().manual_seed(seed)
    if stratified:
        pick = torch.cat([idx[torch.randperm(len(idx), generator=g)[:max(1, h // 10)]]
                          for idx in (torch.nonzero(y_train == c).squeeze(1) for c in range(10))])
    else:
        pick = torch.randperm(len(x_train), generator=g)[:h]
    keys, labels = 2 * x_train[pick] - 1, y_train[pick]
    d = torch.cdist(2 * x_test - 1, keys)
    a = torch.exp(-2.0 * (d - d.min(1, keepdim=True).values) / torch.sqrt(d.var(1, keepdim=True) + 1e-5))
    torch.manual_seed(seed)
    out = nn.Linear(len(pick), 10)
    with torch.no_grad():
        out.weight.copy_(nn.functional.one_hot(labels, 10).float().T)
        return 100 * float((out(a).argmax(1) == y_test).float().mean())


AUTHORS = "authors' code (uniform)"
SMALL = [h for h in (10, 50) if h in S.widths]
choices, extra = {}, {}
for name in S.datasets:
    x_train, y_train, x_test, y_test = loaded[name]
    for h in SMALL:
        choices[(name, h)] = {
            "ours (uniform)": results[name][h],
            AUTHORS: np.array([authors_accuracy(x_train, y_train, x_test, y_test, h, S.seed + s)
                                                 for s in nngeom.sweep(range(S.seeds), "Table 3 seeds")]),
            "stratified per class": np.array([authors_accuracy(x_train, y_train, x_test, y_test, h, S.seed + s, True)
                                              for s in nngeom.sweep(range(S.seeds), "Table 3 seeds")]),
        }
    more = [data_initialised_accuracy(x_train, y_train, x_test, y_test, SMALL, 10, seed=S.seed + 1000 + s,
                                      tau=S.tau_table, device=nngeom.device()) for s in nngeom.sweep(range(S.extra_seeds), "extra seeds")]
    for h in SMALL:
        extra[(name, h)] = np.concatenate([results[name][h], 100 * np.array([r[h] for r in more])])
choice_table = pd.DataFrame({f"{name} h={h}": {label: f"{v.mean():.2f} +- {v.std(ddof=1) if len(v) > 1 else 0:.2f}"
                                               for label, v in {**c, f"uniform, {len(extra[(name, h)])} draws": extra[(name, h)]}.items()}
                             for (name, h), c in choices.items()})
choice_table.loc["document"] = [f"{PAPER_T3[n]['mean'][PAPER_WIDTHS.index(h)]:.2f} +- {PAPER_T3[n]['std'][PAPER_WIDTHS.index(h)]:.2f}"
                                for (n, h) in choices]
choice_table


# %%
def t3_cause(name, h):
    """The cause recorded if a small-width mean differs, built from the measurements above."""
    if (name, h) not in choices:
        return None
    k = PAPER_WIDTHS.index(h)
    pm, ps = PAPER_T3[name]["mean"][k], PAPER_T3[name]["std"][k]
    pooled = extra[(name, h)]
    half, diff, _ = welch_interval(pooled, pm, ps, PAPER_SEEDS, 0.95) if len(pooled) > 1 else (0.0, 0.0, 0)
    c = choices[(name, h)]
    common = (f"the authors' code draws keys uniformly like ours (its exact similarity and random output bias give "
              f"{c[AUTHORS].mean():.2f}); a stratified draw gives "
              f"{c['stratified per class'].mean():.2f}, farther from the paper")
    if abs(diff) <= half:
        return (f"reconstruction: which random key draws (seeds): over {len(pooled)} uniform draws the mean is "
                f"{pooled.mean():.2f}, within the paper's interval (+-{half:.2f}); {common}")
    return (f"open: over {len(pooled)} uniform draws our mean is {pooled.mean():.2f} (std "
            f"{pooled.std(ddof=1):.2f} against the paper's {ps}), still outside the paper's interval; {common}")


spread_specs = []  # the std and max rows, recorded once the whole family is known
T3_SOURCE = 'sec. 3.1.1, Table 3: "we can gain significant accuracy in MNIST and F-MNIST dataset without even training"'
t3_rows = {}
for name, per_width in results.items():
    short = "mnist" if name == "mnist" else "fmnist"
    for h, acc in per_width.items():
        if h not in PAPER_WIDTHS:
            continue
        k = PAPER_WIDTHS.index(h)
        paper = PAPER_T3[name]
        t3_rows[(name, h)] = nngeom.claim(
            f"A.T3.{short}.h{h}.mean", f"Table 3, {name}, h={h}: mean test accuracy (%) without training",
            paper=paper["mean"][k], ours=[float(a) for a in acc],
            check=nngeom.mean_consistent(paper_std=paper["std"][k], paper_n=PAPER_SEEDS), source=T3_SOURCE,
            cause=t3_cause(name, h), note=f"{len(acc)} seeds, {S.n_test} test images")
        if len(acc) > 1:
            paper_sd = paper["std"][k] * np.sqrt(PAPER_SEEDS / (PAPER_SEEDS - 1))  # np.std (ddof 0) -> ddof 1
            ratio = float(acc.var(ddof=1) / paper_sd**2)
            p_var = 2 * min(scipy.stats.f.cdf(ratio, len(acc) - 1, PAPER_SEEDS - 1),
                            scipy.stats.f.sf(ratio, len(acc) - 1, PAPER_SEEDS - 1))
            spread_specs.append(dict(
                id=f"A.T3.{short}.h{h}.std", statement=f"Table 3, {name}, h={h}: std over seeds (%)",
                paper=paper["std"][k], ours=float(acc.std(ddof=1)),
                check=nngeom.holds(p_var >= 0.05, f"two-sided F test of the variances, p = {p_var:.3g} >= 0.05"),
                source="sec. 3.1.1, Table 3 (std row)", note="the authors' code reports np.std (ddof 0); it is "
                                                             "compared as ddof 1", fails=p_var < 0.05))
            # the max of PAPER_SEEDS draws from a normal with our mean and std: its 95 % band
            sims = np.random.default_rng(S.seed).normal(acc.mean(), acc.std(ddof=1), (20000, PAPER_SEEDS)).max(1)
            band = [float(np.quantile(sims, 0.025)), float(np.quantile(sims, 0.975))]
            inside = band[0] <= paper["max"][k] <= band[1]
            spread_specs.append(dict(
                id=f"A.T3.{short}.h{h}.max", statement=f"Table 3, {name}, h={h}: the document's max over "
                f"{PAPER_SEEDS} seeds lies in the 95 % band of the max of as many of our draws (%)",
                paper=paper["max"][k], ours={"our max": float(acc.max()), "95 % band": band},
                check=nngeom.holds(inside, "paper max within the band"), source="sec. 3.1.1, Table 3 (max row)",
                note=f"band: 20,000 simulated maxima of {PAPER_SEEDS} normal draws with our mean and std over "
                     f"{len(acc)} seeds", fails=not inside))

# The std and max rows form one family of 5 % tests: a few differ by chance alone even when every cell agrees.
spread_failures = sum(spec["fails"] for spec in spread_specs)
chance_p = float(scipy.stats.binom.sf(spread_failures - 1, len(spread_specs), 0.05)) if spread_specs else 1.0
SPREAD_CAUSE = (f"open: {spread_failures} of the {len(spread_specs)} std and max rows of Table 3 differ at 5 %; "
                f"chance alone gives about {0.05 * len(spread_specs):.1f} (binomial P(at least {spread_failures}) = "
                f"{chance_p:.2f}), so the family shows no departure beyond chance"
                if chance_p >= 0.05 else None)
for spec in spread_specs:
    spec = dict(spec)
    spec.pop("fails")
    nngeom.claim(spec.pop("id"), spec.pop("statement"), cause=SPREAD_CAUSE, **spec)

# %% [markdown]
# ## Figure 11: where do the neurons fire?
#
# Five keys in the plane. For each normalisation we draw, over a grid much wider than the keys, the
# activation of the winning neuron (colour = which neuron, brightness = its activation), and then measure the two
# problems the document names: (1) a neuron whose activation is highest far from its key, and (2) activations
# that do not sum to one. "Far" is a circle of radius 25 around the keys.
#
# These measurements verify constructions rather than test the document: the un-normalised similarity gives the
# nearest key exactly 1 wherever the input is, so it reaches 1 far away and its activations sum to more than one;
# and for the softmax of $-d/\tau$ the triangle inequality $d_j(x) \le d_j(k_i) + d_i(x)$ gives
# $d_i(x) - d_j(x) \ge -d_j(k_i)$, so every $a_i$ is at most its value at its own key, with or without $\epsilon$.
# They are recorded as checks.

# %%
keys_2d = torch.tensor([[-1.0, -0.5], [0.8, -0.9], [0.2, 0.9], [1.4, 0.6], [-1.2, 1.0]])
limit = 4.0
grid, xx, yy = nngeom.toys.grid_2d(limit, S.resolution)
step = 2 * limit / (S.resolution - 1)
angles = torch.linspace(0, 2 * np.pi, 721)[:-1]
far = 25.0 * torch.stack([angles.cos(), angles.sin()], dim=1)


def maps(kind, tau, epsilon=None):
    return similarity.similarity(torch.cdist(grid, keys_2d), kind, tau, epsilon), similarity.similarity(
        torch.cdist(far, keys_2d), kind, tau, epsilon)


def draw(ax, act, title):
    colours = plt.get_cmap("tab10")(np.arange(10))[:, :3]
    ax.imshow(similarity.firing_map(act, S.resolution, colours), origin="lower", extent=[-limit, limit, -limit, limit])
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
glue("s3_1-fig11", fig, display=False)
plt.close(fig)
pd.DataFrame(measured).round(4)

# %% [markdown]
# ```{glue:figure} s3_1-fig11
# :name: fig-s3_1-fig11
#
# Recomputes Figure 11 of the document (left to right: un-normalised, softmax, $\epsilon$-softmax). Look at the
# edges of each panel: where a colour stays bright far from its key the neuron fires away from its key; black
# marks the region the $\epsilon$ neuron claims.
# ```

# %% [markdown]
# The temperature controls the hardness. The winning neuron of a softmax of $-d/\tau$ is the nearest key at every
# $\tau$ (its map is always the Voronoi diagram of the keys); what the temperature changes is how close the
# activations come to that diagram's one-hot indicator. We measure the mean $\tfrac12\lVert a(x) -
# \mathrm{onehot}(\mathrm{cell}(x))\rVert_1$ over the grid (0: a hard Voronoi partition) at each $\tau$ of the
# panels, and, with $\epsilon$, whether the $\epsilon$ neuron still wins on the far circle at every $\tau$.

# %%
fig, axes = plt.subplots(2, len(S.tau_maps), figsize=(4.2 * len(S.tau_maps), 8.4), squeeze=False)
for j, tau in enumerate(S.tau_maps):
    draw(axes[0, j], maps("softmax", tau)[0], f"softmax, tau={tau}")
    draw(axes[1, j], maps("epsilon_softmax", tau, S.epsilon_map)[0], f"epsilon-softmax, tau={tau}, eps={S.epsilon_map}")
fig.tight_layout()
glue("s3_1-fig11-tau", fig, display=False)
plt.close(fig)
cells = voronoi.distance_regions(grid, keys_2d)
hardness = {}
for tau in S.tau_maps:
    act = maps("softmax", tau)[0][:, :-1]  # the last column is the (absent, zero) epsilon neuron
    far_eps = maps("epsilon_softmax", tau, S.epsilon_map)[1]
    hardness[tau] = {"argmax = Voronoi cell": float((act.argmax(1) == cells).float().mean()),
                     "distance to the hard partition": float(0.5 * (act - nn.functional.one_hot(cells, len(keys_2d))
                                                                     .to(act)).abs().sum(1).mean()),
                     "epsilon neuron wins on the far circle": float((far_eps.argmax(1) == far_eps.shape[1] - 1)
                                                                    .float().mean())}
hardness_table = pd.DataFrame(hardness).T.rename_axis("tau")
taus_sorted = sorted(hardness)
toward = [hardness[t]["distance to the hard partition"] for t in taus_sorted]
voronoi_row = nngeom.claim(
    "A.3.1.low-tau-voronoi", "softmax: the activations approach the Voronoi partition of the keys as tau decreases "
    "(distance to the hard partition increases with tau over the panels' temperatures)",
    paper="Voronoi diagram at low temperature", ours=dict(zip(map(str, taus_sorted), toward)),
    check=nngeom.holds(all(a < b for a, b in zip(toward, toward[1:])), "strictly increasing with tau"), kind="check",
    source='sec. 3.1.4: "For low temperature, the softmax decision boundary is hard, and Voronoi diagram is produced"',
    note="a check: the largest softmax weight is non-increasing in tau at every point (its derivative in 1/tau is "
         "a variance, >= 0), so the hard partition is approached as tau falls by a theorem")
nngeom.claim("A.3.1.eps-bounded-every-tau", "epsilon-softmax: the epsilon neuron wins everywhere on the far circle at "
             "every temperature of the panels (smallest share)", paper="bounded regions",
             ours=min(h["epsilon neuron wins on the far circle"] for h in hardness.values()),
             check=nngeom.equals(1.0), kind="check",
             note="beyond epsilon the epsilon neuron's entry -epsilon / tau is the largest, at any tau")
hardness_table.round(4)

# %% [markdown]
# ```{glue:figure} s3_1-fig11-tau
# :name: fig-s3_1-fig11-tau
#
# Recomputes the temperature panels of Figure 11: softmax (top) and $\epsilon$-softmax (bottom) at increasing
# $\tau$. Look at how the cells soften with $\tau$ and whether the bright regions stay near the keys.
# ```

# %%
eps_m, soft_m, un_m = measured["epsilon_softmax"], measured["softmax"], measured["unnormalised"]
nngeom.claim("A.3.1.eps-peak-at-centre", "epsilon-softmax: every neuron's activation is maximal at its key "
             "(on the grid, within 1.5 grid steps)", paper="maximal at centre (Fig. 11)",
             ours=eps_m["max distance of a neuron's peak from its key"], check=nngeom.at_most(1.5 * step),
             kind="check", note="a consequence of the triangle inequality (see above)")
nngeom.claim("A.3.1.eps-vanishes-far", "epsilon-softmax: key neurons vanish at distance 25 from the keys",
             paper="local activation", ours=eps_m["largest activation of a key neuron far away"],
             check=nngeom.at_most(1e-3), kind="check", note="exp(-(25 - eps) / tau) is below 1e-3 by construction")
nngeom.claim("A.3.1.softmax-fires-far", "softmax without epsilon: some neuron fires strongly (> 0.5) far from its key",
             paper="fires far away (Fig. 11)", ours=soft_m["largest activation of a key neuron far away"],
             check=nngeom.at_least(0.5), kind="check",
             note="far along a ray, the key of the hull vertex in that direction wins the softmax")
nngeom.claim("A.3.1.unnormalised-fires-far", "un-normalised: some neuron reaches its maximum 1 far from its key",
             paper="activates highest away from key", ours=un_m["largest activation of a key neuron far away"],
             check=nngeom.at_least(0.99), kind="check", note="the nearest key gets exp(0) = 1 by construction")
nngeom.claim("A.3.1.unnormalised-sum", "un-normalised: activations do not sum to one",
             paper="sum != 1", ours=un_m["max |sum of activations - 1| on grid"], check=nngeom.at_least(0.1),
             kind="check", note="the nearest key alone contributes 1; any other key adds to it");

# %% [markdown]
# ## Sec. 3.1.2: which similarity functions keep the maximum at the key?
#
# The document reports that turning distances into similarities with a convex, monotonically decreasing $f$ (it
# names $\exp(-x)$ and $1/x$; the other examples of the sentence, and the two functions it says fail, are lost in
# the extraction) keeps each neuron's maximum of $\mathrm{softmax}_i(f(d_i))$ at zero distance from its key. For a
# convex decreasing $f$, $f(a) - f(a + c) \le f(0) - f(c)$ and the triangle inequality give
# $f(d_i(x)) - f(d_j(x)) \le f(0) - f(d_j(k_i))$, so the property is a theorem for those functions (checks here).
# As functions that are not convex we test $-x^2$ and $\exp(-x^2)$ (our choice; the document's are lost). For
# `n_configs` random sets of five keys in $[-1.5, 1.5]^2$ we compare each neuron's largest activation on the grid
# and on the far circle with its activation at its own key.

# %%
FUNCTIONS = {"-x": lambda d: -d, "exp(-x)": lambda d: torch.exp(-d), "1/x": lambda d: 1 / d.clamp_min(1e-6),
             "1/x^2": lambda d: 1 / d.clamp_min(1e-6) ** 2, "-log x": lambda d: -torch.log(d.clamp_min(1e-6)),
             "-x^2": lambda d: -d ** 2, "exp(-x^2)": lambda d: torch.exp(-d ** 2)}
CONVEX = ["-x", "exp(-x)", "1/x", "1/x^2", "-log x"]
rng = torch.Generator().manual_seed(S.seed)
probe = torch.cat([grid, far, 3 * far / 25])
violations = {f: 0 for f in FUNCTIONS}
excess = {f: 0.0 for f in FUNCTIONS}
for _ in range(S.n_configs):
    keys_r = 3 * torch.rand(5, 2, generator=rng) - 1.5
    for f, fn in FUNCTIONS.items():
        at_key = torch.softmax(fn(torch.cdist(keys_r, keys_r)), 1).diagonal()
        best = torch.softmax(fn(torch.cdist(probe, keys_r)), 1).max(0).values
        violations[f] += int((best > at_key + 1e-6).sum())
        excess[f] = max(excess[f], float((best - at_key).max()))
f_table = pd.DataFrame({"convex decreasing": {f: f in CONVEX for f in FUNCTIONS},
                        "neurons peaking away from their key": violations,
                        "largest excess over the value at the key": excess})
f_table.index.name = f"f(d), {S.n_configs} x 5 neurons"

demo = {f: torch.softmax(FUNCTIONS[f](torch.cdist(grid, keys_2d)), 1) for f in ("exp(-x)", "1/x", "-x^2", "exp(-x^2)")}
fig, axes = plt.subplots(1, len(demo), figsize=(3.6 * len(demo), 3.6))
for ax, (f, act) in zip(axes, demo.items()):
    draw(ax, torch.cat([act, torch.zeros(len(act), 1)], 1), f"softmax(f(d)), f(x) = {f}")
fig.tight_layout()
glue("s3_1-fd", fig, display=False)
plt.close(fig)
f_table

# %% [markdown]
# ```{glue:figure} s3_1-fd
# :name: fig-s3_1-fd
#
# Sec. 3.1.2 (no figure in the document): winning neuron and its activation for the softmax of four similarity
# functions on the keys of Figure 11. Look at whether each colour is brightest on its key (X) or brightens towards
# the edge of the panel.
# ```

# %%
fd_named = nngeom.claim("A.3.1.2.convex-keeps-max", "softmax(f(d)) with f = exp(-x) or 1/x: every neuron is "
                        "maximal at its key (random key configurations)", paper="maxima at zero distance",
                        ours={f: violations[f] for f in ("exp(-x)", "1/x")},
                        check=nngeom.holds(violations["exp(-x)"] == 0 and violations["1/x"] == 0, "no violation"),
                        kind="check", note="a theorem for convex decreasing f (see above)")
nngeom.claim("A.3.1.2.convex-others", "softmax(f(d)) with f = -x, 1/x^2, -log x: every neuron is maximal at its key",
             paper=None, ours={f: violations[f] for f in ("-x", "1/x^2", "-log x")},
             check=nngeom.holds(all(violations[f] == 0 for f in ("-x", "1/x^2", "-log x")), "no violation"),
             kind="check", note="our examples of convex decreasing f; a theorem")
fd_fail = nngeom.claim("A.3.1.2.nonconvex-loses-max", "Non-convex similarity functions (-x^2, exp(-x^2)) let some "
                       "neuron peak away from its key", paper="do not preserve the property",
                       ours={f: violations[f] for f in ("-x^2", "exp(-x^2)")},
                       check=nngeom.holds(violations["-x^2"] > 0 and violations["exp(-x^2)"] > 0,
                                          "violations found for both"),
                       source='sec. 3.1.2: "Functions like or does not preserve the property."',
                       note="the document's two examples are lost in the extraction: -x^2 and exp(-x^2) are our choice")

# %% [markdown]
# ## Sec. 3.1.3: $\epsilon$-softmax becomes softmax as $\epsilon$ grows
#
# The document states that $\epsilon$-softmax "is equivalent to softmax-similarity" when $\epsilon \to \infty$.
# The epsilon neuron's weight is $e^{-\epsilon/\tau}$ against $\sum_i e^{-d_i/\tau}$, so the difference vanishes
# exponentially in $\epsilon$; we measure the largest difference over the grid of Figure 11.

# %%
eps_values = np.linspace(0.0, 30.0, 61)
tau_e = S.tau_maps[-1]
d_grid = torch.cdist(grid, keys_2d).double()
soft = similarity.softmax_similarity(d_grid, tau_e)[:, :-1]
gap = [float((similarity.epsilon_softmax(d_grid, e, tau_e)[:, :-1] - soft).abs().max()) for e in eps_values]
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.semilogy(eps_values, np.maximum(gap, 1e-17), "C0-o", ms=3)
ax.set_xlabel("epsilon")
ax.set_ylabel("max |epsilon-softmax - softmax|")
ax.set_title(f"keys of Figure 11, grid of [-{limit:g}, {limit:g}]^2, tau = {tau_e:g}")
fig.tight_layout()
glue("s3_1-eps-limit", fig, display=False)
plt.close(fig)
nngeom.claim("A.3.1.3.eps-to-softmax", "epsilon-softmax equals softmax (to 1e-6) once epsilon is large",
             paper="equivalent when epsilon -> infinity", ours=gap[-1], check=nngeom.at_most(1e-6), kind="check",
             note=f"at epsilon = {eps_values[-1]:g}, tau = {tau_e:g}; an identity of the formula");

# %% [markdown]
# ```{glue:figure} s3_1-eps-limit
# :name: fig-s3_1-eps-limit
#
# Sec. 3.1.3 (no figure in the document): the largest difference between $\epsilon$-softmax and softmax over the
# grid of Figure 11, against $\epsilon$. Look at the slope: a straight line on this log scale is the exponential
# decay $e^{-\epsilon/\tau}$.
# ```

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
glue("s3_1-fig12", fig, display=False)
plt.close(fig)

spiral_row = nngeom.claim("A.3.1.4.residual-spirals", "A local residual MLP makes two spirals linearly separable "
                          "(test accuracy of a linear classifier on its output)", paper="spirals classified (Fig. 12)",
                          ours=hist.test_accuracy[-1], check=nngeom.at_least(0.95),
                          source='sec. 3.1.4, Fig. 12: "we are able to interpret the non-linear classification of '
                                 '2-spirals dataset"',
                          note="'classified' read as at least 95 % test accuracy; no number in the document")
nngeom.claim("A.3.1.4.linear-baseline", "A linear classifier alone cannot separate the spirals",
             paper="not linearly separable", ours=hist_linear.test_accuracy[-1], check=nngeom.at_most(0.8),
             kind="check", note="a property of the two-spirals data set, the baseline of the figure");

# %% [markdown]
# ```{glue:figure} s3_1-fig12
# :name: fig-s3_1-fig12
#
# Recomputes Figure 12 of the document: keys and their shift vectors in the input plane (left) and the shifted
# points with the linear decision boundary (right). Look at whether the shifts carry the two arms apart so that
# one line separates the colours on the right.
# ```

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# Table 3 is recomputed from scratch at the document's scale where the profile allows it: each mean is compared with
# the document's through a Welch interval built from our per-seed values and the document's standard deviation over
# 20 seeds, each spread through an F test, and each maximum against the 95 % band of the maximum of 20 draws from a
# normal with our mean and spread. At the small widths the key draw
# decides the accuracy, so the reconstruction choices of the draw and of the similarity are measured side by side.

# %%
means = [r for (n, h), r in t3_rows.items()]
agree = [f"{n} h={h}" for (n, h), r in t3_rows.items() if r["verdict"] == "reproduced"]
differ = [f"{n} h={h} ({np.mean(r['ours']):.1f} against {r['paper']})" for (n, h), r in t3_rows.items()
          if r["verdict"] == "differs"]
lines = [f"Of the {len(means)} Table 3 means, {len(agree)} agree with the document within the Welch interval"
         + (f" and {len(differ)} differ: {', '.join(differ)}." if differ else ".")]
for (n, h), c in choices.items():
    lines.append(f"At {n} h={h} our uniform draws give {c['ours (uniform)'].mean():.2f}, the authors' exact pipeline "
                 f"{c[AUTHORS].mean():.2f}, a stratified draw "
                 f"{c['stratified per class'].mean():.2f}, and {len(extra[(n, h)])} uniform draws "
                 f"{extra[(n, h)].mean():.2f}, against the document's {PAPER_T3[n]['mean'][PAPER_WIDTHS.index(h)]}.")
lines.append(f"Among the similarity functions, non-convex ones peaked away from their key in "
             f"{fd_fail['ours']['-x^2']} (-x^2) and {fd_fail['ours']['exp(-x^2)']} (exp(-x^2)) neurons of "
             f"{5 * S.n_configs} (**{fd_fail['verdict']}**); the convex ones never did, as the theorem requires.")
lines.append(f"The local residual MLP reached {hist.test_accuracy[-1]:.1%} test accuracy on the spirals against "
             f"{hist_linear.test_accuracy[-1]:.1%} for a linear classifier (**{spiral_row['verdict']}**).")
spread_rows = [r for r in nngeom.book.ledger.current_rows()
               if r["id"].startswith("A.T3.") and r["id"].endswith((".std", ".max")) and r["verdict"] != "not judged at this profile"]
spread_differ = [r["id"] for r in spread_rows if r["verdict"] == "differs"]
if spread_rows:
    lines.append(f"Of the {len(spread_rows)} standard-deviation and maximum rows, {len(spread_differ)} differ"
                 + (f" ({', '.join(spread_differ)})" if spread_differ else "")
                 + f"; at the 95 % level about {0.05 * len(spread_rows):.1f} would differ by chance alone.")
nngeom.reading("\n\n".join(lines))
