import math

import numpy as np
import pytest
import torch
from torch import distributions as D

from dlhandbook.generative.toy_data import two_moons
from dlhandbook.generative.vae import VAE, fit_vae, kl_to_standard_normal


def _quadrature(model, X):
    """Exact log p(x) and ELBO(x) of a VAE with a 1-D latent, by numerical integration.

    log p(x) = log of the integral of p(x | z) p(z): Riemann sum on 4001 points over
    [-8, 8]. The ELBO's expectation under q(z | x): 80-point Gauss-Hermite quadrature."""
    z = torch.linspace(-8, 8, 4001, dtype=torch.float64)[:, None, None]       # (G, 1, 1)
    with torch.no_grad():
        log_joint = (model.log_px_given_z(X[None], z.expand(-1, X.shape[0], 1))
                     - 0.5 * (z[:, :, 0] ** 2 + math.log(2 * math.pi)))      # (G, n)
        log_p = torch.logsumexp(log_joint, dim=0) + math.log(16 / 4000)
        mu, logvar = model.encode(X)
        nodes, weights = (torch.tensor(a) for a in np.polynomial.hermite.hermgauss(80))
        zq = mu[None] + math.sqrt(2) * torch.exp(0.5 * logvar)[None] * nodes[:, None, None]
        reconstruction = (weights[:, None] * model.log_px_given_z(X[None], zq)).sum(0)
        elbo = reconstruction / math.sqrt(math.pi) - kl_to_standard_normal(mu, logvar)
    return log_p, elbo


def _check_bounds(model, X):
    log_p, elbo = _quadrature(model, X)
    assert torch.all(elbo <= log_p + 1e-9)                   # the ELBO is a lower bound
    gap = (log_p - elbo).mean().item()
    assert gap > 1e-3                                        # and a strict one here
    torch.manual_seed(1)
    with torch.no_grad():
        elbo_mc = model.elbo(X, n_samples=2000).mean().item()
        iw = model.iw_log_likelihood(X, n_samples=1000).mean().item()
    assert abs(elbo_mc - elbo.mean().item()) < 0.01          # the Monte Carlo ELBO is right
    assert iw > elbo_mc + gap / 2                            # IW closes most of the gap
    assert abs(iw - log_p.mean().item()) < 0.02              # and lands near log p(x)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_elbo_is_below_the_importance_sampled_log_likelihood(seed):
    """Untrained (random) VAEs with a 1-D latent, 50 two-moons points, float64."""
    torch.manual_seed(seed)
    model = VAE(latent_dim=1, hidden=32).double()
    _check_bounds(model, torch.tensor(two_moons(50, seed=seed)))


def test_elbo_is_below_the_importance_sampled_log_likelihood_after_training():
    X = torch.tensor(two_moons(1000, seed=0))
    torch.manual_seed(0)
    model = VAE(latent_dim=1, hidden=32).double()
    losses = fit_vae(model, X, steps=60, batch_size=128)
    assert np.mean(losses[-10:]) < losses[0] - 0.5          # training raised the ELBO
    _check_bounds(model, X[:30])


def test_kl_matches_torch_distributions(rng):
    mu, logvar = torch.tensor(rng.standard_normal((5, 3))), torch.tensor(rng.standard_normal((5, 3)))
    q = D.Normal(mu, torch.exp(0.5 * logvar))
    expected = D.kl_divergence(q, D.Normal(torch.zeros(3, dtype=torch.float64), 1.0)).sum(-1)
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar), expected, rtol=1e-12,
                               atol=1e-12)


def test_reparameterisation_sends_gradient_to_the_encoder():
    torch.manual_seed(0)
    model = VAE(hidden=16).double()
    X = torch.tensor(two_moons(20))
    (-model.elbo(X).mean()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.encoder.parameters())


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_elbo_runs_in_low_precision(dtype):
    torch.manual_seed(0)
    model64 = VAE(hidden=16).double()
    model = VAE(hidden=16).to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in model64.state_dict().items()})
    X = torch.tensor(two_moons(64))
    with torch.no_grad():
        mu, _ = model.encode(X.to(dtype))
        assert mu.dtype == dtype and model.sample(5).dtype == dtype
        tol = {torch.float32: 1e-5, torch.bfloat16: 3e-2, torch.float16: 5e-3}[dtype]
        torch.testing.assert_close(mu.double(), model64.encode(X)[0], rtol=tol, atol=tol)


@pytest.mark.parametrize("call, error, match", [
    (lambda: VAE(latent_dim=0), ValueError, "latent_dim must be positive"),
    (lambda: VAE(hidden=2.0), TypeError, "hidden must be an int"),
    (lambda: VAE().elbo(torch.zeros(3, 3)), ValueError, r"x must have shape \(n, 2\)"),
    (lambda: VAE().elbo(torch.zeros(3, 2), n_samples=0), ValueError, "n_samples"),
    (lambda: VAE().iw_log_likelihood(torch.zeros(3, 2, dtype=torch.long)), TypeError, "x"),
    (lambda: VAE().sample(-1), ValueError, "n must be positive"),
    (lambda: fit_vae(VAE(), torch.zeros(4, 2), batch_size=0), ValueError, "batch_size"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
