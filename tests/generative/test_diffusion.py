import math

import pytest
import torch

from dlhandbook.generative.diffusion import (
    Denoiser,
    ddpm_sample,
    diffusion_loss,
    fit_diffusion,
    linear_beta_schedule,
    q_sample,
    q_step,
)
from dlhandbook.generative.toy_data import two_moons

T = 50


def test_closed_form_marginal_equals_iterating_the_step_parameters():
    """Composing N(sqrt(1 - beta) x, beta) T times gives N(sqrt(alpha_bar) x0, 1 - alpha_bar)."""
    betas = linear_beta_schedule(T)
    alpha_bar = torch.cumprod(1 - betas, dim=0)
    coef, var = torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    for t in range(T):
        coef = torch.sqrt(1 - betas[t]) * coef                 # mean = coef * x0
        var = (1 - betas[t]) * var + betas[t]                  # variance
        torch.testing.assert_close(coef, torch.sqrt(alpha_bar[t]), rtol=1e-13, atol=0)
        torch.testing.assert_close(var, 1 - alpha_bar[t], rtol=1e-13, atol=0)
    assert alpha_bar[-1] < 1e-2                                # x_T is nearly pure noise


def test_closed_form_marginal_matches_iterated_noising_statistically(device):
    """100k chains from x0 = (1, -2): at t = 10, 25, 50 the empirical mean and variance
    of x_t lie within 6 standard errors of the closed form (each check fails with
    probability < 2e-9; 12 checks, < 3e-8)."""
    n = 100_000
    betas = linear_beta_schedule(T)
    alpha_bar = torch.cumprod(1 - betas, dim=0)
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([1.0, -2.0], dtype=torch.float64)
    x = x0.expand(n, 2).clone().to(device)
    for t in range(T):
        noise = torch.randn(n, 2, generator=g, dtype=torch.float64).to(device)
        x = q_step(x, torch.full((n,), t, device=device), betas, noise)
        if t + 1 in (10, 25, 50):
            mean, var = math.sqrt(alpha_bar[t]) * x0, 1 - alpha_bar[t].item()
            assert torch.all((x.mean(0).cpu() - mean).abs() < 6 * math.sqrt(var / n))
            # the sample variance of n normal draws has standard error var * sqrt(2 / (n - 1))
            assert torch.all((x.var(0).cpu() - var).abs() < 6 * var * math.sqrt(2 / (n - 1)))


def test_q_sample_is_the_closed_form(device):
    betas = linear_beta_schedule(T)
    alpha_bar = torch.cumprod(1 - betas, dim=0)
    x0 = torch.randn(7, 2, dtype=torch.float64, device=device)
    noise = torch.randn(7, 2, dtype=torch.float64, device=device)
    t = torch.arange(0, 49, 7, device=device)
    ab = alpha_bar.to(device)[t][:, None]
    torch.testing.assert_close(q_sample(x0, t, alpha_bar, noise),
                               ab.sqrt() * x0 + (1 - ab).sqrt() * noise, rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.bfloat16, 2e-2),
                                        (torch.float16, 2e-3)])
def test_q_sample_and_denoiser_in_low_precision(dtype, tol):
    betas = linear_beta_schedule(T)
    alpha_bar = torch.cumprod(1 - betas, dim=0)
    x0, noise = torch.randn(64, 2, dtype=torch.float64), torch.randn(64, 2, dtype=torch.float64)
    t = torch.randint(0, T, (64,))
    exact = q_sample(x0, t, alpha_bar, noise)
    got = q_sample(x0.to(dtype), t, alpha_bar, noise.to(dtype))
    assert got.dtype == dtype
    torch.testing.assert_close(got.double(), exact, rtol=tol, atol=tol * 4)
    model = Denoiser(T, hidden=16)
    low = Denoiser(T, hidden=16).to(dtype)
    low.load_state_dict({k: v.to(dtype) for k, v in model.state_dict().items()})
    with torch.no_grad():
        out = low(exact.to(dtype), t)
        assert out.dtype == dtype
        torch.testing.assert_close(out.float(), model(exact.float(), t), rtol=tol * 10,
                                   atol=tol * 10)


class _GaussianOracle(torch.nn.Module):
    """The exact noise predictor E[eps | x_t] when the data are N(m, s^2 I)."""

    def __init__(self, T, m, s, betas):
        super().__init__()
        self.T, self.dim, self.m, self.s = T, 2, m, s
        self.alpha_bar = torch.cumprod(1 - betas, dim=0)
        self.unused = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, x, t):
        ab = self.alpha_bar[t][:, None]
        return torch.sqrt(1 - ab) * (x - torch.sqrt(ab) * self.m) / (ab * self.s**2 + 1 - ab)


def test_ddpm_sampler_with_the_exact_noise_predictor_recovers_the_data_distribution():
    """Data N((1, -2), 0.1^2 I), 20k samples: the mean is right to 0.01 for T = 50, 100,
    200, and the std's error (from discretising the reverse process) shrinks as T grows:
    within 25%, 12% and 6% of 0.1."""
    m, s = torch.tensor([1.0, -2.0], dtype=torch.float64), 0.1
    errors = []
    for steps, bound in ((50, 0.25), (100, 0.12), (200, 0.06)):
        betas = linear_beta_schedule(steps)
        x = ddpm_sample(_GaussianOracle(steps, m, s, betas), 20_000, betas,
                        generator=torch.Generator().manual_seed(0))
        assert torch.all((x.mean(0) - m).abs() < 0.01)
        error = (x.std(0) / s - 1).abs().max().item()
        assert error < bound
        errors.append(error)
    assert errors[0] > errors[1] > errors[2]


def test_training_lowers_the_noise_prediction_loss():
    X = torch.tensor(two_moons(1000, seed=0), dtype=torch.float32)
    betas = linear_beta_schedule(T)
    alpha_bar = torch.cumprod(1 - betas, dim=0)
    torch.manual_seed(0)
    model = Denoiser(T, hidden=32)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        before = diffusion_loss(model, X, alpha_bar, generator=g).item()
    fit_diffusion(model, X, betas, steps=60, batch_size=128)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        after = diffusion_loss(model, X, alpha_bar, generator=g).item()
    assert after < before - 0.2


@pytest.mark.parametrize("call, error, match", [
    (lambda: linear_beta_schedule(0), ValueError, "T must be positive"),
    (lambda: linear_beta_schedule(10, 0.5, 0.1), ValueError, "beta_start <= beta_end"),
    (lambda: linear_beta_schedule(10, 0.1, 1.0), ValueError, "beta_end < 1"),
    (lambda: q_sample(torch.zeros(3, 2), torch.zeros(3, dtype=torch.long),
                      torch.ones(5), torch.zeros(3, 3)), ValueError, "noise must have"),
    (lambda: q_sample(torch.zeros(3, 2), torch.zeros(2, dtype=torch.long),
                      torch.ones(5), torch.zeros(3, 2)), ValueError, "t must be"),
    (lambda: q_sample(torch.zeros(3, 2), torch.full((3,), 5),
                      torch.ones(5), torch.zeros(3, 2)), ValueError, r"t must lie in \[0, 4\]"),
    (lambda: q_step(torch.zeros(3, 2, dtype=torch.long), torch.zeros(3, dtype=torch.long),
                    torch.ones(5), torch.zeros(3, 2)), TypeError, "x must be"),
    (lambda: Denoiser(T=0), ValueError, "T must be positive"),
    (lambda: ddpm_sample(Denoiser(T=5), 10, torch.ones(4) * 0.1), ValueError, "betas"),
    (lambda: ddpm_sample(Denoiser(T=5), 0, torch.ones(5) * 0.1), ValueError, "n must be"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
