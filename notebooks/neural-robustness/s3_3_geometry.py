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
# # 3.3 Geometry: Jacobian norms and decision landscapes
#
# *Exploring mechanisms of Neural Robustness*, section 3 (decision landscapes), Fig. 4 and Appendix D. Through a
# test image that every model classifies correctly, the document lays a random two-dimensional plane in input space
# and maps, for each model, the Frobenius norm of the exact Jacobian of the latent activations
# $\hat h = \mathrm{ReLU}(Wx)^n$ and the decision landscape (class and confidence). It reports that weight
# regularisation gives the lowest Jacobian norms (L2 the lowest) and smooth decision boundaries, BP by far the
# highest norms and small, rough decision domains, SpecReg in between, and KH a norm close to the weight-regularised
# models' that changes only gradually across the plane.
#
# Appendix D argues that L2 and Jacobian penalties act alike locally: for $\hat h = \sigma(Wx)$ the Jacobian is
# $\mathrm{diag}(\sigma'(Wx))\,W$ (eq. A10), so bounding $W$ bounds the Jacobian. We check the identity against
# autograd and compare weight and Jacobian norms of the five models on test images.
#
# When no test image is correct for all five models (tiny `smoke` models), the image correct for the most models
# is used, and the notebook says so. The plane spans $[-\text{extent}, \text{extent}]^2$ around the image (the authors' code: $\pm 20$ on a
# $100\times100$ grid; the document gives no extent); the `cpu` profile uses a coarser grid (below).

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
l2_form = None
jac_weight = None
jac_proj = None
spec_weight = None
spec_alpha = None
spec_tau = None
spec_method = None
jac_on = None
spec_on = None
train_seed = None
extent = None           # half-width of the plane
resolution = None       # grid points per axis
n_jacobian = None       # test images on which Jacobian norms are averaged
plane_seed = None
n_planes = None         # further random planes (through other test images) for the plane statistics

# %% tags=["hide-input"]

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display
from scipy import stats
from myst_nb import glue

import nngeom
from nngeom.robustness import landscape
from nngeom.robustness import experiments as rm
from nngeom.robustness.causes import gauge_cause, jreg_cause, l2_cause, l2_guard, scale_cause, spectral_cause

LOCAL = {
    "smoke": {"extent": 20.0, "resolution": 20, "n_jacobian": 200, "plane_seed": 0, "n_planes": 3},
    "cpu": {"extent": 20.0, "resolution": 60, "n_jacobian": 2000, "plane_seed": 0, "n_planes": 10},
    "paper": {"extent": 20.0, "resolution": 100, "n_jacobian": 10000, "plane_seed": 0, "n_planes": 20},
}
LOCAL_SOURCES = {"extent": "authors' code: range +-20", "resolution": "authors' code: 100 x 100 grid",
                 "n_jacobian": "ours: test images for the Appendix D comparison", "plane_seed": "ours",
                 "n_planes": "ours: the document shows one plane; further planes give the statements a spread"}
PROFILES = {name: {**rm.TRAINING[name], **LOCAL[name]} for name in rm.TRAINING}
BOUNDS = {**rm.TRAINING_BOUNDS, "extent": (1e-6, None), "resolution": (3, 1000), "n_jacobian": (10, None),
          "n_planes": (2, None)}
S = nngeom.settings(PROFILES, globals(), section="neural-robustness/s3_3_geometry", bounds=BOUNDS)
cfg = rm.training_config(S)
print(f"fast-matmul ranking mode of the local rule: {rm.ranking_mode()} (part of the cache key of KH)")
display(rm.sources_table(S, LOCAL_SOURCES, PROFILES))

# %% [markdown]
# ## One plane, five models (Fig. 4)

# %%
models, records = rm.trained_models(cfg)
guard = l2_guard(models, rm.accuracy_table(records))
x_test, y_test = rm.test_data(cfg)
with torch.no_grad():
    correct = torch.stack([m(x_test.to(nngeom.device())).argmax(1).cpu() == y_test for m in models.values()])
index = int(correct.sum(0).argmax())  # the first image that the most models (ideally all five) classify correctly
x0 = x_test[index]
plane = landscape.random_plane(x0.numel(), torch.Generator().manual_seed(S.plane_seed))
points, axis = landscape.plane_points(x0, plane, S.extent, S.resolution)
print(f"image {index} (class {y_test[index].item()}), correct for {int(correct[:, index].sum())} of 5 models; "
      f"plane of {len(points)} points, extent {S.extent:g}")

maps = {}
for name, model in models.items():
    jac = landscape.model_jacobian_norms(model, points).reshape(S.resolution, S.resolution)
    cls, conf = landscape.decision_landscape(model, points)
    maps[name] = (jac, cls.reshape(S.resolution, S.resolution), conf.reshape(S.resolution, S.resolution))

fig, axes = plt.subplots(2, 5, figsize=(20, 8))
extent_box = [-S.extent, S.extent, -S.extent, S.extent]
for c, (name, (jac, cls, conf)) in enumerate(maps.items()):
    im = axes[0, c].imshow(np.log10(jac.numpy() + 1e-30), origin="lower", extent=extent_box, cmap="viridis")
    fig.colorbar(im, ax=axes[0, c], fraction=0.046, label=r"$\log_{10}\|J\|_F$")
    axes[0, c].set_title(name)
    rgba = plt.get_cmap("tab10")(cls.numpy())
    rgba[..., 3] = conf.numpy()
    axes[1, c].imshow(rgba, origin="lower", extent=extent_box)
    for ax in axes[:, c]:
        ax.plot(0, 0, "k+", ms=10)
axes[0, 0].set_ylabel("Jacobian norm of $\\hat h$")
axes[1, 0].set_ylabel("decision (colour) and confidence (opacity)")
fig.tight_layout()
glue("s3_3-fig4", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s3_3-fig4
# :name: fig-s3_3-fig4
#
# Recomputes Fig. 4 of the document on one random plane through a test image (the cross): top, $\log_{10}$ of the
# Frobenius norm of the hidden Jacobian; bottom, the predicted class (colour) and its confidence (opacity). Look for
# the level of the norm per model, how abruptly it changes across the plane, and the size and edges of the decision
# domains.
# ```

# %% [markdown]
# ## Jacobian norms and decision landscapes, measured on the plane
#
# The document reads Fig. 4 by eye; we measure the same plane.
#
# * Jacobian level: the median of $\|J\|_F$ over the grid. Roughness of the Jacobian map: the mean absolute
#   difference of $\log_{10}\|J\|_F$ between neighbouring grid points, relative to its range on the plane (how
#   abruptly the norm changes, independent of its level).
# * Decision domains: the number of connected regions of equal predicted class (4-neighbour connectivity) and their
#   mean area as a fraction of the plane; the boundary fraction, the share of neighbouring grid pairs whose classes
#   differ (a longer, rougher border gives more such pairs); the same fraction in the central ninth of the plane
#   (the neighbourhood of the image).
# * Confidence: the mean absolute change of the confidence between neighbouring grid points.
#
# Norms are also averaged over test images (where the models are trained), for the Appendix D comparison.

# %%
centre = slice(S.resolution // 3, S.resolution - S.resolution // 3)
x_jac = x_test[:S.n_jacobian]
rows = {}
for name, model in models.items():
    jac, cls, conf = maps[name]
    count = landscape.decision_regions(cls)
    rows[name] = {"median norm on the plane": float(jac.median()),
                  "roughness on the plane": landscape.roughness(jac),
                  "regions": count, "mean region area": 1.0 / count,
                  "boundary fraction": landscape.boundary_fraction(cls),
                  "boundary fraction, centre": landscape.boundary_fraction(cls[centre, centre]),
                  "confidence step": float(landscape.neighbour_steps(conf).mean()),
                  "classes on the plane": int(cls.unique().numel()),
                  "mean norm on test images": float(landscape.model_jacobian_norms(model, x_jac).mean()),
                  "||W||_F": float(model.encoder_weight().detach().norm())}
table = pd.DataFrame(rows).T
display(table.round(4))
plane_norm = table["median norm on the plane"].to_dict()
test_norm = table["mean norm on test images"].to_dict()
w_norm = table["||W||_F"].to_dict()
col = lambda name: table[name].to_dict()  # noqa: E731


def linear_trend_r2(jac):
    """R^2 of the least-squares plane a + b u + c v through log10 ||J|| over the grid: 1 = a pure linear trend."""
    z = np.log10(jac.numpy().astype(float) + 1e-30).ravel()
    u, v = np.meshgrid(np.arange(jac.shape[1]), np.arange(jac.shape[0]))
    design = np.column_stack([np.ones(z.size), u.ravel(), v.ravel()])
    residual = z - design @ np.linalg.lstsq(design, z, rcond=None)[0]
    return float(1 - residual.var() / z.var()) if z.var() > 0 else 1.0


# %% [markdown]
# ## Further planes
#
# Fig. 4 shows one plane; its statements are judged over `n_planes` further random planes, each through another test
# image that the most models classify correctly, with the same extent and grid. Per plane and model: the roughness
# of the Jacobian map, the $R^2$ of a plane fitted to $\log_{10}\|J\|_F$ (a linear trend), and the share of grid
# points where KH predicts the same class as each other model (how alike the decision landscapes are). A statement
# "KH has the lowest X" is judged by a paired one-sided t-test over planes against every other model, each at 5 %
# (a conjunction: an intersection-union test, no correction).

# %%
ranked_images = torch.argsort(correct.sum(0), descending=True, stable=True)
plane_rows = []
for i in nngeom.sweep(range(S.n_planes), "geometry.planes"):
    index_i = int(ranked_images[i + 1])  # the figure's image is the first of this order
    plane_i = landscape.random_plane(x0.numel(), torch.Generator().manual_seed(S.plane_seed + 1 + i))
    points_i, _ = landscape.plane_points(x_test[index_i], plane_i, S.extent, S.resolution)
    classes_i = {}
    for name, model in models.items():
        jac_i = landscape.model_jacobian_norms(model, points_i).reshape(S.resolution, S.resolution)
        classes_i[name] = landscape.decision_landscape(model, points_i)[0]
        plane_rows.append({"plane": i, "model": name, "roughness": landscape.roughness(jac_i),
                           "linear-trend R^2": linear_trend_r2(jac_i)})
    for name in models:
        plane_rows.append({"plane": i, "model": name, "same class as KH": float((classes_i[name] == classes_i["KH"])
                                                                                 .float().mean())})
planes = pd.DataFrame(plane_rows).groupby(["plane", "model"]).first().reset_index()
per_plane = {measure: planes.pivot(index="plane", columns="model", values=measure)
             for measure in ("roughness", "linear-trend R^2", "same class as KH")}
display(pd.DataFrame({measure: frame.mean() for measure, frame in per_plane.items()}).round(3)
        .rename_axis("mean over planes"))


def paired_p(frame, better, other, lower=True):
    """One-sided paired t-test over planes that ``better``'s value is below (``lower``) or above ``other``'s."""
    return float(stats.ttest_rel(frame[better], frame[other], alternative="less" if lower else "greater").pvalue)

# %% [markdown]
# ## Claims on Fig. 4

# %%
FIG4 = 'sec. 3, Fig. 4: "weight regularization, in general, results in the lowest norm values, whereby L2 ' \
       'regularization achieves the lowest."'
SCALE = l2_cause(guard, scale_cause(S, ("epochs",), "the penalties have had little time to shape W"))
nngeom.claim("R.geo.L2-below-BP", "L2 has a lower hidden-Jacobian norm than BP on the plane", paper="L2 << BP",
             ours={"L2": plane_norm["L2"], "BP": plane_norm["BP"]}, check=nngeom.order(["BP", "L2"]), source=FIG4,
             cause=gauge_cause(w_norm, S, ("L2", "BP")))
nngeom.claim("R.geo.JReg-below-BP", "JReg has a lower hidden-Jacobian norm than BP on the plane", paper="JReg << BP",
             ours={"JReg": plane_norm["JReg"], "BP": plane_norm["BP"]}, check=nngeom.order(["BP", "JReg"]),
             source=FIG4, cause=gauge_cause(w_norm, S, ("JReg", "BP")),
             judged_at=("cpu", "paper") if jreg_cause(S) is None else ("paper",),
             note="judged only where JReg penalises h = W x, the document's setting: with jac_on = 'h_hat' it "
                  "minimises this very norm, so the row could not fail")
nngeom.claim("R.geo.L2-lowest", "L2 has the lowest hidden-Jacobian norm of the five models on the plane",
             paper="L2 lowest", ours=plane_norm,
             check=nngeom.holds(min(plane_norm, key=plane_norm.get) == "L2", "L2 is the minimum"), source=FIG4,
             cause=gauge_cause(w_norm, S, ("L2", min(plane_norm, key=plane_norm.get))))
nngeom.claim("R.geo.BP-highest", "BP has by far the highest hidden-Jacobian norm on the plane", paper="BP highest",
             ours=plane_norm, check=nngeom.holds(max(plane_norm, key=plane_norm.get) == "BP", "BP is the maximum"),
             source='sec. 3, Fig. 4: "the naive model exhibits by far the highest Jacobian scores"',
             cause=gauge_cause(w_norm, S, ("BP", max(plane_norm, key=plane_norm.get))))
between = max(plane_norm["L2"], plane_norm["JReg"]) < plane_norm["SpecReg"] < plane_norm["BP"]
nngeom.claim("R.geo.SpecReg-between", "SpecReg's Jacobian norm lies between the weight-regularised models' and BP's",
             paper="between those poles", ours=plane_norm,
             check=nngeom.holds(between, "max(L2, JReg) < SpecReg < BP"),
             source='sec. 3, Fig. 4: "Regarding the norm values, spectral regularization resides between those poles"',
             cause=gauge_cause(w_norm, S, ("L2", "JReg", "SpecReg", "BP")))
log_gap = {name: abs(np.log10(plane_norm[name]) - np.log10(plane_norm["KH"])) for name in plane_norm if name != "KH"}
nngeom.claim("R.geo.KH-close-to-weightreg", "KH's Jacobian level is closest to a weight-regularised model's",
             paper="KH closest to weight regularization", ours=log_gap,
             check=nngeom.holds(min(log_gap, key=log_gap.get) in ("L2", "JReg"), "the nearest model is L2 or JReg"),
             source='sec. 3, Fig. 4: "In terms of the range of the Jacobian, [12]\'s model (KHModel) is closest to '
                    'weight regularization"', cause=gauge_cause(w_norm, S, ("KH", "L2", "JReg")))
rough = col("roughness on the plane")
nngeom.claim("R.geo.KH-smoothest.figure-plane", "On the figure's plane, KH's Jacobian norm changes most gradually",
             paper="KH changes only gradually and smoothly", ours=rough,
             check=nngeom.holds(min(rough, key=rough.get) == "KH", "KH has the lowest roughness"), kind="check",
             note="one plane, no spread: the document row is judged over n_planes planes below",
             cause=f"open: on this plane the smoothest map is {min(rough, key=rough.get)}'s; the planes below give "
                   "the spread")
rough_p = {other: paired_p(per_plane["roughness"], "KH", other) for other in models if other != "KH"}
nngeom.claim("R.geo.KH-smoothest", f"KH's Jacobian norm changes most gradually: its roughness is below every other "
             f"model's over {S.n_planes} planes (paired one-sided t-tests, each at 5 %)",
             paper="KH changes only gradually and smoothly",
             ours={"mean roughness": per_plane["roughness"].mean().to_dict(), "p (KH below)": rough_p},
             check=nngeom.holds(all(p < 0.05 for p in rough_p.values()), "every paired p < 0.05"),
             source='sec. 3, Fig. 4: "the norm value changes only gradually and smoothly along the latent activation '
                    'landscape of the KH model."',
             cause="open: KH is not resolved below " + ", ".join(
                 f"{o} (mean {per_plane['roughness'][o].mean():.3f} against KH's "
                 f"{per_plane['roughness']['KH'].mean():.3f}, p = {p:.2g})" for o, p in rough_p.items() if p >= 0.05))
agree = per_plane["same class as KH"]
weightreg_best = agree[["L2", "JReg"]].max(axis=1)
others_best = agree[["BP", "SpecReg"]].max(axis=1)
agree_p = float(stats.ttest_rel(weightreg_best, others_best, alternative="greater").pvalue)
nngeom.claim("R.geo.KH-landscape-like-weightreg", f"KH's decision landscape is closer to a weight-regularised model's "
             f"than to BP's or SpecReg's: share of grid points with KH's class, the better of L2 and JReg against the "
             f"better of BP and SpecReg, over {S.n_planes} planes (paired one-sided t-test)",
             paper="almost identical structure", ours={"mean share, L2 or JReg": float(weightreg_best.mean()),
                                                       "mean share, BP or SpecReg": float(others_best.mean()),
                                                       "p": agree_p},
             check=nngeom.holds(agree_p < 0.05, "paired p < 0.05"),
             source='sec. 3, Fig. 4: "the general structure of the decision lanscape between these models is almost '
                    'identical, besides the orientation of the gradient"',
             note="'these models': KH and weight regularization (the sentence before); 'almost identical' judged as "
                  "closer than to the other models, since the document gives no level",
             cause=f"open: mean share of KH's class {weightreg_best.mean():.3f} (L2 or JReg) against "
                   f"{others_best.mean():.3f} (BP or SpecReg), p = {agree_p:.2g}")
count, border = col("regions"), col("boundary fraction")
clear = all(count["BP"] > count[m] and border["BP"] > border[m] for m in ("L2", "JReg"))
nngeom.claim("R.geo.BP-small-rough-domains", "BP's decision domains are smaller and their borders longer than L2's "
             "and JReg's", paper="BP: small domains, rough edges; L2, JReg: clear borders",
             ours={"regions": count, "boundary fraction": border},
             check=nngeom.holds(clear, "BP has more regions and a larger boundary fraction than L2 and JReg"),
             source='sec. 3, Fig. 4: "smooth decision boundaries with very clear borders" (L2, JReg); BP: "rather small '
                    'decision domains with rougher edges"', cause=SCALE)
area, centre_border = col("mean region area"), col("boundary fraction, centre")
# Far from the image the decision regions become radial sectors (the hidden layer is positively homogeneous), so
# every model's boundary is densest near the centre; "particularly rough" is therefore judged against the other
# models' centres, not against SpecReg's own plane.
patches = area["SpecReg"] > area["BP"] and all(centre_border["SpecReg"] > centre_border[m]
                                               for m in ("KH", "L2", "JReg"))
nngeom.claim("R.geo.SpecReg-patches", "SpecReg has larger domains than BP but a rougher terrain near the image than "
             "the smooth models (KH, L2, JReg)",
             paper="large patches, rough near the centre",
             ours={"mean region area": {k: area[k] for k in ("SpecReg", "BP")},
                   "boundary fraction near the image": dict(centre_border)},
             check=nngeom.holds(patches, "area SpecReg > area BP, and SpecReg's centre boundary fraction above KH's, "
                                         "L2's and JReg's"),
             source='sec. 3, Fig. 4: SpecReg "shows rather large decision domain patches" but "in the close '
                    'neighborhood of the center ... the decision terrain appears particularly rough"',
             cause=spectral_cause(S))
step = col("confidence step")
nngeom.claim("R.geo.KH-confidence-gradual", "KH's confidence changes less abruptly than L2's and JReg's",
             paper="less abrupt than weight regularized", ours={k: step[k] for k in ("KH", "L2", "JReg")},
             check=nngeom.holds(step["KH"] < step["L2"] and step["KH"] < step["JReg"],
                                "KH's mean confidence step below L2's and JReg's"),
             source='sec. 3, Fig. 4: "the hybrid model\'s confidence changes less abruptly between decision domains, '
                    'compared to the weight regularized models."')


trend = {name: linear_trend_r2(jac) for name, (jac, _, _) in maps.items()}
nngeom.claim("R.geo.KH-linear-trend", "On the figure's plane, KH's log Jacobian map follows a linear trend across the plane more closely "
             "than BP's and SpecReg's (R^2 of a fitted plane)", paper="KH linear; BP, SpecReg no trend", ours=trend,
             check=nngeom.holds(trend["KH"] > max(trend["BP"], trend["SpecReg"]), "R^2 of KH above BP's and SpecReg's"),
             kind="check",
             source='sec. 3, Fig. 4: KH: "the Jacobian score changes linearly from smaller to higher values"; BP and '
                    'SpecReg "appear similarly abrupt and show no trend"',
             note="the plane fit and its R^2 are our measure of 'linearly' and 'trend' (the document reads the figure)",
             cause=f"open: on this one plane KH's R^2 is {trend['KH']:.2f} against BP's {trend['BP']:.2f} and "
                   f"SpecReg's {trend['SpecReg']:.2f}; the row over planes follows")
trend_p = {other: paired_p(per_plane["linear-trend R^2"], "KH", other, lower=False) for other in ("BP", "SpecReg")}
nngeom.claim("R.geo.KH-linear-trend.planes", f"KH's log Jacobian map follows a linear trend more closely than BP's "
             f"and SpecReg's over {S.n_planes} planes (R^2 of a fitted plane, paired one-sided t-tests at 5 %)",
             paper="KH linear; BP, SpecReg no trend",
             ours={"mean R^2": per_plane["linear-trend R^2"].mean().to_dict(), "p (KH above)": trend_p},
             check=nngeom.holds(all(p < 0.05 for p in trend_p.values()), "both paired p < 0.05"),
             source='sec. 3, Fig. 4: KH: "the Jacobian score changes linearly from smaller to higher values"; BP and '
                    'SpecReg "appear similarly abrupt and show no trend"',
             note="the plane fit and its R^2 are our measure of 'linearly' and 'trend' (the document reads the figure)",
             cause="open: " + ", ".join(f"KH {per_plane['linear-trend R^2']['KH'].mean():.2f} against {o} "
                                        f"{per_plane['linear-trend R^2'][o].mean():.2f} (p = {p:.2g})"
                                        for o, p in trend_p.items()))

# %% [markdown]
# ## Appendix D: L2 and Jacobian penalties act alike locally
#
# First the identity $\|J\|_F = \|\mathrm{diag}(\sigma'(Wx))W\|_F$ against `torch.autograd` on a few test images for
# every model (a check of our closed form); then, across models, whether a smaller weight norm $\|W\|_F$ goes with a
# smaller Jacobian norm on test images, as the argument predicts for L2 and JReg against BP.

# %%
errors = {}
for name, model in models.items():
    model_cpu = model.cpu().double()
    xs = x_test[:4].double()
    closed = landscape.relu_power_jacobian_norm(model_cpu.encoder_weight().detach(), model_cpu.pre(xs).detach(),
                                                model_cpu.n)
    auto = landscape.jacobian_norm_autograd(model_cpu.hidden, xs)
    errors[name] = float(((closed - auto).abs() / auto.clamp_min(1e-300)).max())
    model.float().to(nngeom.device())
print("max relative error of eq. A10 against autograd:", {k: f"{v:.1e}" for k, v in errors.items()})
nngeom.claim("R.D.eqA10", "The closed-form hidden Jacobian diag(sigma'(Wx)) W (eq. A10) matches autograd",
             paper=None, ours=max(errors.values()), check=nngeom.at_most(1e-6), kind="check",
             judged_at=("smoke", "cpu", "paper"))
alike = (w_norm["L2"] < w_norm["BP"] and w_norm["JReg"] < w_norm["BP"]
         and test_norm["L2"] < test_norm["BP"] and test_norm["JReg"] < test_norm["BP"])
cross = test_norm["L2"] < test_norm["BP"] and w_norm["JReg"] < w_norm["BP"]
row_alike = nngeom.claim(
    "R.D.L2-JReg-alike", "L2 and JReg both lower the weight norm and the Jacobian norm relative to BP",
    paper="same local effect", ours={"||W||_F": w_norm, "mean ||J||_F": test_norm},
    check=nngeom.holds(alike, "both norms below BP's for L2 and JReg"), kind="check",
    cause=gauge_cause(w_norm, S, ("L2", "JReg", "BP")),
    note="a check: each penalty lowers the norm it penalises by construction; the cross terms are "
         "R.D.L2-JReg-cross, and the effect on robustness is R.D.L2-JReg-robustness (section 3.1 notebook)")
nngeom.claim("R.D.L2-JReg-cross", "Each penalty also lowers the other's norm: L2 lowers the Jacobian norm and JReg "
             "the weight norm, relative to BP", paper="same local effect",
             ours={"mean ||J||_F, L2 / BP": test_norm["L2"] / test_norm["BP"],
                   "||W||_F, JReg / BP": w_norm["JReg"] / w_norm["BP"]},
             check=nngeom.holds(cross, "both ratios below 1"),
             source='App. D, eq. A10: "Because structurally h(x) = sigma(W x), the norm of the Jacobian directly '
                    'relates to the norm of the weights"', cause=gauge_cause(w_norm, S, ("L2", "JReg", "BP")))

fig, ax = plt.subplots(figsize=(5, 4))
for name in rm.MODEL_NAMES:
    ax.scatter(w_norm[name], test_norm[name], s=60, label=name)
ax.set(xscale="log", yscale="log", xlabel=r"$\|W\|_F$", ylabel=r"mean $\|J\|_F$ on test images")
ax.legend()
fig.tight_layout()
glue("s3_3-weights-jacobian", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s3_3-weights-jacobian
# :name: fig-s3_3-weights-jacobian
#
# Appendix D's argument (eq. A10), which the document does not plot: the weight norm $\|W\|_F$ of each model
# against its mean hidden-Jacobian norm on test images. Look for whether the models with smaller weights also have
# smaller Jacobians, L2 and JReg against BP in particular.
# ```
#
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# Far from the image the pre-activations grow linearly along the plane and $\mathrm{ReLU}(h)^{4.5}$ with them, so
# the maps are drawn on a logarithmic scale. The landscape measures are those of one plane, as in the document's
# figure; another plane gives other numbers.

# %%
by_norm = " < ".join(sorted(plane_norm, key=plane_norm.get))
nngeom.reading(
    f"Median hidden-Jacobian norm on the plane, lowest first: {by_norm}. Decision regions on the plane: "
    + ", ".join(f"{k} {v}" for k, v in count.items())
    + "; boundary fractions: " + ", ".join(f"{k} {v:.3f}" for k, v in border.items())
    + f". The smoothest Jacobian map (lowest roughness) is {min(rough, key=rough.get)}'s, the most gradual confidence "
    f"{min(step, key=step.get)}'s; the closest to a linear trend (R^2 of a fitted plane) is "
    f"{max(trend, key=trend.get)}'s (" + ", ".join(f"{k} {v:.2f}" for k, v in trend.items()) + "). Eq. A10 matches autograd to a relative error of {max(errors.values()):.1e}; "
    f"L2 and JReg {'both' if alike else 'do not both'} have smaller weight and Jacobian norms than BP "
    f"(R.D.L2-JReg-alike: {row_alike['verdict']}).")
