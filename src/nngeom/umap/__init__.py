"""UMAP in PyTorch with an optional epsilon node (*Metric as Transform*, sec. 2.6 and 3.2.1).

McInnes, Healy & Melville (2018). ``graph`` builds the fuzzy simplicial set (k nearest neighbours under any
distance, the rho / sigma search, fuzzy union); ``layout`` fits the a / b curve, initialises (spectral or
random) and optimises the embedding; ``estimator`` wraps both in the scikit-learn style class :class:`UMAP`;
``quality`` scores embeddings (label agreement, spread of activations).
"""
from .estimator import UMAP
from .graph import fuzzy_simplicial_set, nearest_neighbours, pairwise, smooth_knn_dist
from .layout import find_ab_params, optimize_layout, spectral_layout
from .quality import activation_spread, label_agreement

__all__ = ["UMAP", "activation_spread", "find_ab_params", "fuzzy_simplicial_set", "label_agreement",
           "nearest_neighbours", "optimize_layout", "pairwise", "smooth_knn_dist", "spectral_layout"]
