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
# # 2.4 Metric convolutions in ResNet-20 on CIFAR-10
#
# *Metric as Transform*, section 2.4, Table 2. The document replaces the convolutions of a ResNet-20 by distance
# based ones and trains it on CIFAR-10: the $\ell^2$ convolution (each output is the distance between an input
# patch and the kernel) reaches 93.06% test accuracy, the i-stereo convolution (cosine between the inverse
# stereographic projection of the patch and a unit kernel) 92.71%, and the ordinary dot-product convolution 92.8%:
# "metric based convolution performing similar to the dot product".
#
# Our ResNet-20 follows the authors' code (a CIFAR ResNet adapted from chenyaofo/CIFAR-pretrained-models): three
# stages of three basic blocks (16/32/64 channels), 1x1 projection shortcuts where the shape changes, and every
# convolution, shortcuts included, of the kind named (`nngeom.metric.resnet.resnet20("l2" | "istereo" | "linear")`). The
# $\ell^2$ convolution outputs the similarity $-\lVert p - w\rVert$ and, as in the authors' distance layer, standardises
# it over the output channels at each position (`L2Conv2d(normalize=True)`); without that step the distance to
# far-away kernels is dominated by the patch norm $\lVert p \rVert$, which is the same for every channel.
# Training follows the authors' code: SGD, lr 0.1, momentum 0.9, weight decay $5\cdot 10^{-4}$, cosine
# schedule, random crop and flip, per-channel standardised inputs; the document states 200 epochs at batch 128, the
# code batch 64 (the `paper` profile uses 128).
#
# **Scale.** The `paper` profile is the document's (200 epochs on the 50 000 training images; a GPU job). The `cpu`
# profile is a short schedule that only shows the three networks train: 4 epochs on a stratified subset of 2 500
# training images, tested on 1 000 test images, one seed. Its accuracies are far from the document's, and the
# comparison with Table 2 is judged only at the `paper` profile.

# %% tags=["parameters"]
profile = "cpu"
convolutions = None   # convolution kinds to train
n_train = None        # training images (50000 means all)
n_test = None         # test images (10000 means all)
epochs = None
batch_size = None
lr = None
seeds = None

# %% tags=["hide-input"]
import functools
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from myst_nb import glue

import nngeom
from nngeom.metric.resnet import cifar_augment, resnet20
from nngeom.train import fit_classifier

KINDS = ["l2", "istereo", "linear"]
PROFILES = {
    "smoke": {"convolutions": KINDS, "n_train": 64, "n_test": 64, "epochs": 1, "batch_size": 32, "lr": 0.1,
              "seeds": 1},
    "cpu": {"convolutions": KINDS, "n_train": 2500, "n_test": 1000, "epochs": 4, "batch_size": 64, "lr": 0.1,
            "seeds": 1},
    "paper": {"convolutions": KINDS, "n_train": 50000, "n_test": 10000, "epochs": 200, "batch_size": 128,
              "lr": 0.1, "seeds": 1},
}
BOUNDS = {"n_train": (10, 50000), "n_test": (10, 10000), "epochs": (1, None), "batch_size": (2, None),
          "lr": (0, None), "seeds": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s2_4_metric_resnet", bounds=BOUNDS)
unknown = sorted(set(S.convolutions) - set(KINDS))
if unknown:
    raise ValueError(f"unknown convolution(s) {unknown}: choose from {KINDS}")
PAPER = {"l2": 93.06, "istereo": 92.71, "linear": 92.8}

# %% [markdown]
# ## Data
#
# CIFAR-10 from `$NNGEOM_DATA` (or the local cache); a clear error names the places searched when it is absent.

# %%
@functools.lru_cache(maxsize=1)
def cifar10(n_train, n_test):
    """Seeded CIFAR-10 subsets, standardised per channel (None: the whole split)."""
    train = nngeom.data.load_subset("cifar10", "train", n_train, seed=0, normalize="standard")
    test = nngeom.data.load_subset("cifar10", "test", n_test, seed=0, normalize="standard")
    return train, test


N_TRAIN = S.n_train if S.n_train < 50000 else None
N_TEST = S.n_test if S.n_test < 10000 else None
(x_train, y_train), (x_test, y_test) = cifar10(N_TRAIN, N_TEST)
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}");

# %% [markdown]
# ## Training

# %%


def train(conv, seed, n_train, n_test, epochs, batch_size, lr):
    """One ResNet-20 run; cached, with these arguments as its key (SGD, momentum 0.9, weight decay 5e-4, cosine
    schedule, random crop + flip: the authors' code)."""
    (x_train, y_train), (x_test, y_test) = cifar10(n_train, n_test)
    generator = nngeom.seed_everything(seed)
    model = resnet20(conv)
    start = time.perf_counter()
    history = fit_classifier(model, (x_train, y_train), (x_test, y_test), epochs=epochs, batch_size=batch_size,
                             lr=lr, optimizer="sgd", momentum=0.9, weight_decay=5e-4, schedule="cosine", seed=seed,
                             augment=lambda x: cifar_augment(x, generator=generator), progress=False)
    return {**history.as_dict(), "seconds": time.perf_counter() - start}


runs = {kind: [nngeom.cached("metric-resnet20", train, conv=kind, seed=seed, n_train=N_TRAIN, n_test=N_TEST,
                             epochs=S.epochs, batch_size=S.batch_size, lr=S.lr) for seed in nngeom.sweep(range(S.seeds), "seeds")]
        for kind in S.convolutions}
rows = []
best_of = {}
for kind, rs in runs.items():
    best = best_of[kind] = np.array([100 * max(r["test_accuracy"]) for r in rs])
    rows.append({"convolution": kind, "ours (best test %)": round(best.mean(), 2), "paper": PAPER[kind],
                 "ours - paper": round(best.mean() - PAPER[kind], 2),
                 "train minutes": round(sum(r["seconds"] for r in rs) / 60, 1)})
table = pd.DataFrame(rows).set_index("convolution")
table

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for kind, rs in runs.items():
    acc = 100 * np.array([r["test_accuracy"] for r in rs]).mean(0)
    ax.plot(range(1, len(acc) + 1), acc, "o-", label=f"{kind} (paper {PAPER[kind]})")
ax.set(xlabel="epoch", ylabel="test accuracy (%)", title=f"ResNet-20 on CIFAR-10, {S.profile} profile")
ax.legend()
fig.tight_layout()
glue("s2_4-table2-curves", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s2_4-table2-curves
# :name: fig-s2_4-table2-curves
#
# The training runs behind Table 2 of the document: test accuracy after each epoch of ResNet-20 with $\ell^2$,
# i-stereo and dot-product convolutions (mean over seeds; the legend gives the document's final accuracy). Look at
# whether the three curves rise together at the profile's budget; only the `paper` profile's last epoch is
# comparable with Table 2.
# ```

# %% [markdown]
# ## Claims
#
# Each cell of Table 2 and the statement that metric convolutions perform similar to the dot product (each metric's
# gap to the linear network against the document's gap), judged at the `paper` profile only: the `cpu` run trains for
# 4 epochs on 2 500 images, where accuracies are tens of points below a 200-epoch run and say nothing about Table 2.
# The document reports one run per row without a spread. With several seeds of ours the comparison is a Welch
# interval that takes our seed spread for both sides; with one seed it is a hand-picked 1 point (reason in the
# note). That each network trains at all (above the 10 % of chance) is a check of our code, judged at every profile.

# %%
CHANCE = 10.0
ONE_POINT = ("hand-picked: the document gives one run per row and no spread; 1 point is several seed-to-seed "
             "stds of a CIFAR-10 ResNet (He et al. 2016: +-0.16 over 5 runs of ResNet-110); with seeds > 1 the "
             "Welch interval replaces it")


GAP_POINTS = 2 ** 0.5  # the one-run margin of 1 point, for a difference of two runs


def agrees():
    return nngeom.mean_consistent() if S.seeds > 1 else nngeom.within(1.0)


def ours_of(values):
    return [round(float(v), 2) for v in values] if S.seeds > 1 else round(float(values[0]), 2)


for kind in S.convolutions:
    nngeom.claim(f"A.T2.trains.{kind}", f"ResNet-20 with {kind} convolutions trains with the ordinary recipe: best "
                 "test accuracy (%) above chance", paper=None, ours=round(float(best_of[kind].mean()), 2),
                 check=nngeom.greater_than(CHANCE), kind="check",
                 note="a check of our layers and training loop at the profile's budget")
for kind in S.convolutions:
    nngeom.claim(f"A.T2.{kind}", f"Table 2: ResNet-20 with {kind} convolutions, CIFAR-10 test accuracy (%)",
                 paper=PAPER[kind], ours=ours_of(best_of[kind]), check=agrees(),
                 source=f"sec. 2.4, Table 2 ({kind}: {PAPER[kind]})", judged_at=("paper",),
                 note=(ONE_POINT if S.seeds == 1 else "Welch interval with our seed spread") + "; judged at paper "
                      "only (the cpu run: 4 epochs on 2,500 images)")
gaps = {}
if "linear" in S.convolutions:
    for kind in [k for k in ("l2", "istereo") if k in S.convolutions]:
        gaps[kind] = nngeom.claim(
            f"A.T2.similar-to-linear.{kind}", f"{kind} convolutions perform similar to the dot product: our gap to "
            "the linear network (points) against the document's", paper=round(PAPER[kind] - PAPER["linear"], 2),
            ours=ours_of(best_of[kind] - best_of["linear"]),
            check=nngeom.mean_not_below() if S.seeds > 1 else
            nngeom.greater_than(round(PAPER[kind] - PAPER["linear"], 2), margin=-GAP_POINTS),
            source="sec. 2.4, Table 2: \"we find metric based convolution performing similar to the dot product\"",
            judged_at=("paper",), note=("one-sided, as Table 1's similar-to-linear rows: a gap closer to the linear "
                                        "network than the document's supports 'similar'; " +
                                        (f"the 1-point margin of one run, times sqrt(2) for a difference of two "
                                         f"runs ({GAP_POINTS:.2f}); " + ONE_POINT if S.seeds == 1 else
                                         "one-sided Welch bound with our seed spread") + "; judged at paper only"))

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# The table above shows what this profile trained; the "train minutes" column gives the cost of the metric
# convolutions relative to the dot product (an extra convolution of $x^2$ for the patch norms and elementwise work per
# output). The sentences below are computed from this run.

# %%
ledger = {r["id"]: r for r in nngeom.book.ledger.current_rows()}
parts = [f"At the `{S.profile}` profile ({S.epochs} epochs on {len(x_train)} images, {S.seeds} seed(s)) the best "
         "test accuracies are " + ", ".join(f"{k} {best_of[k].mean():.2f} %" for k in S.convolutions)
         + " (document: " + ", ".join(f"{k} {PAPER[k]}" for k in S.convolutions) + ")."]
if gaps:
    parts.append("Gaps to the dot product: " + ", ".join(
        f"{k} {np.mean(r['ours']):+.2f} points against the document's {r['paper']:+.2f} (**{r['verdict']}**)"
        for k, r in gaps.items()) + ".")
trained = [k for k in S.convolutions if ledger[f"A.T2.trains.{k}"]["passed"]]
parts.append(f"Networks above chance: {', '.join(trained) if trained else 'none'} of {', '.join(S.convolutions)}.")
nngeom.reading(" ".join(parts))
