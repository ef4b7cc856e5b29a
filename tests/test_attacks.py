"""Attack wrappers: each runs on a tiny model, stays in its bounds and budget, and raises the loss."""
import pytest
import torch
from torch import nn

from nngeom.gradients import input_gradient
from nngeom.local import attacks
from nngeom.local.dictionary import DictionaryMLP


def _setup():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 16, generator=g) * 1.6 - 0.8
    y = torch.randint(0, 3, (40,), generator=g)
    model = DictionaryMLP.from_data(x[:12], y[:12], 3, similarity="epsilon_softmax", tau=0.5, epsilon=2.0).eval()
    return model, x, y


def _loss(model, x, y):
    with torch.no_grad():
        return nn.functional.cross_entropy(model(x), y).item()


@pytest.mark.parametrize("name", list(attacks.ATTACKS))
def test_foolbox_wrapper_raises_loss_within_bounds(name):
    model, x, y = _setup()
    strength = {"L1AdamPGD": 4.0}.get(name, 0.5 if name.startswith(("L2", "FGM")) else 0.15)
    adv = attacks.foolbox_attack(model, x, y, name, strength, bounds=(-1, 1))
    assert adv.shape == x.shape and adv.min() >= -1 and adv.max() <= 1
    assert _loss(model, adv, y) > _loss(model, x, y) + 1e-3
    delta = (adv - x).reshape(len(x), -1)
    norm = {"Linf": delta.abs().amax(1), "FGSM": delta.abs().amax(1), "L1": delta.abs().sum(1)}
    key = next((k for k in norm if name.startswith(k) or name == k), None)
    size = norm[key] if key else delta.norm(dim=1)
    assert size.max() <= strength * (1 + 1e-4)


def test_normalised_gradient_attack_step_and_direction():
    model, x, y = _setup()
    adv = attacks.normalised_gradient_attack(model, x, y, lr=0.3)
    assert torch.allclose((adv - x).norm(dim=1), torch.full((40,), 0.3), atol=1e-5)
    assert _loss(model, adv, y) > _loss(model, x, y)
    g = input_gradient(model, x[:1], y[:1])
    xg = x[:1].clone().requires_grad_(True)
    nn.functional.cross_entropy(model(xg), y[:1], reduction="sum").backward()
    assert torch.allclose(g, xg.grad)


def test_bad_arguments_raise():
    model, x, y = _setup()
    with pytest.raises(ValueError):
        attacks.foolbox_attack(model, x, y, "CW", 0.1)
    with pytest.raises(ValueError):
        attacks.foolbox_attack(model, x * 5, y, "FGSM", 0.1, bounds=(-1, 1))
    with pytest.raises(ValueError):
        attacks.foolbox_attack(model, x, y, "FGSM", 0.1, bounds=(1, -1))
    with pytest.raises(ValueError, match="pair"):
        attacks.foolbox_attack(model, x, y, "FGSM", 0.1, bounds=(-1, 0, 1))   # wrong length: a value error
    for bad in (None, (-1, "high"), "ab"):                                     # not a pair of numbers: a type error
        with pytest.raises(TypeError, match="pair of numbers"):
            attacks.foolbox_attack(model, x, y, "FGSM", 0.1, bounds=bad)
    with pytest.raises(ValueError):
        attacks.normalised_gradient_attack(model, x, y, lr=0.0)


def test_random_start_depends_on_the_seed_only():
    """L2PGD starts at a random point: the result must not depend on what drew random numbers before the
    attack (it did in the cpu book: one notebook's attacks moved when an earlier cell's RNG use changed), it must
    depend on ``seed``, and the caller's random state must be left as it was."""
    model, x, y = _setup()
    torch.manual_seed(1)
    first = attacks.foolbox_attack(model, x, y, "L2PGD", 0.5, steps=3)
    torch.rand(1000)                                    # an earlier cell drawing random numbers
    state = torch.random.get_rng_state()
    again = attacks.foolbox_attack(model, x, y, "L2PGD", 0.5, steps=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(first, again)
    other = attacks.foolbox_attack(model, x, y, "L2PGD", 0.5, steps=3, seed=1)
    assert not torch.equal(first, other)
