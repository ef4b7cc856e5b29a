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
