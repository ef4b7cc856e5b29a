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
# # 2 Exploration: activation probabilities, Hamming distances and constellations
#
# *Study on Activation Patterns*, section 2 (Figures 1-9). The activation pattern of layer $j$ is the 0-1 vector
# $a_j(x) = 1[f_j(x) > 0]$ and the Hamming distance between two images at layer $j$ is
# $d_{Ham,j}(x_1, x_2) = \lVert a_j(x_1) - a_j(x_2) \rVert_1$. The document explores, on CIFAR-10 with fully
# connected ReLU networks:
#
# * the probability that each unit activates, layer by layer, in a 10-layer, 256-unit network at initialisation
#   (first layer near 0.5, deep layers saturated at 0 or 1; this network does not train, with BatchNorm it does);
# * histograms of Hamming distances between random pairs of images for a 3-layer network, before and after
#   training (after training the distances concentrate near $256/2$);
# * whether the patterns of a one-hidden-layer network behave like random Bernoulli(0.5) vectors
#   (p-value 18 % at epoch 0, 0 % after 5 epochs);
# * "constellations": complete-linkage clustering curves of the patterns against random patterns;
# * the nearest neighbours of test images in Hamming distance.
#
# The networks use PyTorch's default initialisation $W, b \sim \mathcal U(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})$
# (eq. 10-11) on standardised images. The document does not give its optimiser; we use SGD with momentum 0.9
# (a reconstruction). The `cpu` profile trains on a stratified subset of CIFAR-10 (sizes in the table below) for
# fewer epochs; `paper` uses the full training set and the document's epochs (16 for the 3-layer network, 5 and 6 for
# the one-hidden-layer network of Figures 4 and 7).

# %% tags=["parameters"]
profile = "cpu"
n_train = None        # training images (document, sec. 2: CIFAR-10, the 50,000 training images)
n_test = None         # test images, accuracy and nearest-neighbour queries (document: the 10,000 test images)
n_stats = None        # training images forwarded for probabilities and pair distances (sec. 2.1: "all the training set")
epochs = None         # epochs of the 3-layer network (sec. 2.2, Fig. 2: 16 epochs)
bernoulli_epochs = None   # epochs of the 1-layer network for the Bernoulli test (sec. 2.3.1, Fig. 4: 5 epochs)
cluster_epochs = None     # epochs of the 1-layer network for the constellations (sec. 2.3.2, Fig. 7: epoch 6)
deep_epochs = None    # epochs of the 10-layer networks (ours: the document gives none)
lr = None             # SGD learning rate (ours: the document gives no optimiser)
batch_size = None     # (ours)
n_pairs = None        # random pairs for the histograms and the Bernoulli test (sec. 2.2 and 2.3.1: 10,000)
null_draws = None     # draws of the Bernoulli null (sec. 2.3.1: 1,000)
n_cluster = None      # patterns clustered for the constellation curves (sec. 2.3.2: 16,000)
seed = None           # (ours)

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import torch
import pandas as pd
import seaborn as sns
from myst_nb import glue
from scipy import stats

import nngeom
from nngeom.patterns import experiments, hamming, models, nullmodel
from nngeom.patterns.recording import Patterns, record

PROFILES = {
    "smoke": {"n_train": 500, "n_test": 200, "n_stats": 300, "epochs": 1, "bernoulli_epochs": 1, "cluster_epochs": 2,
              "deep_epochs": 1, "lr": 0.01, "batch_size": 64, "n_pairs": 500, "null_draws": 200, "n_cluster": 150,
              "seed": 0},
    "cpu": {"n_train": 10000, "n_test": 2000, "n_stats": 5000, "epochs": 5, "bernoulli_epochs": 5, "cluster_epochs": 6,
            "deep_epochs": 5, "lr": 0.01, "batch_size": 64, "n_pairs": 10000, "null_draws": 1000, "n_cluster": 2000,
            "seed": 0},
    "paper": {"n_train": 50000, "n_test": 10000, "n_stats": 50000, "epochs": 16, "bernoulli_epochs": 5,
              "cluster_epochs": 6, "deep_epochs": 20, "lr": 0.01, "batch_size": 64, "n_pairs": 10000,
              "null_draws": 1000, "n_cluster": 16000, "seed": 0},
}
BOUNDS = {"n_train": (100, 50000), "n_test": (10, 10000), "n_stats": (20, 50000), "epochs": (1, None),
          "bernoulli_epochs": (1, None), "cluster_epochs": (1, None), "deep_epochs": (1, None), "lr": (1e-6, 10),
          "batch_size": (1, None), "n_pairs": (10, None), "null_draws": (10, None), "n_cluster": (10, 20000)}
S = nngeom.settings(PROFILES, globals(), section="activation-patterns/s2_exploration", bounds=BOUNDS)

DATA = {"n_train": S.n_train, "n_test": S.n_test, "seed": S.seed, "normalize": "standard"}
(x_train, y_train), (x_test, y_test) = experiments.load_data(DATA)
x_stats = x_train[:S.n_stats]


def fit(n_epochs):
    return {"epochs": n_epochs, "lr": S.lr, "batch_size": S.batch_size, "optimizer": "sgd"}


def mlp(depth, norm=None):
    return {"kind": "mlp", "depth": depth, "width": 256, "norm": norm, "activation": "relu", "init": "default"}

# %% [markdown]
# ## 2.1 Activation probability of a 10-layer network (Figure 1)
#
# We forward the training images through the network at initialisation and count, for each unit, how often it is
# non-zero: $P_X((f_j(x))_i > 0)$ (eq. 6). Each panel is the histogram of these probabilities over the 256 units of
# one layer. A unit is called *saturated* when its probability is below 0.05 or above 0.95. Then both networks are
# trained with the same settings.

# %%
def probabilities(model, x, batch_statistics=False):
    return {name: p.probability() for name, p in record(model, x, batch_statistics=batch_statistics).items()}


def saturated(probs):
    return np.array([np.mean((p < 0.05) | (p > 0.95)) for p in probs.values()])


deep = {}
for norm in (None, "batch"):
    arch = mlp(10, norm)
    # an untrained BatchNorm layer normalises with batch statistics (its running ones are still 0 and 1)
    init_probs = probabilities(experiments.initial_model(arch, S.seed), x_stats, batch_statistics=norm == "batch")
    trained, history = experiments.train_model(arch, DATA, fit(S.deep_epochs), seed=S.seed)
    deep["BatchNorm" if norm else "plain"] = {"init": init_probs, "trained": probabilities(trained, x_stats),
                                              "history": history}

long = pd.DataFrame([{"network": name, "layer": layer, "probability": value}
                     for name, result in deep.items() for layer, p in result["init"].items() for value in p])
grid = sns.displot(long, x="probability", row="network", col="layer", bins=np.linspace(0, 1, 21), height=1.6,
                   aspect=1.0, facet_kws={"sharey": False, "margin_titles": True})
grid.set_titles(row_template="{row_name}", col_template="{col_name}")
grid.set(yticks=[])
grid.figure.supxlabel("probability of activation at initialisation (256 units per layer)")
glue("s2_1-probabilities", grid.figure, display=False)
plt.close(grid.figure)

table = pd.DataFrame({
    name: {**{f"saturated, {layer}": s for layer, s in zip(r["init"], saturated(r["init"]))},
           "final training loss": r["history"]["loss"][-1], "best test accuracy": max(r["history"]["test_accuracy"])}
    for name, r in deep.items()})
table

# %% [markdown]
# ```{glue:figure} s2_1-probabilities
# :name: fig-s2_1-probabilities
#
# Recomputes Figure 1 of the document: histograms of the activation probabilities of the 256 units of each layer of a
# 10-layer network at initialisation, without normalisation (top) and with BatchNorm (bottom). Look at where the mass
# sits layer after layer: around 0.5, spread out, or piled at 0 and 1.
# ```

# %%
plain_sat, bn_sat = saturated(deep["plain"]["init"]), saturated(deep["BatchNorm"]["init"])
first_layer = deep["plain"]["init"]["layer1"]
print(f"first layer: mean probability {first_layer.mean():.3f}, mean |p - 0.5| {np.abs(first_layer - 0.5).mean():.3f}")
nngeom.claim("P.2.1.first-layer-half", "At initialisation first-layer activation probabilities are close to 0.5 "
             "(mean |p - 0.5| over units)", paper="close to 0.5", ours=float(np.abs(first_layer - 0.5).mean()),
             check=nngeom.at_most(0.15), source="sec. 2.1, Fig. 1: \"First layer all probability of activation is "
             "close to 0.5\"", note="'close' read as a mean distance below 0.15, under a third of the way to saturation")
nngeom.claim("P.2.1.deep-saturate", "Without normalisation, layers 4-10 saturate (fraction of units with "
             "p < 0.05 or p > 0.95)", paper="almost all 0 or 1", ours=float(plain_sat[3:].mean()),
             check=nngeom.at_least(0.5), source="sec. 2.1: \"Starting after the 3rd layer ... Either an activation "
             "always activate or never activate\"", note="'almost' read as at least half the units of layers 4-10")
nngeom.claim("P.2.1.bn-not-saturated", "With BatchNorm deep-layer probabilities stay near 0.5 at initialisation "
             "(saturated fraction, layers 4-10, batch statistics)", paper="close to 0.5", ours=float(bn_sat[3:].mean()),
             check=nngeom.at_most(0.1), kind="check",
             note="a check: at initialisation BatchNorm (gamma 1, beta 0) centres every pre-activation on its batch "
                  "mean, so p near 0.5 holds by construction; P.2.1.bn-not-saturated.trained is the test")
bn_trained_sat = saturated(deep["BatchNorm"]["trained"])
nngeom.claim("P.2.1.bn-not-saturated.trained", "... and after training, with its running statistics (saturated "
             "fraction, layers 4-10)", paper="close to 0.5", ours=float(bn_trained_sat[3:].mean()),
             check=nngeom.at_most(0.1),
             source="sec. 2.1: \"If we add BatchNormalization between each layer however, the probability to activate "
             "at each layer is close to 0.5\"", note="read as at most 10 % of the units saturated")
deep_init = np.concatenate(list(deep["plain"]["init"].values())[3:])
always_on = int((deep_init > 0.95).sum())
n_saturated = int(((deep_init < 0.05) | (deep_init > 0.95)).sum())
nngeom.claim("P.2.1.deep-saturate.half-on", "Saturated units of layers 4-10 are always on about as often as never on "
             f"(share always on among the {n_saturated} saturated units)", paper=0.5,
             ours=always_on / max(n_saturated, 1), check=nngeom.rate_consistent(max(n_saturated, 1)),
             source="sec. 2.1: \"almost a Bernoulli(0, 1, p=0.5)\"",
             note="a unit that always or never activates is a Bernoulli(0, 1) unit; p = 0.5 read as half of them on")
layer2 = list(deep["plain"]["init"].values())[1]
ks = stats.kstest(layer2, "uniform")
nngeom.claim("P.2.1.second-layer-uniform", "At initialisation the second layer's probabilities are close to uniform "
             "on [0, 1] (Kolmogorov-Smirnov distance; not rejected at 5 %)", paper="close to uniform",
             ours={"KS distance": float(ks.statistic), "p": float(ks.pvalue)},
             check=nngeom.holds(bool(ks.pvalue >= 0.05), "KS test not rejected at 5 %"),
             source="sec. 2.1: \"Second layer, the probability of activation is close to uniform\"",
             note="256 units: the test rejects a KS distance above about 0.085")
acc_plain = max(deep["plain"]["history"]["test_accuracy"])
acc_bn = max(deep["BatchNorm"]["history"]["test_accuracy"])
nngeom.claim("P.2.1.plain-does-not-train", "The 10-layer network without normalisation does not train "
             "(best test accuracy)", paper="does not train", ours=acc_plain, check=nngeom.at_most(0.2),
             source="sec. 2.1: \"This network is do not train, the training loss is not minimized\"",
             note="chance is 0.1; 0.2 is well below what any trained network of sec. 2-3 reaches (0.41-0.54)",
             cause="scale: deep_epochs (ours; the document gives none): a network that does not train can start to "
                   "after more epochs, or fail to in fewer")
_ = nngeom.claim("P.2.1.bn-trains", "With BatchNorm the 10-layer network trains (best test accuracy)",
                 paper="trains", ours=acc_bn, check=nngeom.at_least(0.3),
                 source="sec. 2.1: \"If we add BatchNormalization ... we can train the network\"",
                 note="0.3 is three times chance and below the 0.52 of the BatchNorm network of sec. 3")

# %% [markdown]
# ## 2.2 Hamming distances before and after training (Figure 2)
#
# A 3-layer, 256-unit network; histograms of $d_{Ham,k}$ over random pairs of training images, for each layer,
# at initialisation and after training (the document: 16 epochs, 54 % accuracy).

# %%
arch3 = mlp(3)
net3_init = experiments.initial_model(arch3, S.seed)
net3, history3 = experiments.train_model(arch3, DATA, fit(S.epochs), seed=S.seed)
i, j = hamming.random_pairs(len(x_stats), S.n_pairs, seed=S.seed)
pair_distances = {}
for stage, model in (("initialisation", net3_init), ("trained", net3)):
    layers = record(model, x_stats)
    pair_distances[stage] = {name: hamming.paired(p[i], p[j]) for name, p in layers.items()}
accuracy3 = history3["test_accuracy"][-1]

long = pd.DataFrame([{"stage": stage, "layer": name, "Hamming distance": value}
                     for stage, per_layer in pair_distances.items() for name, d in per_layer.items() for value in d])
grid = sns.displot(long, x="Hamming distance", hue="layer", col="stage", bins=np.arange(0, 257, 4),
                   element="step", height=3.2, aspect=1.5)
for ax in grid.axes.flat:
    ax.axvline(128, color="black", ls=":")
grid.axes.flat[1].set_title(f"trained ({S.epochs} epochs, {accuracy3:.0%} test accuracy)")
glue("s2_2-hamming", grid.figure, display=False)
plt.close(grid.figure)

means = pd.DataFrame({stage: {name: d.mean() for name, d in per_layer.items()}
                      for stage, per_layer in pair_distances.items()})
means["paper (after training)"] = "close to 128"
print(f"3-layer network: test accuracy after {S.epochs} epochs {accuracy3:.3f} (document: 0.54 after 16 epochs)")
means

# %% [markdown]
# ```{glue:figure} s2_2-hamming
# :name: fig-s2_2-hamming
#
# Recomputes Figure 2 of the document: histograms of the Hamming distance between random pairs of training images,
# layer by layer, for the 3-layer network at initialisation (left) and after training (right). Look at how the three
# layers differ before training and where their histograms sit relative to 128 (dotted) after.
# ```

# %%
trained_means = np.array([d.mean() for d in pair_distances["trained"].values()])
initial_means = np.array([d.mean() for d in pair_distances["initialisation"].values()])
layer_names = list(pair_distances["trained"])
away = [f"{name} ({a:.0f} -> {b:.0f})" for name, a, b in zip(layer_names, initial_means, trained_means)
        if abs(b - 128) > abs(a - 128)]
far_layers = [f"{name} ({b:.0f})" for name, b in zip(layer_names, trained_means) if abs(b - 128) > 12.8]
NEAR = 12.8  # 10 % of 128 bits: the reading of "very close" below
reduced_knobs = [f"{k} = {getattr(S, k)} (paper {PROFILES['paper'][k]})" for k in ("epochs", "n_train")
                 if getattr(S, k) < PROFILES["paper"][k]]
far_approaching = [f"{name} ({a:.0f} -> {b:.0f})" for name, a, b in zip(layer_names, initial_means, trained_means)
                   if abs(b - 128) > NEAR and abs(b - 128) < abs(a - 128)]
far_count = sum(abs(b - 128) > NEAR for b in trained_means)
away_inside = [f"{name} ({a:.1f} -> {b:.1f})" for name, a, b in zip(layer_names, initial_means, trained_means)
               if abs(b - 128) > abs(a - 128) and abs(a - 128) <= NEAR and abs(b - 128) <= NEAR]
HALF_CONTEXT = ("the document's own sec. 2.3.1 reports training lowering the distance (\"the mean distance is lower "
                "enough\", P.2.3.trained-lower)")
row_half = nngeom.claim("P.2.2.near-half", "After training the mean Hamming distance of every layer is close to 256/2 "
                        "(largest |mean - 128| over the 3 layers)", paper="close to 128",
                        ours=float(np.abs(trained_means - 128).max()), check=nngeom.at_most(NEAR),
                        source="sec. 2.2: \"we see the distance between two elements on each layer being very close to "
                        "256/2\"", note="'very close' read as within 10 % of 128",
                        cause=(f"scale: {', '.join(reduced_knobs)}; the layers beyond 10 % of 128 are still moving "
                               f"towards it: {', '.join(far_approaching)}"
                               if reduced_knobs and far_layers and len(far_approaching) == far_count else
                               f"open: layers beyond 10 % of 128 after training: {', '.join(far_layers) or 'none'}; "
                               + HALF_CONTEXT))
row_towards = nngeom.claim(
    "P.2.2.towards-half", "Training moves every layer's mean distance towards 128",
    paper="distances approach 128 as learning goes", ours={"initialisation": initial_means, "trained": trained_means},
    check=nngeom.holds(bool(np.all(np.abs(trained_means - 128) <= np.abs(initial_means - 128))),
                       "|trained - 128| <= |initial - 128| for every layer"),
    source="sec. 2.2: \"As learning goes, we see the distance between two elements on each layer being very close to "
           "256/2\"",
    cause=(f"reconstruction: the strict reading (ours) of 'approach': the only layers that move away from 128 start "
           f"and end within 10 % of it: {', '.join(away_inside)}" if away and len(away_inside) == len(away) else
           f"open: layers that move away from 128: {', '.join(away) or 'none'}; " + HALF_CONTEXT))
probs3 = {stage: {name: p.probability() for name, p in record(model, x_stats).items()}
          for stage, model in (("initialisation", net3_init), ("trained", net3))}
off_half = {stage: {name: float(np.abs(p - 0.5).mean()) for name, p in per_layer.items()}
            for stage, per_layer in probs3.items()}
row_prob_half = nngeom.claim(
    "P.2.2.probabilities-to-half", "Training moves every layer's activation probabilities towards 0.5 (mean |p - 0.5| "
    "over the units, per layer)", paper="all activations learn a probability of 0.5", ours=off_half,
    check=nngeom.holds(all(off_half["trained"][k] < off_half["initialisation"][k] for k in off_half["trained"]),
                       "mean |p - 0.5| lower after training in every layer"),
    source="sec. 2.2: \"It seems that during training, all activations learn to have a probability of activation of 0.5\"",
    cause="open: layers whose mean |p - 0.5| grows in training: "
          + (", ".join(f"{k} ({off_half['initialisation'][k]:.3f} -> {off_half['trained'][k]:.3f})"
                       for k in off_half["trained"] if off_half["trained"][k] >= off_half["initialisation"][k])
             or "none"))
predicted = {stage: {name: float(np.sum(2 * p * (1 - p))) for name, p in per_layer.items()}
             for stage, per_layer in probs3.items()}
gap_to_prediction = max(abs(predicted[stage][k] - float(pair_distances[stage][k].mean()))
                        for stage in predicted for k in predicted[stage])
nngeom.claim("P.2.2.distance-from-probabilities", "The layers' mean distances follow from their probabilities: "
             "sum_i 2 p_i (1 - p_i) against the observed mean (largest gap over layers and stages, bits)",
             paper="correlated to the distribution of probability of activation", ours=gap_to_prediction,
             check=nngeom.at_most(0.05 * 256), kind="check",
             note="by linearity of expectation, two independently drawn images differ on unit i with probability "
                  "2 p_i (1 - p_i), whatever the dependence between units; the gap is sampling (pairs drawn among the "
                  "images the p_i are estimated on), 5 % of the 256 bits allowed (ours)")
row_acc3 = nngeom.claim("P.2.2.accuracy", f"Test accuracy of the 3-layer network after {S.epochs} epochs",
                        paper=0.54, ours=float(accuracy3), check=nngeom.within(0.05),
                        source="sec. 2.2, Fig. 2: \"right after 16 epochs (54 % accuracy)\"", judged_at=("paper",),
                        note="one seed and no spread in the document; 5 points is about the seed-to-seed range of such "
                             "networks; judged only at the document's 16 epochs on the full training set")

# %% [markdown]
# ## 2.3.1 Are the patterns random Bernoulli(0.5) vectors? (Figures 3-5)
#
# A network with one hidden layer of 256 units, trained for `bernoulli_epochs` epochs (the document: 5). Test
# statistic: the mean $d_{Ham}$ over random pairs of training images. Null: the mean distance over as many pairs of
# independent Bernoulli(0.5) vectors of 256 bits, drawn `null_draws` times (the sum of the distances is then exactly
# Binomial($n_{pairs} \cdot 256$, 1/2), which is how we draw it). The p-value is two-sided (ours: the document does not
# say).

# %%
arch1 = mlp(1)
trained_stage = f"after {S.bernoulli_epochs} epochs"
stages = {"epoch 0": experiments.initial_model(arch1, S.seed)}
net1, history1 = experiments.train_model(arch1, DATA, fit(S.bernoulli_epochs), seed=S.seed)
stages[trained_stage] = net1
null = nullmodel.null_means(256, S.n_pairs, S.null_draws, seed=S.seed)
observed, pvalues, per_pair = {}, {}, {}
for stage, model in stages.items():
    p = record(model, x_stats)["layer1"]
    per_pair[stage] = np.asarray(hamming.paired(p[i], p[j]), dtype=float)
    observed[stage] = per_pair[stage].mean()
    pvalues[stage] = nullmodel.p_value(observed[stage], null)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for ax, stage in zip(axes, stages):
    sns.histplot(null, bins=40, color="grey", label="Bernoulli(0.5) null", ax=ax)
    ax.axvline(observed[stage], color="red", label=f"observed, p = {pvalues[stage]:.3f}")
    ax.set_title(stage)
    ax.set_xlabel("mean Hamming distance over pairs")
    ax.legend(fontsize=8)
fig.tight_layout()
glue("s2_3-bernoulli", fig, display=False)
plt.close(fig)
pd.DataFrame({"mean distance": observed, "p-value (ours)": pvalues,
              "p-value (paper)": {"epoch 0": 0.18, trained_stage: 0.0}})

# %% [markdown]
# ```{glue:figure} s2_3-bernoulli
# :name: fig-s2_3-bernoulli
#
# Recomputes Figures 3-5 of the document: the null distribution of the mean Hamming distance between random
# Bernoulli(0.5) patterns (grey) and the observed mean of the one-hidden-layer network (red), at epoch 0 (left) and after
# training (right). Look at where the red line falls inside or outside the grey histogram.
# ```

# %%
init_probability = record(stages["epoch 0"], x_stats)["layer1"].probability()
shortfall = float(2 * np.sum((init_probability - 0.5) ** 2))
print(f"epoch 0: 2 sum (p_i - 0.5)^2 = {shortfall:.3f} bits; null standard deviation {null.std():.3f} bits")
row_trained_p = nngeom.claim(
    "P.2.3.trained-not-bernoulli", "After training the mean distance is significantly not Bernoulli (p-value)",
    paper=0.0, ours=pvalues[trained_stage], check=nngeom.at_most(0.01), kind="check",
    note="a check, not the document's claim: as the epoch-0 row's cause shows, this null rejects whenever the units' "
         "probabilities are not all exactly 0.5, so it cannot tell learning apart; P.2.3.trained-lower judges the "
         "document's 'lower'")
drop = per_pair[trained_stage] - per_pair["epoch 0"]
drop_p = float(stats.ttest_rel(per_pair[trained_stage], per_pair["epoch 0"], alternative="less").pvalue)
row_lower = nngeom.claim(
    "P.2.3.trained-lower", f"Training lowers the mean Hamming distance between the same pairs of images (paired, "
    f"{len(drop)} pairs, one-sided t-test)", paper="lower after 5 epochs",
    ours={"epoch 0": float(observed["epoch 0"]), trained_stage: float(observed[trained_stage]),
          "p (trained < epoch 0)": drop_p},
    check=nngeom.holds(bool(drop_p < 0.05), "paired one-sided p < 0.05"),
    source="sec. 2.3.1: \"After 5 epochs, the mean distance is lower enough to be statistically significantly not "
           "random Bernoulli behaviour\"",
    note="the pairs share images, so the t-test's independence is approximate")
row_init_p = nngeom.claim(
    "P.2.3.init-bernoulli", "At epoch 0 the mean distance is compatible with random Bernoulli patterns (p-value)",
    paper=0.18, ours=pvalues["epoch 0"], check=nngeom.at_least(0.05),
    source="sec. 2.3.1, Fig. 3: \"Mean distance at 0 epochs, p- value : 18 %\"",
    note="'compatible' read as not rejected at the usual 5 % level",
    cause=f"disagreement: any spread of the units' probabilities p_i around 0.5 lowers the expected mean distance by "
          f"2 sum_i (p_i - 0.5)^2, here {shortfall:.2f} bits below 128, while the null's standard deviation with "
          f"{S.n_pairs} pairs is {null.std():.3f} bits: at initialisation the test rejects whenever the probabilities are "
          f"not all exactly 0.5, so 18 % is not what this test gives at this many pairs")

# %% [markdown]
# ## 2.3.2 Constellations (Figures 6-8)
#
# Complete-linkage clustering of the patterns of `n_cluster` training images (the document: 16,000) of the
# one-hidden-layer network at epoch 0 and after `cluster_epochs` epochs (the document: 6). For each threshold
# $t = 1..256$ we count the clusters whose diameter is at most $t$; the normalised integral of the curve is the
# constellation score the document proposes (lower: more images gather early into tight groups). Random Bernoulli
# patterns are the reference of Figure 8.
#
# The linkage is our choice: the document asks for clusters whose largest internal distance is at most $t$ *and* whose
# elements lie farther than $t$ from every other element, and says only "hierarchical clustering". Complete linkage
# enforces the first condition and not the second (single linkage would enforce the second and not the first); no
# standard linkage enforces both.

# %%
thresholds = np.arange(1, 257)
rng = np.random.default_rng(S.seed)
cluster_stage = f"epoch {S.cluster_epochs}"
net1c, _ = experiments.train_model(arch1, DATA, fit(S.cluster_epochs), seed=S.seed)
sources = {"epoch 0": record(stages["epoch 0"], x_train[:S.n_cluster])["layer1"],
           cluster_stage: record(net1c, x_train[:S.n_cluster])["layer1"],
           "random Bernoulli": Patterns.from_bool(rng.random((S.n_cluster, 256)) < 0.5)}
curves, scores = {}, {}
for name, p in sources.items():
    d = hamming.condensed(hamming.pairwise(p)).astype(float)
    curves[name] = nullmodel.constellation_curve(d, len(p), thresholds)
    scores[name] = nullmodel.constellation_score(curves[name], len(p))

fig, ax = plt.subplots(figsize=(7, 3.5))
for name, curve in curves.items():
    ax.plot(thresholds, curve, label=f"{name} (score {scores[name]:.3f})")
ax.set_yscale("log")
ax.set_xlabel("threshold on cluster diameter (Hamming)")
ax.set_ylabel("number of clusters")
ax.legend()
fig.tight_layout()
glue("s2_3-constellations", fig, display=False)
plt.close(fig)
row_const = nngeom.claim(
    "P.2.3.constellations", "Trained patterns form more constellations than random Bernoulli patterns (lower "
    "constellation score)", paper="curves of Fig. 6-8, no stated ordering", ours=scores,
    check=nngeom.holds(scores[cluster_stage] < scores["random Bernoulli"], "trained < random"), kind="check",
    note="the document shows the three curves (Fig. 6-8) but states no ordering: our observation, not its claim")

# %% [markdown]
# ```{glue:figure} s2_3-constellations
# :name: fig-s2_3-constellations
#
# Recomputes Figures 6-8 of the document: the number of complete-linkage clusters against the diameter threshold, for
# the patterns at epoch 0, after training, and for random Bernoulli patterns. Look at how early each curve falls: a
# curve that drops quickly and then flattens is what the document calls constellations.
# ```

# %% [markdown]
# ## 2.4 Nearest neighbours in Hamming distance (Figure 9)
#
# The patterns of the trained one-hidden-layer network: for test images, the 10 training images with the closest
# patterns. The fraction of neighbours that share the query's label measures the "semantic meaning" of the
# distance; chance is 10 %, and a one-sided t-test over the queries' agreements says whether it is above (the 10
# neighbours of one query are not independent trials). Nearest neighbours by $\ell^2$ in pixel space are the
# baseline.

# %%
train_patterns = record(net1, x_train)["layer1"]
test_patterns = record(net1, x_test)["layer1"]
index, distances = hamming.nearest_neighbours(test_patterns, train_patterns, k=10)
same = (y_train[index] == y_test[:, None]).numpy()
agreement = float(same.mean())
per_query = same.mean(1)  # the 10 neighbours of one query are not independent trials: test over queries
p_chance = float(stats.ttest_1samp(per_query, 0.1, alternative="greater").pvalue)
flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
pixel_index = torch.cat([torch.cdist(flat_test[k:k + 1000], flat_train).topk(10, largest=False).indices
                         for k in range(0, len(flat_test), 1000)])  # blocks of 1,000 queries: no n_test x n_train
pixel_agreement = float((y_train[pixel_index] == y_test[:, None]).float().mean())
raw_train, _ = nngeom.data.load_subset("cifar10", "train", S.n_train, seed=S.seed)
raw_test, _ = nngeom.data.load_subset("cifar10", "test", S.n_test, seed=S.seed)

fig, axes = plt.subplots(6, 11, figsize=(11, 6.3))
for row in range(6):
    images = [raw_test[row]] + [raw_train[k] for k in index[row]]
    titles = ["query"] + [str(d) for d in distances[row]]
    for col, (img, title) in enumerate(zip(images, titles)):
        axes[row, col].imshow(img.permute(1, 2, 0).numpy())
        axes[row, col].set_title(title, fontsize=7)
        axes[row, col].axis("off")
fig.tight_layout()
glue("s2_4-neighbours", fig, display=False)
plt.close(fig)
print(f"label agreement of the 10 nearest neighbours: {agreement:.3f} (chance 0.1), one-sided t-test over "
      f"{len(per_query)} queries p = {p_chance:.2g}; l2 neighbours in pixel space: {pixel_agreement:.3f}")
row_nn = nngeom.claim(
    "P.2.4.neighbours-semantic", "Hamming nearest neighbours carry some meaning (label agreement of the 10 nearest "
    "neighbours above chance 0.1; one-sided t-test over the queries at 1 %)", paper="some meaning", ours=agreement,
    check=nngeom.holds(p_chance < 0.01, "t-test over queries, p < 0.01 against chance"),
    source="sec. 2.4, Fig. 9: \"overall there is some meaning in this distance\"")
nngeom.claim("P.2.4.neighbours-vs-pixels", "Hamming neighbours agree with the query's label at least as often as l2 "
             "neighbours in pixel space (the baseline the document's introduction asks for)",
             paper=None, ours={"Hamming": agreement, "pixel l2": pixel_agreement},
             check=nngeom.holds(agreement >= pixel_agreement, "Hamming agreement >= pixel agreement"), kind="check",
             note="the document asks 'Can we compare it to L_2 distance'; it gives no answer, so this is a check")

# %% [markdown]
# ```{glue:figure} s2_4-neighbours
# :name: fig-s2_4-neighbours
#
# Recomputes Figure 9 of the document: each row is a test image followed by its 10 nearest training images in Hamming
# distance of the one-hidden-layer network's patterns (distance above each). Look at whether the neighbours share the
# query's object class, or only its colours and layout.
# ```

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# Method: the saturation of deep layers follows from the initialisation (weights of variance $1/(3 n_{in})$ shrink the
# signal layer after layer until the biases decide every unit), and the Bernoulli null assumes independent units and
# independent images, so a small p-value says the patterns are *not* i.i.d. coin flips, not how they differ.

# %%
nngeom.reading(
    f"At initialisation {plain_sat[3:].mean():.0%} of the units of layers 4-10 of the plain network are saturated, "
    f"against {bn_sat[3:].mean():.0%} with BatchNorm; after {S.deep_epochs} epochs the plain network reaches "
    f"{acc_plain:.1%} test accuracy and the BatchNorm network {acc_bn:.1%}. After {S.epochs} epochs the 3-layer network's "
    f"mean pair distances are {', '.join(f'{m:.1f}' for m in trained_means)} (layers 1-3; "
    f"{'all' if row_towards['passed'] else 'not all'} closer to 128 than at initialisation, "
    f"{', '.join(f'{m:.1f}' for m in initial_means)}), with {accuracy3:.1%} test accuracy against the document's 54 % "
    f"after 16. The Bernoulli test gives p = {pvalues['epoch 0']:.3f} at epoch 0 (document 18 %: "
    f"**{row_init_p['verdict']}**) and p = {pvalues[trained_stage]:.3f} after {S.bernoulli_epochs} epochs (document 0 %: "
    f"{row_trained_p['verdict']} as a check of our construction); training moves the mean distance from "
    f"{observed['epoch 0']:.2f} to {observed[trained_stage]:.2f} bits on the same pairs (document: 'lower': "
    f"**{row_lower['verdict']}**). The constellation scores are "
    f"{', '.join(f'{k} {v:.3f}' for k, v in scores.items())}. Hamming nearest neighbours share the query's label "
    f"{agreement:.1%} of the time against 10 % by chance (**{row_nn['verdict']}**).")
