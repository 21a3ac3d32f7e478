import math

import pytest
import torch
from torch import distributions as D

from dlhandbook.generative.flow import (
    AffineCoupling,
    Flow,
    InvertibleLinear,
    fit_flow,
    realnvp,
)
from dlhandbook.generative.toy_data import two_moons


def _perturbed_flow(seed=0, scale=0.1, dtype=torch.float64):
    """A RealNVP whose couplings are not the identity (their last layers start at zero)."""
    flow = realnvp(n_couplings=4, hidden=32, seed=seed).to(dtype)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in flow.layers:
            if isinstance(layer, AffineCoupling):
                for p in layer.net[-1].parameters():
                    p.copy_(scale * torch.randn(p.shape, generator=g, dtype=dtype))
    return flow


def _grid(L, m, dtype=torch.float64):
    g = torch.linspace(-L, L, m, dtype=dtype)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    return torch.stack([xx.ravel(), yy.ravel()], dim=1), (g[1] - g[0]).item()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_det_matches_autograd_jacobian(device, seed):
    flow = _perturbed_flow(seed, scale=0.5).to(device)
    X = torch.randn(8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    X = X.to(device)
    _, log_det = flow(X)
    for x, ld in zip(X, log_det, strict=True):
        J = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], x)   # (2, 2)
        torch.testing.assert_close(ld, torch.linalg.slogdet(J).logabsdet, rtol=1e-10,
                                   atol=1e-10)
    assert log_det.abs().max() > 0.1          # the couplings really change volume


@pytest.mark.parametrize("seed", [0, 1])
def test_inverse_undoes_forward(seed):
    flow = _perturbed_flow(seed, scale=0.5)
    X = torch.randn(100, 2, dtype=torch.float64)
    z, _ = flow(X)
    torch.testing.assert_close(flow.inverse(z), X, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_density_integrates_to_one_over_a_grid(seed):
    """Riemann sum of exp(log p) on a 300 x 300 grid over [-7, 7]^2."""
    flow = _perturbed_flow(seed)
    X, h = _grid(7.0, 300)
    with torch.no_grad():
        log_p = flow.log_prob(X)
    assert abs(log_p.exp().sum().item() * h * h - 1) < 1e-4
    log_normal = -0.5 * (X**2).sum(dim=1) - math.log(2 * math.pi)
    assert (log_p - log_normal)[X.norm(dim=1) < 2].abs().max() > 0.1  # not N(0, I)


def test_linear_flow_is_the_gaussian_with_covariance_inverse_of_w_transpose_w():
    W = torch.tensor([[2.0, 0.5], [-0.3, 0.8]], dtype=torch.float64)
    flow = Flow([InvertibleLinear(W)])
    X = torch.randn(20, 2, dtype=torch.float64) * 2
    gaussian = D.MultivariateNormal(torch.zeros(2, dtype=torch.float64),
                                    covariance_matrix=torch.linalg.inv(W.T @ W))
    with torch.no_grad():
        torch.testing.assert_close(flow.log_prob(X), gaussian.log_prob(X), rtol=1e-12,
                                   atol=1e-12)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-4), (torch.float64, 1e-12)])
def test_log_prob_in_float32_matches_float64(dtype, tol):
    flow64 = _perturbed_flow(0, scale=0.5)
    flow = _perturbed_flow(0, scale=0.5).to(dtype)
    X = torch.randn(50, 2, dtype=torch.float64)
    with torch.no_grad():
        got = flow.log_prob(X.to(dtype))
        assert got.dtype == dtype
        torch.testing.assert_close(got.double(), flow64.log_prob(X), rtol=tol, atol=tol)


def test_maximum_likelihood_lowers_the_negative_log_likelihood():
    X = torch.tensor(two_moons(1000, seed=0), dtype=torch.float32)
    flow = realnvp(n_couplings=4, hidden=32)
    losses = fit_flow(flow, X, steps=60, batch_size=128)
    with torch.no_grad():
        assert -flow.log_prob(X).mean().item() < losses[0] - 0.3


@pytest.mark.parametrize("call, error, match", [
    (lambda: InvertibleLinear(torch.tensor([[1.0, 2.0], [2.0, 4.0]])), ValueError,
     "weight must be invertible"),
    (lambda: InvertibleLinear(torch.zeros(2, 2)), ValueError, "weight must be invertible"),
    (lambda: InvertibleLinear(torch.ones(2, 3)), ValueError, "weight must be a square"),
    (lambda: InvertibleLinear([[1.0, 0.0], [0.0, 1.0]]), TypeError, "weight"),
    (lambda: AffineCoupling(torch.ones(2)), ValueError, "mask must keep"),
    (lambda: AffineCoupling(torch.tensor([0.5, 1.0])), ValueError, "mask"),
    (lambda: AffineCoupling(torch.tensor([1.0, 0.0]), hidden=0), ValueError, "hidden"),
    (lambda: realnvp(n_couplings=0), ValueError, "n_couplings"),
    (lambda: realnvp(dim=1), ValueError, "dim"),
    (lambda: realnvp().log_prob(torch.zeros(4, 3)), ValueError, r"x must have shape"),
    (lambda: realnvp().log_prob(torch.zeros(4, 2, dtype=torch.long)), TypeError, "x must"),
    (lambda: realnvp().sample(0), ValueError, "n must be positive"),
    (lambda: fit_flow(realnvp(), torch.zeros(4, 2), steps=0), ValueError, "steps"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
