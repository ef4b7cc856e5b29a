"""Critical distances and relative accuracy of a linear classifier against its analytic decision boundary."""
import numpy as np
import pytest
import torch
from torch import nn

from nngeom.robustness import perturbations


def linear_problem(dim=20, n=40, seed=0):
    torch.manual_seed(seed)
    model = nn.Linear(dim, 2).double()
    x = torch.randn(n, dim, dtype=torch.float64)
    with torch.no_grad():
        y = model(x).argmax(1)
    y[:3] = 1 - y[:3]  # three misclassified images that must be left out
    return model, x, y


def margins(model, x, y):
    """z_y - z_other and w_other - w_y for the binary linear classifier."""
    w, b = model.weight.detach(), model.bias.detach()
    z = x @ w.T + b
    other = 1 - y
    margin = z.gather(1, y[:, None])[:, 0] - z.gather(1, other[:, None])[:, 0]
    return margin, w[other] - w[y]


GRID = np.geomspace(1e-3, 1e2, 60)


def correct_subset(model, x, y):
    keep = model(x).argmax(1) == y
    return x[keep], y[keep]


def test_random_direction_critical_distance_is_analytic():
    model, x, y = linear_problem()
    result = perturbations.evaluate(model, x, y, "random", GRID, bisection=40, seed=3)
    assert result.n_correct == len(x) - 3
    xc, yc = correct_subset(model, x, y)
    margin, dw = margins(model, xc, yc)
    attack = perturbations.Perturbation(model, xc, yc, "random", generator=torch.Generator().manual_seed(3))
    along = (dw * attack.direction).sum(1)  # rate at which the margin closes along the direction
    expected = torch.where(along > 0, margin / along, torch.full_like(margin, float("nan")))
    reachable = torch.isfinite(expected) & (expected < GRID[-1])
    np.testing.assert_allclose(result.critical[reachable.numpy()], expected[reachable].numpy(), rtol=1e-6)
    assert np.all(np.isnan(result.critical[~reachable.numpy()]))
    for e, acc in zip(GRID, result.relative_accuracy):
        assert acc == pytest.approx(float((~(expected <= e)).double().mean()))


@pytest.mark.parametrize("kind", ["fgsm", "pgd_linf"])
def test_linf_attacks_critical_distance_is_analytic(kind):
    model, x, y = linear_problem(seed=1)
    result = perturbations.evaluate(model, x, y, kind, GRID, bisection=40, steps=10)
    xc, yc = correct_subset(model, x, y)
    margin, dw = margins(model, xc, yc)
    eps = margin / dw.abs().sum(1)  # the sign step closes the margin at rate ||w_other - w_y||_1
    np.testing.assert_allclose(result.critical, (eps * np.sqrt(x.shape[1])).numpy(), rtol=1e-6)
    np.testing.assert_allclose(result.critical_eps, eps.numpy(), rtol=1e-6)  # the L-infinity budget itself


def test_l2_pgd_finds_the_euclidean_distance_to_the_boundary():
    model, x, y = linear_problem(seed=2)
    result = perturbations.evaluate(model, x, y, "pgd_l2", GRID, bisection=40, steps=10)
    xc, yc = correct_subset(model, x, y)
    margin, dw = margins(model, xc, yc)
    np.testing.assert_allclose(result.critical, (margin / dw.norm(dim=1)).numpy(), rtol=1e-6)
    assert result.median_critical() == pytest.approx(float(np.median(result.critical)))
    # PGD is never weaker than FGSM in L2 distance on a linear model
    fgsm = perturbations.evaluate(model, x, y, "fgsm", GRID, bisection=40)
    assert np.all(result.critical <= fgsm.critical + 1e-9)


def test_bad_arguments():
    model, x, y = linear_problem()
    with pytest.raises(ValueError):
        perturbations.evaluate(model, x, y, "fgsm", [0.1, 0.05])
    with pytest.raises(ValueError):
        perturbations.evaluate(model, x, y, "cw", GRID)
    with pytest.raises(ValueError):
        perturbations.Perturbation(model, x, y, "pgd_l2", steps=0)


def test_pgd_with_a_fixed_step_reaches_the_corner_on_a_linear_model():
    """Authors' settings (20 steps of a fixed size): on a linear model the sign steps end on the eps-ball corner."""
    model, x, y = linear_problem(seed=1)
    xc, yc = correct_subset(model, x, y)
    attack = perturbations.Perturbation(model, xc, yc, "pgd_linf", steps=20, abs_step=1e-2)
    delta = attack(0.05)  # 20 x 0.01 = 0.2 > eps: every coordinate saturates at +-eps
    np.testing.assert_allclose(delta.abs().numpy(), 0.05, rtol=1e-12)
    short = perturbations.Perturbation(model, xc, yc, "pgd_linf", steps=2, abs_step=1e-2)(0.05)
    np.testing.assert_allclose(short.abs().numpy(), 0.02, rtol=1e-12)  # two steps cannot leave the ball
    with pytest.raises(ValueError):
        perturbations.Perturbation(model, xc, yc, "pgd_linf", abs_step=0.0)
