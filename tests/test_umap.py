"""Our PyTorch UMAP against umap-learn's graph construction, its behaviour on clear clusters, and the
scikit-learn estimator contract (parameters stored untouched, checked at fit, transform without side effects)."""
import copy

import numpy as np
import pytest
import scipy.sparse
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks
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
    np.testing.assert_allclose(model.transform_graph(far)[:, n].toarray().ravel(), 1.0)
    near = model.transform(x[:20])
    assert (model.transform_graph(x[:20])[:, n].toarray() < 1).all()
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


def test_nndescent_neighbours_recall_and_layout_of_the_exact_search(metric="euclidean", p=2.0):
    """NN-descent (the approximate search above 20,000 samples) against the exact search on 3,000 points of 20
    dimensions: the same layout (the sample first at 0, then ascending, the epsilon node where nearer), the
    distances of the indices it returns, and at least 95 % of the exact neighbours (umap-learn's settings reach
    about 99.6 % on Fashion-MNIST). Euclidean only: pynndescent compiles each metric for 10-40 s; the other l^p
    metrics are the same call with another name (next test)."""
    from nngeom.umap.graph import nndescent_neighbours

    x = torch.from_numpy(make_blobs(3000, 20, centers=6, cluster_std=4.0, random_state=1)[0].astype(np.float32))
    idx, dist = nndescent_neighbours(x, 15, metric, p, seed=0, epsilon=None)
    exact_idx, exact_dist = nearest_neighbours(x, x, 15, metric, p, self_neighbours=True)
    assert idx.shape == (3000, 15) and torch.equal(idx[:, 0], torch.arange(3000)) and (dist[:, 0] == 0).all()
    assert (dist[:, 1:].diff(dim=1) >= 0).all()
    reference = pairwise(x.double(), x.double(), metric, p).gather(1, idx)[:, 1:].float()
    torch.testing.assert_close(dist[:, 1:], reference, rtol=1e-4, atol=1e-4)
    recall = np.mean([len(set(a[1:].tolist()) & set(b[1:].tolist())) / 14 for a, b in zip(idx, exact_idx)])
    assert recall >= 0.95
    again = nndescent_neighbours(x, 15, metric, p, seed=0)[0]
    assert torch.equal(idx, again)  # seeded: the same neighbours on a repeat
    eps = float(exact_dist[:, 1:].median())
    idx_e, dist_e = nndescent_neighbours(x, 15, metric, p, seed=0, epsilon=eps)
    at_node = idx_e == 3000
    assert (dist_e[at_node] == eps).all() and at_node.any(1).float().mean() > 0.3
    assert (at_node.sum(1) <= 1).all() and not at_node[:, 0].any()


@pytest.mark.parametrize("ours, theirs, kwds", [("l2", "euclidean", None), ("l1", "manhattan", None),
                                                ("minkowski", "minkowski", {"p": 3.5})])
def test_nndescent_is_asked_for_the_same_metric(ours, theirs, kwds, monkeypatch):
    import pynndescent

    from nngeom.umap.graph import nndescent_neighbours

    asked = {}

    class Recorder:
        def __init__(self, data, **kwargs):
            asked.update(kwargs)
            n = len(data)
            self.neighbor_graph = (np.tile(np.arange(4), (n, 1)), np.tile(np.arange(4.0), (n, 1)))

    monkeypatch.setattr(pynndescent, "NNDescent", Recorder)
    idx, dist = nndescent_neighbours(torch.zeros(6, 2), 4, ours, p=3.5, seed=7)
    assert asked["metric"] == theirs and asked["metric_kwds"] == kwds and asked["random_state"] == 7
    assert asked["n_trees"] == 5 and asked["n_iters"] == 5 and asked["max_candidates"] == 60
    assert torch.equal(idx[:, 0], torch.arange(6)) and (dist[:, 0] == 0).all()
    assert not (idx[:, 1:] == torch.arange(6).unsqueeze(1)).any()  # the sample itself only once, first
    with pytest.raises(ValueError, match="NN-descent neighbours support the metrics"):
        nndescent_neighbours(torch.zeros(6, 2), 4, "cosine")


def test_auto_neighbours_switch_to_nndescent_above_the_threshold(blobs, monkeypatch):
    """``neighbours='auto'`` is the exact search at the book's sizes and NN-descent above the threshold, and the
    embedding keeps its quality."""
    from nngeom.umap import graph

    x = blobs[0]
    exact = UMAP(n_epochs=200, random_state=0).fit(x)
    monkeypatch.setattr("nngeom.umap.estimator.APPROXIMATE_ABOVE", 100)
    approx = UMAP(n_epochs=200, random_state=0).fit(x)
    assert graph.APPROXIMATE_ABOVE == 20_000
    same = np.mean([len(set(a.tolist()) & set(b.tolist())) / 15 for a, b in zip(exact.knn_indices_,
                                                                                approx.knn_indices_)])
    assert same >= 0.95
    assert trustworthiness(x, approx.embedding_.numpy(), n_neighbors=10) > 0.95


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the CUDA layout cannot be compared")
def test_cuda_layout_matches_cpu_kernel_in_quality(blobs):
    x, _ = blobs
    cpu = UMAP(n_epochs=200, random_state=0, device="cpu").fit_transform(x)
    gpu = UMAP(n_epochs=200, random_state=0, device="cuda").fit_transform(x)
    assert abs(trustworthiness(x, cpu.numpy(), n_neighbors=10) - trustworthiness(x, gpu.numpy(), n_neighbors=10)) \
        < 0.01


# -- the scikit-learn estimator contract ----------------------------------------------------------------------
def test_constructor_stores_parameters_untouched():
    assert UMAP(device="cpu").device == "cpu" and UMAP().device is None
    assert UMAP(min_dist=5).min_dist == 5  # invalid (above spread), but only fit says so
    odd = UMAP(n_neighbors="many", metric=3, epsilon=-1.0, init="pca")  # nothing is checked before fit
    assert (odd.n_neighbors, odd.metric, odd.epsilon, odd.init) == ("many", 3, -1.0, "pca")
    model = UMAP(n_neighbors=7, p=3.0)
    assert vars(model) == model.get_params()  # no derived values (a_, b_, device_) before fit
    with pytest.raises(ValueError, match="min_dist"):
        UMAP(min_dist=5).fit(np.random.default_rng(0).normal(size=(30, 3)))


def test_get_params_set_params_clone_round_trip():
    metric = lambda u, v: torch.cdist(u, v)  # noqa: E731
    model = UMAP(n_neighbors=7, metric=metric, epsilon=2.5, random_state=3, device=torch.device("cpu"))
    params = model.get_params()
    assert params["n_neighbors"] == 7 and params["metric"] is metric and params["device"] == torch.device("cpu")
    twin = clone(model)
    assert twin is not model and twin.get_params() == params
    assert model.set_params(n_neighbors=9, min_dist=0.3) is model
    assert model.get_params() == {**params, "n_neighbors": 9, "min_dist": 0.3}
    assert UMAP(**model.get_params()).get_params() == model.get_params()
    with pytest.raises(ValueError, match="Invalid parameter"):
        model.set_params(n_neighbours=9)
    assert repr(UMAP(n_neighbors=7, epsilon=2.5)) == "UMAP(epsilon=2.5, n_neighbors=7)"  # BaseEstimator's repr


@pytest.mark.parametrize("params, error, message", [
    ({"n_neighbors": 15.0}, TypeError, "n_neighbors must be an int >= 2"),
    ({"n_neighbors": 1}, ValueError, "n_neighbors must be an int >= 2"),
    ({"n_neighbors": True}, TypeError, "n_neighbors must be an int >= 2"),
    ({"n_components": "2"}, TypeError, "n_components must be a positive int"),
    ({"n_components": 0}, ValueError, "n_components must be a positive int"),
    ({"metric": 3}, TypeError, "metric must be a name, 'precomputed' or a callable"),
    ({"metric": "hamming-ish"}, ValueError, "unknown metric 'hamming-ish'"),
    ({"p": "2"}, TypeError, "p must be a finite number > 0"),
    ({"p": 0.0}, ValueError, "p must be a finite number > 0"),
    ({"min_dist": None}, TypeError, "min_dist must be a finite number"),
    ({"min_dist": 5}, ValueError, "need spread > 0 and 0 <= min_dist <= spread"),
    ({"spread": np.nan}, ValueError, "spread must be a finite number"),
    ({"spread": -1.0}, ValueError, "need spread > 0"),
    ({"n_epochs": 10.0}, TypeError, "n_epochs must be None or an int >= 1"),
    ({"n_epochs": 0}, ValueError, "n_epochs must be None or an int >= 1"),
    ({"learning_rate": 0}, ValueError, "learning_rate must be a finite number > 0"),
    ({"init": None}, TypeError, "init must be 'spectral' or 'random'"),
    ({"init": "pca"}, ValueError, "init must be 'spectral' or 'random'"),
    ({"negative_sample_rate": 0}, ValueError, "negative_sample_rate must be a positive int"),
    ({"repulsion_strength": "1"}, TypeError, "repulsion_strength must be a finite number >= 0"),
    ({"epsilon": "1.0"}, TypeError, "epsilon must be a positive distance"),
    ({"epsilon": 0.0}, ValueError, "epsilon must be a positive distance"),
    ({"random_state": None}, TypeError, "random_state must be an int seed"),
    ({"neighbours": None}, TypeError, "neighbours must be 'auto', 'exact' or 'nndescent'"),
    ({"neighbours": "annoy"}, ValueError, "neighbours must be 'auto', 'exact' or 'nndescent'"),
    ({"neighbours": "nndescent", "metric": "cosine"}, ValueError, "neighbours='nndescent' needs one of the metrics"),
    ({"device": 1.5}, TypeError, "device must be None, a str or a torch.device"),
    ({"device": "gpu-ish"}, ValueError, "device must name a torch device"),
])
def test_parameters_checked_at_fit_with_the_right_error(params, error, message):
    x = np.random.default_rng(0).normal(size=(30, 3))
    model = UMAP(**{"n_epochs": 5, **params})  # constructing never raises
    for method in (model.fit, model.fit_transform):
        with pytest.raises(error, match=message):
            method(x)
    assert not hasattr(model, "embedding_")


def test_data_checked_at_fit_and_transform(blobs):
    x = blobs[0][:60]
    with pytest.raises(ValueError, match="needs more than 15 samples, got n_samples=10"):
        UMAP().fit(x[:10])
    with pytest.raises(NotFittedError):
        UMAP().transform(x)
    model = UMAP(n_neighbors=5, n_epochs=20, device="cpu").fit(x)
    assert model.n_features_in_ == 10 and model.device_ == torch.device("cpu")
    assert (model.a_, model.b_) == pytest.approx(find_ab_params(1.0, 0.1))
    with pytest.raises(ValueError, match="X has 3 features, but UMAP is expecting 10 features as input"):
        model.transform(x[:, :3])
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.transform(torch.full((2, 10), torch.nan))
    torch.testing.assert_close(model.transform(x[:5].tolist()), model.transform(torch.from_numpy(x[:5])))
    with pytest.raises(ValueError, match="must be square"):
        UMAP(metric="precomputed").fit(np.ones((20, 19)))


def _same(before, after) -> bool:
    if isinstance(before, torch.Tensor):
        return isinstance(after, torch.Tensor) and torch.equal(before, after)
    if scipy.sparse.issparse(before):
        return scipy.sparse.issparse(after) and before.shape == after.shape and (before != after).nnz == 0
    return type(before) is type(after) and before == after


def test_transform_leaves_the_fitted_estimator_unchanged(blobs):
    x = blobs[0][:80]
    model = UMAP(n_neighbors=5, n_epochs=30, epsilon=3.0, device="cpu").fit(x[:60])
    before = copy.deepcopy(vars(model))
    placed = model.transform(x[60:])
    model.transform_graph(x[60:])
    after = vars(model)
    assert after.keys() == before.keys()
    assert [name for name in before if not _same(before[name], after[name])] == []
    assert torch.equal(placed, model.transform(x[60:]))  # and it repeats exactly
    model.fit(x[:60])  # fitting again gives the same state: fit is idempotent
    assert [name for name in before if not _same(before[name], vars(model)[name])] == []


#: Estimator checks that cannot pass for UMAP, with the reason (``xfail_strict``: a check that starts passing
#: must be removed from here).
EXPECTED_FAILED_CHECKS = {
    "check_transformer_general": "transform(X) re-embeds X against the fitted embedding, so it differs from "
                                 "fit_transform(X) = embedding_ (as in umap-learn)",
    "check_transformer_data_not_an_array": "the same fit_transform / transform comparison as "
                                           "check_transformer_general (array-likes are tested in "
                                           "test_data_checked_at_fit_and_transform)",
    "check_methods_sample_order_invariance": "transform optimises a batch jointly: the edge schedule (weights / "
                                             "the batch's largest weight) and the seeded negative samples depend "
                                             "on the batch and its order",
    "check_methods_subset_invariance": "the same batch dependence of transform as in "
                                       "check_methods_sample_order_invariance",
    "check_fit_idempotent": "results are torch tensors, which the check's np.issubdtype(dtype) cannot read; "
                            "idempotence is tested in test_transform_leaves_the_fitted_estimator_unchanged",
}


@parametrize_with_checks([UMAP(n_neighbors=3, n_epochs=20, device="cpu")],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    """scikit-learn's estimator checks on 10-30 samples: n_neighbors=3 so that they all apply, 20 epochs."""
    check(estimator)


def test_nearest_neighbours_needs_points_or_a_matrix():
    with pytest.raises(ValueError, match="needs x and y"):
        nearest_neighbours(None, None, 3)
