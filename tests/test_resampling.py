"""Bootstrap support of orderings (book.resampling) and the check built on it, against scipy and closed forms."""
import math

import numpy as np
import pytest
from scipy import stats

import nngeom
from nngeom.book.resampling import bootstrap_statistics, pair_supports, support, unresolved_pairs


def test_replicates_of_a_median_match_scipys_percentile_interval():
    x = np.random.default_rng(1).lognormal(size=400)
    ours = bootstrap_statistics({"x": x}, "median", n_boot=4000, seed=3)["x"]
    theirs = stats.bootstrap((x,), np.median, n_resamples=4000, method="percentile", confidence_level=0.9,
                             random_state=np.random.default_rng(5)).confidence_interval
    low, high = np.quantile(ours, [0.05, 0.95])
    width = theirs.high - theirs.low
    assert abs(low - theirs.low) < 0.1 * width and abs(high - theirs.high) < 0.1 * width


def test_paired_support_of_a_mean_difference_follows_the_normal_law():
    """Two aligned 0/1 vectors: support(a > b) ~ Phi(d / se) with se the paired standard error."""
    rng = np.random.default_rng(0)
    base = rng.random(2000) < 0.5
    a = base.copy()
    flip = rng.choice(2000, 60, replace=False)
    a[flip[:40]] = True   # a gains on 40 examples ...
    a[flip[40:]] = False  # ... and loses on 20
    d = a.astype(float) - base.astype(float)
    expected = stats.norm.cdf(d.mean() / (d.std(ddof=1) / math.sqrt(d.size)))
    boot = bootstrap_statistics({"a": a, "b": base}, "mean", n_boot=4000, seed=2, paired=True)
    assert abs(support(boot, "a", "b") - expected) < 0.03
    unpaired = bootstrap_statistics({"a": a, "b": base}, "mean", n_boot=4000, seed=2)
    assert support(unpaired, "a", "b") < support(boot, "a", "b")  # pairing removes the shared examples' noise


def test_ties_and_infinite_statistics_support_no_order():
    boot = bootstrap_statistics({"a": np.full(50, np.inf), "b": np.full(50, np.inf), "c": np.ones(50)}, n_boot=200)
    assert support(boot, "a", "b") == 0 and support(boot, "b", "a") == 0
    assert support(boot, "a", "c") == 1
    assert unresolved_pairs([("a", "b"), ("a", "c")], boot) == ["a vs b (support of a > b: 0.00)"]
    assert pair_supports([("a", "c")], boot) == {"a > c": 1.0}


def test_replicates_repeat_with_the_seed_and_span_chunks():
    x = {"x": np.arange(30.0)}
    first, again = bootstrap_statistics(x, n_boot=601, seed=4), bootstrap_statistics(x, n_boot=601, seed=4)
    assert first["x"].shape == (601,) and np.array_equal(first["x"], again["x"])


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="statistic"):
        bootstrap_statistics({"x": [1.0]}, "mode")
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_statistics({"x": [1.0, np.nan]})
    with pytest.raises(ValueError, match="one length"):
        bootstrap_statistics({"a": [1.0, 2.0], "b": [1.0]}, paired=True)
    with pytest.raises(KeyError, match="no bootstrap replicates"):
        support({"a": np.ones(3)}, "a", "z")


def test_the_check_fails_an_order_that_holds_only_within_the_noise():
    rng = np.random.default_rng(0)
    close = {"a": rng.normal(0.05, 1, 300), "b": rng.normal(0, 1, 300)}
    far = {"a": rng.normal(1.0, 1, 300), "b": rng.normal(0, 1, 300)}
    for samples, expected in ((close, False), (far, True)):
        boot = bootstrap_statistics(samples, "mean", n_boot=1000)
        point = {k: float(np.mean(v)) for k, v in samples.items()}
        if point["a"] <= point["b"]:
            pytest.skip("the draw reversed the point order")  # never with this seed
        outcome = nngeom.ordered_beyond_noise([("a", "b")], boot).evaluate(point, None, {})
        assert outcome.passed is expected and "bootstrap support" in outcome.detail
    with pytest.raises(ValueError, match="at least one pair"):
        nngeom.ordered_beyond_noise([], {})


def test_exact_spearman_p_matches_scipys_permutation_test():
    from nngeom.book.resampling import spearman_exact

    x, y = [1.0, 2.0, 3.0, 4.0, 5.0], [9.0, 7.0, 8.0, 2.0, 1.0]
    rho, p = spearman_exact(x, y, "less")
    reference = stats.permutation_test((y,), lambda v: stats.spearmanr(x, v).statistic, permutation_type="pairings",
                                       alternative="less")
    assert rho == pytest.approx(stats.spearmanr(x, y).statistic) and p == pytest.approx(reference.pvalue)
    assert spearman_exact(x, x[::-1], "less")[1] == pytest.approx(1 / 120)  # a perfect inverse order of 5
    assert spearman_exact(x, x, "greater")[1] == pytest.approx(1 / 120)
    with pytest.raises(ValueError, match="3 to 8"):
        spearman_exact([1.0, 2.0], [2.0, 1.0])
