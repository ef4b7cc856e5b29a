"""scikit-learn estimator UMAP with an optional epsilon node (*Metric as Transform*, sec. 2.6, 3.2.1).

``UMAP(n_neighbors=15, n_components=2, metric="euclidean", min_dist=0.1, spread=1.0, epsilon=None, ...)``:
``fit(X)`` builds the fuzzy graph of the samples (plus the epsilon node when ``epsilon`` is given: every sample
sees one extra point at distance ``epsilon``), lays it out, and stores ``embedding_`` (samples only) and
``epsilon_embedding_`` (the epsilon node); ``transform(X_new)`` places new points against the fixed embedding
(their neighbours are training samples and the epsilon node) and changes nothing in the fitted estimator;
``fit_transform`` returns ``embedding_``.

The scikit-learn contract, as in umap-learn: the constructor stores its arguments untouched (so ``get_params``,
``set_params`` and ``sklearn.base.clone`` work); ``fit`` checks them (``TypeError`` for a wrong type,
``ValueError`` for a wrong value) and derives the fitted attributes ``a_``, ``b_`` (the curve
``1 / (1 + a d^(2b))`` fitted to ``min_dist`` and ``spread``) and ``device_``.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..book.runtime import device as default_device
from .graph import APPROXIMATE_ABOVE, NAMED_METRICS, NNDESCENT_METRICS, Metric, fuzzy_simplicial_set, \
    membership_strengths, nearest_neighbours, nndescent_neighbours, smooth_knn_dist
from .layout import edge_schedule, find_ab_params, initial_layout, optimize_layout

__all__ = ["UMAP"]

def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check(name: str, value, right_type: bool, right_value, requirement: str) -> None:
    """TypeError unless ``right_type``, then ValueError unless ``right_value()``; both say ``requirement``."""
    if not right_type:
        raise TypeError(f"{name} must be {requirement}, got {value!r} of type {type(value).__name__}")
    if not right_value():
        raise ValueError(f"{name} must be {requirement}, got {value!r}")


class UMAP(TransformerMixin, BaseEstimator):
    """Uniform Manifold Approximation and Projection in PyTorch (McInnes et al. 2018).

    ``metric``: a name (``euclidean``, ``manhattan``, ``minkowski`` with ``p``, ``cosine``, ``angle``, ``dot``
    ...), a callable ``metric(x, y) -> (len(x), len(y))`` tensor, or ``"precomputed"`` (X is then a distance
    matrix: (n, n) for fit, (m, n) for transform). ``epsilon``: add the epsilon node of sec. 3.2.1.
    ``n_epochs``: None means 500 for up to 10,000 samples and 200 above (umap-learn's rule). ``random_state``: an
    int seed (fit and transform repeat exactly on a CPU). ``device``: None means `nngeom.device()` at fit.
    ``neighbours``: ``"exact"`` (a chunked search, memory O(chunk n)), ``"nndescent"`` (approximate, by
    `graph.nndescent_neighbours`, for the l^p metrics) or ``"auto"``: exact up to `graph.APPROXIMATE_ABOVE` samples
    (20,000), NN-descent above where the metric allows; ``transform`` always searches exactly.

    X may be a torch tensor (kept on its device until moved to ``device_``) or any array-like scikit-learn
    accepts; computations run in float32 and results are float32 CPU tensors.

    Fitted attributes: ``embedding_`` (n, n_components), ``epsilon_embedding_`` and ``epsilon_index_`` (None
    without epsilon), ``graph_`` (the fuzzy graph, scipy CSR), ``knn_indices_``, ``knn_dists_``, ``sigmas_``,
    ``rhos_``, ``a_``, ``b_``, ``device_``, ``n_features_in_``.
    """

    def __init__(self, n_neighbors: int = 15, n_components: int = 2, metric: Metric = "euclidean", p: float = 2.0,
                 min_dist: float = 0.1, spread: float = 1.0, n_epochs: int | None = None, learning_rate: float = 1.0,
                 init: str = "spectral", negative_sample_rate: int = 5, repulsion_strength: float = 1.0,
                 epsilon: float | None = None, random_state: int = 0, device: str | torch.device | None = None,
                 neighbours: str = "auto"):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.metric = metric
        self.p = p
        self.min_dist = min_dist
        self.spread = spread
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.init = init
        self.negative_sample_rate = negative_sample_rate
        self.repulsion_strength = repulsion_strength
        self.epsilon = epsilon
        self.random_state = random_state
        self.neighbours = neighbours
        self.device = device

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = isinstance(self.metric, str) and self.metric == "precomputed"
        tags.transformer_tags.preserves_dtype = []  # results are float32 torch tensors whatever X's dtype
        return tags

    # -- parameters -------------------------------------------------------------------------------------------
    def _validate_params(self) -> None:
        """Check every constructor parameter (TypeError: wrong type, ValueError: wrong value) and set the values
        derived from them: ``a_, b_ = find_ab_params(spread, min_dist)`` and ``device_``."""
        finite = np.isfinite
        _check("n_neighbors", self.n_neighbors, _is_int(self.n_neighbors), lambda: self.n_neighbors >= 2,
               "an int >= 2")
        _check("n_components", self.n_components, _is_int(self.n_components), lambda: self.n_components >= 1,
               "a positive int")
        if not callable(self.metric):
            if not isinstance(self.metric, str):
                raise TypeError(f"metric must be a name, 'precomputed' or a callable, got {self.metric!r} of type "
                                f"{type(self.metric).__name__}")
            if self.metric not in NAMED_METRICS + ("precomputed",):
                raise ValueError(f"unknown metric {self.metric!r}: choose one of {', '.join(NAMED_METRICS)}, "
                                 "'precomputed' or pass a callable")
        _check("p", self.p, _is_real(self.p), lambda: finite(self.p) and self.p > 0,
               "a finite number > 0 (the minkowski exponent)")
        _check("min_dist", self.min_dist, _is_real(self.min_dist), lambda: finite(self.min_dist), "a finite number")
        _check("spread", self.spread, _is_real(self.spread), lambda: finite(self.spread), "a finite number")
        _check("n_epochs", self.n_epochs, self.n_epochs is None or _is_int(self.n_epochs),
               lambda: self.n_epochs is None or self.n_epochs >= 1, "None or an int >= 1")
        _check("learning_rate", self.learning_rate, _is_real(self.learning_rate),
               lambda: finite(self.learning_rate) and self.learning_rate > 0, "a finite number > 0")
        _check("init", self.init, isinstance(self.init, str), lambda: self.init in ("spectral", "random"),
               "'spectral' or 'random'")
        _check("negative_sample_rate", self.negative_sample_rate, _is_int(self.negative_sample_rate),
               lambda: self.negative_sample_rate >= 1, "a positive int")
        _check("repulsion_strength", self.repulsion_strength, _is_real(self.repulsion_strength),
               lambda: finite(self.repulsion_strength) and self.repulsion_strength >= 0, "a finite number >= 0")
        _check("epsilon", self.epsilon, self.epsilon is None or _is_real(self.epsilon),
               lambda: self.epsilon is None or (finite(self.epsilon) and self.epsilon > 0),
               "a positive distance (or None)")
        _check("random_state", self.random_state, _is_int(self.random_state), lambda: True, "an int seed")
        _check("neighbours", self.neighbours, isinstance(self.neighbours, str),
               lambda: self.neighbours in ("auto", "exact", "nndescent"), "'auto', 'exact' or 'nndescent'")
        if self.neighbours == "nndescent" and not (isinstance(self.metric, str) and self.metric in NNDESCENT_METRICS):
            raise ValueError(f"neighbours='nndescent' needs one of the metrics {sorted(NNDESCENT_METRICS)}, "
                             f"got {self.metric!r}; use neighbours='exact'")
        if self.device is None:
            self.device_ = default_device()
        elif isinstance(self.device, (str, torch.device)) or _is_int(self.device):
            try:
                self.device_ = torch.device(self.device)
            except RuntimeError as error:
                raise ValueError(f"device must name a torch device ('cpu', 'cuda', 'cuda:1', ...), got "
                                 f"{self.device!r}") from error
        else:
            raise TypeError(f"device must be None, a str or a torch.device, got {self.device!r} of type "
                            f"{type(self.device).__name__}")
        self.a_, self.b_ = find_ab_params(self.spread, self.min_dist)  # ValueError unless 0 <= min_dist <= spread

    def _input(self, X, reset: bool) -> torch.Tensor:
        """X as a float32 tensor on ``device_``: 2-D, not empty, finite, real (numpy and array-likes through
        ``sklearn.utils.check_array``, copied), and with the fitted number of features unless ``reset``
        (``fit``: sets ``n_features_in_``; a precomputed matrix must then be square)."""
        if isinstance(X, torch.Tensor):
            if X.dim() != 2:
                raise ValueError(f"X must be 2-D (samples, features), got shape {tuple(X.shape)}")
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(f"X must hold at least one sample and one feature, got shape {tuple(X.shape)}")
            if X.is_complex():
                raise ValueError("Complex data not supported")
            x = X.to(device=self.device_, dtype=torch.float32)
        else:
            x = torch.from_numpy(check_array(X, dtype=np.float32, copy=True)).to(self.device_)
        if not bool(torch.isfinite(x).all()):
            raise ValueError("X contains NaN or infinity (as float32)")
        precomputed = isinstance(self.metric, str) and self.metric == "precomputed"
        if precomputed and reset and x.shape[0] != x.shape[1]:
            raise ValueError(f"a precomputed distance matrix for fit must be square, got {tuple(x.shape)}")
        if precomputed and not reset and x.shape[1] != self.n_features_in_:
            raise ValueError(f"a precomputed matrix for transform must be (m, {self.n_features_in_}), got "
                             f"{tuple(x.shape)}")
        validate_data(self, X, reset=reset, skip_check_array=True)  # n_features_in_ and feature_names_in_
        return x

    # -- graph ------------------------------------------------------------------------------------------------
    def _neighbours(self, x: torch.Tensor, reference: torch.Tensor | None, k: int, self_neighbours: bool):
        if isinstance(self.metric, str) and self.metric == "precomputed":
            return nearest_neighbours(None, None, k, precomputed=x, self_neighbours=self_neighbours,
                                      epsilon=self.epsilon)
        approximate = self.neighbours == "nndescent" or (
            self.neighbours == "auto" and len(x) > APPROXIMATE_ABOVE and isinstance(self.metric, str)
            and self.metric in NNDESCENT_METRICS)
        if self_neighbours and approximate:
            return nndescent_neighbours(x, k, str(self.metric), self.p, self.random_state, self.epsilon)
        return nearest_neighbours(x, reference, k, self.metric, self.p, self_neighbours=self_neighbours,
                                  epsilon=self.epsilon)

    def _epsilon_row(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """The epsilon node's own row: itself first, then k - 1 samples drawn at random (all tie at epsilon)."""
        chosen = torch.randperm(n, generator=generator)[: self.n_neighbors - 1].to(self.device_)
        idx = torch.cat([torch.tensor([n], device=self.device_), chosen]).unsqueeze(0)
        assert self.epsilon is not None  # called only with an epsilon node
        dist = torch.cat([torch.zeros(1, device=self.device_),
                          torch.full((len(chosen),), float(self.epsilon), device=self.device_)]).unsqueeze(0)
        return idx, dist

    def fit(self, X, y=None) -> "UMAP":
        """Check the parameters, build the fuzzy graph of X (and the epsilon node) and optimise its embedding."""
        self._validate_params()
        x = self._input(X, reset=True)
        n = len(x)
        if n <= self.n_neighbors:
            raise ValueError(f"n_neighbors={self.n_neighbors} needs more than {self.n_neighbors} samples, got "
                             f"n_samples={n}")
        generator = torch.Generator().manual_seed(self.random_state)
        idx, dist = self._neighbours(x, x, self.n_neighbors, self_neighbours=True)
        if self.epsilon is not None:
            e_idx, e_dist = self._epsilon_row(n, generator)
            idx, dist = torch.cat([idx, e_idx]), torch.cat([dist, e_dist])
        self.knn_indices_, self.knn_dists_ = idx, dist
        self.graph_, self.sigmas_, self.rhos_ = fuzzy_simplicial_set(idx, dist, self.n_neighbors)
        n_nodes = self.graph_.shape[0]
        n_epochs = self.n_epochs or (500 if n_nodes <= 10000 else 200)
        embedding = initial_layout(self.graph_, self.n_components, self.init, generator).to(self.device_)
        heads, tails, eps = edge_schedule(self.graph_, n_epochs)
        device_generator = torch.Generator(device=self.device_).manual_seed(self.random_state)
        optimize_layout(embedding, embedding, torch.as_tensor(heads, device=self.device_).long(),
                        torch.as_tensor(tails, device=self.device_).long(),
                        torch.as_tensor(eps, dtype=torch.float32, device=self.device_), n_epochs, self.a_, self.b_,
                        device_generator, self.repulsion_strength, self.learning_rate, self.negative_sample_rate,
                        move_other=True)
        self._x = x
        self._full_embedding = embedding
        self.embedding_ = embedding[:n].cpu()
        self.epsilon_embedding_ = embedding[n].cpu() if self.epsilon is not None else None
        self.epsilon_index_ = n if self.epsilon is not None else None
        return self

    def fit_transform(self, X, y=None) -> torch.Tensor:
        """``fit(X).embedding_``: the embedding of the training samples (not ``transform(X)``)."""
        return self.fit(X).embedding_

    def transform_graph(self, X) -> scipy.sparse.csr_matrix:
        """The memberships (len(X), n_nodes) of new points to the training nodes (samples, then the epsilon
        node) that :meth:`transform` lays out: ``exp(-max(d - rho, 0) / sigma)`` over the k nearest nodes, with
        ``rho`` = distance to the nearest one (local connectivity 1, as in ``fit``; umap-learn uses 0 here), so
        the nearest node of a new point, e.g. the epsilon node of a far input, has membership 1."""
        return self._transform_graph(self._fitted_input(X))

    def _fitted_input(self, X) -> torch.Tensor:
        check_is_fitted(self, "embedding_")
        return self._input(X, reset=False)

    def _transform_graph(self, x: torch.Tensor) -> scipy.sparse.csr_matrix:
        idx, dist = self._neighbours(x, self._x, self.n_neighbors, self_neighbours=False)
        sigma, rho = smooth_knn_dist(dist, self.n_neighbors, local_connectivity=1.0, skip_first=False)
        return membership_strengths(idx, dist, sigma, rho, len(self._full_embedding), self_neighbours=False)

    def transform(self, X) -> torch.Tensor:
        """Embed new points against the fixed training embedding (their k nearest training samples and, when
        present, the epsilon node at distance epsilon); ``n_epochs // 3`` epochs (100 / 30 when unset).

        Memberships are those of :meth:`transform_graph`. Initial positions are the membership-weighted means of
        the neighbours' embeddings, as in umap-learn. The fitted estimator is left unchanged.
        """
        x = self._fitted_input(X)
        n_train = len(self._x)
        graph = self._transform_graph(x)
        row_sums = np.asarray(graph.sum(1)).ravel()
        init = scipy.sparse.diags(1 / np.maximum(row_sums, 1e-12)) @ graph @ self._full_embedding.cpu().numpy()
        init = torch.as_tensor(init, dtype=torch.float32, device=self.device_)
        n_epochs = max(1, self.n_epochs // 3) if self.n_epochs else (100 if n_train <= 10000 else 30)
        heads, tails, eps = edge_schedule(graph, n_epochs)
        generator = torch.Generator(device=self.device_).manual_seed(self.random_state + 1)
        embedding = init.clone()
        optimize_layout(embedding, self._full_embedding.clone(), torch.as_tensor(heads, device=self.device_).long(),
                        torch.as_tensor(tails, device=self.device_).long(),
                        torch.as_tensor(eps, dtype=torch.float32, device=self.device_), n_epochs, self.a_, self.b_,
                        generator, self.repulsion_strength, self.learning_rate / 4, self.negative_sample_rate,
                        move_other=False)
        return embedding.cpu()
