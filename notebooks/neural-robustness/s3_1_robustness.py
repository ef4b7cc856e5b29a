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
# # 3.1 Robustness to random noise, FGSM and PGD
#
# *Exploring mechanisms of Neural Robustness*, section 3 ("Comparison in adversarial robustness",
# "Robustness-accuracy trade-off"), Fig. 1 and Appendix B (Fig. A2). The document perturbs each correctly
# classified test image (i) along a random unit direction by $\epsilon$, (ii) by FGSM,
# $\epsilon\,\mathrm{sign}\,\nabla_x \mathcal{L}$, and (iii) by PGD with $N$ iterations in the $L^\infty$ ball,
# for $\epsilon$ on a logarithmic grid, and reports the *relative accuracy* (fraction of the correctly classified
# images still correct) and each image's *critical distance*, the Euclidean length of the smallest perturbation that
# flips its prediction. It finds KH the most robust model under all three perturbations, followed by L2 and JReg, BP
# and SpecReg the least robust, the severity random < FGSM < PGD for every model, and robustness and accuracy
# negatively correlated except for SpecReg.
#
# We attack the five models of the section 2 notebook (loaded from the shared cache, or trained here when
# missing) on a stratified subset of the test images. The critical distance is found on the $\epsilon$ grid and
# refined by bisection; images never flipped on the grid are counted and left out of the distance statistics. PGD
# starts at zero, takes steps of $2.5\,\epsilon/N$ and projects onto the $\epsilon$ ball; there is no pixel box
# because the models read images scaled to unit $\ell^3$ norm. The `paper` profile uses the whole test set, a
# 400-point grid and $N = 10$ as in the document's text; `cpu` and `smoke` use fewer images and grid points (below).

# %% tags=["parameters"]
profile = "cpu"
n_train = None
n_test = None
hidden = None
p = None
k = None
delta = None
power_n = None
init_sigma = None       # std of the initial synapses
local_lr = None
local_epochs = None
local_batch = None
prune_threshold = None
epochs = None
batch_size = None
lr = None
decoder_lr = None
l2_weight = None
jac_weight = None
jac_proj = None
spec_weight = None
spec_alpha = None
spec_tau = None
train_seed = None
n_attack = None         # test images attacked (before keeping the correctly classified ones)
n_eps = None            # points of each log-spaced epsilon grid
eps_l2 = None           # [min, max] of the grid for random (Euclidean) perturbations
eps_linf = None         # [min, max] of the grid for FGSM and PGD (L-infinity)
pgd_steps = None        # PGD iterations N
bisection = None        # bisection steps refining each critical distance
attack_seed = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

import nngeom
from nngeom import robustness
from nngeom import robust_models as rm

LOCAL = {
    "smoke": {"n_attack": 60, "n_eps": 6, "eps_l2": [1e-2, 1e3], "eps_linf": [1e-6, 1e0], "pgd_steps": 2,
              "bisection": 2, "attack_seed": 0},
    "cpu": {"n_attack": 500, "n_eps": 24, "eps_l2": [1e-2, 1e3], "eps_linf": [1e-6, 1e0], "pgd_steps": 10,
            "bisection": 8, "attack_seed": 0},
    "paper": {"n_attack": 10000, "n_eps": 400, "eps_l2": [1e-3, 1e3], "eps_linf": [1e-7, 1e0], "pgd_steps": 10,
              "bisection": 12, "attack_seed": 0},
}
PROFILES = {name: {**rm.TRAINING[name], **LOCAL[name]} for name in rm.TRAINING}
BOUNDS = {**rm.TRAINING_BOUNDS, "n_attack": (10, 10000), "n_eps": (2, None), "eps_l2": (0, None),
          "eps_linf": (0, None), "pgd_steps": (1, None), "bisection": (0, 60)}
S = nngeom.settings(PROFILES, globals(), section="neural-robustness/s3_1_robustness", bounds=BOUNDS)
cfg = rm.training_config(S)
if len(S.eps_l2) != 2 or len(S.eps_linf) != 2 or S.eps_l2[0] >= S.eps_l2[1] or S.eps_linf[0] >= S.eps_linf[1]:
    raise nngeom.ParameterError("eps_l2 and eps_linf must be [min, max] with min < max")

# %% [markdown]
# ## Attacks on the five models

# %%
models, records = rm.trained_models(cfg)
accuracy = rm.accuracy_table(records)
x_test, y_test = rm.test_data(cfg)
x_att, y_att = x_test[:S.n_attack], y_test[:S.n_attack]
ATTACKS = {"random": ("random", np.geomspace(*S.eps_l2, S.n_eps)),
           "FGSM": ("fgsm", np.geomspace(*S.eps_linf, S.n_eps)),
           "PGD": ("pgd_linf", np.geomspace(*S.eps_linf, S.n_eps))}
results = {}
for name, model in models.items():
    for attack, (kind, grid) in ATTACKS.items():
        results[name, attack] = robustness.evaluate(model, x_att, y_att, kind, grid, steps=S.pgd_steps,
                                                    bisection=S.bisection, seed=S.attack_seed)
summary = pd.DataFrame([{
    "model": name, "attack": attack, "correct images": r.n_correct,
    "flipped on the grid": float(np.isfinite(r.critical).mean()),
    "median critical distance": r.median_critical(),
    "mean": float(np.nanmean(r.critical)) if np.isfinite(r.critical).any() else np.nan,
    "std": float(np.nanstd(r.critical)) if np.isfinite(r.critical).any() else np.nan,
} for (name, attack), r in results.items()])
print(summary.round(4).to_string(index=False))

# %% [markdown]
# ## Relative accuracy and critical distances (Fig. 1)

# %%
colors = dict(zip(rm.MODEL_NAMES, ["tab:green", "tab:purple", "tab:blue", "tab:orange", "tab:red"]))
fig, axes = plt.subplots(3, 2, figsize=(12, 10), gridspec_kw={"width_ratios": [1.3, 1]})
for row, attack in enumerate(ATTACKS):
    for name in rm.MODEL_NAMES:
        r = results[name, attack]
        axes[row, 0].semilogx(r.eps, r.relative_accuracy, color=colors[name], label=name)
    axes[row, 0].set(ylabel="relative accuracy", title=attack,
                     xlabel=r"$\epsilon$ (" + ("Euclidean" if attack == "random" else r"$L^\infty$") + ")")
    data = [results[name, attack].critical[np.isfinite(results[name, attack].critical)] for name in rm.MODEL_NAMES]
    parts = axes[row, 1].boxplot([d if d.size else [np.nan] for d in data], showfliers=False)
    axes[row, 1].set_xticks(range(1, len(rm.MODEL_NAMES) + 1), rm.MODEL_NAMES)
    axes[row, 1].set(yscale="log", ylabel=r"$\|\Delta x\|_{crit}$", title=f"{attack}: critical distances")
axes[0, 0].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Accuracy against robustness (Fig. A2)

# %%
median = {attack: {name: results[name, attack].median_critical() for name in rm.MODEL_NAMES} for attack in ATTACKS}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, attack in zip(axes, ["random", "PGD"]):
    for name in rm.MODEL_NAMES:
        ax.scatter(median[attack][name], accuracy[name], color=colors[name], s=60, label=name)
    ax.set(xlabel=r"median $\|\Delta x\|_{crit}$", ylabel="test accuracy", title=attack)
axes[0].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Claims

# %%
for attack in ATTACKS:
    m = median[attack]
    nngeom.claim(f"R.rob.KH-most.{attack}", f"KH has the highest median critical distance under {attack}",
                 paper="KH most robust", ours=m, check=nngeom.holds(max(m, key=m.get) == "KH", "KH is the maximum"))
nngeom.claim("R.rob.order.PGD", "Under PGD the order of robustness is KH, then L2, then JReg",
             paper="KH > L2 > JReg", ours=median["PGD"], check=nngeom.order(["KH", "L2", "JReg"]))
for name in rm.MODEL_NAMES:
    per_model = {attack: median[attack][name] for attack in ATTACKS}
    nngeom.claim(f"R.rob.severity.{name}", f"Severity random < FGSM < PGD for {name} (median critical distance)",
                 paper="random > FGSM > PGD in critical distance", ours=per_model,
                 check=nngeom.order(["random", "FGSM", "PGD"]))
trade = [name for name in rm.MODEL_NAMES if name != "SpecReg"]
for attack in ["random", "PGD"]:
    rho = stats.spearmanr([accuracy[n] for n in trade], [median[attack][n] for n in trade]).statistic
    print(f"{attack}: Spearman correlation of accuracy and median critical distance without SpecReg: {rho:.2f}")
    nngeom.claim(f"R.tradeoff.{attack}", f"Accuracy and robustness ({attack}) are negatively correlated apart from SpecReg",
                 paper="negative correlation", ours=rho, check=nngeom.at_most(-0.5))
finite = summary.dropna()
rho_mv = stats.spearmanr(finite["mean"], finite["std"]).statistic
print(f"Spearman correlation of mean and std of critical distances over models and attacks: {rho_mv:.2f}")
nngeom.claim("R.rob.mean-std", "Mean and spread of critical distances are directly correlated",
             paper="directly correlated", ours=rho_mv, check=nngeom.at_least(0.5))

# %% [markdown]
# ## Reading the result
#
# The table and the claims above give, for every model and perturbation, the fraction of images flipped on the grid
# and the median critical distance. FGSM and PGD distances are Euclidean lengths of $L^\infty$ perturbations, so a
# sign step of size $\epsilon$ has length $\epsilon\sqrt{3072}$; this is why the random perturbation, which spends
# its whole length in one direction, is weaker even though its $\epsilon$ axis reads differently. The correlation
# claims rest on five models only and are indicative. At the `cpu` scale the models are trained briefly and the
# attacks use a subset of the test images; where a claim differs, the numbers above say by how much.
