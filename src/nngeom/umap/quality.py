"""Scores of an embedding used by the UMAP notebooks (*Metric as Transform*, sec. 2.6 and 3.2.1).

* ``label_agreement``: mean fraction of each point's k nearest neighbours in the embedding that share its label
  (the separation score of the double helix: 1 = the classes never mix, 0.5 = two classes fully mixed);
* ``activation_spread``: activation-weighted mean embedded distance to the centre's own embedding, divided by the
  plain mean distance: ``sum_i a_i |e_i - e_c| / sum_i a_i / mean_i |e_i - e_c|``; 0 when all activation sits at
  the centre, 1 when it spreads like the data, so small values mean local in the embedding.
"""
from __future__ import annotations

import torch

__all__ = ["activation_spread", "label_agreement"]


def label_agreement(embedding: torch.Tensor, labels: torch.Tensor, k: int = 10) -> float:
    """``mean_i |{j in kNN_k(i): y_j = y_i}| / k`` in the embedding (Euclidean, self excluded)."""
    embedding, labels = torch.as_tensor(embedding, dtype=torch.float32), torch.as_tensor(labels)
    if len(embedding) != len(labels):
        raise ValueError(f"{len(embedding)} points but {len(labels)} labels")
    if not 1 <= k < len(embedding):
        raise ValueError(f"k must lie in [1, {len(embedding) - 1}], got {k}")
    d = torch.cdist(embedding, embedding)
    d.fill_diagonal_(torch.inf)
    neighbours = d.topk(k, largest=False).indices
    return float((labels[neighbours] == labels.unsqueeze(1)).float().mean())


def activation_spread(activation: torch.Tensor, embedding: torch.Tensor, centre_position: torch.Tensor) -> float:
    """``(sum_i a_i r_i / sum_i a_i) / mean_i r_i`` with ``r_i = |e_i - e_c|`` (activations must be >= 0)."""
    activation = torch.as_tensor(activation, dtype=torch.float64)
    if bool((activation < 0).any()) or float(activation.sum()) <= 0:
        raise ValueError("activations must be non-negative and not all zero")
    embedding = torch.as_tensor(embedding, dtype=torch.float64)
    r = (embedding - torch.as_tensor(centre_position, dtype=torch.float64)).norm(dim=1)
    return float((activation * r).sum() / activation.sum() / r.mean())
