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
# # 2.4-2.5 Metrics and generalised distances as transform in an MLP
#
# *Metric as Transform*, sections 2.4 and 2.5, Table 1. The document replaces the first layer of a
# two-layer MLP by a distance and trains it on Fashion-MNIST:
#
# $$\text{Layer1} \to \text{BatchNorm1d(affine=False)} \to \text{LayerNorm} \to \text{ELU} \to \text{Linear}(h, 10),$$
#
# with Layer1 one of: the $\ell^p$ distance $d_p(x, w_j) = (\sum_i |x_i - w_{ji}|^p)^{1/p}$ for
# $p \in \{0.5, 1, 2, 20\}$; *i-stereo* (inverse stereographic projection of $x$ onto the sphere of
# $\mathbb{R}^{785}$, then the cosine with unit-norm weights); the ordinary linear layer; and three
# learnable generalised distances of section 2.5, "with similar number of parameters for comparison": an
# input-convex network (*convex*), an invertible residual flow followed by a distance to centres (*invex*) and the
# same network without the spectral normalisation that makes it invertible (*ordinary*). Each cell of Table 1 is
# mean $\pm$ std (max) over seeds of the best test accuracy over epochs, for widths $h \in \{5, 10, 20, 100, 500\}$.
#
# The document states that "various metrics perform similar to dot product", that normalisation (BatchNorm,
# LayerNorm or softmax) is needed to optimise these networks, that "these notion of learnable generalized
# distances work", and it attributes the lower accuracy of the ordinary network to it not being a generalised
# metric.
#
# **Settings.** The authors' code trains with Adam (lr $10^{-4}$), batch 50, a cosine schedule over 50 epochs,
# 8 seeds, on the full training set; that is the `paper` profile. The `cpu` profile keeps the architecture,
# batch size, optimiser and schedule, but trains on a stratified subset of 8 000 training images for 5 epochs
# with lr $10^{-3}$ (to compensate for about 75 times fewer steps), 2 seeds, and tests on 2 000 test images;
# it stops at $h = 100$, because the $h = 500$ column alone would take four fifths of its time. (With 16 000
# images and $h$ up to 100 this notebook took 1,240 s on 2 cores, half of the whole book's budget.)
# Inputs are scaled to $[-1, 1]$ (the range the document uses in section 3.2).
#
# **Parameter budget of the generalised distances.** The document gives neither the inner architecture of the
# convex / invex / ordinary networks nor their parameter counts, only "similar number of parameters". Our rule:
# the inner width $k$ of each is chosen so that its Layer1 has the parameter count closest to the linear Layer1 of
# the same column, $784h + h$ (`nngeom.metric.generalized.matched_hidden`; the counts are
# `nngeom.metric.generalized.layer1_parameters`). These *matched* rows are the ones compared with the document's rows.
# The invex and ordinary networks cannot meet that budget: their $h$ centres in $\mathbb{R}^{784}$ alone cost
# $784h$, and the residual block $784 \to k \to 784$ adds $1569k$, so even $k = 1$ (the smallest network, a rank-one
# residual) is above the linear budget. We therefore also train all three at a second, fixed budget, inner width
# `hidden` (100, about 40 times the linear layer's parameters at $h = 5$), and show both; the table gives every
# row's Layer1 parameter count.

# %% tags=["parameters"]
profile = "cpu"
transforms = None       # Layer1 choices (rows of Table 1)
widths = None           # hidden widths h (columns of Table 1)
seeds = None            # number of seeds per cell
n_train = None          # training images (None in a profile means all 60 000)
n_test = None           # test images (None in a profile means all 10 000)
epochs = None
batch_size = None
lr = None
hidden = None           # second, fixed inner width of the convex / invex / ordinary networks
ablation_widths = None  # widths of the normalisation ablation (l2 and linear, with and without BatchNorm + LayerNorm)

# %% tags=["hide-input"]
import functools
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from myst_nb import glue

import nngeom
from nngeom.metric.generalized import GENERALISED, TABLE1_TRANSFORMS, layer1_parameters, matched_hidden, metric_mlp
from nngeom.train import fit_classifier

ALL = list(TABLE1_TRANSFORMS)
PROFILES = {
    "smoke": {"transforms": ALL, "widths": [5], "seeds": 1, "n_train": 200, "n_test": 100, "epochs": 1,
              "batch_size": 50, "lr": 1e-3, "hidden": 8, "ablation_widths": [5]},
    # cpu: the h = 500 column would take four fifths of this notebook's time (the distance layers cost O(h)); the
    # paper profile runs it
    "cpu": {"transforms": ALL, "widths": [5, 10, 20, 100], "seeds": 2, "n_train": 8000, "n_test": 2000,
            "epochs": 5, "batch_size": 50, "lr": 1e-3, "hidden": 100, "ablation_widths": [20]},
    "paper": {"transforms": ALL, "widths": [5, 10, 20, 100, 500], "seeds": 8, "n_train": 60000,
              "n_test": 10000, "epochs": 50, "batch_size": 50, "lr": 1e-4, "hidden": 100,
              "ablation_widths": [20, 100]},
}
BOUNDS = {"widths": (1, None), "seeds": (1, None), "n_train": (50, 60000), "n_test": (10, 10000),
          "epochs": (1, None), "batch_size": (2, None), "lr": (0, None), "hidden": (1, None),
          "ablation_widths": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s2_4_metric_mlp", bounds=BOUNDS)
unknown = sorted(set(S.transforms) - set(ALL))
if unknown:
    raise ValueError(f"unknown transform(s) {unknown}: choose from {ALL}")

# %% [markdown]
# ## The document's Table 1
#
# Mean, standard deviation and maximum of the best test accuracy (%) over 8 seeds. The extracted text of the
# document lost the labels of the first four rows (the $\ell^p$ symbols were stripped with the rest of the
# mathematics, leaving rows that start with an empty cell); `seeds/README.md` restores them, from the document's
# context (the $\ell^p$ paragraph of section 2.4) and the authors' code, as $\ell^{0.5}, \ell^1, \ell^2, \ell^{20}$ in
# that order. That labelling is our reading, not text of the document.

# %%
PAPER = {  # transform -> [(mean, std, max) for h = 5, 10, 20, 100, 500]; the first four labels are our reading
    "l0.5": [(72.92, 1.07, 74.46), (78.06, 0.41, 78.79), (80.13, 0.34, 80.84),
             (83.16, 0.05, 83.22), (84.74, 0.20, 85.13)],
    "l1": [(76.98, 0.70, 77.89), (81.71, 0.14, 81.92), (82.95, 0.27, 83.43),
             (85.36, 0.10, 85.52), (87.02, 0.17, 87.35)],
    "l2": [(77.84, 0.76, 78.92), (82.86, 0.18, 83.22), (83.72, 0.26, 84.16),
             (86.16, 0.09, 86.31), (87.67, 0.08, 87.74)],
    "l20": [(79.39, 0.80, 80.45), (82.90, 0.49, 83.62), (83.97, 0.26, 84.34),
             (85.80, 0.15, 86.02), (87.63, 0.11, 87.79)],
    "istereo": [(80.90, 0.60, 81.79), (84.96, 0.18, 85.25), (86.32, 0.17, 86.59),
             (88.23, 0.17, 88.43), (89.32, 0.10, 89.52)],
    "linear": [(81.17, 0.33, 81.70), (84.92, 0.21, 85.28), (86.47, 0.11, 86.67),
             (88.42, 0.09, 88.55), (89.72, 0.07, 89.80)],
    "convex": [(88.29, 0.12, 88.48), (88.96, 0.20, 89.30), (88.90, 0.09, 88.99),
             (88.48, 0.18, 88.75), (88.49, 0.15, 88.67)],
    "invex": [(88.54, 0.26, 88.96), (89.29, 0.12, 89.51), (88.18, 0.81, 89.42),
             (88.19, 0.26, 88.48), (89.11, 0.29, 89.48)],
    "ordinary": [(84.35, 0.49, 84.88), (85.91, 0.26, 86.26), (86.14, 0.58, 87.24),
             (87.09, 0.37, 87.55), (87.50, 0.21, 87.92)],
}
PAPER_WIDTHS = [5, 10, 20, 100, 500]
PAPER_SEEDS = 8  # the authors' code


def fmt(mean, std, best):
    return f"{mean:.2f} ± {std:.2f} ({best:.2f})"


pd.DataFrame({f"h={h}": [fmt(*PAPER[t][i]) for t in ALL] for i, h in enumerate(PAPER_WIDTHS)}, index=ALL)

# %% [markdown]
# ## Parameter budgets
#
# Layer1 parameters of every row at every width (in brackets: relative to the linear layer $784h + h$; $k$: the inner
# width): the fixed transforms, the generalised distances at the inner width matched to the linear row, and at the
# fixed inner width `hidden`.

# %%
D = 784
all_widths = sorted(set(S.widths) | set(S.ablation_widths))
inner = {(name, h): matched_hidden(name, D, h) for name in GENERALISED for h in all_widths}
budget_rows = []
for h in S.widths:
    linear_count = layer1_parameters("linear", D, h)
    for name in S.transforms:
        budgets = [("matched", inner[(name, h)]), ("fixed", S.hidden)] if name in GENERALISED else [("", None)]
        for budget, k in budgets:
            count = layer1_parameters(name, D, h, k or 1)
            shown = f"{count:,} ({count / linear_count:.2f}x)" + (f", k = {k}" if k else "")
            budget_rows.append({"transform": name, "budget": budget or "-", "h": f"h={h}", "Layer1 parameters": shown})
budgets = pd.DataFrame(budget_rows)
budgets.pivot_table(index=["transform", "budget"], columns="h", values="Layer1 parameters", aggfunc="first",
                    sort=False)

# %% [markdown]
# ## Training every cell
#
# Each run is cached under `_build/cache` keyed by its settings, so rerunning the notebook (or another
# notebook asking for the same model) does not retrain. The fixed transforms are trained by exactly the same call
# whatever the generalised rows' budgets. Row labels: the document's name for the fixed transforms and for the
# generalised distances at the matched budget; `<name> (k=<hidden>)` for the fixed inner width.

# %%
@functools.lru_cache(maxsize=2)
def fashion_mnist(n_train, n_test):
    """Seeded subsets of Fashion-MNIST in [-1, 1] (None: the whole split)."""
    train = nngeom.data.load_subset("fashion_mnist", "train", n_train, seed=0, flatten=True, normalize="symmetric")
    test = nngeom.data.load_subset("fashion_mnist", "test", n_test, seed=0, flatten=True, normalize="symmetric")
    return train, test


def train_cell(transform, width, seed, n_train, n_test, epochs, batch_size, lr, hidden):
    """One run of one cell of Table 1; cached, with these arguments as its key."""
    (x_train, y_train), (x_test, y_test) = fashion_mnist(n_train, n_test)
    nngeom.seed_everything(seed)
    model = metric_mlp(transform, x_train.shape[1], width, 10, hidden=hidden)
    start = time.perf_counter()
    history = fit_classifier(model, (x_train, y_train), (x_test, y_test), epochs=epochs, batch_size=batch_size,
                             lr=lr, optimizer="adam", schedule="cosine", seed=seed, progress=False)
    return {**history.as_dict(), "seconds": time.perf_counter() - start}


N_TRAIN = S.n_train if S.n_train < 60000 else None
N_TEST = S.n_test if S.n_test < 10000 else None
(x_train, y_train), (x_test, y_test) = fashion_mnist(N_TRAIN, N_TEST)
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}, inputs in [{x_train.min():.0f}, {x_train.max():.0f}]")


def cell(transform, width, hidden):
    """Per-seed best test accuracies (%) and training seconds of one cell."""
    runs = [nngeom.cached("metric-mlp", train_cell, transform=transform, width=width, seed=seed, n_train=N_TRAIN,
                          n_test=N_TEST, epochs=S.epochs, batch_size=S.batch_size, lr=S.lr, hidden=hidden)
            for seed in nngeom.sweep(range(S.seeds), "seeds")]
    best = np.array([100 * max(r["test_accuracy"]) for r in runs])
    return {"best": best, "mean": best.mean(), "std": best.std(ddof=1) if len(best) > 1 else 0.0, "max": best.max(),
            "seconds": sum(r["seconds"] for r in runs), "hidden": hidden,
            "params": layer1_parameters(transform, D, width, hidden)}


ROWS = {}  # row label -> (transform, inner width per width; None: the matched one)
for name in S.transforms:
    if name in GENERALISED:
        ROWS[name] = (name, None)
        ROWS[f"{name} (k={S.hidden})"] = (name, S.hidden)
    else:
        ROWS[name] = (name, S.hidden)  # the fixed transforms ignore hidden: the call stays the one it always was
results = {}
start = time.perf_counter()
for label, (name, k) in ROWS.items():
    for width in S.widths:
        results[(label, width)] = cell(name, width, inner[(name, width)] if k is None else k)
    print(f"{label:>16}: " + "  ".join(f"h={w}: {results[(label, w)]['mean']:.2f}" for w in S.widths))
print(f"total {time.perf_counter() - start:.0f} s (training time of the cached runs: "
      f"{sum(r['seconds'] for r in results.values()):.0f} s)");

# %% [markdown]
# ## Our table beside the document's

# %%
rows = []
for label, (name, _) in ROWS.items():
    for width in S.widths:
        r = results[(label, width)]
        paper = PAPER[name][PAPER_WIDTHS.index(width)] if width in PAPER_WIDTHS else (np.nan,) * 3
        rows.append({"row": label, "h": width, "Layer1 parameters": r["params"],
                     "inner width k": r["hidden"] if name in GENERALISED else "",
                     "ours": fmt(r["mean"], r["std"], r["max"]), "paper": fmt(*paper), "ours mean": round(r["mean"], 2),
                     "paper mean": paper[0], "ours - paper": round(r["mean"] - paper[0], 2),
                     "train s": round(r["seconds"], 1)})
table = pd.DataFrame(rows).set_index(["row", "h"])
table

# %%
long = pd.DataFrame([{"row": label, "h": w, "accuracy": a, "budget": "fixed k" if "(k=" in label else "matched"}
                     for (label, w), r in results.items() for a in r["best"]])
fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), sharey=True)
palette = dict(zip(ROWS, sns.color_palette("tab10", len(ROWS)) if len(ROWS) <= 10 else sns.color_palette("husl", len(ROWS))))
sns.lineplot(data=long, x="h", y="accuracy", hue="row", style="budget", markers=True, errorbar="sd", palette=palette,
             ax=axes[0], legend=False)
paper_long = pd.DataFrame([{"row": t, "h": h, "accuracy": PAPER[t][i][0]} for t in S.transforms
                           for i, h in enumerate(PAPER_WIDTHS)])
sns.lineplot(data=paper_long, x="h", y="accuracy", hue="row", marker="s", palette=palette, ax=axes[1])
for ax, title in zip(axes, [f"ours ({S.profile} profile; dashed: fixed inner width k = {S.hidden})",
                            "document (Table 1)"]):
    ax.set(xscale="log", xlabel="hidden width h", ylabel="best test accuracy (%)", title=title)
axes[1].legend(ncol=3, fontsize=8)
fig.tight_layout()
glue("s2_4-table1", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s2_4-table1
# :name: fig-s2_4-table1
#
# Recomputes Table 1 of the document as curves: best test accuracy against the hidden width $h$ for every Layer1
# (left, ours, mean and per-seed spread; right, the document's means). Look at the vertical order of the rows at each
# width (whether the metric rows track the linear one, and where the generalised distances sit at small $h$), not at
# the absolute level, which depends on the training budget of the profile.
# ```

# %% [markdown]
# ## Normalisation ablation
#
# Section 2.4 says the normalisation after Layer1 is needed to optimise the metric networks. We train the $\ell^2$
# network and, as a control, the linear one at the widths `ablation_widths`, with the Table 1 normalisation
# (BatchNorm1d + LayerNorm, the same cached runs as the table) and without it (Layer1 $\to$ ELU $\to$ Linear), at
# the profile's budget and seeds.

# %%
def train_unnormalised(transform, width, seed, n_train, n_test, epochs, batch_size, lr):
    """One run of the Table 1 network without BatchNorm and LayerNorm; cached, with these arguments as its key."""
    (x_train, y_train), (x_test, y_test) = fashion_mnist(n_train, n_test)
    nngeom.seed_everything(seed)
    model = metric_mlp(transform, x_train.shape[1], width, 10, normalize=False)
    start = time.perf_counter()
    history = fit_classifier(model, (x_train, y_train), (x_test, y_test), epochs=epochs, batch_size=batch_size,
                             lr=lr, optimizer="adam", schedule="cosine", seed=seed, progress=False)
    return {**history.as_dict(), "seconds": time.perf_counter() - start}


ABLATION = ["l2", "linear"]
ablation = {}
for name in ABLATION:
    for width in S.ablation_widths:
        plain = [nngeom.cached("metric-mlp-unnormalised", train_unnormalised, transform=name, width=width, seed=seed,
                               n_train=N_TRAIN, n_test=N_TEST, epochs=S.epochs, batch_size=S.batch_size, lr=S.lr)
                 for seed in nngeom.sweep(range(S.seeds), "seeds")]
        ablation[(name, width)] = {"with": cell(name, width, S.hidden)["best"],
                                   "without": np.array([100 * max(r["test_accuracy"]) for r in plain]),
                                   "seconds": sum(r["seconds"] for r in plain)}
ablation_table = pd.DataFrame([{"Layer1": n, "h": w, "with BatchNorm + LayerNorm": round(v["with"].mean(), 2),
                                "without": round(v["without"].mean(), 2),
                                "difference": round(v["with"].mean() - v["without"].mean(), 2),
                                "train s (without)": round(v["seconds"], 1)} for (n, w), v in ablation.items()])
ablation_table.set_index(["Layer1", "h"])

# %% [markdown]
# ## Claims
#
# **Cells.** Each cell of Table 1 (fixed transforms and the matched generalised rows) is compared with the document's
# mean through the Welch interval of the two means (ours: our seeds; the document's: its std over 8 seeds). They are
# judged only at the `paper` profile: at `cpu` every network sees 8 000 images for 5 epochs instead of 60 000 for 50,
# and a shortfall that this budget causes (the cpu table below gives its size per cell) would be judged against the
# document's per-cell stds (0.05-1.07 points), so a test at `cpu` would measure our budget, not the document.
#
# **"Various metrics perform similar to dot product".** The document gives no tolerance for "similar", and its own
# table calls gaps of up to 8 points similar ($\ell^{0.5}$ at $h = 5$). Rule: for every metric row it includes
# ($\ell^{0.5}$, $\ell^1$, $\ell^2$, $\ell^{20}$, i-stereo) and every width, our per-seed gap to the linear row
# (metric seed $s$ minus linear seed $s$) must not lie below the document's gap (its metric mean minus its linear
# mean) beyond the one-sided 95 % Welch bound, taking the document's per-seed std of a gap as
# $\sqrt{s_m^2 + s_{lin}^2}$ over 8 seeds (with our 2 seeds at `cpu` the two spreads are pooled, see
# `nngeom.book.checks.welch_interval`). An earlier, two-sided version of this rule (fixed before our first results)
# also failed rows where our metric came closer to linear than the document's, which supports the statement; an
# outside reader pointed this out and the rule is now one-sided. The gaps are compared at equal budget, so they are
# judged at `cpu` too; with 25 tests at 95 %, about one failure is expected by chance even if every gap agrees.
#
# **Generalised distances** (section 2.5, matched budget): at $h = 5$, convex and invex above every other row, both
# above every fixed transform, and ordinary below invex, each a one-sided Welch test at 95 % between the
# per-seed values of the weakest row of one group and the strongest of the other (with a single seed, a plain
# comparison of the values). The document is not consistent about the ordinary network: its text credits "the low
# accuracy of ordinary neural network" to it not being a generalised metric, yet in its own Table 1 ordinary is above
# every fixed transform at $h = 5$ (84.35 against linear's 81.17) and $h = 10$ (85.91 against 84.96); it is low only
# against convex and invex. We therefore judge ordinary against invex only, and leave it out of "generalised beats
# fixed".
#
# **Normalisation**: the $\ell^2$ network with normalisation above the same network without it, one-sided Welch.

# %%
def above(other):
    """mean_above when both sides have several seeds, else a plain comparison of the (single) values."""
    return nngeom.mean_above(per_seed(other)) if S.seeds > 1 else nngeom.greater_than(float(np.mean(other)))


def below(other):
    return nngeom.mean_below(per_seed(other)) if S.seeds > 1 else nngeom.less_than(float(np.mean(other)))


def per_seed(values):
    return [round(float(a), 2) for a in values]


def compared(values):
    """``ours`` of a comparison claim: the per-seed values, or the single value with one seed."""
    return per_seed(values) if S.seeds > 1 else round(float(values[0]), 2)


def seeds_of(label, width):
    return per_seed(results[(label, width)]["best"])


SCALE = (f"scale: {S.n_train:,} images for {S.epochs} epochs at lr {S.lr:g} instead of 60,000 for 50 at lr 1e-4; the "
         f"transforms do not converge at the same rate, so after {S.epochs} epochs their gaps need not be the "
         "converged ones")
cause_scale = SCALE if S.profile != "paper" else None

for name in S.transforms:
    for width in S.widths:
        if width in PAPER_WIDTHS:
            mean_p, std_p, _ = PAPER[name][PAPER_WIDTHS.index(width)]
            k = f", matched inner width k = {results[(name, width)]['hidden']}" if name in GENERALISED else ""
            nngeom.claim(f"A.T1.{name}.h{width}", f"Table 1, {name}, h = {width}{k}: best test accuracy (%), "
                         "ours per seed against the document's mean", paper=mean_p, ours=seeds_of(name, width),
                         check=nngeom.mean_consistent(paper_std=std_p, paper_n=PAPER_SEEDS),
                         source=f"sec. {'2.5' if name in GENERALISED else '2.4'}, Table 1 ({name}, h = {width})",
                         judged_at=("paper",),
                         note=f"judged at paper only: the cpu budget ({PROFILES['cpu']['n_train']:,} images, "
                              f"{PROFILES['cpu']['epochs']} epochs, lr {PROFILES['cpu']['lr']:g}) lowers accuracies "
                              "by far more than the document's per-cell std")

METRICS = [t for t in ("l0.5", "l1", "l2", "l20", "istereo") if t in S.transforms]
similar = {}


def gap_check(name, width):
    """The one-sided rule of the rows below, and the per-seed gaps and the document's gap it is applied to."""
    i = PAPER_WIDTHS.index(width)
    gaps = results[(name, width)]["best"] - results[("linear", width)]["best"]
    paper_gap = PAPER[name][i][0] - PAPER["linear"][i][0]
    paper_std = float(np.hypot(PAPER[name][i][1], PAPER["linear"][i][1]))
    return nngeom.mean_not_below(paper_std=paper_std, paper_n=PAPER_SEEDS), gaps, paper_gap


def similar_cause(name, width):
    """The budget, unless other metrics pass at the same width and budget: then the numbers, and the cause is open."""
    if cause_scale is None:
        return None
    passing = [m for m in METRICS if m != name and gap_check(m, width)[0].evaluate(
        [float(g) for g in gap_check(m, width)[1]], gap_check(m, width)[2], {}).passed]
    if not passing:
        return cause_scale
    short = ", ".join(f"h{w} {float(np.mean(gap_check(name, w)[1])) - gap_check(name, w)[2]:+.1f}"
                      for w in S.widths if w in PAPER_WIDTHS)
    return (f"open: {name}'s gap to linear falls short of the document's by {short} points, while "
            f"{', '.join(passing)} pass at h = {width} under the same budget, so the budget alone does not explain "
            f"this row; untested candidates: the learning rate (ours {S.lr:g}, document 1e-4) and, for p < 2, the "
            "gradient |t|^(p - 1) of the l^p layer near t = 0")


if "linear" in S.transforms:
    for name in METRICS:
        for width in S.widths:
            if width not in PAPER_WIDTHS:
                continue
            _, gaps, paper_gap = gap_check(name, width)
            i = PAPER_WIDTHS.index(width)
            paper_std = float(np.hypot(PAPER[name][i][1], PAPER["linear"][i][1]))
            similar[(name, width)] = nngeom.claim(
                f"A.T1.similar-to-linear.{name}.h{width}", f"{name} performs similar to the dot product at "
                f"h = {width}: our per-seed gap to linear (points) is not below the document's gap",
                paper=round(paper_gap, 2), ours=[round(float(g), 2) for g in gaps],
                check=nngeom.mean_not_below(paper_std=paper_std, paper_n=PAPER_SEEDS),
                source="sec. 2.4, Table 1: \"various metrics perform similar to dot product\"",
                cause=similar_cause(name, width),
                note="'similar' read as a gap to linear no worse than the one the document shows as similar "
                     "(one-sided, 95 %): a metric closer to linear than in the document supports the statement")

small = min(S.widths)
h5 = small == 5
table_rows = list(S.transforms)  # the document's rows: fixed transforms and matched generalised distances
fixed = [t for t in table_rows if t not in GENERALISED]
generalised = [t for t in table_rows if t in GENERALISED]
judged = ("cpu", "paper") if h5 else ("paper",)


def weakest(names, width):
    return min(names, key=lambda t: results[(t, width)]["mean"])


def strongest(names, width):
    return max(names, key=lambda t: results[(t, width)]["mean"])


def at_fixed_k(name):
    """The row label of a generalised distance at the fixed inner width (a fixed transform keeps its label)."""
    return f"{name} (k={S.hidden})" if name in GENERALISED else name


def budget_cause(above, below):
    """The cause of a failed "every row of ``above`` beats every row of ``below``" at h = small, computed from both
    budgets: the parameter budget when the statement holds at the fixed inner width, else open with both."""
    def compare(label):
        lo = min(above, key=lambda t: results[(label(t), small)]["mean"])
        hi = max(below, key=lambda t: results[(label(t), small)]["mean"])
        return lo, hi, results[(label(lo), small)]["mean"], results[(label(hi), small)]["mean"]
    lo, hi, m_lo, m_hi = compare(lambda t: t)
    matched = f"matched budget: {lo} {m_lo:.2f} against {hi} {m_hi:.2f}"
    if not all((at_fixed_k(t), small) in results for t in above + below):
        return "open: " + matched
    f_lo, f_hi, fm_lo, fm_hi = compare(at_fixed_k)
    fixed_k = f"fixed inner width k = {S.hidden}: {at_fixed_k(f_lo)} {fm_lo:.2f} against {at_fixed_k(f_hi)} {fm_hi:.2f}"
    budget = "" if S.profile == "paper" else f" (this profile trains {S.n_train:,} images for {S.epochs} epochs)"
    if fm_lo > fm_hi:
        return (f"reconstruction: the generalised rows' parameter budget, which the document does not give (inner "
                f"width k = {inner[('convex', small)]} at the matched budget): {matched}; at the {fixed_k}, the "
                f"statement holds{budget}")
    return f"open: it fails at both budgets ({matched}; {fixed_k}){budget}"


if {"convex", "invex"} <= set(table_rows) and len(table_rows) > 2:
    others = [t for t in table_rows if t not in ("convex", "invex")]
    low, high = weakest(["convex", "invex"], small), strongest(others, small)
    nngeom.claim("A.T1.convex-invex-best-h5", f"Table 1 at h = {small}: convex and invex (matched budget) are the two "
                 f"best rows; ours = per-seed accuracy of the weaker of the two ({low}) against the strongest other "
                 f"row ({high})", paper=round(min(PAPER["convex"][0][0], PAPER["invex"][0][0])
                                              - max(PAPER[t][0][0] for t in others), 2),
                 ours=compared(results[(low, small)]["best"]), check=above(results[(high, small)]["best"]),
                 source="sec. 2.5, Table 1 (h = 5: convex 88.29, invex 88.54, next best 84.35)",
                 cause=budget_cause(["convex", "invex"], others), judged_at=judged,
                 note="paper = the document's margin (points)")
learnable = [t for t in generalised if t != "ordinary"]  # sec. 2.5: ordinary is "not being a generalized form of metric"
if learnable and fixed:
    low, high = weakest(learnable, small), strongest(fixed, small)
    nngeom.claim("A.T1.generalised-beat-fixed-h5", f"Table 1 at h = {small}: both learnable generalised distances "
                 f"(convex, invex) beat every fixed transform; ours = per-seed accuracy of the weaker ({low}) "
                 f"against the strongest fixed one ({high})",
                 paper=round(min(PAPER[t][0][0] for t in learnable) - max(PAPER[t][0][0] for t in fixed), 2),
                 ours=compared(results[(low, small)]["best"]), check=above(results[(high, small)]["best"]),
                 source="sec. 2.5, Table 1 (h = 5: convex 88.29, invex 88.54; best fixed transform, linear, 81.17)",
                 cause=budget_cause(learnable, fixed), judged_at=judged,
                 note="paper = the document's margin (points); a reading of the table, which the text sums up as "
                      "'these notion of learnable generalized distances work'; ordinary is left out, as the text "
                      "says it is not a generalised metric")
if {"invex", "ordinary"} <= set(table_rows):
    nngeom.claim("A.T1.ordinary-below-invex", f"the ordinary network is below the invex one at h = {small}; ours = "
                 "per-seed accuracy of ordinary against invex (matched budget)",
                 paper=round(PAPER["ordinary"][0][0] - PAPER["invex"][0][0], 2),
                 ours=compared(results[("ordinary", small)]["best"]), check=below(results[("invex", small)]["best"]),
                 source="sec. 2.5, Table 1: \"we may credit the low accuracy of ordinary neural network to it not "
                        "being a generalized form of metric\"",
                 cause=budget_cause(["invex"], ["ordinary"]), judged_at=judged,
                 note="paper = the document's difference (points)")

# The same comparisons at the wider columns, where Table 1 reverses the picture (linear and i-stereo above both
# generalised distances at h = 500), judged where the budget is the document's (paper).
for width in [w for w in S.widths if w != small and w in PAPER_WIDTHS]:
    k = PAPER_WIDTHS.index(width)
    if {"invex", "ordinary"} <= set(table_rows):
        nngeom.claim(f"A.T1.ordinary-below-invex.h{width}", f"the ordinary network is below the invex one at h = "
                     f"{width}; ours = per-seed accuracy of ordinary against invex (matched budget)",
                     paper=round(PAPER["ordinary"][k][0] - PAPER["invex"][k][0], 2),
                     ours=compared(results[("ordinary", width)]["best"]),
                     check=below(results[("invex", width)]["best"]),
                     source=f"sec. 2.5, Table 1 (h = {width}: ordinary {PAPER['ordinary'][k][0]}, invex "
                            f"{PAPER['invex'][k][0]})", judged_at=("paper",), note="paper = the document's difference")
    if width == 500 and {"linear", "convex", "invex"} <= set(table_rows):
        strong = strongest(["convex", "invex"], width)
        nngeom.claim("A.T1.linear-above-generalised-h500", "Table 1 at h = 500: the linear layer is above both "
                     f"learnable generalised distances; ours = per-seed accuracy of linear against the stronger "
                     f"({strong})", paper=round(PAPER["linear"][k][0] - max(PAPER["convex"][k][0],
                                                                            PAPER["invex"][k][0]), 2),
                     ours=compared(results[("linear", width)]["best"]), check=above(results[(strong, width)]["best"]),
                     source="sec. 2.5, Table 1 (h = 500: linear 89.72, invex 89.11, convex 88.49)",
                     judged_at=("paper",), note="paper = the document's margin (points)")

for width in S.ablation_widths:
    v = ablation[("l2", width)]
    nngeom.claim(f"A.2.4.normalisation-needed.l2.h{width}", f"the l2 network (h = {width}) optimises better with "
                 "BatchNorm + LayerNorm after Layer1 than without; ours = per-seed best test accuracy with it, "
                 "against without", paper="needed to optimise", ours=compared(v["with"]), check=above(v["without"]),
                 source="sec. 2.4: \"normalization like BatchNorm ... and LayerNorm ... helps in optimization, "
                        "without which we could not efficiently optimize the network\"")

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# Method: cells against the document's only at `paper`; gaps to linear, the generalised-distance comparisons and
# the normalisation ablation at the profile that ran (verdicts in the table above). The sentences below are computed
# from this run.

# %%
ledger = {r["id"]: r for r in nngeom.book.ledger.current_rows()}
cells = [r for i, r in ledger.items() if i.startswith("A.T1.") and i.split(".")[-1].startswith("h")
         and "similar" not in i]
shortfall = np.mean([np.mean(r["ours"]) - r["paper"] for r in cells]) if cells else float("nan")
text = [f"**Cells.** At the `{S.profile}` profile our cells lie on average {shortfall:+.2f} points from the "
        "document's; " + (f"{sum(r['verdict'] == 'reproduced' for r in cells)} of {len(cells)} are consistent with "
                          "it." if S.profile == "paper" else "they are not judged at this profile.")]
if similar:
    ok = [k for k, r in similar.items() if r["passed"]]
    bad = [f"{n} at h = {w} ({np.mean(similar[(n, w)]['ours']):+.2f} against {similar[(n, w)]['paper']:+.2f})"
           for (n, w), r in similar.items() if not r["passed"]]
    judged_here = next(iter(similar.values()))["verdict"] != nngeom.book.ledger.NOT_JUDGED
    text.append(f"**Similar to dot product.** {len(ok)} of {len(similar)} gaps to the linear row are not below "
                "the document's (one-sided)" + (f"; below it: {', '.join(bad)}" if bad else "")
                + ("." if judged_here else " (not judged at this profile)."))
gen_ids = ["A.T1.convex-invex-best-h5", "A.T1.generalised-beat-fixed-h5", "A.T1.ordinary-below-invex"]
if all(i in ledger for i in gen_ids) and ("invex", small) in inner:
    over = layer1_parameters("invex", D, small, 1) / layer1_parameters("linear", D, small)
    text.append(
        f"**Generalised distances.** At h = {small} the matched budget gives the ICNN k = {inner[('convex', small)]} "
        f"inner units and the flows k = 1, whose Layer1 has {over:.1f} times the linear layer's parameters. With it, "
        f"convex and invex are the two best rows: **{ledger[gen_ids[0]]['verdict']}**"
        + (f" ({ledger[gen_ids[0]]['detail']})" if ledger[gen_ids[0]]["detail"] else "") + "; "
        f"convex and invex above every fixed row: **{ledger[gen_ids[1]]['verdict']}**; ordinary below invex: "
        f"**{ledger[gen_ids[2]]['verdict']}**. At the fixed inner width k = {S.hidden} the three reach "
        + ", ".join(f"{n} {results[(f'{n} (k={S.hidden})', small)]['mean']:.2f}" for n in GENERALISED
                    if (f"{n} (k={S.hidden})", small) in results)
        + f" against the best fixed row's {max(results[(t, small)]['mean'] for t in fixed):.2f} "
          f"({max(fixed, key=lambda t: results[(t, small)]['mean'])}).")
for width in S.ablation_widths:
    r = ledger[f"A.2.4.normalisation-needed.l2.h{width}"]
    v = ablation[("l2", width)]
    lin = ablation[("linear", width)]
    text.append(f"**Normalisation (h = {width}).** l2 with BatchNorm + LayerNorm {np.mean(r['ours']):.2f}, without "
                f"{ablation[('l2', width)]['without'].mean():.2f}: **{r['verdict']}**; the linear control "
                f"{lin['with'].mean():.2f} with, {lin['without'].mean():.2f} without.")
nngeom.reading("\n\n".join(text))
