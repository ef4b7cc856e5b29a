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
# (a reconstruction). The `cpu` profile trains on a stratified subset of CIFAR-10 (sizes in the table below);
# `paper` uses the full training set.

# %% tags=["parameters"]
profile = "cpu"
n_train = None        # training images
n_test = None         # test images (accuracy, nearest-neighbour queries)
n_stats = None        # training images forwarded for probabilities and pair distances
epochs = None         # epochs of the 3-layer and 1-layer networks (document: 16 and 5)
deep_epochs = None    # epochs of the 10-layer networks
lr = None
batch_size = None
n_pairs = None        # random pairs for the histograms and the Bernoulli test (document: 10,000)
null_draws = None     # draws of the Bernoulli null (document: 1,000)
n_cluster = None      # patterns clustered for the constellation curves (document: 16,000)
seed = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.spatial.distance import pdist

import nngeom
from nngeom.patterns import hamming, models, nullmodel, record
from nngeom.patterns.recording import Patterns

PROFILES = {
    "smoke": {"n_train": 500, "n_test": 200, "n_stats": 300, "epochs": 1, "deep_epochs": 1, "lr": 0.01,
              "batch_size": 64, "n_pairs": 500, "null_draws": 200, "n_cluster": 150, "seed": 0},
    "cpu": {"n_train": 10000, "n_test": 2000, "n_stats": 5000, "epochs": 5, "deep_epochs": 5, "lr": 0.01,
            "batch_size": 64, "n_pairs": 10000, "null_draws": 1000, "n_cluster": 2000, "seed": 0},
    "paper": {"n_train": 50000, "n_test": 10000, "n_stats": 50000, "epochs": 16, "deep_epochs": 20, "lr": 0.01,
              "batch_size": 64, "n_pairs": 10000, "null_draws": 1000, "n_cluster": 16000, "seed": 0},
}
BOUNDS = {"n_train": (100, 50000), "n_test": (10, 10000), "n_stats": (20, 50000), "epochs": (1, None),
          "deep_epochs": (1, None), "lr": (1e-6, 10), "batch_size": (1, None), "n_pairs": (10, None),
          "null_draws": (10, None), "n_cluster": (10, 20000)}
S = nngeom.settings(PROFILES, globals(), section="activation-patterns/s2_exploration", bounds=BOUNDS)

DATA = {"n_train": S.n_train, "n_test": S.n_test, "seed": S.seed, "normalize": "standard"}
(x_train, y_train), (x_test, y_test) = models.load_data(DATA)
x_stats = x_train[:S.n_stats]


def fit(n_epochs):
    return {"epochs": n_epochs, "lr": S.lr, "batch_size": S.batch_size, "optimizer": "sgd"}


def mlp(depth, norm=None):
    return {"kind": "mlp", "depth": depth, "width": 256, "norm": norm, "activation": "relu", "init": "default"}

# %% [markdown]
# ## 2.1 Activation probability of a 10-layer network (Figure 1)
#
# We forward the training images through the network at initialisation and count, for each unit, how often it is
# non-zero: $P_X((f_j(x))_i > 0)$ (eq. 6). Each row of the figure is the histogram of these probabilities over the
# 256 units of one layer. A unit is called *saturated* when its probability is below 0.05 or above 0.95.
# Then both networks are trained with the same settings.

# %%
def probabilities(model, x, batch_statistics=False):
    return {name: p.probability() for name, p in record(model, x, batch_statistics=batch_statistics).items()}


def saturated(probs):
    return np.array([np.mean((p < 0.05) | (p > 0.95)) for p in probs.values()])


deep = {}
for norm in (None, "batch"):
    arch = mlp(10, norm)
    # an untrained BatchNorm layer normalises with batch statistics (its running ones are still 0 and 1)
    init_probs = probabilities(models.initial_model(arch, S.seed), x_stats, batch_statistics=norm == "batch")
    trained, history = models.train_model(arch, DATA, fit(S.deep_epochs), seed=S.seed)
    deep["BatchNorm" if norm else "plain"] = {"init": init_probs, "trained": probabilities(trained, x_stats),
                                              "history": history}

fig, axes = plt.subplots(2, 10, figsize=(18, 4), sharex=True)
bins = np.linspace(0, 1, 21)
for row, (name, result) in enumerate(deep.items()):
    for col, (layer, p) in enumerate(result["init"].items()):
        axes[row, col].hist(p, bins=bins, color="tab:blue" if row == 0 else "tab:green")
        axes[row, col].set_title(f"{name} {layer}", fontsize=8)
        axes[row, col].set_yticks([])
fig.supxlabel("probability of activation at initialisation (256 units per layer)")
fig.tight_layout()
plt.show()

table = pd.DataFrame({
    name: {**{f"saturated, {layer}": s for layer, s in zip(r["init"], saturated(r["init"]))},
           "final training loss": r["history"]["loss"][-1], "best test accuracy": max(r["history"]["test_accuracy"])}
    for name, r in deep.items()})
table

# %%
plain_sat, bn_sat = saturated(deep["plain"]["init"]), saturated(deep["BatchNorm"]["init"])
first_layer = deep["plain"]["init"]["layer1"]
print(f"first layer: mean probability {first_layer.mean():.3f}, mean |p - 0.5| {np.abs(first_layer - 0.5).mean():.3f}")
nngeom.claim("P.2.1.first-layer-half", "At initialisation first-layer activation probabilities are close to 0.5 "
             "(mean |p - 0.5| over units)", paper="close to 0.5", ours=float(np.abs(first_layer - 0.5).mean()),
             check=nngeom.at_most(0.15))
nngeom.claim("P.2.1.deep-saturate", "Without normalisation, layers 4-10 saturate (fraction of units with "
             "p < 0.05 or p > 0.95)", paper="almost all 0 or 1", ours=float(plain_sat[3:].mean()),
             check=nngeom.at_least(0.5))
nngeom.claim("P.2.1.bn-not-saturated", "With BatchNorm deep-layer probabilities stay near 0.5 (saturated fraction, "
             "layers 4-10)", paper="close to 0.5", ours=float(bn_sat[3:].mean()), check=nngeom.at_most(0.1))
acc_plain = max(deep["plain"]["history"]["test_accuracy"])
acc_bn = max(deep["BatchNorm"]["history"]["test_accuracy"])
nngeom.claim("P.2.1.plain-does-not-train", "The 10-layer network without normalisation does not train "
             "(best test accuracy)", paper="does not train", ours=acc_plain, check=nngeom.at_most(0.2))
_ = nngeom.claim("P.2.1.bn-trains", "With BatchNorm the 10-layer network trains (best test accuracy)",
                 paper="trains", ours=acc_bn, check=nngeom.at_least(0.3))

# %% [markdown]
# ## 2.2 Hamming distances before and after training (Figure 2)
#
# A 3-layer, 256-unit network; histograms of $d_{Ham,k}$ over random pairs of training images, for each layer,
# at initialisation and after training (the document: 16 epochs, 54 % accuracy).

# %%
arch3 = mlp(3)
net3_init = models.initial_model(arch3, S.seed)
net3, history3 = models.train_model(arch3, DATA, fit(S.epochs), seed=S.seed)
i, j = hamming.random_pairs(len(x_stats), S.n_pairs, seed=S.seed)
pair_distances = {}
for stage, model in (("initialisation", net3_init), ("trained", net3)):
    layers = record(model, x_stats)
    pair_distances[stage] = {name: hamming.paired(p[i], p[j]) for name, p in layers.items()}

fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True)
for ax, (stage, per_layer) in zip(axes, pair_distances.items()):
    for name, d in per_layer.items():
        ax.hist(d, bins=np.arange(0, 257, 4), alpha=0.5, label=name)
    ax.axvline(128, color="black", ls=":")
    ax.set_title(f"{stage}" + (f" ({S.epochs} epochs, {max(history3['test_accuracy']):.0%} test accuracy)"
                               if stage == "trained" else ""))
    ax.set_xlabel("Hamming distance between two images")
axes[0].legend()
fig.tight_layout()
plt.show()

means = pd.DataFrame({stage: {name: d.mean() for name, d in per_layer.items()}
                      for stage, per_layer in pair_distances.items()})
means["paper (after training)"] = "close to 128"
print(f"3-layer network: best test accuracy {max(history3['test_accuracy']):.3f} (document: 0.54 after 16 epochs)")
means

# %%
trained_means = np.array([d.mean() for d in pair_distances["trained"].values()])
initial_means = np.array([d.mean() for d in pair_distances["initialisation"].values()])
nngeom.claim("P.2.2.near-half", "After training the mean Hamming distance of every layer is close to 256/2 "
             "(largest |mean - 128| over the 3 layers, 'close' read as within 10 %)", paper="close to 128",
             ours=float(np.abs(trained_means - 128).max()), check=nngeom.at_most(12.8))
_ = nngeom.claim("P.2.2.towards-half", "Training moves every layer's mean distance towards 128",
                 paper="distances approach 128 as learning goes", ours={"initialisation": initial_means,
                                                                       "trained": trained_means},
                 check=nngeom.holds(bool(np.all(np.abs(trained_means - 128) <= np.abs(initial_means - 128))),
                                    "|trained - 128| <= |initial - 128| for every layer"))

# %% [markdown]
# ## 2.3.1 Are the patterns random Bernoulli(0.5) vectors? (Figures 3-5)
#
# A network with one hidden layer of 256 units. Test statistic: the mean $d_{Ham}$ over random pairs of training
# images. Null: the mean distance over as many pairs of independent Bernoulli(0.5) vectors of 256 bits, drawn
# `null_draws` times (the sum of the distances is then exactly Binomial($n_{pairs} \cdot 256$, 1/2), which is how we
# draw it). The p-value is two-sided.

# %%
arch1 = mlp(1)
stages = {"epoch 0": models.initial_model(arch1, S.seed)}
net1, history1 = models.train_model(arch1, DATA, fit(S.epochs), seed=S.seed)
stages[f"after {S.epochs} epochs"] = net1
null = nullmodel.null_means(256, S.n_pairs, S.null_draws, seed=S.seed)
observed, pvalues = {}, {}
for stage, model in stages.items():
    p = record(model, x_stats)["layer1"]
    observed[stage] = hamming.paired(p[i], p[j]).mean()
    pvalues[stage] = nullmodel.p_value(observed[stage], null)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for ax, stage in zip(axes, stages):
    ax.hist(null, bins=40, color="grey", label="Bernoulli(0.5) null")
    ax.axvline(observed[stage], color="red", label=f"observed, p = {pvalues[stage]:.3f}")
    ax.set_title(stage)
    ax.set_xlabel("mean Hamming distance over pairs")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
pd.DataFrame({"mean distance": observed, "p-value (ours)": pvalues,
              "p-value (paper)": {"epoch 0": 0.18, f"after {S.epochs} epochs": 0.0}})

# %%
trained_stage = f"after {S.epochs} epochs"
nngeom.claim("P.2.3.trained-not-bernoulli", "After training the mean distance is significantly not Bernoulli "
             "(p-value)", paper=0.0, ours=pvalues[trained_stage], check=nngeom.at_most(0.01))
_ = nngeom.claim("P.2.3.init-bernoulli", "At epoch 0 the mean distance is compatible with random Bernoulli patterns "
                 "(p-value)", paper=0.18, ours=pvalues["epoch 0"], check=nngeom.at_least(0.05))

# %% [markdown]
# ## 2.3.2 Constellations (Figures 6-8)
#
# Complete-linkage clustering of the patterns of `n_cluster` training images (the document: 16,000). For each
# threshold $t = 1..256$ we count the clusters whose diameter is at most $t$; the normalised integral of the curve is
# the constellation score (lower: more images gather early into tight groups). Random Bernoulli patterns are the
# reference of Figure 8.

# %%
thresholds = np.arange(1, 257)
rng = np.random.default_rng(S.seed)
sources = {"epoch 0": record(stages["epoch 0"], x_train[:S.n_cluster])["layer1"],
           trained_stage: record(net1, x_train[:S.n_cluster])["layer1"],
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
plt.show()
_ = nngeom.claim("P.2.3.constellations", "Trained patterns form more constellations than random Bernoulli patterns "
                 "(lower constellation score)", paper="curves of Fig. 6-8", ours=scores,
                 check=nngeom.holds(scores[trained_stage] < scores["random Bernoulli"], "trained < random"))

# %% [markdown]
# ## 2.4 Nearest neighbours in Hamming distance (Figure 9)
#
# The patterns of the trained one-hidden-layer network: for test images, the 10 training images with the closest
# patterns. The fraction of neighbours that share the query's label measures the "semantic meaning" of the
# distance; chance is 10 %.

# %%
train_patterns = record(net1, x_train)["layer1"]
test_patterns = record(net1, x_test)["layer1"]
index, distances = hamming.nearest_neighbours(test_patterns, train_patterns, k=10)
agreement = float((y_train[index] == y_test[:, None]).float().mean())
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
fig.suptitle("test image, then its 10 nearest training images by Hamming distance (distance above each)")
fig.tight_layout()
plt.show()
print(f"label agreement of the 10 nearest neighbours: {agreement:.3f} (chance 0.1)")
_ = nngeom.claim("P.2.4.neighbours-semantic", "Hamming nearest neighbours carry some meaning (label agreement of the "
                 "10 nearest neighbours, chance 0.1)", paper="some meaning", ours=agreement, check=nngeom.at_least(0.15))

# %% [markdown]
# ## Reading the result
#
# The tables above hold the numbers; the claims record each of them against the document. Two points of method:
# the saturation of deep layers follows from the initialisation (weights of variance $1/(3 n_{in})$ shrink the signal
# layer after layer until the biases decide every unit), and the Bernoulli null assumes independent units and
# independent images, so a p-value near 0 says the patterns are *not* i.i.d. coin flips, not how they differ.
# Where a claim is marked "differs", the printed numbers say by how much at this scale.
