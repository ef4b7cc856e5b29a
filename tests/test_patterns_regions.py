"""f(n, r): exact region counts of hyperplane arrangements against the closed form (sec. 7.1)."""
import numpy as np
import pytest
import torch

from nngeom.patterns import regions


@pytest.mark.parametrize("n,r", [(1, 1), (3, 1), (4, 2), (5, 2), (5, 3), (6, 3), (4, 4), (6, 6)])
def test_exact_count_matches_closed_form(n, r):
    W, b = regions.low_rank_layer(n, d=r + 2 if r < n else r, r=r, seed=n * 10 + r)
    assert np.linalg.matrix_rank(W) == r
    assert regions.count_regions_exact(W, b) == regions.regions_closed_form(n, r)


def test_closed_form_identities():
    for n in range(1, 9):
        assert regions.regions_closed_form(n, n) == 2 ** n
        assert regions.regions_closed_form(n, 1) == n + 1
        for r in range(1, n):
            assert regions.regions_closed_form(n + 1, r + 1) == (regions.regions_closed_form(n, r + 1)
                                                                 + regions.regions_closed_form(n, r))


def test_degenerate_arrangement_is_counted_not_assumed():
    # three parallel lines in the plane: 4 regions, not f(3, 2) = 7
    W = np.array([[1.0, 0], [1.0, 0], [1.0, 0]])
    b = np.array([0.0, 1.0, -1.0])
    assert regions.count_regions_exact(W, b) == 4
    with pytest.raises(ValueError):
        regions.count_regions_exact(np.ones((20, 2)), np.zeros(20))


def test_closed_form_tells_a_wrong_type_from_a_wrong_value():
    with pytest.raises(TypeError, match="r must be an int, got float"):
        regions.regions_closed_form(3, 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        regions.regions_closed_form(3, -1)
    assert regions.regions_closed_form(np.int64(3), 1) == 4


def test_sampling_is_a_lower_bound_and_grid_ids():
    W, b = regions.low_rank_layer(5, 2, 2, seed=0)
    x = np.random.default_rng(0).uniform(-30, 30, (20000, 2))
    sampled = regions.count_patterns_sampled(x @ W.T + b > 0)
    assert sampled <= regions.count_regions_exact(W, b) == 16
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU())
    ids, xx, _ = regions.network_patterns_on_grid(net, 3.0, 50)
    assert ids.shape == xx.shape == (50, 50) and ids.max() + 1 <= 11
