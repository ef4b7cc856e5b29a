"""Axiom checks of Metric as Transform sec. 2.9 reproduce known answers."""
import pytest
import torch

from nngeom.metric import axioms as ma


@pytest.mark.parametrize("p,expected", [(2.0, "metric"), (1.0, "metric"), (20.0, "metric"), (0.5, "semimetric")])
def test_lp_classification(p, expected):
    report = ma.check_axioms(ma.lp_distance(p), ma.gaussian_sampler(3), n=1000)
    assert ma.classify(report) == expected


def test_l_half_violates_triangle_with_known_counterexample():
    d = ma.lp_distance(0.5)
    x, y, z = torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 1.0]])
    assert d(x, z).item() == pytest.approx(4.0)
    assert d(x, y).item() + d(y, z).item() == pytest.approx(2.0)
    assert not ma.check_axioms(d, ma.gaussian_sampler(2), n=500).holds("triangle")


def test_angle_metric_on_sphere_pseudometric_in_space():
    assert ma.classify(ma.check_axioms(ma.angle, ma.sphere_sampler(3), n=1000, rays=False)) == "metric"
    assert ma.classify(ma.check_axioms(ma.angle, ma.gaussian_sampler(3), n=1000)) == "pseudometric"
    assert ma.classify(ma.check_axioms(ma.cosine_distance, ma.sphere_sampler(3), n=1000, rays=False)) == "semimetric"


def test_stereographic_angle_is_a_metric_on_euclidean_space():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    # istereo(0) is the south pole, istereo(+-e1) lie on the equator: angles pi/2 and pi.
    torch.testing.assert_close(ma.stereographic_angle(x, y), torch.tensor([torch.pi / 2, torch.pi],
                                                                         dtype=torch.float64))
    assert ma.classify(ma.check_axioms(ma.stereographic_angle, ma.gaussian_sampler(3), n=1000)) == "metric"


@pytest.mark.parametrize("family,expected", [
    (ma.piecewise_l1(), "semimetric"),
    (ma.general_convex(2), "premetric"),
    (ma.general_invex(2), "premetric"),
    (ma.convex_contour(), "quasimetric"),
    (ma.invex_contour(), "premetric"),
])
def test_generalised_distances_match_document(family, expected):
    assert ma.classify(ma.check_axioms(family, ma.gaussian_sampler(2), n=2000)) == expected


def test_convex_contour_is_positively_homogeneous_and_matches_disc_gauge():
    d = ma.convex_contour(0.6)
    x = torch.zeros(1, 2, dtype=torch.float64)
    # Along +x the disc boundary is at 1.6, along -x at 0.4.
    assert d(x, torch.tensor([[1.6, 0.0]], dtype=torch.float64)).item() == pytest.approx(1.0)
    assert d(x, torch.tensor([[-0.4, 0.0]], dtype=torch.float64)).item() == pytest.approx(1.0)
    v = torch.randn(10, 2, dtype=torch.float64)
    torch.testing.assert_close(d(x.expand(10, 2), 3 * v), 3 * d(x.expand(10, 2), v))


def test_classify_table_and_errors():
    full = dict.fromkeys(ma.AXIOMS, True)
    assert ma.classify(full) == "metric"
    assert ma.classify({**full, "symmetry": False}) == "quasimetric"
    assert ma.classify({**full, "triangle": False}) == "semimetric"
    assert ma.classify({**full, "symmetry": False, "triangle": False}) == "premetric"
    assert ma.classify({**full, "positivity": False}) == "pseudometric"
    assert ma.classify({**full, "identity": False}) == "not a distance"
    with pytest.raises(ValueError):
        ma.classify({"identity": True})
    with pytest.raises(ValueError):
        ma.lp_distance(0)
    with pytest.raises(TypeError):
        ma.check_axioms(3, ma.gaussian_sampler(2))


def test_a_distance_without_identity_is_detected():
    report = ma.check_axioms(lambda a, b: (a - b).norm(dim=1) + 1.0, ma.gaussian_sampler(2), n=200)
    assert not report.holds("identity") and ma.classify(report) == "not a distance"
