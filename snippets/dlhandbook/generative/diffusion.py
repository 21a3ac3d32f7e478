r"""A denoising diffusion model (DDPM): closed-form forward noising, learned reverse.

Forward process, for $t = 1, \dots, T$ with variances $\beta_t$:
$q(x_t\mid x_{t-1}) = \mathcal N\bigl(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\bigr)$.
With $\alpha_t = 1-\beta_t$ and $\bar\alpha_t = \prod_{s\le t}\alpha_s$, the steps
compose into one Gaussian,

$$q(x_t\mid x_0) = \mathcal N\bigl(\sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t)I\bigr),
\qquad x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon .$$

A network $\varepsilon_\theta(x_t, t)$ learns to predict the noise,

$$L = \mathbb E_{t, x_0, \varepsilon}
\lVert\varepsilon - \varepsilon_\theta(x_t, t)\rVert^2$$

(Ho et al.'s simplified bound), and sampling runs the reverse chain from
$x_T\sim\mathcal N(0, I)$:

$$x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Bigl(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}
\,\varepsilon_\theta(x_t, t)\Bigr) + \sqrt{\beta_t}\,z,\qquad z\sim\mathcal N(0, I)$$

($z = 0$ at the last step). The training loss is a reweighted variational bound, so
the model gives a lower bound on $\log p(x)$, not the exact value. Code indexes steps
from 0: ``alpha_bar[t]`` is $\bar\alpha_{t+1}$.

Reference: Ho, Jain & Abbeel (2020), *Denoising Diffusion Probabilistic Models*,
NeurIPS; Sohl-Dickstein, Weiss, Maheswaranathan & Ganguli (2015), *Deep Unsupervised
Learning using Nonequilibrium Thermodynamics*, ICML.
"""

# --8<-- [start:imports]
import math

import torch
from torch import nn

# --8<-- [end:imports]


# --8<-- [start:torch]
def linear_beta_schedule(T, beta_start=None, beta_end=None):
    """T variances in a line; defaults scale Ho et al.'s 1e-4..0.02 at T = 1000."""
    _check_positive_int(T, "T")
    beta_start = 1e-4 * 1000 / T if beta_start is None else beta_start
    beta_end = 0.02 * 1000 / T if beta_end is None else beta_end
    if not 0 < beta_start <= beta_end < 1:
        raise ValueError(f"need 0 < beta_start <= beta_end < 1, got {beta_start}, "
                         f"{beta_end}")
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)


def q_sample(x0, t, alpha_bar, noise):
    """x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise, one t per row."""
    _check_step_args(x0, t, alpha_bar, noise)
    ab = alpha_bar.to(x0.device)[t].to(x0.dtype)[:, None]              # (n, 1)
    return torch.sqrt(ab) * x0 + torch.sqrt(1 - ab) * noise


def q_step(x_prev, t, betas, noise):
    """One forward step x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) noise."""
    _check_step_args(x_prev, t, betas, noise)
    b = betas.to(x_prev.device)[t].to(x_prev.dtype)[:, None]           # (n, 1)
    return torch.sqrt(1 - b) * x_prev + torch.sqrt(b) * noise


class Denoiser(nn.Module):
    """eps_theta(x_t, t): an MLP on x_t and sinusoidal features of t / T."""

    def __init__(self, T, dim=2, hidden=64, n_freqs=4):
        super().__init__()
        for name, value in (("T", T), ("dim", dim), ("hidden", hidden),
                            ("n_freqs", n_freqs)):
            _check_positive_int(value, name)
        self.T, self.dim = T, dim
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(n_freqs))
        self.net = nn.Sequential(nn.Linear(dim + 2 * n_freqs, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, dim))

    def forward(self, x, t):
        angle = (t.to(x.dtype)[:, None] + 1) / self.T * self.freqs.to(x.dtype)
        features = torch.cat([x, torch.sin(angle), torch.cos(angle)], dim=-1)
        return self.net(features)


def diffusion_loss(model, x0, alpha_bar, generator=None):
    """Ho et al.'s simple loss: mean squared error of the predicted noise."""
    n = x0.shape[0]
    t = torch.randint(0, model.T, (n,), generator=generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
    x_t = q_sample(x0, t, alpha_bar, noise)
    return ((noise - model(x_t, t)) ** 2).mean()


@torch.no_grad()
def ddpm_sample(model, n, betas, generator=None):
    """Ancestral sampling x_T -> x_0 with sigma_t^2 = beta_t. Returns (n, dim)."""
    _check_positive_int(n, "n")
    if betas.shape != (model.T,):
        raise ValueError(
            f"betas must have shape ({model.T},), got {tuple(betas.shape)}")
    p = next(model.parameters())
    alphas = 1 - betas
    alpha_bar = torch.cumprod(alphas, dim=0)
    x = torch.randn(n, model.dim, generator=generator, dtype=p.dtype).to(p.device)
    for t in reversed(range(model.T)):
        eps = model(x, torch.full((n,), t, device=p.device))
        coef = (betas[t] / torch.sqrt(1 - alpha_bar[t])).item()
        x = (x - coef * eps) / math.sqrt(alphas[t].item())             # the mean
        if t > 0:
            z = torch.randn(x.shape, generator=generator, dtype=p.dtype)
            x = x + math.sqrt(betas[t].item()) * z.to(p.device)
    return x


def fit_diffusion(model, X, betas, steps=2000, lr=3e-3, batch_size=256, seed=0):
    """Train eps_theta with Adam, lr decaying linearly to 0. Returns the losses."""
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[1] != model.dim:
        raise ValueError(f"X must be a tensor of shape (n, {model.dim})")
    _check_positive_int(steps, "steps")
    _check_positive_int(batch_size, "batch_size")
    alpha_bar = torch.cumprod(1 - betas, dim=0)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    decay = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1 - k / steps)
    losses = []
    for _ in range(steps):
        batch = X[torch.randint(0, X.shape[0], (batch_size,), generator=g)]
        loss = diffusion_loss(model, batch, alpha_bar, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()              # a noisy last iterate makes noisy samples
        losses.append(loss.item())
    return losses
# --8<-- [end:torch]


# --8<-- [start:checks]
def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


def _check_step_args(x, t, schedule, noise):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim != 2:
        raise TypeError("x must be a floating-point torch.Tensor of shape (n, d)")
    if (not isinstance(t, torch.Tensor) or t.dtype != torch.long
            or t.shape != x.shape[:1]):
        raise ValueError(f"t must be a torch.long tensor of shape ({x.shape[0]},)")
    if schedule.ndim != 1 or t.numel() and (t.min() < 0 or t.max() >= len(schedule)):
        raise ValueError(f"t must lie in [0, {len(schedule) - 1}]")
    if not isinstance(noise, torch.Tensor) or noise.shape != x.shape:
        raise ValueError(f"noise must have x's shape {tuple(x.shape)}")
# --8<-- [end:checks]


if __name__ == "__main__":
    X = torch.randn(2000, 2) * 0.1 + torch.tensor([1.0, -1.0])
    betas = linear_beta_schedule(50)
    model = Denoiser(T=50)
    losses = fit_diffusion(model, X, betas, steps=300)
    print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}",
          ddpm_sample(model, 1000, betas).mean(dim=0), "target [1, -1]")
