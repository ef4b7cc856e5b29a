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
# # 2.7 Reversibility of metrics as transform
#
# *Metric as Transform*, section 2.7 and Figure 7: "Metrics are reversible, i.e., we can reconstruct inputs given
# metrics from a set of points." The document inverts four transforms:
#
# * a **linear** map $y = Wx + b$ with the pseudo-inverse, $x = W^+(y - b)$;
# * the **inverse stereographic** projection onto the sphere, whose inverse is the stereographic projection, and
#   a linear map or cosine angles on top of it ("also reversible");
# * **cosine angles** to the rows of $W$: they fix the direction of $x$ only ("the magnitude information is
#   lost"); one extra angle measured at a known point $p$ (between the origin and $x$) restores the magnitude by
#   the law of sines in the triangle $(0, p, x)$;
# * **Euclidean distances** to $N+1$ centres in $\mathbb{R}^N$ (Algorithm 1, the GPS idea): subtracting the sphere
#   equations pairwise leaves a linear system.
#
# It also names the failures: collinear (affinely dependent) centres, and distances known only up to a scale,
# which need $N+2$ centres and a gradient-descent reconstruction. The library functions are in
# `nngeom.metric.inversion`. We test the document's statements of *which* transforms are invertible and *how many*
# centres they need (document claims), check that our inverses return their inputs to round-off (checks of our
# code), measure what the document leaves out (noise on the distances), and count the preimages of the failure
# cases with a grid search that does not use Algorithm 1.

# %% tags=["parameters"]
profile = "cpu"
n_images = None        # MNIST test images reconstructed
image_side = None      # images resized to side x side pixels (28: the full 784-d images)
noise_levels = None    # relative std of Gaussian noise added to the distances
gd_steps = None        # Adam steps of the scaled-distance reconstruction
resolution = None      # grid points per axis of the preimage search in the plane
dims = None            # input dimensions of the random Algorithm 1 tests
seed = None

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from myst_nb import glue

import nngeom
from nngeom.metric import inversion as inv

PROFILES = {
    "smoke": {"n_images": 8, "noise_levels": [0.0, 1e-4, 1e-2], "gd_steps": 300, "resolution": 200,
              "dims": [2, 3, 10], "image_side": 14, "seed": 0},
    "cpu": {"n_images": 200, "noise_levels": [0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2], "gd_steps": 3000,
            "resolution": 400, "dims": [2, 3, 10, 784], "image_side": 28, "seed": 0},
    "paper": {"n_images": 2000, "noise_levels": [0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2], "gd_steps": 5000,
              "resolution": 600, "dims": [2, 3, 10, 784], "image_side": 28, "seed": 0},
}
BOUNDS = {"n_images": (1, None), "noise_levels": (0.0, 1.0), "gd_steps": (1, None), "resolution": (50, None),
          "dims": (2, None), "image_side": (2, 28)}
S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s2_7_reversibility", bounds=BOUNDS)
generator = nngeom.seed_everything(S.seed)
images, _ = nngeom.data.load_subset("mnist", "test", S.n_images, seed=S.seed)
if S.image_side != 28:  # the smoke profile shrinks the images: SVDs of 785 x 784 matrices dominate its time
    images = torch.nn.functional.interpolate(images, size=(S.image_side, S.image_side), mode="area")
images = images.reshape(len(images), -1).double()
N_PIX = images.shape[1]
EXACT = 1e-6  # a reconstruction counts as exact below this relative error (float64 round-off is ~1e-12)


def relative_error(estimate, truth):
    return float(((estimate - truth).norm(dim=1) / truth.norm(dim=1)).max())


# %% [markdown]
# ## Figure 7: four inversions in the plane
#
# One input $x$, three centres / weights and one extra point. Each panel shows what the outputs constrain:
# the linear outputs and the cosine angles are lines through the weight directions, the distances are circles
# around the centres. The reconstructed point is marked with a cross.

# %%
x0 = torch.tensor([[0.8, 0.55]], dtype=torch.float64)
centres = torch.tensor([[-1.0, -0.6], [1.3, -0.2], [-0.2, 1.2]], dtype=torch.float64)
bias = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)
point = torch.tensor([1.5, -0.8], dtype=torch.float64)

reconstructed = {
    "linear": inv.invert_linear(x0 @ centres.T + bias, centres, bias),
    "i-stereo": inv.stereographic(inv.inverse_stereographic(x0)),
    "angles + extra point": inv.invert_angles(inv.cosine_angles(x0, centres), centres,
                                              inv.extra_angle(x0, point), point),
    "euclidean": inv.inverse_euclidean(centres, inv.euclidean_distances(x0, centres)),
}
fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
theta = torch.linspace(0, 2 * np.pi, 200, dtype=torch.float64)
for ax, (name, estimate) in zip(axes, reconstructed.items()):
    if name == "euclidean":
        for c, r in zip(centres, inv.euclidean_distances(x0, centres)[0]):
            ax.plot(c[0] + r * torch.cos(theta), c[1] + r * torch.sin(theta), lw=1)
    elif name == "i-stereo":
        s = inv.inverse_stereographic(x0)[0]
        ax.plot(torch.cos(theta), torch.sin(theta), c="grey", lw=1)
        ax.plot([x0[0, 0], 0], [0, 1], ls="--", c="grey")
        ax.scatter([float(torch.sign(x0[0, 0]) * s[:2].norm())], [float(s[2])], c="tab:green", zorder=3)
        ax.set_title("i-stereo (x-axis slice)")
    else:
        for c in centres:
            ax.plot([0, 2 * c[0]], [0, 2 * c[1]], c="grey", lw=1)
        if name.startswith("angles"):
            ax.plot([point[0], x0[0, 0]], [point[1], x0[0, 1]], ls="--", c="tab:red")
            ax.scatter(*point, marker="s", c="tab:red", zorder=3, label="extra point")
            ax.plot([0, point[0]], [0, point[1]], ls="--", c="tab:red")
            ax.legend(loc="lower left")
    ax.scatter(*centres.T, c="black", s=30, zorder=3)
    ax.scatter(*x0.T, s=120, facecolors="none", edgecolors="tab:blue", zorder=3)
    ax.scatter(*estimate.T, marker="x", s=80, c="tab:orange", zorder=4)
    ax.set_title(ax.get_title() or name)
    ax.set_aspect("equal")
    ax.set_xlim(-2.5, 2.5)
    ax.set_ylim(-2.5, 2.5)
fig.suptitle("circle: input x; cross: reconstruction; dots: weights / centres")
fig.tight_layout()
glue("s2_7-inversions-plane", fig, display=False)
plt.close(fig)
pd.DataFrame({"relative error": {name: relative_error(e, x0) for name, e in reconstructed.items()}})

# %% [markdown]
# ```{glue:figure} s2_7-inversions-plane
# :name: fig-s2_7-inversions-plane
#
# Recomputes the constructions of Figure 7 of the document (which draws the angle case) for the four transforms of
# sec. 2.7 in the plane: what each layer's outputs constrain (lines, circles, the sphere of i-stereo) and the
# reconstructed point. Look for whether the orange cross falls inside the blue circle (the true input).
# ```
#
# ## The same inversions in high dimension
#
# MNIST test images as inputs ($N = 784$ at the `cpu` and `paper` profiles, float64). Linear: a random
# $(N + 16) \times N$ Gaussian weight with bias.
# Angles: $N$ random weight rows plus one extra point; the same angles without the extra point, and the angles of
# $x$ and of $2x$ (same direction, twice the length). Angles on top of i-stereo: cosines between
# $\mathrm{istereo}(x) \in S^{N}$ and $N + 1$ random unit weights, inverted to a unit vector and mapped back by the
# stereographic projection. Euclidean: $N + 1$ random Gaussian centres (Algorithm 1).

# %%
n = images.shape[1]
weight = torch.randn(n + 16, n, generator=generator, dtype=torch.float64)
linear_bias = torch.randn(n + 16, generator=generator, dtype=torch.float64)
angle_weight = torch.randn(n, n, generator=generator, dtype=torch.float64)
sphere_weight = torch.randn(n + 1, n + 1, generator=generator, dtype=torch.float64)
extra_point = torch.randn(n, generator=generator, dtype=torch.float64)
euclid_centres = torch.randn(n + 1, n, generator=generator, dtype=torch.float64)
from_distances = inv.EuclideanInverse(euclid_centres)  # Algorithm 1 with its pseudo-inverse computed once

high_dim = {
    "linear (pseudo-inverse)": relative_error(inv.invert_linear(images @ weight.T + linear_bias, weight, linear_bias),
                                              images),
    "i-stereo -> stereo": relative_error(inv.stereographic(inv.inverse_stereographic(images)), images),
    "angles on i-stereo": relative_error(inv.stereographic(inv.invert_angles(
        inv.cosine_angles(inv.inverse_stereographic(images), sphere_weight), sphere_weight)), images),
    "angles alone": relative_error(inv.invert_angles(inv.cosine_angles(images, angle_weight), angle_weight), images),
    "angles + extra point": relative_error(
        inv.invert_angles(inv.cosine_angles(images, angle_weight), angle_weight, inv.extra_angle(images, extra_point),
                          extra_point), images),
    "euclidean, N+1 centres": relative_error(from_distances(inv.euclidean_distances(images, euclid_centres)), images),
}
# Angles of x and 2x: identical outputs for distinct inputs show that no inverse can exist.
angle_collision = float((inv.cosine_angles(images, angle_weight) - inv.cosine_angles(2 * images, angle_weight))
                        .abs().max())
pd.DataFrame({"max relative error": high_dim}).style.format("{:.2e}")

# %% [markdown]
# **How many centres.** For each $N$ of `dims` we try $N$ and $N + 1$ random centres. $N$ centres are not
# enough when a second input has the same distances: the mirror image of $x$ through the hyperplane of the centres
# is one (we compute it and its distances); one input with a distinct twin shows that $N$ distances do not determine
# the input (a point within $10^{-3} |x|$ of the hyperplane is, to that precision, its own twin, and the table gives
# the share of inputs that have a distinct one). $N + 1$ centres are enough when Algorithm 1 returns every $x$.

# %%
def mirror(x, c):
    """Reflection of x through the affine hull of N centres c (N, N): same distances to every centre."""
    normal = torch.linalg.svd(c[1:] - c[:1]).Vh[-1]
    return x - 2 * ((x - c[0]) @ normal).unsqueeze(1) * normal


by_dimension, needed, twin_share = {}, {}, {}
for dim in S.dims:
    c = torch.randn(dim + 1, dim, generator=generator, dtype=torch.float64)
    x = torch.randn(64, dim, generator=generator, dtype=torch.float64)
    by_dimension[dim] = relative_error(inv.inverse_euclidean(c, inv.euclidean_distances(x, c)), x)
    twin = mirror(x, c[:dim])
    distinct = (twin - x).norm(dim=1) > 1e-3 * x.norm(dim=1)  # a point near the hyperplane is its own twin
    twin_share[dim] = float(distinct.double().mean())
    same_distances = bool(((inv.euclidean_distances(twin, c[:dim]) - inv.euclidean_distances(x, c[:dim])).abs().max()
                           < 1e-9 * inv.euclidean_distances(x, c[:dim]).max()))
    twin_found = bool(distinct.any()) and same_distances  # one distinct input with equal distances suffices
    unique = by_dimension[dim] < EXACT
    needed[dim] = dim + 1 if (twin_found and unique) else (dim if not twin_found else None)
pd.DataFrame({"N": list(needed), "centres needed (ours)": list(needed.values()),
              "paper": [d + 1 for d in needed],
              "inputs with a distinct twin at N centres": list(twin_share.values())}).set_index("N")

# %%
shown = min(6, S.n_images)
fig, axes = plt.subplots(2, shown, figsize=(1.6 * shown, 3.4), squeeze=False)
recon = from_distances(inv.euclidean_distances(images[:shown], euclid_centres))
for i in range(shown):
    axes[0, i].imshow(images[i].reshape(S.image_side, S.image_side), cmap="gray")
    axes[1, i].imshow(recon[i].reshape(S.image_side, S.image_side), cmap="gray")
    axes[0, i].axis("off"), axes[1, i].axis("off")
axes[0, 0].set_title("input", loc="left")
axes[1, 0].set_title(f"from {N_PIX + 1} distances", loc="left")
fig.tight_layout()
glue("s2_7-mnist-from-distances", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s2_7-mnist-from-distances
# :name: fig-s2_7-mnist-from-distances
#
# Algorithm 1 of the document applied to MNIST test images: top row the inputs, bottom row the images rebuilt from
# their Euclidean distances to $N + 1$ random centres. Look for any visible difference between the rows.
# ```

# %%
invertible = {
    "linear": high_dim["linear (pseudo-inverse)"] < EXACT,
    "i-stereo": high_dim["i-stereo -> stereo"] < EXACT,
    "angles on i-stereo": high_dim["angles on i-stereo"] < EXACT,
    "angles alone": not angle_collision < 1e-12,  # distinct inputs x, 2x with equal outputs: not invertible
    "angles + extra point": high_dim["angles + extra point"] < EXACT,
    "euclidean, N+1 centres": high_dim["euclidean, N+1 centres"] < EXACT,
}
DOCUMENT_INVERTIBLE = {"linear": True, "i-stereo": True, "angles on i-stereo": True, "angles alone": False,
                       "angles + extra point": True, "euclidean, N+1 centres": True}
which = nngeom.claim(
    "A.2.7.which-invertible", f"Which transforms of sec. 2.7 can be inverted (MNIST images, {N_PIX}-d): linear, "
    "i-stereo, angles on i-stereo, angles + extra point and Euclidean distances yes; cosine angles alone no",
    paper=DOCUMENT_INVERTIBLE, ours=invertible, check=nngeom.equals(DOCUMENT_INVERTIBLE),
    source='sec. 2.7: "can be inverted using Moore–Penrose inverse"; "cosine angle on top of stereo is also '
           'reversible"; "the magnitude information is lost"; extra angle "to reconstruct the magnitude"',
    kind="check",
    note=f"yes = our inverse returns the images to relative error < {EXACT:g} (float64); no = two distinct inputs "
         "(x and 2x) give the same outputs to 1e-12. A check, not a reproduction: each answer is a theorem (the "
         "pseudo-inverse of a full-column-rank W is exact; cosines of x and 2x are equal), so only our code can fail")
centres_needed = nngeom.claim(
    "A.2.7.n-plus-1", "N-dimensional inputs need N+1 Euclidean distances: N centres leave a mirror-image twin, "
    f"N+1 determine the input (N = {', '.join(map(str, S.dims))})", paper={d: d + 1 for d in needed}, ours=needed,
    check=nngeom.equals({d: d + 1 for d in needed}),
    source='sec. 2.7, Invertibility of Euclidean Distance: "we need [N+1] distances from known centers to be able '
           'to reconstruct it"', kind="check",
    note="a check: N centres span a hyperplane and the reflection through it is a twin with the same distances, "
         "while N+1 centres in general position fix the point (a theorem)")
nngeom.claim("A.2.7.euclid-exact", "Algorithm 1 returns the input from N+1 distances (rel. error < 1e-6, "
             f"float64, N = {', '.join(map(str, S.dims))})", paper="exact (Algorithm 1)",
             ours=max(by_dimension.values()), check=nngeom.at_most(EXACT), kind="check")
nngeom.claim("A.2.7.mnist-785", f"MNIST images rebuilt from {N_PIX + 1} Euclidean distances (rel. error)",
             paper="exact",
             ours=high_dim["euclidean, N+1 centres"], check=nngeom.at_most(EXACT), kind="check")
nngeom.claim("A.2.7.angles-extra", "Our angle inverse with one extra angle returns the input (rel. error)",
             paper="exact", ours=high_dim["angles + extra point"], check=nngeom.at_most(EXACT), kind="check")
nngeom.claim("A.2.7.linear-istereo", "Our linear and i-stereo inverses return the input (rel. error)",
             paper="exact", ours=max(high_dim["linear (pseudo-inverse)"], high_dim["i-stereo -> stereo"]),
             check=nngeom.at_most(EXACT), kind="check");

# %% [markdown]
# ## Noisy distances
#
# The document assumes exact distances. We add Gaussian noise with standard deviation
# $\sigma \cdot d$ to each distance and reconstruct with the least-squares point (`strict=False`: noisy
# spheres no longer meet in one point). Algorithm 1 works with differences of squared distances, so the
# conditioning of its linear system decides how much of the noise reaches $x$.

# %%
rows = []
for sigma in S.noise_levels:
    for name, inverse, x in [("2-D", inv.EuclideanInverse(centres),
                              torch.randn(200, 2, generator=generator, dtype=torch.float64)),
                             ("MNIST", from_distances, images)]:
        d = inv.euclidean_distances(x, inverse.centres)
        noisy = d * (1 + sigma * torch.randn(d.shape, generator=generator, dtype=torch.float64))
        err = (inverse(noisy, strict=False) - x).norm(dim=1) / x.norm(dim=1)
        rows.append({"noise": sigma, "space": name, "median relative error": float(err.median())})
noise_table = pd.DataFrame(rows).pivot(index="noise", columns="space", values="median relative error")
fig, ax = plt.subplots(figsize=(5.5, 3.5))
for name in noise_table.columns:
    positive = noise_table[name][noise_table.index > 0]
    ax.loglog(positive.index, positive.values, marker="o", label=name)
ax.set_xlabel("relative noise on the distances")
ax.set_ylabel("median relative error of x")
ax.legend()
fig.tight_layout()
glue("s2_7-noise", fig, display=False)
plt.close(fig)
noise_table.style.format("{:.2e}")

# %% [markdown]
# ```{glue:figure} s2_7-noise
# :name: fig-s2_7-noise
#
# Not in the document: the error of Algorithm 1 when the distances carry relative Gaussian noise, in the plane
# (3 centres) and for MNIST ($N + 1$ centres). Look for the slope of each line and the gap between the two.
# ```
#
# ## When the distances do not determine the input
#
# Collinear centres in the plane (affinely dependent in general) leave a whole line of solutions for Algorithm 1:
# the library refuses instead of returning one of them. Distances scaled down by a common factor do not meet in a
# point at all, which `strict` inversion detects. Independently of Algorithm 1, a grid search over
# $[-4, 4]^2$ (`contour_solutions` with circular contours) counts the points that have the given distances.
# With one more centre ($N + 2$) the scale becomes an unknown that can be solved for: the document uses gradient
# descent; `nngeom.metric.inversion` also has the closed form (the system is linear in $x$ and $1/s^2$), which serves as
# the reference.

# %%
def circle(angle):
    return torch.ones_like(angle)


collinear = torch.tensor([[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
try:
    inv.inverse_euclidean(collinear, inv.euclidean_distances(x0, collinear))
    collinear_flagged = False
except inv.NotUniqueError:
    collinear_flagged = True
scaled = 0.7 * inv.euclidean_distances(x0, centres)
try:
    inv.inverse_euclidean(centres, scaled)
    scaled_flagged = False
except inv.NoSolutionError:
    scaled_flagged = True
preimages = {
    "general centres": len(inv.contour_solutions(inv.euclidean_distances(x0, centres)[0], centres, circle, 4.0,
                                                 S.resolution)),
    "collinear centres": len(inv.contour_solutions(inv.euclidean_distances(x0, collinear)[0], collinear, circle,
                                                   4.0, S.resolution)),
    "distances scaled by 0.7": len(inv.contour_solutions(scaled[0], centres, circle, 4.0, S.resolution)),
}

four = torch.cat([centres, torch.tensor([[1.0, 1.4]], dtype=torch.float64)])
targets = torch.randn(50, 2, generator=generator, dtype=torch.float64)
scales = 0.2 + torch.rand(50, 1, generator=generator, dtype=torch.float64)
scaled_d = scales * inv.euclidean_distances(targets, four)
x_gd, s_gd, loss_gd = inv.reconstruct_scaled(four, scaled_d, steps=S.gd_steps, seed=S.seed)
x_cf, s_cf = inv.inverse_scaled_euclidean(four, scaled_d)
gd_error = ((x_gd - targets).norm(dim=1) / targets.norm(dim=1))
scaled_summary = {"GD median rel. error": float(gd_error.median()), "GD worst rel. error": float(gd_error.max()),
                  "closed form worst rel. error": relative_error(x_cf, targets),
                  "GD worst scale error": float((s_gd - scales[:, 0]).abs().max())}
pd.concat([pd.Series(preimages, name="points with these distances (grid search)"),
           pd.Series(scaled_summary, name="N+2 = 4 centres, 50 points, random scales")]).to_frame("value")

# %%
collinear_claim = nngeom.claim(
    "A.2.7.collinear-not-unique", "Distances from collinear centres in the plane are shared by more than one point "
    "(points found by grid search)", paper="do not intersect uniquely", ours=preimages["collinear centres"],
    check=nngeom.greater_than(1), kind="check",
    source='sec. 2.7: "There exists certain values of measures/distances, that do not intersect uniquely, such as '
           'scaled down distances, or when centers are collinear"',
    note="a check: the mirror image across the line of collinear centres has the same distances (a theorem)")
scaled_claim = nngeom.claim(
    "A.2.7.scaled-not-unique", "Distances scaled down by 0.7 from N+1 = 3 centres are not the distances of exactly "
    "one point (points found by grid search)", paper="do not intersect uniquely",
    ours=preimages["distances scaled by 0.7"], check=nngeom.holds(preimages["distances scaled by 0.7"] != 1, "!= 1"),
    kind="check",
    source='sec. 2.7: "There exists certain values of measures/distances, that do not intersect uniquely, such as '
           'scaled down distances, or when centers are collinear"',
    note="a check: the three circles through a point, shrunk by 0.7, no longer meet in exactly one point (geometry)")
gd_claim = nngeom.claim(
    "A.2.7.scaled-gd", "N+2 centres: gradient descent rebuilds inputs from distances known up to a scale "
    "(median relative error over 50 points, 2-D)", paper="reconstructed", ours=float(gd_error.median()),
    check=nngeom.at_most(1e-3),
    source='sec. 2.7: "scaled distances from N+2 points is needed for reconstruction, we find this with Gradient '
           'Descent based input reconstruction"',
    note="the document gives no error; 1e-3 is our bar for 'rebuilt': far above float64 round-off, far below the "
         "order-1 error of a wrong local minimum", cause="scale: gd_steps (Adam steps of the descent)")
nngeom.claim("A.2.7.general-unique", "Grid search finds exactly one point with the distances to 3 general centres",
             paper="unique", ours=preimages["general centres"], check=nngeom.equals(1), kind="check")
nngeom.claim("A.2.7.collinear-flagged", "Our Algorithm 1 refuses collinear centres (NotUniqueError)",
             paper="do not intersect uniquely", ours=collinear_flagged, check=nngeom.equals(True), kind="check")
nngeom.claim("A.2.7.scaled-flagged", "Our strict Algorithm 1 detects scaled-down distances (NoSolutionError)",
             paper="do not intersect uniquely", ours=scaled_flagged, check=nngeom.equals(True), kind="check");

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result

# %%
noisy_ratio = noise_table.loc[max(S.noise_levels)]
nngeom.reading("\n".join([
    f"* **Which transforms invert** (`A.2.7.which-invertible`, **{which['verdict']}**): ours "
    + ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in invertible.items())
    + f". Largest relative error of an inverse that should be exact: "
      f"{max(v for k, v in high_dim.items() if k != 'angles alone'):.1e}; cosine angles of x and 2x differ by at "
      f"most {angle_collision:.1e}.",
    f"* **Centres needed** (`A.2.7.n-plus-1`, **{centres_needed['verdict']}**): ours {needed}.",
    f"* **Failure cases** (grid search): {preimages['collinear centres']} points share the distances to collinear "
    f"centres (`A.2.7.collinear-not-unique`, **{collinear_claim['verdict']}**), "
    f"{preimages['distances scaled by 0.7']} points have the scaled-down distances (`A.2.7.scaled-not-unique`, "
    f"**{scaled_claim['verdict']}**), {preimages['general centres']} for the general centres.",
    f"* **Scaled distances, N+2 centres**: gradient descent median relative error {gd_error.median():.1e}, worst "
    f"{gd_error.max():.1e} (closed form worst {scaled_summary['closed form worst rel. error']:.1e}); "
    f"`A.2.7.scaled-gd`: **{gd_claim['verdict']}**.",
    f"* **Noise** (not in the document): at relative noise {max(S.noise_levels):g} the median relative error of x is "
    f"{noisy_ratio['2-D']:.1e} in the plane and {noisy_ratio['MNIST']:.1e} for MNIST.",
]))
