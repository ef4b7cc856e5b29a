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
# # 2.8 Reversibility of generalized metrics
#
# *Metric as Transform*, section 2.8, Figures 8 and 9. A general convex or invex function of $x - c$ has contours
# of changing shape, and contours of different centres can meet in many points: "the intersection of different
# contours of general convex function may not be unique". The document therefore restricts
# to distances whose contours all have **one shape**, scaled about the centre:
# $d(x, c) = g(x - c)$ with $g$ the gauge of a body $\{\rho \le r(\theta)\}$, so that
# $d(x, c) = \lVert x - c\rVert / r(\angle(x - c))$.
#
# * **convex contour distance**: the body is convex. "Such convex distance function have unique solution": like
#   Euclidean distance, distances to three non-collinear centres determine the input, a one-to-one *into* map
#   (not every triple of distances is reached);
# * **1-invex contour distance**: the body is only star-shaped (every ray from the centre meets each contour once).
#   "1-Invex contour distance can intersect at multiple points. Hence, the function produced is many-1 into";
# * a curve that a ray from the centre meets several times gives scaled contours that cross each other: not
#   usable as a distance (Figure 8, right).
#
# We use $r(\theta) = 1 + a \cos(3\theta)$: convex for $a < 1/10$ (we take $a = 0.08$), star-shaped but not convex
# for larger $a$ (we take $a = 0.6$). Solutions are found by `nngeom.metric.inversion.contour_solutions`: a grid search
# for the zeros of $\sum_i (d(x, c_i) - d_i)^2$ followed by gradient refinement, keeping distinct points whose
# mismatch is below $10^{-3}$.

# %% tags=["parameters"]
profile = "cpu"
trials = None        # random inputs whose preimages are counted
resolution = None    # grid points per axis of the solution search
seed = None

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import scipy.optimize
import pandas as pd
import torch
from myst_nb import glue

import nngeom
from nngeom.metric import inversion as inv

PROFILES = {
    "smoke": {"trials": 3, "resolution": 160, "seed": 0},
    "cpu": {"trials": 60, "resolution": 400, "seed": 0},
    "paper": {"trials": 300, "resolution": 600, "seed": 0},
}
BOUNDS = {"trials": (1, None), "resolution": (50, None)}
S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s2_8_generalized_reversibility",
                    bounds=BOUNDS)
generator = nngeom.seed_everything(S.seed)
LIMIT = 4.0
SHAPES = {
    "convex contour (a = 0.08)": lambda theta: 1 + 0.08 * torch.cos(3 * theta),
    "1-invex contour (a = 0.6)": lambda theta: 1 + 0.6 * torch.cos(3 * theta),
}
centres = torch.tensor([[-1.2, -0.7], [1.3, -0.5], [0.1, 1.3]], dtype=torch.float64)

# %% [markdown]
# ## Figure 8: contour sets
#
# Contours $d(x, 0) = 0.5, 1, 1.5, 2$ of the two gauges, and of a curve that is not star-shaped about its centre
# (angle $\theta = \varphi + 0.9 \sin 3\varphi$ along the curve goes back and forth), whose scaled copies cross.

# %%
phi = torch.linspace(0, 2 * np.pi, 600, dtype=torch.float64)
fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
for ax, (name, radius) in zip(axes, SHAPES.items()):
    for level in [0.5, 1.0, 1.5, 2.0]:
        r = level * radius(phi)
        ax.plot(r * torch.cos(phi), r * torch.sin(phi), lw=1.2)
    ax.set_title(name)
hook_theta = phi + 0.9 * torch.sin(3 * phi)
hook_r = 1 + 0.5 * torch.cos(3 * phi)
for level in [0.5, 1.0, 1.5, 2.0]:
    axes[2].plot(level * hook_r * torch.cos(hook_theta), level * hook_r * torch.sin(hook_theta), lw=1.2)
axes[2].set_title("not 1-invex: scaled contours cross")
for ax in axes:
    ax.scatter([0], [0], c="black", marker="+")
    ax.set_aspect("equal")
fig.tight_layout()
glue("s2_8-contour-sets", fig, display=False)
plt.close(fig)
backtracks = int((torch.diff(hook_theta) < 0).sum())
nngeom.claim("A.2.8.non-star-backtracks", "Our non-star curve turns back (the angle along it decreases on some steps), "
             "so a ray from the centre meets one contour several times", paper="contours intersect (Fig. 8 right)",
             ours=backtracks, check=nngeom.greater_than(0), kind="check");

# %% [markdown]
# ```{glue:figure} s2_8-contour-sets
# :name: fig-s2_8-contour-sets
#
# Recomputes Figure 8 of the document: contours $d(x, 0) = 0.5, 1, 1.5, 2$ of a convex contour distance (left), of
# a 1-invex contour distance (middle) and of a curve that is not star-shaped about its centre (right). Look for
# nested contours that never touch (left, middle) against scaled copies that cross (right).
# ```

# %% [markdown]
# ## Figure 9: where the contours of three centres meet
#
# One input $x$; the contours of the three centres through $x$; the crosses are every point of the plane that
# has the same three distances (found by the solution search). With two centres only (first two contours), the
# crosses show how many points share two distances.

# %%
x0 = torch.tensor([[0.35, 0.25]], dtype=torch.float64)
fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
for ax, (name, radius) in zip(axes, SHAPES.items()):
    d0 = inv.contour_distance(x0, centres, radius)[0]
    for c, level in zip(centres, d0):
        r = level * radius(phi)
        ax.plot(c[0] + r * torch.cos(phi), c[1] + r * torch.sin(phi), lw=1)
    two = inv.contour_solutions(d0[:2], centres[:2], radius, LIMIT, S.resolution)
    three = inv.contour_solutions(d0, centres, radius, LIMIT, S.resolution)
    ax.scatter(*two.T, marker="o", s=60, facecolors="none", edgecolors="grey", label=f"2 centres: {len(two)}")
    ax.scatter(*three.T, marker="x", s=90, c="black", label=f"3 centres: {len(three)}", zorder=4)
    ax.scatter(*centres.T, c="black", s=20)
    ax.set_title(name)
    ax.set_aspect("equal")
    ax.legend(loc="lower right")
fig.tight_layout()
glue("s2_8-preimages", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s2_8-preimages
# :name: fig-s2_8-preimages
#
# Recomputes Figure 9 of the document: for one input, the contours of three centres through it; grey circles mark
# every point sharing its distances to the first two centres, black crosses every point sharing all three. Look for
# how many grey circles and crosses each distance has.
# ```

# %% [markdown]
# ## Counting preimages over random inputs
#
# For random inputs in $[-1.5, 1.5]^2$ we count the points sharing their distances to the first two centres and to
# all three, and for random distance triples (each drawn between the smallest and largest distance seen) whether
# any point has them at all.

# %%
def exact_preimages(points, d, radius, tol=1e-9):
    """Distinct preimages that survive a Levenberg-Marquardt refinement to a mismatch below ``tol`` (relative).

    The grid search keeps points with a mismatch below 1e-3; a near-miss of three contours passes that test, so
    each candidate is refined on the three equations d(x, c_i) = d_i (least squares in float64) before counting.
    """
    exact: list[np.ndarray] = []
    for point in points.numpy():
        fit = scipy.optimize.least_squares(
            lambda z: (inv.contour_distance(torch.from_numpy(z)[None], centres, radius)[0] - d).numpy(), point,
            method="lm", xtol=1e-15, ftol=1e-15)
        if np.abs(fit.fun).max() < tol * float(d.abs().max()) and all(np.abs(fit.x - e).max() > 1e-6 for e in exact):
            exact.append(fit.x)
    return len(exact)


rows = []
inputs = torch.rand(S.trials, 2, generator=generator, dtype=torch.float64) * 3 - 1.5
for name, radius in SHAPES.items():
    d_all = inv.contour_distance(inputs, centres, radius)
    low, high = float(d_all.min()), float(d_all.max())
    random_d = low + (high - low) * torch.rand(S.trials, 3, generator=generator, dtype=torch.float64)
    for x, d, fake in zip(inputs, d_all, random_d):
        found = inv.contour_solutions(d, centres, radius, LIMIT, S.resolution)
        rows.append({
            "shape": name,
            "2 centres": len(inv.contour_solutions(d[:2], centres[:2], radius, LIMIT, S.resolution)),
            "3 centres": len(found),
            "3 centres, exact": exact_preimages(found, d, radius),
            "random triple reached": len(inv.contour_solutions(fake, centres, radius, LIMIT, S.resolution)) > 0,
        })
counts = pd.DataFrame(rows)
summary = counts.groupby("shape").agg(
    max_points_2_centres=("2 centres", "max"), mean_points_2_centres=("2 centres", "mean"),
    unique_3_centres=("3 centres", lambda c: float((c == 1).mean())),
    several_3_centres=("3 centres", lambda c: float((c > 1).mean())),
    several_3_centres_exact=("3 centres, exact", lambda c: float((c > 1).mean())),
    random_triples_reached=("random triple reached", "mean"))
summary["paper"] = summary.index.map(lambda s: "1-1 into" if s.startswith("convex") else "many-1 into")
summary.round(3)

# %%
convex, invex = list(SHAPES)
unique = nngeom.claim(
    "A.2.8.convex-unique", "Convex contour distances from 3 non-collinear centres determine the input (fraction of "
    "random inputs with more than one exact preimage, candidates refined to 1e-9)", paper=0.0,
    ours=float(summary.loc[convex, "several_3_centres_exact"]), check=nngeom.at_most(0.0), kind="check",
    note=f"a check of our inversion, not a reproduction: on random inputs it cannot fail (boundaries of homothetic "
         f"convex shapes meet in at most two points, and an input in general position has one preimage for the "
         f"1-invex shape too, A.2.8.invex-many-to-one), so it cannot tell convex from non-convex contours; 'unique' "
         f"admits no exception: one input with two exact preimages refutes it; at the grid search's "
         f"tolerance (1e-3) {summary.loc[convex, 'several_3_centres']:.0%} of the inputs have near-miss candidates")
into = nngeom.claim(
    "A.2.8.into", "Not every distance triple is reached (into, not onto): fraction of random triples with a "
    "preimage, convex contour", paper="below 1", ours=float(summary.loc[convex, "random_triples_reached"]),
    check=nngeom.less_than(1.0), kind="check",
    note="a check, not a reproduction: three distances of a 2-d input form a 2-d surface in R^3, so a random triple "
         "almost surely has no preimage; this row records the fraction for sec. 2.8's 'might not even intersect'")
multiple = nngeom.claim(
    "A.2.8.invex-multiple", "1-invex contours of two centres meet in more points than convex ones (largest number "
    "of points sharing two distances)", paper="intersect at multiple points",
    ours={"convex": int(summary.loc[convex, "max_points_2_centres"]),
          "1-invex": int(summary.loc[invex, "max_points_2_centres"])},
    check=nngeom.holds(bool(summary.loc[invex, "max_points_2_centres"] > summary.loc[convex, "max_points_2_centres"]),
                       "1-invex > convex"),
    source='sec. 2.8: "1-Invex contour distance can intersect at multiple points"')
many = nngeom.claim(
    "A.2.8.invex-many-to-one", "1-invex contour distances from 3 centres are many-to-one (fraction of random inputs "
    "with several exact preimages is above 0)", paper="many-1",
    ours=float(summary.loc[invex, "several_3_centres_exact"]),
    check=nngeom.greater_than(0.0),
    source='sec. 2.8, Fig. 9: "1-Invex contour distance can intersect at multiple points. Hence, the function '
           'produced is many-1 into"',
    cause="disagreement: two inputs sharing three distances satisfy 3 equations in 4 unknowns, a curve of pairs, so "
          "an input in general position has one preimage; the many-to-one behaviour is pairwise (A.2.8.invex-multiple)")

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# Two contours of one convex shape (scaled about different centres) meet in at most two points, so three
# non-collinear centres can pin the input down; star-shaped contours can meet in more points pairwise. Whether
# three centres still leave several preimages is, for an input in general position, a question of coincidence: a
# third contour has to pass exactly through a second intersection point of the first two. The grid search accepts
# a mismatch of $10^{-3}$, so its candidates are refined to $10^{-9}$ before they count.

# %%
nngeom.reading("\n".join([
    f"* **Convex contour**: {summary.loc[convex, 'several_3_centres_exact']:.0%} of {S.trials} random inputs have more "
    f"than one exact preimage from three centres (`A.2.8.convex-unique`: **{unique['verdict']}**; "
    f"{summary.loc[convex, 'unique_3_centres']:.0%} have exactly one grid candidate); "
    f"{summary.loc[convex, 'random_triples_reached']:.0%} of random distance triples have a preimage "
    f"(`A.2.8.into`: **{into['verdict']}**).",
    f"* **Two centres**: at most {int(summary.loc[convex, 'max_points_2_centres'])} points share two convex contour "
    f"distances, at most {int(summary.loc[invex, 'max_points_2_centres'])} share two 1-invex ones "
    f"(`A.2.8.invex-multiple`: **{multiple['verdict']}**).",
    f"* **1-invex contour, three centres**: {summary.loc[invex, 'several_3_centres']:.0%} of the inputs have several "
    f"candidate preimages at the grid search's tolerance (1e-3), {summary.loc[invex, 'several_3_centres_exact']:.0%} "
    f"several exact ones after refinement (`A.2.8.invex-many-to-one`: **{many['verdict']}**"
    + ("; in general position a third contour misses the other intersection points, as argued above)."
       if not many["passed"] else "; more than the general-position argument above expects)."),
]))
