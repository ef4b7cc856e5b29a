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
# # 3.3 Noisy centre search
#
# *Metric as Transform*, section 3.3 and Figure 20. Because local neurons can be initialised from data, a
# dictionary MLP can be optimised without backpropagation: add random training samples as new keys (values = their
# one-hot labels), optionally fine-tune, then remove the keys that contribute least, and repeat. The document
# reports, on Fashion-MNIST with 100 hidden units and 30 search units, that this improves the accuracy **without**
# fine-tuning and also works **with** fine-tuning. It then introduces the $\epsilon$-Highway MLP
# $y = a_\epsilon x + \sum_i a_i v_i$ (the input passes where no key claims it) and searches it on two spirals with
# 20 units, adding and removing one at a time, where the local residual MLP did not converge stably.
#
# Our removal score: the training cross-entropy that the network would have without the key. For a softmax
# layer this has a closed form (the other activations are renormalised by $1/(1 - a_i)$), so every key is scored in
# one pass (`nngeom.local.centre_search`). The keys with the lowest loss-without-them are removed.
#
# Our choices (the document gives none of them): the number of search rounds and of fine-tuning steps per round
# (`rounds`, `fine_tune_steps`), Adam with learning rate $10^{-3}$ and batches of 128 for the Fashion-MNIST
# fine-tuning, $\tau = 1$ for the Fashion-MNIST dictionary, and for the spirals $\tau = 0.1$, 600 points of 1.5 turns with noise 0.02, learning rate $10^{-2}$
# and batches of 64.

# %% tags=["parameters"]
profile = "cpu"
n_train = None          # Fashion-MNIST training images the search draws from
n_test = None
n_keys = None           # hidden units
n_search = None         # units added and removed per round
rounds = None
fine_tune_steps = None  # Adam steps per round in the fine-tuned variant
tau = None
epsilon = None          # fixed epsilon of the Fashion-MNIST dictionary (authors' code: 15.0 on inputs in [-1, 1])
spiral_rounds = None
spiral_steps = None     # Adam steps per round for the highway MLP
seed = None

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from myst_nb import glue
from torch import nn

import nngeom
from nngeom.local import centre_search
from nngeom.metric import voronoi
from nngeom.local.dictionary import DictionaryMLP, EpsilonHighwayMLP, LocalResidualMLP

PROFILES = {
    "smoke": {"n_train": 2000, "n_test": 500, "n_keys": 30, "n_search": 10, "rounds": 3, "fine_tune_steps": 5,
              "tau": 1.0, "epsilon": 15.0, "spiral_rounds": 3, "spiral_steps": 5, "seed": 0},
    "cpu": {"n_train": 20000, "n_test": 5000, "n_keys": 100, "n_search": 30, "rounds": 40, "fine_tune_steps": 20,
            "tau": 1.0, "epsilon": 15.0, "spiral_rounds": 40, "spiral_steps": 20, "seed": 0},
    "paper": {"n_train": 60000, "n_test": 10000, "n_keys": 100, "n_search": 30, "rounds": 200, "fine_tune_steps": 50,
              "tau": 1.0, "epsilon": 15.0, "spiral_rounds": 200, "spiral_steps": 30, "seed": 0},
}
BOUNDS = {"n_train": (100, 60000), "n_test": (100, 10000), "n_keys": (1, None), "n_search": (1, None),
          "rounds": (0, None), "fine_tune_steps": (1, None), "tau": (1e-6, None), "epsilon": (0, None), "spiral_rounds": (0, None),
          "spiral_steps": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s3_3_noisy_centre_search", bounds=BOUNDS)

# %% [markdown]
# ## Figure 20 (left): Fashion-MNIST, 100 keys, 30 search units
#
# Inputs in $[-1, 1]$ and the document's dictionary MLP: $\epsilon$-softmax similarity ($\tau$ above) with a fixed
# $\epsilon$ = `epsilon` (the authors' noisy-search notebook, `17_Fitting_2Layer_FMNIST_noisy_centroid_selection`,
# fixes $\epsilon = 15$ on these inputs); keys and values initialised from the same random training images in every
# run. Without fine-tuning nothing is trained: keys are only added and removed. With fine-tuning, keys and values get
# `fine_tune_steps` Adam steps (learning rate $10^{-3}$, batches of 128) after each addition. The earlier version of
# this page used plain softmax; that run is kept (without fine-tuning) as a measured comparison.

# %%
x_train, y_train = nngeom.data.load_subset("fashion_mnist", "train", S.n_train, seed=S.seed, flatten=True,
                                           normalize="symmetric")
x_test, y_test = nngeom.data.load_subset("fashion_mnist", "test", S.n_test, seed=S.seed, flatten=True,
                                         normalize="symmetric")
pick = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(S.seed))[:S.n_keys]
runs, correct = {}, {}


def correct_on_test(model):
    """Per test image: classified correctly (the paired outcomes of the improvement test)."""
    return (nngeom.train.predict(model, x_test).argmax(1) == y_test).numpy()


for label, steps, kind in (("no fine-tuning", 0, "epsilon_softmax"), ("fine-tuning", S.fine_tune_steps, "epsilon_softmax"),
                           ("softmax, no fine-tuning", 0, "softmax")):
    options = {"epsilon": S.epsilon} if kind == "epsilon_softmax" else {}
    model = DictionaryMLP.from_data(x_train[pick], y_train[pick], 10, similarity=kind, tau=S.tau,
                                    **options).to(nngeom.device())
    before = correct_on_test(model)
    runs[label] = centre_search.noisy_centre_search(model, x_train, y_train, n_search=S.n_search, rounds=S.rounds,
                                                    n_classes=10, fine_tune_steps=steps, test=(x_test, y_test),
                                                    seed=S.seed, progress=False)
    correct[label] = (before, correct_on_test(model))  # the search runs in place

fig, ax = plt.subplots(figsize=(7, 3.8))
for label, hist in runs.items():
    ax.plot(100 * np.array(hist.test_accuracy), marker=".", label=label)
ax.set_xlabel("search round")
ax.set_ylabel("test accuracy (%)")
ax.set_title(f"Fashion-MNIST, {S.n_keys} keys, {S.n_search} search units")
ax.legend()
glue("s3_3-fig20-fmnist", fig, display=False)
plt.close(fig)
fmnist = pd.DataFrame({label: {"initial accuracy": h.test_accuracy[0], "final accuracy": h.test_accuracy[-1],
                               "best accuracy": max(h.test_accuracy), "initial loss": h.loss[0], "final loss": h.loss[-1]}
                       for label, h in runs.items()}).T
fmnist.round(4)

# %% [markdown]
# ```{glue:figure} s3_3-fig20-fmnist
# :name: fig-s3_3-fig20-fmnist
#
# Recomputes Figure 20 (left) of the document: Fashion-MNIST test accuracy over search rounds of the
# $\epsilon$-softmax dictionary, without and with fine-tuning, and of the plain-softmax variant without
# fine-tuning. Look at whether the curves rise from their common starting point and whether they level off.
# ```

# %%
fmnist_rows = {}
for label, key, quote in (("no fine-tuning", "no-ft", '"Doing this, without finetuening improves the performance (accuracy)"'),
                          ("fine-tuning", "ft", '"We were also successful in noisy search combined with finetuening."')):
    h = runs[label]
    before, after = correct[label]
    gain, low, high = nngeom.paired_difference(after, before, level=0.90)
    fmnist_rows[key] = nngeom.claim(
        f"A.3.3.fmnist.{key}.improves",
        f"F-MNIST noisy search ({label}, epsilon-softmax) improves test accuracy over rounds (final against initial "
        f"accuracy on the same {len(y_test)} test images, paired)", paper="improves (Fig. 20)",
        ours={"initial": float(before.mean()), "final": float(after.mean()), "gain": gain,
              "90 % interval": [low, high]},
        check=nngeom.holds(bool(low > 0), "paired 90 % interval of the gain above 0 (one-sided test at 5 %)"),
        source=f"sec. 3.3, Fig. 20: {quote}",
        note="paired on the same test images: only the images whose classification the search changed count "
             "(nngeom.paired_difference)",
        cause=f"scale: rounds = {S.rounds} on {S.n_train} training images (gain {gain:+.4f}, 90 % interval "
              f"[{low:+.4f}, {high:+.4f}])" if S.profile != "paper" else
              f"open: gain {gain:+.4f}, 90 % interval [{low:+.4f}, {high:+.4f}]")
soft_gap = runs["softmax, no fine-tuning"].test_accuracy[-1] - runs["no fine-tuning"].test_accuracy[-1]
print(f"plain softmax instead of epsilon-softmax (no fine-tuning): final accuracy {soft_gap:+.4f}")

# %% [markdown]
# ## Figure 20 (right): epsilon-Highway MLP on two spirals
#
# 20 units initialised at training points with values equal to their keys (so each starts close to the identity),
# a linear classifier on top; each round adds one random training point as a key, **trains** the layer and the
# classifier for `spiral_steps` Adam steps (learning rate $10^{-2}$) and removes the unit whose removal raises the
# loss least. So this search is not backpropagation-free: it fine-tunes between rounds, as the Fashion-MNIST
# fine-tuned variant does. $\epsilon$ is the moving average of the mean input-key distance.
#
# The document reports that the same search on the local residual MLP $y = x + \sum_i a_i v_i$ "failed to get
# stable solution that was converging", which motivated the highway. We run it with the same settings (keys at the
# same training points, zero shifts so that it too starts at the identity, new units with zero shift).

# %%
xs, ys = nngeom.toys.two_spirals(600, turns=1.5, noise=0.02, seed=S.seed)
xs_test, ys_test = nngeom.toys.two_spirals(600, turns=1.5, noise=0.02, seed=S.seed + 1)
nngeom.seed_everything(S.seed)
highway = EpsilonHighwayMLP(2, 20, tau=0.1, epsilon="ema")
highway.set_centres(xs[:20], xs[:20].clone())
head = nn.Linear(2, 2)
spiral_hist = centre_search.noisy_centre_search(highway, xs, ys, n_search=1, rounds=S.spiral_rounds, head=head,
                                                new_values=lambda x, y: x.clone(), fine_tune_steps=S.spiral_steps,
                                                lr=1e-2, batch_size=64, score_samples=600, test=(xs_test, ys_test),
                                                seed=S.seed, progress=False)
highway.cpu().eval()
head.cpu().eval()
grid, xx, yy = nngeom.toys.grid_2d(1.3, 150)
with torch.no_grad():
    prob = torch.softmax(head(highway(grid)), 1)[:, 1]
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
axes[0].plot(100 * np.array(spiral_hist.test_accuracy), marker=".")
axes[0].set_xlabel("search round")
axes[0].set_ylabel("test accuracy (%)")
axes[0].set_title("epsilon-Highway MLP, 20 units, add / remove 1")
axes[1].contourf(xx, yy, prob.reshape(xx.shape), levels=20, cmap="coolwarm", alpha=0.4)
axes[1].scatter(*xs_test.T, c=ys_test, cmap="coolwarm", s=6)
axes[1].scatter(*highway.centres.detach().T, marker="X", c="black", s=50)
axes[1].set_aspect("equal")
axes[1].set_title("decision function and keys after the search")

nngeom.seed_everything(S.seed)
res_layer = LocalResidualMLP(2, 20, tau=0.1, epsilon="ema")
res_layer.set_centres(xs[:20], torch.zeros(20, 2))
res_head = nn.Linear(2, 2)
residual_hist = centre_search.noisy_centre_search(res_layer, xs, ys, n_search=1, rounds=S.spiral_rounds, head=res_head,
                                                  new_values=lambda x, y: torch.zeros_like(x),
                                                  fine_tune_steps=S.spiral_steps, lr=1e-2, batch_size=64,
                                                  score_samples=600, test=(xs_test, ys_test), seed=S.seed,
                                                  progress=False)
axes[0].plot(100 * np.array(residual_hist.test_accuracy), marker=".", label="local residual MLP")
axes[0].lines[0].set_label("epsilon-Highway MLP")
axes[0].legend()
axes[0].set_title("noisy search with training, 20 units, add / remove 1")
fig.tight_layout()
glue("s3_3-fig20-spirals", fig, display=False)
plt.close(fig)


def last_quarter_range(acc):
    tail = acc[-max(2, len(acc) // 4):]
    return max(tail) - min(tail)


print(f"highway: test accuracy {spiral_hist.test_accuracy[0]:.3f} -> {spiral_hist.test_accuracy[-1]:.3f} "
      f"(range over the last quarter of rounds {last_quarter_range(spiral_hist.test_accuracy):.3f}); residual: "
      f"{residual_hist.test_accuracy[0]:.3f} -> {residual_hist.test_accuracy[-1]:.3f} "
      f"(range {last_quarter_range(residual_hist.test_accuracy):.3f})")
highway_row = nngeom.claim(
    "A.3.3.highway-spirals", "epsilon-Highway MLP with noisy search and training between rounds (20 units, +/-1) "
    "converges on two spirals", paper="converged (Fig. 20)", ours=spiral_hist.test_accuracy[-1],
    check=nngeom.at_least(0.95),
    source='sec. 3.3, Fig. 20: "we successfully converged with -Highway MLP"',
    note="'converged' read as at least 95 % test accuracy after the search; no number in the document")
RESIDUAL_CAUSE = (f"disagreement: the locally-activating write-up (sec. 4) reports that add / prune search worked "
                  f"for the local residual MLP, and this run sides with it: the residual search ends at "
                  f"{residual_hist.test_accuracy[-1]:.3f} (highway {spiral_hist.test_accuracy[-1]:.3f}) and moves by "
                  f"{last_quarter_range(residual_hist.test_accuracy):.3f} over the last quarter of rounds (highway "
                  f"{last_quarter_range(spiral_hist.test_accuracy):.3f}); the document gives no settings for its "
                  "search (ours: zero initial shifts, spiral_steps Adam steps between rounds)")
residual_row = nngeom.claim(
    "A.3.3.residual-unstable", "The same search on the local residual MLP ends below the epsilon-Highway MLP "
    "(final test accuracy)", paper="failed to get stable solution", ours=residual_hist.test_accuracy[-1],
    check=nngeom.less_than("A.3.3.highway-spirals"),
    source='sec. 3.3: "we tried noisy center search with Local-Residual but failed to get stable solution that was '
           'converging"', cause=RESIDUAL_CAUSE,
    note=f"range of test accuracy over the last quarter of rounds: residual "
         f"{last_quarter_range(residual_hist.test_accuracy):.3f}, highway {last_quarter_range(spiral_hist.test_accuracy):.3f}")
final = spiral_hist.test_accuracy[-1]
range_margin = nngeom.accuracy_margin(final, len(xs_test))
ranges = {"residual": last_quarter_range(residual_hist.test_accuracy),
          "highway": last_quarter_range(spiral_hist.test_accuracy)}
unstable_row = nngeom.claim(
    "A.3.3.residual-unstable.range", "The search on the local residual MLP does not settle: its test accuracy moves "
    "over the last quarter of rounds by more than the highway's, beyond the binomial margin (range max - min)",
    paper="failed to get stable solution", ours=ranges["residual"],
    check=nngeom.greater_than(ranges["highway"], margin=range_margin),
    source='sec. 3.3: "we tried noisy center search with Local-Residual but failed to get stable solution that was '
           'converging"', cause=RESIDUAL_CAUSE,
    note=f"margin {range_margin:.4f}: the 95 % binomial half-width of a difference of two accuracies on "
         f"{len(xs_test)} test points, the scale of round-to-round test noise; the locally-activating write-up "
         "(sec. 4) reports that this search worked");

# %% [markdown]
# ```{glue:figure} s3_3-fig20-spirals
# :name: fig-s3_3-fig20-spirals
#
# Recomputes Figure 20 (right) of the document: test accuracy over search rounds of the $\epsilon$-Highway MLP and,
# for the statement that motivates it, of the local residual MLP searched the same way (left); the highway's
# decision function and keys after the search (right). Look at whether each curve settles, and at how the keys
# spread along the arms.
# ```

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# The table and the curves give the test accuracy before and after the search for each variant; the claims record
# whether each improved by at least one point, whether the highway MLP reached 95 %, and whether the local residual
# MLP, searched the same way, ended below it. At the `cpu` scale the search runs fewer rounds than the document's
# figure and draws from part of the training set.

# %%
nngeom.reading(
    f"Without fine-tuning the epsilon-softmax dictionary went from {runs['no fine-tuning'].test_accuracy[0]:.1%} to "
    f"{runs['no fine-tuning'].test_accuracy[-1]:.1%} (**{fmnist_rows['no-ft']['verdict']}**), with fine-tuning to "
    f"{runs['fine-tuning'].test_accuracy[-1]:.1%} (**{fmnist_rows['ft']['verdict']}**); plain softmax instead ends "
    f"{soft_gap:+.1%} from the epsilon-softmax run. On the spirals the epsilon-Highway MLP ended at "
    f"{spiral_hist.test_accuracy[-1]:.1%} (**{highway_row['verdict']}**) and the local residual MLP at "
    f"{residual_hist.test_accuracy[-1]:.1%} (ends below the highway: **{residual_row['verdict']}**); over the last "
    f"quarter of rounds the residual's accuracy moved by {ranges['residual']:.3f} against the highway's "
    f"{ranges['highway']:.3f} (does not settle: **{unstable_row['verdict']}**).")
