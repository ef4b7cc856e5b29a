"""Bernoulli null, p-value calibration and the constellation curve (Study on Activation Patterns, sec. 2.3)."""
import numpy as np
import pytest
from scipy import stats
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from nngeom.patterns import nullmodel


def test_binomial_shortcut_matches_explicit_draws():
    explicit = nullmodel.null_means(32, 50, 400, seed=1, method="explicit")
    fast = nullmodel.null_means(32, 50, 4000, seed=2)
    assert stats.ks_2samp(explicit, fast).pvalue > 0.01
    assert abs(fast.mean() - 16) < 0.05
    assert abs(fast.std() - np.sqrt(32 * 0.25 / 50)) < 0.02


def test_p_value_is_uniform_under_the_null():
    rng = np.random.default_rng(0)
    null = nullmodel.null_means(64, 100, 999, seed=3)
    pvals = []
    for _ in range(300):
        a, b = rng.random((100, 64)) < 0.5, rng.random((100, 64)) < 0.5
        pvals.append(nullmodel.p_value((a != b).sum(1).mean(), null))
    pvals = np.array(pvals)
    assert stats.kstest(pvals, "uniform").pvalue > 0.01
    assert 0.02 < (pvals < 0.1).mean() < 0.2
    # a clearly shifted statistic is rejected
    assert nullmodel.p_value(30.0, null) < 0.01


def test_constellation_curve_matches_fcluster():
    rng = np.random.default_rng(4)
    bits = rng.random((60, 40)) < 0.5
    bits[:20] = bits[0] ^ (rng.random((20, 40)) < 0.05)   # one tight group
    d = pdist(bits, "hamming") * 40
    thresholds = np.arange(1, 41)
    curve = nullmodel.constellation_curve(d, 60, thresholds)
    Z = linkage(d, "complete")
    ref = [fcluster(Z, t, "distance").max() for t in thresholds]
    np.testing.assert_array_equal(curve, ref)
    assert 0 < nullmodel.constellation_score(curve, 60) <= 1
    with pytest.raises(ValueError):
        nullmodel.constellation_curve(d[:-1], 60, thresholds)
    with pytest.raises(ValueError):
        nullmodel.null_means(0, 10)
    with pytest.raises(TypeError, match="n_bits must be an int, got float"):
        nullmodel.null_means(10.0, 10)


def test_folded_normal_fit_recovers_sigma_against_scipy_halfnorm():
    """eq. 20-21 of sec. 4.2: A = max(0, Y), Y ~ N(0, sigma^2); the positive part is scipy's half-normal."""
    import math

    import torch
    from scipy import stats

    sigma, n = 0.7, 400_000
    y = torch.randn(n, 1, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * sigma
    fit = nullmodel.folded_normal_fit(y)
    half = stats.halfnorm(scale=sigma)
    n_pos = n / 2
    # the positive part's mean and std against the half-normal's, within 5 standard errors
    assert abs(fit["mu_|Y|"] - half.mean()) < 5 * half.std() / math.sqrt(n_pos)
    excess_kurtosis = float(half.stats(moments="k"))  # SE of a sample std: std * sqrt((kurtosis - 1) / (4 n))
    assert abs(fit["sigma_|Y|"] - half.std()) < 5 * half.std() * math.sqrt((excess_kurtosis + 2) / (4 * n_pos))
    assert abs(fit["P(A > 0)"] - 0.5) < 5 * 0.5 / math.sqrt(n)
    # both estimates of sigma: eq. 20 from the mean, eq. 21 from the second moment (scipy's MLE sqrt(mean y^2))
    assert abs(fit["sigma from eq. 20"] - sigma) < 5 * math.sqrt(math.pi / 2) * half.std() / math.sqrt(n_pos)
    mle = stats.halfnorm.fit(y[y > 0].numpy(), floc=0)[1]
    assert abs(fit["sigma from eq. 21"] - mle) < 1e-4
    # per unit: each column fitted alone agrees with the pooled fit of that column
    two = torch.cat([y, 2 * y], dim=1)
    s20, s21 = nullmodel.per_unit_sigmas(two)
    assert np.allclose(s20, [fit["sigma from eq. 20"], 2 * fit["sigma from eq. 20"]])
    assert np.allclose(s21, [fit["sigma from eq. 21"], 2 * fit["sigma from eq. 21"]])


def test_folded_normal_fit_rejects_what_it_cannot_fit():
    import torch

    with pytest.raises(TypeError, match="torch tensor"):
        nullmodel.folded_normal_fit(np.ones((5, 2)))
    with pytest.raises(ValueError, match="positive activations"):
        nullmodel.folded_normal_fit(-torch.ones(10, 2))
    with pytest.raises(ValueError, match="shape"):
        nullmodel.per_unit_sigmas(torch.ones(10))
