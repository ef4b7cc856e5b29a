import pytest
import torch
from scipy.spatial import cKDTree

from nngeom.metric import voronoi
from nngeom.toys import grid_2d


def test_distance_regions_equal_nearest_centre_from_scipy():
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(7, 2, generator=g)
    points, _, _ = grid_2d(3.0, 50)
    ours = voronoi.distance_regions(points, centres)
    _, reference = cKDTree(centres.numpy()).query(points.numpy())
    assert torch.equal(ours, torch.from_numpy(reference))


def test_power_diagram_bias_and_linear_regions_closed_form():
    centres = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    # with bias b the boundary |x-c1|^2 + b1 = |x-c2|^2 + b2 sits at x = (b2 - b1) / 4
    around = torch.tensor([[-0.26, 0.0], [-0.24, 0.0], [0.24, 0.0], [0.26, 0.0]])
    assert voronoi.distance_regions(around, centres, torch.tensor([1.0, 0.0])).tolist() == [0, 1, 1, 1]
    assert voronoi.distance_regions(around, centres, torch.tensor([-1.0, 0.0])).tolist() == [0, 0, 0, 1]
    assert voronoi.distance_regions(around, centres).tolist() == [0, 0, 1, 1]
    weights = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert voronoi.linear_regions(torch.tensor([[2.0, 1.0], [1.0, 2.0]]), weights).tolist() == [0, 1]


def test_own_cell_fraction_and_agreement():
    assert voronoi.own_cell_fraction(torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    assert voronoi.agreement(torch.tensor([0, 1]), torch.tensor([0, 0])) == 0.5
    assert voronoi.occupied_regions(torch.tensor([0, 0, 2]), 3) == 2
    with pytest.raises(ValueError, match="p must be > 0"):
        voronoi.distance_regions(torch.zeros(1, 2), torch.zeros(1, 2), p=0)


def test_grid_2d_order_and_errors():
    points, xx, yy = grid_2d(2.0, 5, dtype=torch.float64)
    axis = torch.linspace(-2.0, 2.0, 5, dtype=torch.float64)
    i, j = 3, 1
    assert points[i * 5 + j].tolist() == [axis[j].item(), axis[i].item()]  # x along columns, y along rows
    assert xx[i, j] == axis[j] and yy[i, j] == axis[i] and points.dtype == torch.float64
    with pytest.raises(ValueError, match="resolution"):
        grid_2d(1.0, 1)
    with pytest.raises(ValueError, match="limit"):
        grid_2d(0.0, 10)
