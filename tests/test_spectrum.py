"""Covariance spectra and power-law fits (Neural robustness, sec. 2, Appendix C)."""
import numpy as np
import pytest
import torch

from nngeom.robustness import spectrum


def test_covariance_spectrum_matches_numpy_both_branches():
    rng = np.random.default_rng(0)
    for shape in [(300, 20), (15, 40)]:
        h = rng.normal(size=shape) @ rng.normal(size=(shape[1], shape[1]))
        expected = np.sort(np.linalg.eigvalsh(np.cov(h.T)))[::-1][:min(shape[0] - 1, shape[1])]
        got = spectrum.covariance_spectrum(torch.tensor(h))
        assert len(got) == min(shape[0] - 1, shape[1])
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-8 * expected[0])


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.7])
def test_fit_recovers_exact_exponent(alpha):
    lam = 3.0 * np.arange(1, 501) ** -alpha
    fit = spectrum.fit_power_law(lam, window=(5, 300))
    assert fit.alpha == pytest.approx(alpha, abs=1e-10)
    assert fit.intercept == pytest.approx(0.0, abs=1e-9)  # normalised: lambda_1 / lambda_1 = 1
    assert fit.r2 == pytest.approx(1.0)


def test_fit_recovers_exponent_of_sampled_spectrum():
    alpha, dim = 1.2, 200
    rng = np.random.default_rng(1)
    h = rng.normal(size=(20000, dim)) * np.arange(1, dim + 1) ** (-alpha / 2)
    h = h @ np.linalg.qr(rng.normal(size=(dim, dim)))[0]  # rotate: the spectrum is basis-free
    fit = spectrum.fit_power_law(spectrum.covariance_spectrum(h), window=(5, 60))
    assert fit.alpha == pytest.approx(alpha, abs=0.1)


def test_white_noise_control_is_near_zero_and_fit_is_scale_free():
    assert spectrum.noise_control(4000, 100, window=(5, 50)) < 0.15
    lam = np.arange(1, 101) ** -1.0
    assert spectrum.fit_power_law(lam).alpha == pytest.approx(spectrum.fit_power_law(7.5 * lam).alpha)


def test_bad_input():
    with pytest.raises(ValueError):
        spectrum.fit_power_law(np.ones(10), window=(5, 5))
    with pytest.raises(ValueError):
        spectrum.normalized(np.zeros(3))
    with pytest.raises(ValueError):
        spectrum.covariance_spectrum(np.ones((1, 4)))


def test_numerical_rank_ignores_the_zero_tail_of_dead_units():
    g = torch.Generator().manual_seed(0)
    h = torch.randn(500, 40, generator=g, dtype=torch.float64)
    h[:, 25:] = 0.0  # 15 dead units
    lam = spectrum.covariance_spectrum(h)
    assert spectrum.numerical_rank(lam) == 25
    assert spectrum.numerical_rank(np.array([0.0, 0.0])) == 0
    fit = spectrum.fit_power_law(lam, (2, spectrum.numerical_rank(lam)))
    assert fit.hi == 25
