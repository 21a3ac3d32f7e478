import numpy as np
import pytest
import torch

from dlhandbook.gradcheck.gradcheck import (
    LogSumExp,
    check_custom_function,
    gradient_check,
    logsumexp,
    numerical_gradient,
    relative_error,
)
from dlhandbook.nn.mlp import init_mlp, loss_and_grads
from helpers import central_difference


def quadratic_form(seed=0):
    A = np.random.default_rng(seed).standard_normal((4, 4))
    return (lambda x: float(x @ A @ x)), (lambda x: (A + A.T) @ x), A


def test_correct_gradient_passes_and_matches_the_shared_helper():
    f, grad_f, _ = quadratic_form()
    x = np.random.default_rng(1).standard_normal(4)
    assert gradient_check(f, grad_f, x) < 1e-8
    np.testing.assert_allclose(numerical_gradient(f, x, 1e-6), central_difference(f, x, 1e-6),
                               rtol=0, atol=0)


def test_planted_bug_gives_a_large_relative_error():
    f, _, A = quadratic_form()
    x = np.random.default_rng(1).standard_normal(4)
    assert gradient_check(f, lambda v: 2 * A @ v, x) > 1e-2  # forgot that A is not symmetric


def test_transposed_weight_gradient_in_an_mlp_is_caught():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    params = init_mlp([5, 5, 5, 5], seed=3)                   # square weights: a transpose fits
    _, grads = loss_and_grads(params, X, y, "tanh", "cross_entropy")
    f = lambda _: loss_and_grads(params, X, y, "tanh", "cross_entropy")[0]  # noqa: E731
    assert gradient_check(f, lambda _: grads["W2"], params["W2"]) < 1e-7
    assert gradient_check(f, lambda _: grads["W2"].T, params["W2"]) > 1e-1


def test_perturbed_array_is_restored_exactly():
    x = np.random.default_rng(0).standard_normal((3, 2))
    before = x.copy()
    numerical_gradient(lambda v: float(np.sin(v).sum()), x)
    numerical_gradient(lambda v: float(np.sin(v).sum()), x, method="forward")
    np.testing.assert_array_equal(x, before)


def test_finite_differences_cost_two_function_calls_per_parameter():
    calls = []
    x = np.zeros(50)
    numerical_gradient(lambda v: calls.append(1) or float(v.sum()), x)
    assert len(calls) == 2 * x.size           # backprop needs one forward and one backward pass


def test_centred_differences_are_second_order_and_forward_differences_first_order():
    f, x0, exact = np.exp, np.array([0.7]), np.exp(0.7)   # f' = f'' = f''' = e^x
    eps = np.logspace(-2, -4, 5)               # truncation error dominates here
    central = [abs(numerical_gradient(lambda v: float(f(v[0])), x0.copy(), e)[0] - exact) for e in eps]
    forward = [abs(numerical_gradient(lambda v: float(f(v[0])), x0.copy(), e, "forward")[0] - exact)
               for e in eps]
    slope_central = np.polyfit(np.log10(eps), np.log10(central), 1)[0]
    slope_forward = np.polyfit(np.log10(eps), np.log10(forward), 1)[0]
    assert slope_central == pytest.approx(2.0, abs=0.1)   # error ~ eps^2 f'''/6
    assert slope_forward == pytest.approx(1.0, abs=0.1)   # error ~ eps f''/2
    assert all(c < f_ / 100 for c, f_ in zip(central, forward, strict=True))


def test_too_small_a_step_is_ruined_by_rounding():
    f, x0, exact = np.exp, np.array([0.7]), np.exp(0.7)
    err = {e: abs(numerical_gradient(lambda v: float(f(v[0])), x0.copy(), e)[0] - exact)
           for e in (1e-5, 1e-12)}
    assert err[1e-12] > 100 * err[1e-5]       # rounding error grows like u |f| / eps


def test_relative_error_treats_exact_zeros_as_agreement():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 0.0], [1.0, 1e-20]) == 1.0


def test_custom_function_passes_torch_gradcheck_and_matches_torch(device):
    x = torch.randn(4, 6, dtype=torch.float64, device=device) * 3
    assert check_custom_function(logsumexp, x)
    xr = x.clone().requires_grad_()
    torch.testing.assert_close(logsumexp(xr), torch.logsumexp(x, dim=-1), rtol=1e-14, atol=1e-14)
    big = torch.tensor([[1000.0, 999.0]], dtype=torch.float64, device=device)
    assert torch.isfinite(logsumexp(big)).all()


class BuggyLogSumExp(LogSumExp):
    @staticmethod
    def backward(ctx, grad_out):
        x, out = ctx.saved_tensors
        return grad_out.unsqueeze(-1) * torch.exp(x - out.unsqueeze(-1)) * 0.999  # 0.1% off


class OnePercentOffLogSumExp(LogSumExp):
    @staticmethod
    def backward(ctx, grad_out):
        x, out = ctx.saved_tensors
        return grad_out.unsqueeze(-1) * torch.exp(x - out.unsqueeze(-1)) * 0.99    # 1% off


def test_torch_gradcheck_catches_a_slightly_wrong_backward(device):
    x = torch.randn(3, 5, dtype=torch.float64, device=device)
    assert not check_custom_function(BuggyLogSumExp.apply, x)     # atol 1e-8, rtol 1e-6


def test_default_gradcheck_tolerances_pass_a_backward_that_is_a_tenth_of_a_percent_off(device):
    torch.manual_seed(0)
    x = torch.randn(3, 5, dtype=torch.float64, device=device, requires_grad=True)
    # torch's defaults: eps 1e-6, atol 1e-5, rtol 1e-3
    assert torch.autograd.gradcheck(LogSumExp.apply, (x,))
    assert torch.autograd.gradcheck(BuggyLogSumExp.apply, (x,))   # 0.1% off: passes
    assert not torch.autograd.gradcheck(OnePercentOffLogSumExp.apply, (x,),
                                        raise_exception=False)   # 1% off: caught


def test_rejects_bad_arguments():
    with pytest.raises(TypeError, match="f must be"):
        numerical_gradient(1.0, np.zeros(2))
    with pytest.raises(TypeError, match="x must be"):
        numerical_gradient(np.sum, [0.0, 1.0])
    with pytest.raises(TypeError, match="x must be"):
        numerical_gradient(np.sum, np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="eps must be"):
        numerical_gradient(np.sum, np.zeros(2), eps=0.0)
    with pytest.raises(ValueError, match="method must be"):
        numerical_gradient(np.sum, np.zeros(2), method="backward")
    with pytest.raises(ValueError, match="a and b must"):
        relative_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="grad_f"):
        gradient_check(np.sum, lambda x: np.zeros(3), np.zeros(2))
    with pytest.raises(TypeError, match="x must be"):
        logsumexp(torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="fn must be"):
        check_custom_function(None, torch.zeros(2))
