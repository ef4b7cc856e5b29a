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
# # 7 Future work, executed: counting linear regions, conditional patterns, adversarial patterns
#
# *Study on Activation Patterns*, section 7 lists ideas without experiments. We run them:
#
# * 7.1: a linear layer of $n$ units whose weight matrix has rank $r$ cuts its input into $f(n, r)$ regions. The
#   document shows $f(n, n) = 2^n$ (eq. 59) and $f(n, 1) = n + 1$ (eq. 60) and conjectures
#   $f(n+1, r+1) = f(n, r+1) + f(n, r)$ (eq. 61) from small cases. We count regions *exactly* (one linear programme per
#   sign vector) for random layers and compare with the closed form for hyperplanes in general position,
#   $\sum_{i \le r} \binom{n}{i}$, which satisfies all three identities;
# * 7.2: the number of linear regions of small ReLU networks on 2-D inputs, before and after training;
# * 7.3: conditional activation patterns: once the first layer's pattern is fixed, how many patterns can the next
#   layer still take? (the document's intuition: "only a handful");
# * 7.4: is an adversarial example far from its clean image in activation-pattern space?

# %% tags=["parameters"]
profile = "cpu"
max_n = None           # largest number of hyperplanes counted exactly, 2^n linear programmes (ours)
hidden = None          # width of the 2-D networks, the first layer needs 2^hidden LPs (ours)
toy_epochs = None      # (ours)
resolution = None      # grid points per axis for the 2-D region maps (ours)
n_train = None         # CIFAR-10 training images of the shared 3-layer network (as in section 2)
n_test = None
epochs = None          # epochs of the 3-layer network (sec. 2.2, Fig. 2: 16)
lr = None              # (ours)
batch_size = None      # (ours)
n_attack = None        # test images attacked (ours; the document runs no attack)
epsilons = None        # L-infinity budgets in units of 1/255 (ours)
seed = None            # (ours)

# %% tags=["hide-input"]
import foolbox as fb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from myst_nb import glue

import nngeom
from nngeom.patterns import experiments, hamming, models, regions
from nngeom.patterns.recording import Patterns, record

PROFILES = {
    "smoke": {"max_n": 4, "hidden": 8, "toy_epochs": 5, "resolution": 120, "n_train": 500, "n_test": 200,
              "epochs": 1, "lr": 0.01, "batch_size": 64, "n_attack": 50, "epsilons": [1.0, 8.0], "seed": 0},
    "cpu": {"max_n": 7, "hidden": 10, "toy_epochs": 300, "resolution": 500, "n_train": 10000, "n_test": 2000,
            "epochs": 5, "lr": 0.01, "batch_size": 64, "n_attack": 500, "epsilons": [0.5, 1.0, 2.0, 8.0], "seed": 0},
    "paper": {"max_n": 9, "hidden": 12, "toy_epochs": 1000, "resolution": 800, "n_train": 50000, "n_test": 10000,
              "epochs": 16, "lr": 0.01, "batch_size": 64, "n_attack": 2000, "epsilons": [0.5, 1.0, 2.0, 8.0],
              "seed": 0},
}
BOUNDS = {"max_n": (2, 12), "hidden": (2, 14), "toy_epochs": (1, None), "resolution": (20, None),
          "n_train": (100, 50000), "n_test": (10, 10000), "epochs": (1, None), "lr": (1e-6, 10),
          "batch_size": (1, None), "n_attack": (1, 10000), "epsilons": (0, 255)}
S = nngeom.settings(PROFILES, globals(), section="activation-patterns/s7_future_work", bounds=BOUNDS)

# %% [markdown]
# ## 7.1 $f(n, r)$ from exact counts
#
# For each $n \le$ `max_n` and $r \le n$ we draw a layer $W = UV$ of rank $r$ on $\mathbb R^{r+1}$ (random, hence in general
# position with probability one) and random biases, and count the non-empty sign regions.

# %%
counts = {}
for n in range(1, S.max_n + 1):
    for r in range(1, n + 1):
        W, b = regions.low_rank_layer(n, r + 1, r, seed=S.seed + 100 * n + r)
        counts[(n, r)] = regions.count_regions_exact(W, b)
table = pd.DataFrame({r: {n: counts.get((n, r)) for n in range(1, S.max_n + 1)} for r in range(1, S.max_n + 1)})
table.index.name, table.columns.name = "n", "r"
print("exact region counts f(n, r):")
print(table.to_string())

identities = {
    "f(n, n) = 2^n": all(counts[(n, n)] == 2 ** n for n in range(1, S.max_n + 1)),
    "f(n, 1) = n + 1": all(counts[(n, 1)] == n + 1 for n in range(1, S.max_n + 1)),
    "f(n+1, r+1) = f(n, r+1) + f(n, r)": all(
        counts[(n + 1, r + 1)] == counts[(n, r + 1)] + counts[(n, r)]
        for n in range(1, S.max_n) for r in range(1, n)),
    "f(n, r) = sum_{i<=r} C(n, i)": all(counts[k] == regions.regions_closed_form(*k) for k in counts),
}
print(pd.Series(identities).to_string())
THEOREM = ("a theorem for affine hyperplanes in general position (Zaslavsky 1975: f(n, r) = sum_{i<=r} C(n, i)), and "
           "random layers are in general position: the exact counts check our LP counter, they cannot refute the document")
nngeom.claim("P.7.1.f-n-n", "f(n, n) = 2^n (eq. 59), on exact counts", paper="proved",
             ours=identities["f(n, n) = 2^n"], check=nngeom.equals(True), kind="check", note=THEOREM)
nngeom.claim("P.7.1.f-n-1", "f(n, 1) = n + 1 (eq. 60), on exact counts", paper="proved",
             ours=identities["f(n, 1) = n + 1"], check=nngeom.equals(True), kind="check", note=THEOREM)
row_recursion = nngeom.claim(
    "P.7.1.recursion", "The conjecture f(n+1, r+1) = f(n, r+1) + f(n, r) (eq. 61) holds on exact counts",
    paper="conjectured", ours=identities["f(n+1, r+1) = f(n, r+1) + f(n, r)"], check=nngeom.equals(True),
    kind="check", note=THEOREM + "; Pascal's rule on each term gives eq. 61")
_ = nngeom.claim("P.7.1.closed-form", "Exact counts equal sum_{i<=r} C(n, i) (general position)",
                 paper="not in the document", ours=identities["f(n, r) = sum_{i<=r} C(n, i)"], check=nngeom.equals(True),
                 kind="check", note=THEOREM)

# %% [markdown]
# The rank alone does not fix the count: it also needs the hyperplanes in general position. Three parallel lines
# (rank 1) make $f(3, 1) = 4$ regions and three lines in general position $f(3, 2) = 7$, but three lines through one
# point have rank 2 and only 6 regions: for real layers $\sum_{i \le r}\binom{n}{i}$ is an upper bound.

# %%
parallel = regions.count_regions_exact(np.array([[1.0, 0], [1.0, 0], [1.0, 0]]), np.array([0.0, 1.0, -1.0]))
concurrent = regions.count_regions_exact(np.array([[1.0, 0], [0.0, 1], [1.0, 1]]), np.zeros(3))
print(f"3 parallel lines: {parallel} regions; 3 lines through one point: {concurrent}; general position: "
      f"{regions.regions_closed_form(3, 2)}")

# %% [markdown]
# ## 7.2 Linear regions of small ReLU networks in 2-D
#
# A network $2 \to$ `hidden` $\to$ `hidden` $\to 2$ trained on two spirals. We colour a grid by the whole-network activation
# pattern; each colour is a linear region (a pattern can in principle repeat in disconnected pieces). The first
# layer alone is an arrangement of `hidden` lines, whose exact region count is $f(h, 2) = 1 + h + \binom{h}{2}$.

# %%
x_toy, y_toy = nngeom.toys.two_spirals(1000, turns=1.5, noise=0.02, seed=S.seed)
nngeom.seed_everything(S.seed)
toy = torch.nn.Sequential(torch.nn.Linear(2, S.hidden), torch.nn.ReLU(), torch.nn.Linear(S.hidden, S.hidden),
                          torch.nn.ReLU(), torch.nn.Linear(S.hidden, 2))
toy_init = [p.detach().clone() for p in toy.parameters()]
grids = {"initialisation": regions.network_patterns_on_grid(toy, 1.5, S.resolution)}
history = nngeom.train.fit_classifier(toy, (x_toy, y_toy), (x_toy, y_toy), epochs=S.toy_epochs, batch_size=100,
                                      lr=1e-2, seed=S.seed, progress=False)
toy = toy.cpu().eval()
grids["trained"] = regions.network_patterns_on_grid(toy, 1.5, S.resolution)
first_layer_exact = regions.count_regions_exact(toy[0].weight.detach().numpy(), toy[0].bias.detach().numpy(),
                                                max_hyperplanes=S.hidden)

fig, axes = plt.subplots(1, 2, figsize=(11, 5))
region_counts = {}
for ax, (stage, (ids, xx, yy)) in zip(axes, grids.items()):
    region_counts[stage] = int(ids.max() + 1)
    shuffled = np.random.default_rng(0).permutation(ids.max() + 1)[ids]
    ax.pcolormesh(xx, yy, shuffled, cmap="tab20", shading="auto")
    ax.scatter(*x_toy[:300].T, c=y_toy[:300], cmap="bwr", s=4)
    ax.set_title(f"{stage}: {region_counts[stage]} patterns on the grid")
    ax.set_aspect("equal")
fig.tight_layout()
glue("s7_2-regions", fig, display=False)
plt.close(fig)
print(f"training accuracy {history.test_accuracy[-1]:.3f}; first layer of the trained net: {first_layer_exact} regions "
      f"in the whole plane (exact), f({S.hidden}, 2) = {regions.regions_closed_form(S.hidden, 2)}")
_ = nngeom.claim("P.7.2.first-layer", "The first layer of a 2-D ReLU network has f(h, 2) regions (exact count)",
                 paper="f(n, r) (sec. 7.1)", ours=first_layer_exact,
                 check=nngeom.equals(regions.regions_closed_form(S.hidden, 2)), kind="check",
                 note="h lines of a trained layer are in general position with probability one: a theorem, a check of "
                      "our counter")

# %% [markdown]
# ```{glue:figure} s7_2-regions
# :name: fig-s7_2-regions
#
# Executes the idea of sec. 7.2 of the document (it has no figure): the linear regions of a small ReLU network on the
# plane, coloured by whole-network activation pattern, at initialisation (left) and after training on two spirals
# (right), with the training points. Look at where training puts the regions: near the data or spread evenly.
# ```

# %% [markdown]
# ## 7.3 Conditional activation patterns
#
# Within each first-layer region of the trained 2-D network (points of the grid sharing a layer-1 pattern) we count
# the distinct layer-2 patterns. Inside one first-layer region the second layer is affine in $x$, so at most
# $f(h, 2)$ layer-2 patterns can occur there. The document's intuition is that only a handful remain.

# %%
points, xx, yy = nngeom.toys.grid_2d(1.5, S.resolution)
layers = record(toy, points)
_, first = np.unique(layers["layer1"].packed, axis=0, return_inverse=True)
_, second = np.unique(layers["layer2"].packed, axis=0, return_inverse=True)
conditional = pd.Series([len(np.unique(second[first == k])) for k in range(first.max() + 1)])
summary = {"layer-1 regions on the grid": int(first.max() + 1), "layer-2 patterns on the grid": int(second.max() + 1),
           "mean layer-2 patterns per layer-1 region": conditional.mean(),
           "max layer-2 patterns per layer-1 region": int(conditional.max()),
           "bound: f(h, 2) per layer-1 region": regions.regions_closed_form(S.hidden, 2)}
print(pd.Series(summary).to_string())
row_handful = nngeom.claim(
    "P.7.3.handful", "Given the first layer's pattern, the second layer takes only a handful of patterns (mean count "
    "per first-layer region over the bound f(h, 2))", paper="only a handful",
    ours=float(conditional.mean() / summary["bound: f(h, 2) per layer-1 region"]), check=nngeom.at_most(0.2),
    source="sec. 7.3: \"How many activation patterns can layer l then take ? The intuition is to say only a handful\"",
    kind="check",
    note="a check on our 2-D toy, not a reproduction: in the plane a small first-layer region is crossed by few of the "
         "second layer's lines, so a low count follows from the geometry; the document's intuition is about "
         "high-dimensional layers. 'A handful' read as at most a fifth of the f(h, 2) patterns the second layer "
         "could take in one region")

# %% [markdown]
# ## 7.4 Adversarial examples in activation-pattern space
#
# The 3-layer, 256-unit CIFAR-10 network of section 2 (the same cached weights), fed [0, 1] images through its
# standardisation. We attack test images with foolbox's $L_\infty$ PGD (20 steps; the norm and the steps are ours: the
# document frames adversarial examples "in the $L_2$ sense" without running one) for several budgets $\epsilon$ and
# compare the Hamming distance between clean and adversarial patterns with that between the clean image and a random
# $\pm\epsilon$ perturbation (same $L_\infty$ size), and with the typical distance between two different test images.
# The attack-success column counts, as foolbox does, clean images that are already misclassified as successes.

# %%
DATA = {"n_train": S.n_train, "n_test": S.n_test, "seed": S.seed, "normalize": "standard"}
arch3 = {"kind": "mlp", "depth": 3, "width": 256, "norm": None, "activation": "relu", "init": "default"}
net3, history3 = experiments.train_model(arch3, DATA, {"epochs": S.epochs, "lr": S.lr, "batch_size": S.batch_size,
                                                  "optimizer": "sgd"}, seed=S.seed)
wrapped = torch.nn.Sequential(models.cifar_standardizer(), net3).eval()
images, labels = nngeom.data.load_subset("cifar10", "test", S.n_test, seed=S.seed)
images, labels = images[:S.n_attack], labels[:S.n_attack]
fmodel = fb.PyTorchModel(wrapped, bounds=(0, 1))
clean_patterns = record(wrapped, images)
i, j = hamming.random_pairs(len(images), len(images), seed=S.seed)
rows = {}
generator = torch.Generator().manual_seed(S.seed)
for eps in S.epsilons:
    _, adv, success = fb.attacks.LinfPGD(steps=20)(fmodel, images, labels, epsilons=eps / 255)
    noise = (images + eps / 255 * torch.sign(torch.randn(images.shape, generator=generator))).clamp(0, 1)
    adv_patterns, noise_patterns = record(wrapped, adv), record(wrapped, noise)
    for name in clean_patterns:
        rows[(eps, name)] = {
            "attack success": success.float().mean().item(),
            "d_H(clean, adversarial)": hamming.paired(clean_patterns[name], adv_patterns[name]).mean(),
            "d_H(clean, random +-eps)": hamming.paired(clean_patterns[name], noise_patterns[name]).mean(),
            "d_H(two test images)": hamming.paired(clean_patterns[name][i], clean_patterns[name][j]).mean()}
adversarial = pd.DataFrame(rows).T
adversarial.index.names = ["epsilon (x 1/255)", "layer"]
print(adversarial.round(3).to_string())

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# Method: section 7.1 compares exact region counts (one linear programme per sign vector) with the closed form
# $\sum_{i \le r}\binom{n}{i}$, the classical count for an arrangement in general position (Pascal's rule on each term
# gives the conjectured recursion); degenerate arrangements have fewer regions, so the formula is an upper bound for
# real layers. Sections 7.2-7.4 measure what the document only proposes.

# %%
flips = adversarial.xs("layer1", level="layer")
nngeom.reading(
    f"Exact counts for n <= {S.max_n}: f(n, n) = 2^n {'holds' if identities['f(n, n) = 2^n'] else 'fails'}, "
    f"f(n, 1) = n + 1 {'holds' if identities['f(n, 1) = n + 1'] else 'fails'}, the recursion of eq. 61 "
    f"{'holds' if identities['f(n+1, r+1) = f(n, r+1) + f(n, r)'] else 'fails'} and the closed form "
    f"{'matches every count' if identities['f(n, r) = sum_{i<=r} C(n, i)'] else 'misses some counts'}; "
    f"three concurrent lines give {concurrent} regions instead of {regions.regions_closed_form(3, 2)}. The 2-D network "
    f"shows {region_counts['initialisation']} patterns on the grid at initialisation and {region_counts['trained']} after "
    f"training. Given its first layer's pattern, the second layer takes on average {conditional.mean():.1f} patterns "
    f"(at most {int(conditional.max())}; bound {summary['bound: f(h, 2) per layer-1 region']}): 'only a handful' "
    f"**{row_handful['verdict']}**. On the first layer of the CIFAR-10 network, an attack of budget "
    + ", ".join(f"{eps:g}/255 flips {r['d_H(clean, adversarial)']:.1f} units (random noise of the same size "
                f"{r['d_H(clean, random +-eps)']:.1f}; two test images differ by {r['d_H(two test images)']:.1f})"
                for eps, r in flips.iterrows()) + ".")
