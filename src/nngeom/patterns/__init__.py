"""Activation patterns of ReLU networks: *Study on Activation Patterns* (Swiniarski, Bruna, Cho).

Modules, one idea each: ``recording`` (bit-packed 0-1 patterns by hooks), ``hamming`` (pairwise / paired /
nearest-neighbour Hamming distances), ``nullmodel`` (Bernoulli null, p-value, constellation curve),
``linear_maps`` (exact W_{a,x}, b_{a,x}; singular values; greedy decomposition; angles), ``geodesic``
(Algorithm 1 and the midpoint algorithms), ``polytope`` (noisy exploration of one linear region),
``regions`` (counting linear regions, f(n, r)), ``models`` (the networks and the cached training).
"""
from . import geodesic, hamming, linear_maps, models, nullmodel, polytope, recording, regions
from .recording import Patterns, record

__all__ = ["Patterns", "geodesic", "hamming", "linear_maps", "models", "nullmodel", "polytope", "record",
           "recording", "regions"]
