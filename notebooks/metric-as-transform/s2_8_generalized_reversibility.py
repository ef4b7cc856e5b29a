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
segments = None      # segments searched for twins (inputs with the same three distances)
segment_steps = None  # steps along each segment
twin_resolution = None  # grid points per axis of the two-centre search along the segments
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
from nngeom.metric.twins import twins_on_segment

PROFILES = {
    "smoke": {"trials": 3, "resolution": 160, "segments": 1, "segment_steps": 20, "twin_resolution": 120, "seed": 0},
    "cpu": {"trials": 60, "resolution": 400, "segments": 4, "segment_steps": 80, "twin_resolution": 200, "seed": 0},
    "paper": {"trials": 300, "resolution": 600, "segments": 8, "segment_steps": 200, "twin_resolution": 400,
              "seed": 0},
}
BOUNDS = {"trials": (1, None), "resolution": (50, None), "segments": (1, 8), "segment_steps": (2, None),
          "twin_resolution": (50, None)}
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
    "A.2.8.convex-unique.random", "Convex contour distances from 3 non-collinear centres determine the input (fraction "
    "of random inputs with more than one exact preimage, candidates refined to 1e-9)", paper=0.0,
    ours=float(summary.loc[convex, "several_3_centres_exact"]), check=nngeom.at_most(0.0), kind="check",
    note=f"a check of our inversion, not the document's test: on random inputs it cannot fail (an input in general "
         f"position has one preimage for the 1-invex shape too), so the document rows are the segment searches "
         f"below; at the grid search's tolerance (1e-3) {summary.loc[convex, 'several_3_centres']:.0%} of the inputs "
         f"have near-miss candidates")
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
nngeom.claim(
    "A.2.8.invex-many-to-one.random", "1-invex contour distances from 3 centres: fraction of random inputs with "
    "several exact preimages", paper="many-1", ours=float(summary.loc[invex, "several_3_centres_exact"]),
    check=nngeom.greater_than(0.0), kind="check",
    note="a check that cannot pass: two inputs sharing three distances satisfy 3 equations in 4 unknowns, so twins "
         "lie on curves that random inputs miss; the document row is the segment search below",
    cause="reconstruction: random inputs miss the curves on which twins lie (3 equations in 4 unknowns)")

# %% [markdown]
# ## Twins along segments
#
# Twins, two inputs with the same three distances, lie on curves (3 equations in 4 unknowns), so a segment crosses
# them at isolated points. Along each segment `nngeom.metric.twins.twins_on_segment` follows every point that shares
# the segment point's distances to the first two centres, brackets each sign change of the third distance's
# mismatch, and solves the square system exactly (mismatch below $10^{-9}$ of the distances); each twin is then
# confirmed by the grid search of the plane, an independent code path. The segments are fixed before the run: the
# two axes and the two diagonals of $[-1.5, 1.5]^2$, then further chords at $\pm 0.75$ (at `paper`). "Many-1" is
# judged as at least one confirmed twin on the 1-invex contour; "unique" as none on the convex one, on the same
# segments.

# %%
CHORDS = [((-1.5, 0.0), (1.5, 0.0)), ((0.0, -1.5), (0.0, 1.5)), ((-1.5, -1.5), (1.5, 1.5)), ((-1.5, 1.5), (1.5, -1.5)),
          ((-1.5, 0.75), (1.5, 0.75)), ((-1.5, -0.75), (1.5, -0.75)), ((0.75, -1.5), (0.75, 1.5)),
          ((-0.75, -1.5), (-0.75, 1.5))][:S.segments]
twin_rows, twins = [], {}
for name, radius in SHAPES.items():
    twins[name] = []
    for start, end in nngeom.sweep(CHORDS, "twins.segments"):
        for found in twins_on_segment(start, end, centres, radius, LIMIT, steps=S.segment_steps,
                                      resolution=S.twin_resolution):
            d = inv.contour_distance(torch.from_numpy(found.x)[None], centres, radius)[0]
            confirmed = len(inv.contour_solutions(d, centres, radius, LIMIT, S.resolution)) >= 2
            twins[name].append(found)
            twin_rows.append({"shape": name, "x": np.round(found.x, 3).tolist(), "twin": np.round(found.twin, 3).tolist(),
                              "relative mismatch": found.mismatch, "confirmed by the grid search": confirmed})
twin_table = pd.DataFrame(twin_rows, columns=["shape", "x", "twin", "relative mismatch", "confirmed by the grid search"])
confirmed_count = {name: int(((twin_table["shape"] == name) & twin_table["confirmed by the grid search"]).sum())
                   for name in SHAPES}
print({name: f"{len(twins[name])} twins, {confirmed_count[name]} confirmed" for name in SHAPES})
twin_table.head(12)

# %%
if twins[invex]:
    fig, ax = plt.subplots(figsize=(5.2, 5.2))
    found = twins[invex][0]
    for c, level in zip(centres, inv.contour_distance(torch.from_numpy(found.x)[None], centres, SHAPES[invex])[0]):
        r = level * SHAPES[invex](phi)
        ax.plot(c[0] + r * torch.cos(phi), c[1] + r * torch.sin(phi), lw=1)
    for start, end in CHORDS:
        ax.plot(*np.array([start, end]).T, color="grey", lw=0.6, ls=":")
    ax.scatter(*np.array([t.x for t in twins[invex]]).T, c="C3", s=25, label="input on a segment")
    ax.scatter(*np.array([t.twin for t in twins[invex]]).T, c="C3", marker="x", s=40, label="its twin")
    ax.scatter(*centres.T, c="black", s=20)
    ax.set(title=f"{invex}: twins on the segments", aspect="equal")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    glue("s2_8-twins", fig, display=False)
    plt.close(fig)
else:
    glue("s2_8-twins", "no twin was found on the segments", display=False)

# %% [markdown]
# ```{glue:figure} s2_8-twins
# :name: fig-s2_8-twins
#
# Figure 9's many-to-one case made explicit: inputs on the searched segments (dots) of the 1-invex contour distance
# that share all three distances with another input (crosses); the contours of the three centres are drawn through
# the first pair. Look at whether the contours of the first pair meet at both points.
# ```

# %%
many = nngeom.claim(
    "A.2.8.invex-many-to-one", "1-invex contour distances from 3 centres are many-to-one: confirmed twins on the "
    f"{len(CHORDS)} searched segments", paper="many-1", ours=confirmed_count[invex], check=nngeom.greater_than(0),
    source='sec. 2.8, Fig. 9: "1-Invex contour distance can intersect at multiple points. Hence, the function '
           'produced is many-1 into"',
    note="a twin counts when the segment search solves it exactly and the grid search of the plane finds at least "
         "two preimages of its distances",
    cause="scale: segments = " + f"{S.segments}, segment_steps = {S.segment_steps}: no twin on the searched segments")
unique_segments = nngeom.claim(
    "A.2.8.convex-unique", "Convex contour distances from 3 non-collinear centres determine the input: no twin on "
    "the same segments", paper=0, ours=len(twins[convex]), check=nngeom.at_most(0),
    source='sec. 2.8, Fig. 9: "Such convex distance function have unique solution"; "convex contour distance '
           'produce 1-1 into function"',
    note="'unique' admits no exception: one exact twin refutes it; the same search finds twins of the 1-invex shape "
         "(row above), so it can fail",
    cause="open: " + "; ".join(f"x = {np.round(t.x, 3).tolist()} and {np.round(t.twin, 3).tolist()} share their "
                               "three distances" for t in twins[convex][:3]))

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
# a mismatch of $10^{-3}$, so its candidates are refined to $10^{-9}$ before they count. Random inputs therefore
# cannot show a many-to-one map; the segments, which cross the curves of twins, can.

# %%
nngeom.reading("\n".join([
    f"* **Random inputs**: {summary.loc[convex, 'several_3_centres_exact']:.0%} (convex) and "
    f"{summary.loc[invex, 'several_3_centres_exact']:.0%} (1-invex) of {S.trials} random inputs have more than one "
    f"exact preimage from three centres; {summary.loc[convex, 'unique_3_centres']:.0%} of the convex ones have exactly "
    f"one grid candidate; {summary.loc[convex, 'random_triples_reached']:.0%} of random distance triples have a "
    f"preimage (`A.2.8.into`: **{into['verdict']}**).",
    f"* **Two centres**: at most {int(summary.loc[convex, 'max_points_2_centres'])} points share two convex contour "
    f"distances, at most {int(summary.loc[invex, 'max_points_2_centres'])} share two 1-invex ones "
    f"(`A.2.8.invex-multiple`: **{multiple['verdict']}**).",
    f"* **Segments**: on {len(CHORDS)} segments the search finds {len(twins[invex])} twins of the 1-invex contour "
    f"distance ({confirmed_count[invex]} confirmed by the grid search; `A.2.8.invex-many-to-one`: "
    f"**{many['verdict']}**) and {len(twins[convex])} of the convex one (`A.2.8.convex-unique`: "
    f"**{unique_segments['verdict']}**).",
]))
