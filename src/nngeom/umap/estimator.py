"""scikit-learn style UMAP estimator with an optional epsilon node (*Metric as Transform*, sec. 2.6, 3.2.1).

``UMAP(n_neighbors=15, n_components=2, metric="euclidean", min_dist=0.1, spread=1.0, epsilon=None, ...)``:
``fit(X)`` builds the fuzzy graph of the samples (plus the epsilon node when ``epsilon`` is given: every sample
sees one extra point at distance ``epsilon``), lays it out, and stores ``embedding_`` (samples only) and
``epsilon_embedding_`` (the epsilon node); ``transform(X_new)`` places new points against the fixed embedding
(their neighbours are training samples and the epsilon node); ``fit_transform`` returns ``embedding_``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse
import torch

from ..book.runtime import device as default_device
from .graph import NAMED_METRICS, Metric, fuzzy_simplicial_set, membership_strengths, nearest_neighbours, \
    smooth_knn_dist
from .layout import edge_schedule, find_ab_params, initial_layout, optimize_layout


def _as_tensor(x, name: str, device: torch.device) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(x).__name__}")
    if x.dim() != 2:
        raise ValueError(f"{name} must be 2-D (samples, features), got shape {tuple(x.shape)}")
    return x.to(device=device, dtype=torch.float32)


class UMAP:
    """Uniform Manifold Approximation and Projection in PyTorch (McInnes et al. 2018).

    ``metric``: a name (``euclidean``, ``manhattan``, ``minkowski`` with ``p``, ``cosine``, ``angle``, ``dot``
    ...), a callable ``metric(x, y) -> (len(x), len(y))`` tensor, or ``"precomputed"`` (X is then a distance
    matrix: (n, n) for fit, (m, n) for transform). ``epsilon``: add the epsilon node of sec. 3.2.1.
    ``n_epochs``: None means 500 for up to 10,000 samples and 200 above (umap-learn's rule).
    """

    def __init__(self, n_neighbors: int = 15, n_components: int = 2, metric: Metric = "euclidean", p: float = 2.0,
                 min_dist: float = 0.1, spread: float = 1.0, n_epochs: int | None = None, learning_rate: float = 1.0,
                 init: str = "spectral", negative_sample_rate: int = 5, repulsion_strength: float = 1.0,
                 epsilon: float | None = None, random_state: int = 0, device: str | torch.device | None = None):
        if not isinstance(n_neighbors, int) or n_neighbors < 2:
            raise ValueError(f"n_neighbors must be an int >= 2, got {n_neighbors!r}")
        if not isinstance(n_components, int) or n_components < 1:
            raise ValueError(f"n_components must be a positive int, got {n_components!r}")
        if not callable(metric) and metric not in NAMED_METRICS + ("precomputed",):
            raise ValueError(f"unknown metric {metric!r}: choose one of {', '.join(NAMED_METRICS)}, 'precomputed' "
                             "or pass a callable")
        if init not in ("spectral", "random"):
            raise ValueError(f"init must be 'spectral' or 'random', got {init!r}")
        if epsilon is not None and not epsilon > 0:
            raise ValueError(f"epsilon must be a positive distance, got {epsilon!r}")
        if n_epochs is not None and n_epochs < 1:
            raise ValueError(f"n_epochs must be >= 1, got {n_epochs}")
        self.n_neighbors, self.n_components, self.metric, self.p = n_neighbors, n_components, metric, p
        self.min_dist, self.spread, self.n_epochs, self.learning_rate = min_dist, spread, n_epochs, learning_rate
        self.init, self.negative_sample_rate, self.repulsion_strength = init, negative_sample_rate, repulsion_strength
        self.epsilon, self.random_state = epsilon, random_state
        self.device = torch.device(device) if device is not None else default_device()
        self.a, self.b = find_ab_params(spread, min_dist)

    def __repr__(self) -> str:
        return (f"UMAP(n_neighbors={self.n_neighbors}, n_components={self.n_components}, metric={self.metric!r}, "
                f"min_dist={self.min_dist}, epsilon={self.epsilon}, random_state={self.random_state})")

    # -- graph ------------------------------------------------------------------------------------------------
    def _neighbours(self, x: torch.Tensor, reference: torch.Tensor | None, k: int, self_neighbours: bool):
        if self.metric == "precomputed":
            return nearest_neighbours(None, None, k, precomputed=x, self_neighbours=self_neighbours,
                                      epsilon=self.epsilon)
        return nearest_neighbours(x, reference, k, self.metric, self.p, self_neighbours=self_neighbours,
                                  epsilon=self.epsilon)

    def _epsilon_row(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """The epsilon node's own row: itself first, then k - 1 samples drawn at random (all tie at epsilon)."""
        chosen = torch.randperm(n, generator=generator)[: self.n_neighbors - 1].to(self.device)
        idx = torch.cat([torch.tensor([n], device=self.device), chosen]).unsqueeze(0)
        dist = torch.cat([torch.zeros(1, device=self.device),
                          torch.full((len(chosen),), float(self.epsilon), device=self.device)]).unsqueeze(0)
        return idx, dist

    def fit(self, X, y=None) -> "UMAP":
        """Build the fuzzy graph of X (and the epsilon node) and optimise its embedding."""
        x = _as_tensor(X, "X", self.device)
        n = len(x)
        if self.metric == "precomputed" and x.shape[0] != x.shape[1]:
            raise ValueError(f"a precomputed distance matrix for fit must be square, got {tuple(x.shape)}")
        if n <= self.n_neighbors:
            raise ValueError(f"n_neighbors={self.n_neighbors} needs more than {self.n_neighbors} samples, got {n}")
        generator = torch.Generator().manual_seed(self.random_state)
        idx, dist = self._neighbours(x, x, self.n_neighbors, self_neighbours=True)
        if self.epsilon is not None:
            e_idx, e_dist = self._epsilon_row(n, generator)
            idx, dist = torch.cat([idx, e_idx]), torch.cat([dist, e_dist])
        self.knn_indices_, self.knn_dists_ = idx, dist
        self.graph_, self.sigmas_, self.rhos_ = fuzzy_simplicial_set(idx, dist, self.n_neighbors)
        n_nodes = self.graph_.shape[0]
        n_epochs = self.n_epochs or (500 if n_nodes <= 10000 else 200)
        embedding = initial_layout(self.graph_, self.n_components, self.init, generator).to(self.device)
        heads, tails, eps = edge_schedule(self.graph_, n_epochs)
        device_generator = torch.Generator(device=self.device).manual_seed(self.random_state)
        optimize_layout(embedding, embedding, torch.as_tensor(heads, device=self.device).long(),
                        torch.as_tensor(tails, device=self.device).long(),
                        torch.as_tensor(eps, dtype=torch.float32, device=self.device), n_epochs, self.a, self.b,
                        device_generator, self.repulsion_strength, self.learning_rate, self.negative_sample_rate,
                        move_other=True)
        self._x = x
        self._full_embedding = embedding
        self.embedding_ = embedding[:n].cpu()
        self.epsilon_embedding_ = embedding[n].cpu() if self.epsilon is not None else None
        self.epsilon_index_ = n if self.epsilon is not None else None
        return self

    def fit_transform(self, X, y=None) -> torch.Tensor:
        return self.fit(X).embedding_

    def transform(self, X) -> torch.Tensor:
        """Embed new points against the fixed training embedding (their k nearest training samples and, when
        present, the epsilon node at distance epsilon); ``n_epochs // 3`` epochs (100 / 30 when unset).

        Memberships use ``rho`` = distance to the nearest neighbour (local connectivity 1, as in ``fit``; umap-learn
        uses 0 here), so the nearest neighbour of a new point, e.g. the epsilon node of a far input, has membership
        1. Initial positions are the membership-weighted means of the neighbours' embeddings, as in umap-learn.
        """
        if not hasattr(self, "embedding_"):
            raise RuntimeError("call fit before transform")
        x = _as_tensor(X, "X", self.device)
        n_train = len(self._x)
        if self.metric == "precomputed" and x.shape[1] != n_train:
            raise ValueError(f"a precomputed matrix for transform must be (m, {n_train}), got {tuple(x.shape)}")
        if self.metric != "precomputed" and x.shape[1] != self._x.shape[1]:
            raise ValueError(f"X has {x.shape[1]} features, the fitted data {self._x.shape[1]}")
        idx, dist = self._neighbours(x, self._x, self.n_neighbors, self_neighbours=False)
        sigma, rho = smooth_knn_dist(dist, self.n_neighbors, local_connectivity=1.0, skip_first=False)
        graph = membership_strengths(idx, dist, sigma, rho, len(self._full_embedding), self_neighbours=False)
        self.transform_graph_ = graph
        row_sums = np.asarray(graph.sum(1)).ravel()
        init = scipy.sparse.diags(1 / np.maximum(row_sums, 1e-12)) @ graph @ self._full_embedding.cpu().numpy()
        init = torch.as_tensor(init, dtype=torch.float32, device=self.device)
        n_epochs = max(1, self.n_epochs // 3) if self.n_epochs else (100 if n_train <= 10000 else 30)
        heads, tails, eps = edge_schedule(graph, n_epochs)
        generator = torch.Generator(device=self.device).manual_seed(self.random_state + 1)
        embedding = init.clone()
        optimize_layout(embedding, self._full_embedding.clone(), torch.as_tensor(heads, device=self.device).long(),
                        torch.as_tensor(tails, device=self.device).long(),
                        torch.as_tensor(eps, dtype=torch.float32, device=self.device), n_epochs, self.a, self.b,
                        generator, self.repulsion_strength, self.learning_rate / 4, self.negative_sample_rate,
                        move_other=False)
        return embedding.cpu()
