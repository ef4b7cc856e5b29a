"""Hamming distances between activation patterns, per layer and overall.

*Study on Activation Patterns*, eq. (7): d_Ham,j(x_1, x_2) = ||a_j(x_1) - a_j(x_2)||_1, and eq. (8) the
matrix M_dist,k of all pairwise distances. For 0-1 vectors
    d(a, b) = |a| + |b| - 2 <a, b>,
so a block of pairwise distances is one matrix product, computed exactly as an int8 x int8 -> int32 GEMM
(float32 where that kernel is missing; exact too, below 2^24 bits). ``pairwise`` unpacks the bit-packed
patterns chunk by chunk, multiplies with torch (all cores), computes only the upper blocks of a symmetric
matrix, and writes int16 (int32 beyond 32,767 bits): 16,000 x 16,000 distances take 512 MB.
"""
from __future__ import annotations

import numpy as np
import torch

from .recording import Patterns

__all__ = ["condensed", "nearest_neighbours", "paired", "pairwise", "per_layer_pairwise", "random_pairs"]


def _as_patterns(p) -> Patterns:
    if isinstance(p, Patterns):
        return p
    if isinstance(p, (np.ndarray, torch.Tensor)):
        return Patterns.from_bool(p)
    raise TypeError(f"expected Patterns or a 0-1 array, got {type(p).__name__}")


def _gram(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """<a, b> for 0-1 rows, exact: int8 x int8 -> int32 GEMM where torch has it, else float32."""
    if A.shape[1] % 8 == 0 and len(A) > 16 and hasattr(torch, "_int_mm"):
        try:
            return torch._int_mm(A, B.T.contiguous())
        except RuntimeError:
            pass
    return (A.float() @ B.float().T).round_().to(torch.int32)


def _unpack(p: Patterns, start: int, stop: int, width: int) -> torch.Tensor:
    bits = np.unpackbits(p.packed[start:stop], axis=1, count=p.n_bits).view(np.int8)
    if width > p.n_bits:  # zero columns change no distance; the int8 GEMM wants a multiple of 8
        bits = np.pad(bits, ((0, 0), (0, width - p.n_bits)))
    return torch.from_numpy(np.ascontiguousarray(bits))


def pairwise(a, b=None, chunk: int = 4096) -> np.ndarray:
    """(len(a), len(b)) matrix of Hamming distances (b defaults to a: then only blocks on and above the
    diagonal are computed and mirrored)."""
    a = _as_patterns(a)
    symmetric = b is None
    b = a if symmetric else _as_patterns(b)
    if a.n_bits != b.n_bits:
        raise ValueError(f"patterns have different lengths: {a.n_bits} and {b.n_bits} bits")
    if not isinstance(chunk, int):
        raise TypeError(f"chunk must be an int, got {type(chunk).__name__}")
    if chunk < 1:
        raise ValueError(f"chunk must be a positive int, got {chunk!r}")
    if a.n_bits >= 2 ** 31:
        raise ValueError("patterns longer than 2^31 bits overflow the int32 counts")
    width = (a.n_bits + 7) // 8 * 8
    dtype = torch.int16 if a.n_bits < 2 ** 15 else torch.int32
    out = torch.empty((len(a), len(b)), dtype=dtype)
    B = _unpack(b, 0, len(b), width)
    nb = B.sum(1, dtype=torch.int32)
    for start in range(0, len(a), chunk):
        stop = min(start + chunk, len(a))
        A = B[start:stop] if symmetric else _unpack(a, start, stop, width)
        first = start if symmetric else 0
        block = _gram(A, B[first:]).mul_(-2).add_(nb[first:]).add_(A.sum(1, dtype=torch.int32)[:, None])
        block = block.to(dtype)
        out[start:stop, first:] = block
        if symmetric:
            out[stop:, start:stop] = block[:, stop - first:].T
    return out.numpy()


def paired(a, b) -> np.ndarray:
    """Distances between matching rows, d(a_k, b_k), via XOR and popcount."""
    a, b = _as_patterns(a), _as_patterns(b)
    if a.n_bits != b.n_bits or len(a) != len(b):
        raise ValueError("paired distances need patterns of equal count and length")
    return np.bitwise_count(a.packed ^ b.packed).sum(axis=1, dtype=np.int64)


def per_layer_pairwise(layers: dict[str, Patterns], chunk: int = 2048) -> dict[str, np.ndarray]:
    """Pairwise matrices per layer plus 'all' (the sum: distance between whole-network patterns)."""
    result = {name: pairwise(p, chunk=chunk) for name, p in layers.items()}
    if not result:
        raise ValueError("per_layer_pairwise needs at least one layer")
    total = np.zeros(next(iter(result.values())).shape, dtype=np.int32)
    for matrix in result.values():
        total += matrix
    result["all"] = total
    return result


def condensed(matrix: np.ndarray) -> np.ndarray:
    """Upper triangle (i < j) of a square distance matrix, in scipy's ``pdist`` order."""
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError("need a square matrix")
    i, j = np.triu_indices(len(matrix), k=1)
    return matrix[i, j]


def random_pairs(n: int, n_pairs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` pairs (i, j), i != j, drawn uniformly among ``n`` samples (sec. 2.2: 10,000 pairs)."""
    if n < 2:
        raise ValueError("need at least two samples to form pairs")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, n_pairs)
    j = (i + rng.integers(1, n, n_pairs)) % n
    return i, j


def nearest_neighbours(query, base, k: int = 10, exclude_self: bool = False, chunk: int = 1024
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of the ``k`` nearest ``base`` patterns of each ``query`` (sec. 2.4, Fig. 9).

    Queries are processed ``chunk`` at a time (memory ~ chunk x len(base)); ties are broken by index
    (stable sort). ``exclude_self`` drops index i for query i (when query is base).
    """
    query, base = _as_patterns(query), _as_patterns(base)
    if not 1 <= k <= len(base) - int(exclude_self):
        raise ValueError(f"k must lie in [1, {len(base) - int(exclude_self)}], got {k}")
    indices = np.empty((len(query), k), dtype=np.int64)
    distances = np.empty((len(query), k), dtype=np.int32)
    for start in range(0, len(query), chunk):
        stop = min(start + chunk, len(query))
        block = pairwise(query[start:stop], base).astype(np.int32)
        if exclude_self:
            rows = np.arange(stop - start)
            block[rows, start + rows] = np.iinfo(np.int32).max
        order = np.argsort(block, axis=1, kind="stable")[:, :k]
        indices[start:stop] = order
        distances[start:stop] = np.take_along_axis(block, order, axis=1)
    return indices, distances
