"""Twins along a segment (nngeom.metric.twins) against closed forms and the independent grid search."""
import numpy as np
import pytest
import torch

from nngeom.metric import inversion as inv
from nngeom.metric.twins import twins_on_segment

CENTRES = torch.tensor([[-1.2, -0.7], [1.3, -0.5], [0.1, 1.3]], dtype=torch.float64)
INVEX = lambda theta: 1 + 0.6 * torch.cos(3 * theta)  # noqa: E731
CIRCLE = lambda theta: torch.ones_like(theta)  # noqa: E731


def test_euclidean_distances_to_non_collinear_centres_have_no_twins():
    """Closed form: x and x' share two Euclidean distances only as mirror images in the line c1 c2, and then share
    the third only if c3 lies on that line, which it does not."""
    assert twins_on_segment((0.0, -1.5), (0.0, 1.5), CENTRES, CIRCLE, 4.0, steps=30, resolution=120) == []


def test_invex_twins_are_exact_and_the_grid_search_confirms_them():
    twins = twins_on_segment((0.0, -1.5), (0.0, 1.5), CENTRES, INVEX, 4.0, steps=40, resolution=150)
    assert twins
    for found in twins:
        both = inv.contour_distance(torch.from_numpy(np.stack([found.x, found.twin])), CENTRES, INVEX)
        assert torch.allclose(both[0], both[1], rtol=1e-9, atol=0) and np.linalg.norm(found.x - found.twin) > 1e-3
        assert np.allclose(found.x, [0.0, -1.5 + 3 * found.t])
        # an independent code path: the grid search over the plane finds at least two preimages of these distances
        assert len(inv.contour_solutions(both[0], CENTRES, INVEX, 4.0, 300)) >= 2


def test_bad_segments_are_refused():
    with pytest.raises(ValueError, match="three 2-d centres"):
        twins_on_segment((0.0, 0.0), (1.0, 0.0), CENTRES[:2], INVEX, 4.0)
    with pytest.raises(ValueError, match="no length"):
        twins_on_segment((0.5, 0.5), (0.5, 0.5), CENTRES, INVEX, 4.0)
