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
# # 3 Normalisation techniques and activation statistics
#
# *Study on Activation Patterns*, section 3 (Figures 10-24). A 10-layer, 256-unit fully connected network on CIFAR-10
# with five ways of keeping the signal's scale: Xavier initialisation ($\mathrm{Var}\,W = 2/(n_{in} + n_{out})$),
# BatchNorm, WeightNorm ($W = g\,V / \lVert V\rVert_2$), LayerNorm and SELU (eq. 9, with its LeCun-normal
# initialisation). For each, the document shows the histograms of activation probabilities at epoch 0 and after
# training, with the test accuracy: Xavier 10 % after 5 epochs (it does not train), BatchNorm 52 % (13 epochs),
# WeightNorm 53 % (20), LayerNorm 41 % (20), SELU 50 % (20). It also remarks that BatchNorm keeps every probability
# close to 0.5.
#
# We train the same five networks (SGD, momentum 0.9; the document does not give its optimiser) on a stratified
# CIFAR-10 subset in the `cpu` profile (sizes in the table below) and on the full training set in `paper`, and
# record the probabilities before and after training. WeightNorm uses PyTorch's reparametrisation without the
# document's data-dependent initialisation on the first batch (not specified enough to reproduce).

# %% tags=["parameters"]
profile = "cpu"
n_train = None
n_test = None
n_stats = None     # training images forwarded for the probabilities
epochs = None
lr = None
batch_size = None
seed = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import nngeom
from nngeom.patterns import models, record

PROFILES = {
    "smoke": {"n_train": 500, "n_test": 200, "n_stats": 300, "epochs": 1, "lr": 0.01, "batch_size": 64, "seed": 0},
    "cpu": {"n_train": 10000, "n_test": 2000, "n_stats": 3000, "epochs": 5, "lr": 0.01, "batch_size": 64, "seed": 0},
    "paper": {"n_train": 50000, "n_test": 10000, "n_stats": 50000, "epochs": 20, "lr": 0.01, "batch_size": 64,
              "seed": 0},
}
BOUNDS = {"n_train": (100, 50000), "n_test": (10, 10000), "n_stats": (20, 50000), "epochs": (1, None),
          "lr": (1e-6, 10), "batch_size": (1, None)}
S = nngeom.settings(PROFILES, globals(), section="activation-patterns/s3_normalisation", bounds=BOUNDS)

DATA = {"n_train": S.n_train, "n_test": S.n_test, "seed": S.seed, "normalize": "standard"}
(x_train, _), _ = models.load_data(DATA)
x_stats = x_train[:S.n_stats]
FIT = {"epochs": S.epochs, "lr": S.lr, "batch_size": S.batch_size, "optimizer": "sgd"}
VARIANTS = {
    "Xavier": {"norm": None, "activation": "relu", "init": "xavier"},
    "BatchNorm": {"norm": "batch", "activation": "relu", "init": "default"},
    "WeightNorm": {"norm": "weight", "activation": "relu", "init": "default"},
    "LayerNorm": {"norm": "layer", "activation": "relu", "init": "default"},
    "SELU": {"norm": None, "activation": "selu", "init": "lecun"},
}
PAPER_ACCURACY = {"Xavier": 0.10, "BatchNorm": 0.52, "WeightNorm": 0.53, "LayerNorm": 0.41, "SELU": 0.50}

# %% [markdown]
# ## Training the five networks
#
# Probabilities at epoch 0 are measured with BatchNorm using batch statistics (what an untrained BatchNorm layer does
# in training); after training every network is in evaluation mode. For SELU "active" means a positive output.

# %%
bins = np.linspace(0, 1, 21)
results = {}
for name, options in VARIANTS.items():
    arch = {"kind": "mlp", "depth": 10, "width": 256, **options}
    init = record(models.initial_model(arch, S.seed), x_stats, batch_statistics=options["norm"] == "batch")
    trained, history = models.train_model(arch, DATA, FIT, seed=S.seed)
    results[name] = {"epoch 0": {k: p.probability() for k, p in init.items()},
                     "trained": {k: p.probability() for k, p in record(trained, x_stats).items()},
                     "history": history}

fig, axes = plt.subplots(len(VARIANTS), 2, figsize=(10, 2.2 * len(VARIANTS)), sharex=True)
for row, (name, result) in enumerate(results.items()):
    for col, stage in enumerate(("epoch 0", "trained")):
        hist = np.array([np.histogram(p, bins=bins)[0] for p in result[stage].values()])
        axes[row, col].imshow(hist, aspect="auto", cmap="viridis", extent=(0, 1, 10.5, 0.5))
        accuracy = max(result["history"]["test_accuracy"])
        axes[row, col].set_title(f"{name}, {stage}" + (f" ({accuracy:.0%} test accuracy)" if col else ""),
                                 fontsize=9)
        axes[row, col].set_ylabel("layer")
for ax in axes[-1]:
    ax.set_xlabel("probability of activation (histogram over the 256 units of each layer)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Accuracies and saturation
#
# For each network: the best test accuracy, the fraction of saturated units (probability below 0.05 or above 0.95)
# in layers 4-10, and the mean distance of the probabilities from 0.5 after training.

# %%
def saturated(probs):
    return float(np.mean([np.mean((p < 0.05) | (p > 0.95)) for p in list(probs.values())[3:]]))


def spread(probs):
    return float(np.mean([np.abs(p - 0.5).mean() for p in probs.values()]))


table = pd.DataFrame({name: {"best test accuracy (ours)": max(r["history"]["test_accuracy"]),
                             "test accuracy (paper)": PAPER_ACCURACY[name],
                             "final training loss": r["history"]["loss"][-1],
                             "saturated units, layers 4-10, epoch 0": saturated(r["epoch 0"]),
                             "saturated units, layers 4-10, trained": saturated(r["trained"]),
                             "mean |p - 0.5|, trained": spread(r["trained"])}
                      for name, r in results.items()}).T
print(table.round(3).to_string())

# %%
accuracy = table["best test accuracy (ours)"].to_dict()
for name in VARIANTS:
    nngeom.claim(f"P.3.acc.{name}", f"Test accuracy of the 10-layer network with {name}",
                 paper=PAPER_ACCURACY[name], ours=accuracy[name], check=nngeom.within(0.05), judged_at=("paper",))
nngeom.claim("P.3.xavier-worst", "Xavier initialisation alone trains worst of the five (best test accuracy)",
             paper="10 % vs 41-53 %", ours=accuracy,
             check=nngeom.holds(accuracy["Xavier"] < min(v for k, v in accuracy.items() if k != "Xavier"),
                                "Xavier < every other"))
spreads = table["mean |p - 0.5|, trained"].to_dict()
_ = nngeom.claim("P.3.bn-restrictive", "BatchNorm keeps activation probabilities closest to 0.5 after training "
                 "(mean |p - 0.5|)", paper="restricted to be close to 0.5", ours=spreads,
                 check=nngeom.holds(spreads["BatchNorm"] <= min(spreads.values()), "BatchNorm smallest"))

# %% [markdown]
# ## Reading the result
#
# The table puts our accuracies beside the document's; at the reduced `cpu` scale (fewer images and epochs) absolute
# accuracies are lower and are judged only at `paper` scale, while the two qualitative statements (which
# normalisation fails to train, and BatchNorm's restriction of the probabilities to 0.5) are judged here.
# The heat maps show where saturation sits: each row is one layer, each column a bin of activation probability.
