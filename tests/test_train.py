"""The package's one supervised training loop, `nngeom.train.fit_classifier`, and the one input gradient."""
import copy

import pytest
import torch
from torch import nn

from nngeom.gradients import input_gradient
from nngeom.train import accuracy, fit_classifier


def test_loss_hook_full_batch_sgd_is_one_gradient_step_of_the_closed_form():
    """Least squares, full batch, plain SGD: w1 = w0 - lr * 2/n X^T (X w0 - y) (mean squared error)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, 3, generator=g, dtype=torch.float64)
    y = torch.randn(20, 1, generator=g, dtype=torch.float64)
    model = nn.Linear(3, 1, bias=False).double()
    w0 = model.weight.detach().clone()
    history = fit_classifier(model, (x, y), epochs=1, batch_size=len(x), lr=0.1, optimizer="sgd", momentum=0.0,
                             shuffle=False, device=torch.device("cpu"),
                             loss=lambda net, xb, yb, _: nn.functional.mse_loss(net(xb), yb))
    expected = w0 - 0.1 * (2 / len(x)) * ((x @ w0.T - y).T @ x)
    torch.testing.assert_close(model.weight.detach(), expected)
    assert history.loss == [pytest.approx(nn.functional.mse_loss(x @ w0.T, y).item())]


def test_epoch_start_runs_before_every_epoch_and_the_loss_gets_the_shuffling_generator():
    calls, generators = [], set()
    model = nn.Linear(4, 3)
    x, y = torch.randn(30, 4), torch.randint(0, 3, (30,))

    def loss(net, xb, yb, generator):
        generators.add(id(generator))
        calls.append("batch")
        return nn.functional.cross_entropy(net(xb), yb)

    fit_classifier(model, (x, y), epochs=3, batch_size=10, loss=loss, epoch_start=lambda: calls.append("epoch"),
                   device=torch.device("cpu"))
    assert calls == (["epoch"] + ["batch"] * 3) * 3 and len(generators) == 1


def test_a_loss_that_differentiates_through_its_inputs_trains_only_the_parameters():
    """A Jacobian-style loss asks for gradients of the input; the step must match the parameters-only gradient."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 2)).double()
    reference = copy.deepcopy(model)
    x, y = torch.randn(8, 5, dtype=torch.float64), torch.randint(0, 2, (8,))

    def jacobian_loss(net, xb, yb, _):
        xb = xb.detach().requires_grad_(True)
        out = net(xb)
        (grad,) = torch.autograd.grad(out.sum(), xb, create_graph=True)
        return nn.functional.cross_entropy(out, yb) + grad.pow(2).sum()

    fit_classifier(model, (x, y), epochs=1, batch_size=8, lr=0.05, optimizer="sgd", momentum=0.0, shuffle=False,
                   loss=jacobian_loss, device=torch.device("cpu"))
    value = jacobian_loss(reference, x, y, None)
    grads = torch.autograd.grad(value, list(reference.parameters()))
    for p, p0, gp in zip(model.parameters(), reference.parameters(), grads):
        torch.testing.assert_close(p.detach(), p0.detach() - 0.05 * gp)


def test_loss_and_penalty_together_and_exact_accuracy():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="either loss"):
        fit_classifier(model, (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)),
                       loss=lambda *a: torch.zeros(()), penalty=lambda *a: torch.zeros(()))
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    x = torch.tensor([[1.0, 0.0]] * 2 + [[0.0, 1.0]])
    assert accuracy(model, x, torch.tensor([0, 1, 1])) == 2 / 3  # exact: hits / n in float64


def test_input_gradient_is_the_cross_entropy_gradient_of_a_linear_model():
    """For logits W x, d/dx sum CE = W^T (softmax(W x) - onehot(y)); the caller's training mode comes back."""
    torch.manual_seed(2)
    model = nn.Linear(4, 3, bias=False).double().train()
    x, y = torch.randn(5, 4, dtype=torch.float64), torch.tensor([0, 2, 1, 1, 0])
    with torch.no_grad():  # works where gradients are disabled, as inside an attack loop
        grad = input_gradient(model, x, y)
    p = torch.softmax(x @ model.weight.T, dim=1)
    expected = (p - nn.functional.one_hot(y, 3).double()) @ model.weight.detach()
    torch.testing.assert_close(grad, expected)
    assert model.training
    with pytest.raises(ValueError, match="as many rows"):
        input_gradient(model, x, y[:3])
