"""Our PyTorch UMAP against umap-learn's graph construction, and its behaviour on clear clusters."""
import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
import umap.umap_ as umap_  # umap-learn is a hard dependency: a broken install must fail, not skip
from sklearn.manifold import trustworthiness

from nngeom.umap import UMAP, find_ab_params, fuzzy_simplicial_set, nearest_neighbours, pairwise, smooth_knn_dist


@pytest.fixture(scope="module")
def blobs():
    x, y = make_blobs(400, 10, centers=4, cluster_std=1.0, random_state=0)
    return x.astype(np.float32), y


def test_ab_params_match_umap_learn():
    for spread, min_dist in [(1.0, 0.1), (1.0, 0.5), (2.0, 0.0)]:
        np.testing.assert_allclose(find_ab_params(spread, min_dist), umap_.find_ab_params(spread, min_dist),
                                   rtol=1e-4)


def test_graph_matches_umap_learn(blobs):
    x, _ = blobs
    idx, dist = nearest_neighbours(torch.from_numpy(x), torch.from_numpy(x), 15, self_neighbours=True)
    sigma, rho = smooth_knn_dist(dist, 15)
    ref_sigma, ref_rho = umap_.smooth_knn_dist(dist.numpy(), 15.0)
    np.testing.assert_allclose(rho.numpy(), ref_rho, rtol=1e-5)
    np.testing.assert_allclose(sigma.numpy(), ref_sigma, rtol=1e-3)
    graph, _, _ = fuzzy_simplicial_set(idx, dist, 15)
    ref, _, _ = umap_.fuzzy_simplicial_set(x, 15, np.random.RandomState(0), "euclidean",
                                           knn_indices=idx.numpy(), knn_dists=dist.numpy())
    assert abs(graph - ref).max() < 1e-4
    # neighbour search agrees with scipy's exact distances
    from scipy.spatial.distance import cdist
    np.testing.assert_allclose(dist[:, 1:].numpy(), np.sort(cdist(x, x), 1)[:, 1:15], rtol=1e-4, atol=1e-4)


def test_metrics_against_closed_forms():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(5, 3, generator=g), torch.randn(4, 3, generator=g)
    cos = (x @ y.T) / (x.norm(dim=1, keepdim=True) * y.norm(dim=1))
    torch.testing.assert_close(pairwise(x, y, "angle"), torch.arccos(cos))
    torch.testing.assert_close(pairwise(x, y, "dot"), -(x @ y.T))
    torch.testing.assert_close(pairwise(x, y, "minkowski", p=3.0), torch.cdist(x, y, p=3.0), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="unknown metric"):
        pairwise(x, y, "hamming-ish")


def test_keeps_neighbours_and_is_reproducible(blobs):
    x, _ = blobs
    first = UMAP(n_epochs=100, random_state=3).fit_transform(x)
    assert trustworthiness(x, first.numpy(), n_neighbors=10) > 0.9
    again = UMAP(n_epochs=100, random_state=3).fit_transform(x)
    assert torch.equal(first, again)
    other = UMAP(n_epochs=100, random_state=4, init="random").fit_transform(x)
    assert not torch.equal(first, other)


def test_callable_and_precomputed_metrics_agree(blobs):
    x, _ = blobs
    x = x[:200]
    d = torch.cdist(torch.from_numpy(x), torch.from_numpy(x))
    a = UMAP(metric="precomputed", n_epochs=50).fit_transform(d)
    b = UMAP(metric=lambda u, v: torch.cdist(u, v), n_epochs=50).fit_transform(x)
    torch.testing.assert_close(a, b)


def test_epsilon_node_at_stated_distance_and_nearest_to_far_points(blobs):
    x, _ = blobs
    kth = nearest_neighbours(torch.from_numpy(x), torch.from_numpy(x), 15, self_neighbours=True)[1][:, -1]
    epsilon = float(kth.quantile(0.9))
    model = UMAP(epsilon=epsilon, n_epochs=200, random_state=0).fit(x)
    n = len(x)
    assert model.epsilon_index_ == n and model.embedding_.shape == (n, 2)
    at_eps = model.knn_indices_ == n
    assert at_eps[:n].any()  # some samples see the epsilon node among their neighbours
    torch.testing.assert_close(model.knn_dists_[at_eps & (torch.arange(n + 1)[:, None] < n)],
                               torch.full((int(at_eps[:n].sum()),), epsilon))
    torch.testing.assert_close(model.knn_dists_[n, 1:], torch.full((14,), epsilon))
    assert model.graph_[n].nnz > 0
    # inputs far from all data: the epsilon node is their nearest neighbour, with membership 1
    far = x[:20] + 40.0
    placed = model.transform(far)
    assert placed.shape == (20, 2) and torch.isfinite(placed).all()
    np.testing.assert_allclose(model.transform_graph_[:, n].toarray().ravel(), 1.0)
    near = model.transform(x[:20])
    assert (model.transform_graph_[:, n].toarray() < 1).all()
    assert (near - model.embedding_[:20]).norm(dim=1).median() < 2.0  # training points land where they were


def test_embedding_scores():
    from nngeom.umap import activation_spread, label_agreement
    g = torch.Generator().manual_seed(0)
    points = torch.cat([torch.randn(50, 2, generator=g), torch.randn(50, 2, generator=g) + 100])
    labels = torch.cat([torch.zeros(50), torch.ones(50)]).long()
    assert label_agreement(points, labels, k=5) == 1.0
    alternating = torch.arange(100) % 2
    assert 0.3 < label_agreement(points, alternating, k=10) < 0.7
    centre = points[0]
    r = (points - centre).norm(dim=1)
    assert activation_spread(torch.ones(100), points, centre) == pytest.approx(1.0)
    assert activation_spread((r == 0).float(), points, centre) == 0.0
    local = torch.exp(-r)
    expected = float((local * r).sum() / local.sum() / r.mean())
    assert activation_spread(local, points, centre) == pytest.approx(expected) and expected < 0.05
    with pytest.raises(ValueError, match="non-negative"):
        activation_spread(-local, points, centre)
    with pytest.raises(ValueError, match="labels"):
        label_agreement(points, labels[:10])


def _layout_inputs(x, n_epochs=200):
    from nngeom.umap import layout
    idx, dist = nearest_neighbours(torch.from_numpy(x), torch.from_numpy(x), 15, self_neighbours=True)
    graph, _, _ = fuzzy_simplicial_set(idx, dist, 15)
    init = layout.initial_layout(graph, 2, "spectral", torch.Generator().manual_seed(0))
    heads, tails, eps = layout.edge_schedule(graph, n_epochs)
    a, b = find_ab_params(1.0, 0.1)
    return init, (torch.as_tensor(heads).long(), torch.as_tensor(tails).long(),
                  torch.as_tensor(eps, dtype=torch.float32), n_epochs, a, b)


def test_cpu_layout_kernel_matches_torch_loop_in_quality(blobs, monkeypatch):
    """The numba epochs (nngeom.umap.sgd) and the torch loop run the same scheme with other random negatives:
    both keep the neighbourhoods equally well; the kernel repeats exactly; the fallback is the torch loop."""
    from nngeom.umap import layout
    x, _ = blobs
    init, args = _layout_inputs(x)
    runs = {}
    for kernel in (True, True, False):
        monkeypatch.setattr(layout, "CPU_KERNEL", kernel)
        e = init.clone()
        layout.optimize_layout(e, e, *args, torch.Generator().manual_seed(0))
        runs.setdefault(kernel, []).append(e)
    assert torch.equal(runs[True][0], runs[True][1])
    trust = {k: trustworthiness(x, v[0].numpy(), n_neighbors=10) for k, v in runs.items()}
    assert abs(trust[True] - trust[False]) < 0.01 and trust[True] > 0.9
    e = init.clone()
    layout._optimize(e, e, *args, torch.Generator().manual_seed(0), 1.0, 1.0, 5, True)
    monkeypatch.setattr(layout, "CPU_KERNEL", False)
    f = init.clone()
    layout.optimize_layout(f, f, *args, torch.Generator().manual_seed(0))
    assert torch.equal(e, f)


def test_euclidean_neighbours_match_cdist(blobs):
    x = torch.from_numpy(blobs[0])
    idx, dist = nearest_neighbours(x, x, 15, self_neighbours=True, epsilon=3.0)
    ref = torch.cdist(x, x)
    ref.fill_diagonal_(torch.inf)
    ref = torch.cat([ref, torch.full((len(x), 1), 3.0)], 1).sort(1).values[:, :14]
    torch.testing.assert_close(dist[:, 1:], ref, rtol=1e-4, atol=1e-4)
    assert (dist[idx == len(x)] == 3.0).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the CUDA layout cannot be compared")
def test_cuda_layout_matches_cpu_kernel_in_quality(blobs):
    x, _ = blobs
    cpu = UMAP(n_epochs=200, random_state=0, device="cpu").fit_transform(x)
    gpu = UMAP(n_epochs=200, random_state=0, device="cuda").fit_transform(x)
    assert abs(trustworthiness(x, cpu.numpy(), n_neighbors=10) - trustworthiness(x, gpu.numpy(), n_neighbors=10)) \
        < 0.01
