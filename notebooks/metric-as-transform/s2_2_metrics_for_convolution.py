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
# # 2.2 Metrics for convolution
#
# *Metric as Transform*, section 2.2 and Figure 2. A convolution measures how similar each input patch is to a
# reference patch (the kernel). The document compares three measures of similarity between a reference patch $w$
# and an input patch $p$: the dot product $p \cdot w$, the $\ell^2$ distance $\lVert p - w \rVert$ and the cosine
# $p \cdot w / (\lVert p\rVert \lVert w\rVert)$. Its conclusions: the distance is minimal when input and reference
# match and grows as they move apart; the cosine does not distinguish intensities (a patch and its scaled copies are
# equally similar); the dot product rewards brighter inputs, giving them a higher activation than the reference
# patch itself.
#
# We take a reference patch from a real CIFAR-10 image, compare it with its scaled copies $\alpha w$ for
# $\alpha \in [0, 2]$ and with patches of other images, and slide it over a whole image as a convolution kernel
# with each of the three measures (`nngeom.metric.resnet.L2Conv2d` for the distance).

# %% tags=["parameters"]
profile = "cpu"
patch = None         # patch side in pixels
n_alpha = None       # number of alpha values in [0, 2]
n_images = None      # CIFAR-10 test images from which other patches are drawn
seed = None

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
import torch
from myst_nb import glue
from torch.nn import functional as F

import nngeom
from nngeom.metric.resnet import L2Conv2d

PROFILES = {
    "smoke": {"patch": 8, "n_alpha": 41, "n_images": 50, "seed": 0},
    "cpu": {"patch": 8, "n_alpha": 201, "n_images": 2000, "seed": 0},
    "paper": {"patch": 8, "n_alpha": 401, "n_images": 10000, "seed": 0},
}
BOUNDS = {"patch": (2, 32), "n_alpha": (3, None), "n_images": (2, 10000)}
S = nngeom.settings(PROFILES, globals(), section="metric-as-transform/s2_2_metrics_for_convolution", bounds=BOUNDS)
generator = nngeom.seed_everything(S.seed)

# %% [markdown]
# ## A reference patch and its scaled copies

# %%
images, labels = nngeom.data.load_subset("cifar10", "test", S.n_images, seed=S.seed)
image = images[0]
top, left = (32 - S.patch) // 2, (32 - S.patch) // 2
w = image[:, top:top + S.patch, left:left + S.patch].reshape(-1)
alphas = torch.linspace(0, 2, S.n_alpha)


def measures(p, w):
    """Dot product, l2 distance and cosine between rows of ``p`` and ``w``."""
    return {"dot product": p @ w, "l2 distance": (p - w).norm(dim=-1),
            "cosine": F.cosine_similarity(p, w.expand_as(p), dim=-1)}


scaled = measures(alphas[:, None] * w, w)
fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
axes[0].imshow(image.permute(1, 2, 0))
axes[0].add_patch(plt.Rectangle((left - 0.5, top - 0.5), S.patch, S.patch, fill=False, ec="red", lw=2))
axes[0].set_title(f"reference patch ({S.patch} x {S.patch})")
axes[0].axis("off")
for ax, (name, values) in zip(axes[1:], scaled.items()):
    ax.plot(alphas, values)
    ax.axvline(1.0, color="k", ls=":")
    ax.set(xlabel=r"$\alpha$ (input = $\alpha w$)", title=name)
fig.tight_layout()
glue("s2_2-scaled", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} s2_2-scaled
# :name: fig-s2_2-scaled
#
# Recomputes the intensity sweep of Figure 2 of the document: a reference patch $w$ of a CIFAR-10 image (left) and
# the three measures between $w$ and its scaled copy $\alpha w$. Look at where each curve is extreme relative to the
# dotted line $\alpha = 1$ (input equal to the reference), and whether it changes with $\alpha$ at all.
# ```

# %%

best_l2 = alphas[scaled["l2 distance"].argmin()].item()
best_dot = alphas[scaled["dot product"].argmax()].item()
positive = alphas > 0
cos_range = (scaled["cosine"][positive].max() - scaled["cosine"][positive].min()).item()
print(f"l2 distance is smallest at alpha = {best_l2:.3f}; dot product is largest at alpha = {best_dot:.3f}; "
      f"cosine varies by {cos_range:.2e} over alpha in (0, 2]")
IDENTITY = "identity: "
nngeom.claim("A.2.2.l2-min-at-match", "The l2 distance is minimal exactly when input and reference match "
             "(alpha = 1); paper and ours: the alpha of the minimum", paper=1.0, ours=best_l2,
             check=nngeom.within(1e-6), kind="check", note=IDENTITY + "|alpha w - w| = |alpha - 1| |w|")
nngeom.claim("A.2.2.dot-prefers-intensity", "The dot product grows with the input's intensity: its maximum over "
             "alpha in [0, 2] is at the largest alpha", paper="higher for larger intensity", ours=best_dot,
             check=nngeom.equals(2.0), kind="check", note=IDENTITY + "(alpha w).w = alpha |w|^2")
nngeom.claim("A.2.2.cosine-ignores-intensity", "The cosine does not differentiate intensities: its range over "
             "alpha in (0, 2]", paper="constant in alpha", ours=cos_range, check=nngeom.at_most(1e-5), kind="check",
             note=IDENTITY + "cos(alpha w, w) = 1 for alpha > 0; the bound is float32 rounding");

# %% [markdown]
# ## Against patches of other images
#
# For every measure, which fraction of the patches (all positions, `n_images` test images) is *more* similar to the
# reference than the reference itself?

# %%
patches = F.unfold(images, S.patch, stride=S.patch // 2).transpose(1, 2).reshape(-1, w.numel())
others = measures(patches, w)
itself = measures(w[None], w)
beat = {
    "dot product": (others["dot product"] > itself["dot product"]).float().mean().item(),
    "l2 distance": (others["l2 distance"] < itself["l2 distance"] - 1e-6).float().mean().item(),
    "cosine": (others["cosine"] > itself["cosine"] + 1e-6).float().mean().item(),
}
ties = (others["cosine"] >= itself["cosine"] - 1e-4).float().mean().item()
for name, value in beat.items():
    print(f"{name:>12}: {100 * value:6.2f}% of {len(patches)} patches score better than the reference itself")
print(f"cosine: {100 * ties:.2f}% of patches are within 1e-4 of the reference's own cosine")
brighter = (patches.norm(dim=1) > w.norm()).float()
beaters = others["dot product"] > itself["dot product"]
print(f"{100 * brighter.mean():.1f}% of the patches are brighter (larger norm) than the reference; "
      f"dot product above the reference's own: {100 * beat['dot product']:.1f}%")
intensity = stats.spearmanr(patches.norm(dim=1).numpy(), others["dot product"].numpy(), alternative="greater")
dot_beats = nngeom.claim(
    "A.2.2.dot-beats-reference", "Patches of real images get a higher dot product with the reference than the "
    "reference itself; ours = fraction of patches", paper="higher activation than the reference itself",
    ours=beat["dot product"], check=nngeom.greater_than(0.0), kind="check",
    note="a check: by Cauchy-Schwarz only patches brighter than the reference can beat it, and among ~10^5 patches "
         "one suffices; the statement about intensity is A.2.2.dot-grows-with-intensity")
dot_grows = nngeom.claim(
    "A.2.2.dot-grows-with-intensity", "The dot product with the reference grows with the patch's intensity (its norm): "
    f"Spearman correlation over the {len(patches)} patches, one-sided",
    paper="higher activation for larger intensity",
    ours={"Spearman rho": float(intensity.statistic), "p (rho > 0)": float(intensity.pvalue)},
    check=nngeom.holds(bool(intensity.pvalue < 0.05 and intensity.statistic > 0), "rho > 0, one-sided p < 0.05"),
    source="sec. 2.2, Fig. 2: \"Dot product gives higher activation for larger intensity of input\"",
    kind="check",
    note="a check: pixels and the reference are non-negative, so the dot product rises with the patch's intensity "
         "almost surely (for the document's scaled copies it is an identity); patches of other images, overlapping, "
         "so the p-value is optimistic")
nngeom.claim("A.2.2.l2-reference-best", "No patch is closer in l2 than the reference itself; ours = fraction that is",
             paper="minimum when input and target match", ours=beat["l2 distance"], check=nngeom.equals(0.0),
             kind="check", note="identity: the reference is at distance 0 from itself");

# %% [markdown]
# ## As a convolution over an image
#
# The reference patch as the kernel of each convolution, slid over the image it came from and over another image.
# The $\ell^2$ convolution is `L2Conv2d` (it returns the similarity $-\lVert p - w\rVert$); the white cross marks the
# best response.

# %%
conv = L2Conv2d(3, 1, S.patch)
with torch.no_grad():
    conv.weight.copy_(w.reshape(1, 3, S.patch, S.patch))
ones = torch.ones(1, 3, S.patch, S.patch)
fig, axes = plt.subplots(2, 4, figsize=(15, 7.5))
found = {}
for row, img in enumerate([image, images[1]]):
    x = img[None]
    with torch.no_grad():
        maps = {"dot product": F.conv2d(x, w.reshape(1, 3, S.patch, S.patch))[0, 0],
                "l2 similarity (-distance)": conv(x)[0, 0]}
        maps["cosine"] = maps["dot product"] / (F.conv2d(x * x, ones)[0, 0].sqrt() * w.norm()).clamp_min(1e-12)
    axes[row, 0].imshow(img.permute(1, 2, 0))
    axes[row, 0].axis("off")
    for ax, (name, m) in zip(axes[row, 1:], maps.items()):
        ax.imshow(m, cmap="viridis")
        i, j = np.unravel_index(int(m.argmax()), tuple(m.shape))
        ax.plot(j, i, "w+", ms=14, mew=2)
        ax.set_title(name)
        ax.axis("off")
        if row == 0:
            found[name] = (int(i), int(j))
fig.tight_layout()
glue("s2_2-convolution", fig, display=False)
plt.close(fig)
print(f"reference position {(top, left)}; best response of each measure on its own image: {found}")
nngeom.claim("A.2.2.l2-conv-finds-patch", "The l2 convolution responds most exactly where the reference patch is",
             paper="minimum distance where input and target match", ours=str(found["l2 similarity (-distance)"]),
             check=nngeom.equals(str((top, left))), kind="check",
             note="identity: the distance is 0 at the patch's own position (a check of L2Conv2d)");

# %% [markdown]
# ```{glue:figure} s2_2-convolution
# :name: fig-s2_2-convolution
#
# The reference patch of Figure 2 used as a convolution kernel with each measure, on its own image (top) and on
# another image (bottom); the white cross marks each map's strongest response. Look at whether the cross falls on
# the patch's own position and whether the map follows the pattern of the patch or the brightness of the image.
# ```

# %% [markdown]
# ## Claims

# %%
nngeom.claims_table()

# %% [markdown]
# ## Reading the result
#
# The document's three observations on a patch and its scaled copies are identities of the three measures and are
# recorded as checks; its statement that the dot product prefers brighter inputs is tested on patches of other
# images, where the outcome depends on the data. The sentences below are computed from this run.

# %%
nngeom.reading(
    f"Over scaled copies of a real patch, the $\\ell^2$ distance is smallest at $\\alpha$ = {best_l2:.3f}, the dot "
    f"product largest at $\\alpha$ = {best_dot:.3f} ({'the end' if best_dot == alphas[-1].item() else 'inside'} of the range) and the cosine varies by {cos_range:.1e}. "
    f"Among {len(patches)} patches of {S.n_images} test images, {beat['dot product']:.1%} get a higher dot product "
    f"with the reference than the reference itself (a check: {dot_beats['verdict']}); the dot product rises with "
    f"the patch's norm, Spearman rho = {dot_grows['ours']['Spearman rho']:.2f} (**{dot_grows['verdict']}**), while "
    f"{beat['l2 distance']:.1%} "
    f"are closer to it in $\\ell^2$ and {beat['cosine']:.1%} have a higher cosine. As a kernel on its own image, the "
    f"$\\ell^2$ map peaks at {found['l2 similarity (-distance)']} (the patch is at {(top, left)}), the dot-product "
    f"map at {found['dot product']} and the cosine map at {found['cosine']}."
)
