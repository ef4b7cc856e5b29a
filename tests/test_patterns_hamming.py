"""Hamming distances of activation patterns against scipy (Study on Activation Patterns, eq. 7-8)."""
import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist, pdist

from nngeom.patterns import hamming
from nngeom.patterns.recording import Patterns, record


@pytest.mark.parametrize("n_bits", [1, 7, 64, 257])
def test_pairwise_matches_scipy(n_bits):
    rng = np.random.default_rng(n_bits)
    bits = rng.random((301, n_bits)) < rng.uniform(0.1, 0.9)
    ours = hamming.pairwise(Patterns.from_bool(bits), chunk=64)
    np.testing.assert_array_equal(hamming.condensed(ours), np.rint(pdist(bits, "hamming") * n_bits))
    np.testing.assert_array_equal(np.diag(ours), 0)


def test_rectangular_paired_and_neighbours():
    rng = np.random.default_rng(1)
    a, b = rng.random((50, 100)) < 0.5, rng.random((80, 100)) < 0.3
    ours = hamming.pairwise(a, b, chunk=7)
    np.testing.assert_array_equal(ours, np.rint(cdist(a, b, "hamming") * 100))
    np.testing.assert_array_equal(hamming.paired(a, b[:50]), (a != b[:50]).sum(1))
    idx, dist = hamming.nearest_neighbours(a, b, k=5)
    ref = cdist(a, b, "hamming") * 100
    np.testing.assert_array_equal(dist, np.sort(ref, axis=1)[:, :5].round())
    idx_self, _ = hamming.nearest_neighbours(a, a, k=1, exclude_self=True, chunk=16)
    assert (idx_self[:, 0] != np.arange(50)).all()
    ref_self = cdist(a, a, "hamming")
    np.fill_diagonal(ref_self, np.inf)
    np.testing.assert_array_equal(idx_self[:, 0], ref_self.argmin(1))
    idx_chunked, dist_chunked = hamming.nearest_neighbours(a, b, k=5, chunk=7)
    np.testing.assert_array_equal(idx_chunked, idx)
    np.testing.assert_array_equal(dist_chunked, dist)
    with pytest.raises(ValueError):
        hamming.nearest_neighbours(a, b, k=0)


def test_per_layer_sum_and_errors():
    rng = np.random.default_rng(2)
    layers = {"l1": Patterns.from_bool(rng.random((20, 9)) < .5), "l2": Patterns.from_bool(rng.random((20, 30)) < .5)}
    result = hamming.per_layer_pairwise(layers)
    whole = Patterns.concat(list(layers.values()))
    np.testing.assert_array_equal(result["all"], hamming.pairwise(whole))
    with pytest.raises(ValueError):
        hamming.pairwise(layers["l1"], layers["l2"])
    with pytest.raises(TypeError):
        hamming.pairwise([[0, 1]])
    with pytest.raises(TypeError, match="chunk must be an int"):
        hamming.pairwise(layers["l1"], chunk=2.0)
    with pytest.raises(ValueError, match="chunk must be a positive int"):
        hamming.pairwise(layers["l1"], chunk=0)
    with pytest.raises(TypeError, match="uint8"):
        Patterns(np.zeros((2, 2), dtype=np.int64), 16)
    with pytest.raises(ValueError, match="2-D"):
        Patterns(np.zeros(2, dtype=np.uint8), 16)


def test_record_patterns_mlp_and_convnet():
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3),
                              torch.nn.ReLU())
    x = torch.randn(33, 3, 2, 2)
    layers = record(mlp, x, batch_size=8)
    h1 = mlp[1](x.flatten(1))
    np.testing.assert_array_equal(layers["layer1"].unpack(), (h1 > 0).numpy())
    np.testing.assert_array_equal(layers["layer2"].unpack(), (mlp(x) > 0).numpy())
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU())
    p = record(conv, torch.randn(5, 3, 6, 6))["layer1"]
    assert p.n_bits == 4 * 36 and p.packed.shape == (5, 18)
    with pytest.raises(ValueError):
        record(torch.nn.Linear(3, 3), torch.randn(2, 3))


def test_per_layer_pairwise_needs_a_layer():
    with pytest.raises(ValueError, match="at least one layer"):
        hamming.per_layer_pairwise({})
