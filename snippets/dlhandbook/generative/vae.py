r"""A variational autoencoder: the reparameterisation trick and the ELBO, a lower bound.

Prior $p(z) = \mathcal N(0, I)$, decoder
$p_\theta(x\mid z) = \mathcal N(x;\ g_\theta(z), \operatorname{diag}\sigma^2)$, encoder
$q_\phi(z\mid x) = \mathcal N(z;\ \mu_\phi(x),
\operatorname{diag} e^{\ell_\phi(x)})$ with $\ell$ the log-variance. For every $q$,

$$\log p_\theta(x) \ \ge\ \mathrm{ELBO}(x) =
\mathbb E_{q_\phi(z\mid x)}\bigl[\log p_\theta(x\mid z)\bigr]
- \mathrm{KL}\bigl(q_\phi(z\mid x)\,\Vert\, p(z)\bigr),$$

$$\mathrm{KL} = \tfrac12\sum_j\bigl(\mu_j^2 + e^{\ell_j} - 1 - \ell_j\bigr).$$

The gap is $\mathrm{KL}(q_\phi(z\mid x)\,\Vert\,p_\theta(z\mid x))$. Writing
$z = \mu + e^{\ell/2}\odot\varepsilon$ with $\varepsilon\sim\mathcal N(0, I)$ moves the
randomness out of the parameters, so the ELBO's Monte Carlo estimate is differentiable
(the reparameterisation trick). The importance-sampled estimate

$$\log \frac1K\sum_{k=1}^K \frac{p_\theta(x, z_k)}{q_\phi(z_k\mid x)},\qquad
z_k\sim q_\phi(z\mid x),$$

is also a lower bound in expectation, never below the ELBO, and tends to $\log
p_\theta(x)$ as $K\to\infty$ (Burda, Grosse & Salakhutdinov 2016).

Reference: Kingma & Welling (2014), *Auto-Encoding Variational Bayes*, ICLR.
"""

# --8<-- [start:imports]
import math

import torch
from torch import nn

# --8<-- [end:imports]


# --8<-- [start:torch]
class VAE(nn.Module):
    """Gaussian encoder q(z | x), Gaussian decoder p(x | z), standard normal prior."""

    def __init__(self, dim=2, latent_dim=2, hidden=64):
        super().__init__()
        for name, value in (("dim", dim), ("latent_dim", latent_dim),
                            ("hidden", hidden)):
            _check_positive_int(value, name)
        self.dim, self.latent_dim = dim, latent_dim
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(),
                                     nn.Linear(hidden, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh(),
                                     nn.Linear(hidden, hidden), nn.Tanh(),
                                     nn.Linear(hidden, dim))
        self.log_sigma = nn.Parameter(torch.full((dim,), -1.0))     # decoder noise

    def encode(self, x):
        """Mean and log-variance of q(z | x), each (n, latent_dim)."""
        mu, logvar = self.encoder(_check_points(x, self.dim)).chunk(2, dim=-1)
        return mu, logvar

    def log_px_given_z(self, x, z):
        """log N(x; g(z), diag sigma^2), broadcast over leading sample axes of z."""
        var = torch.exp(2 * self.log_sigma)
        sq = (x - self.decoder(z)) ** 2 / var
        return -0.5 * (sq + 2 * self.log_sigma + math.log(2 * math.pi)).sum(dim=-1)

    def elbo(self, x, n_samples=1):
        """Monte Carlo ELBO per point (n,), reparameterised, KL in closed form."""
        _check_positive_int(n_samples, "n_samples")
        mu, logvar = self.encode(x)
        eps = torch.randn((n_samples, *mu.shape), dtype=mu.dtype, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps                  # (S, n, latent)
        reconstruction = self.log_px_given_z(x, z).mean(dim=0)  # (n,)
        return reconstruction - kl_to_standard_normal(mu, logvar)

    def iw_log_likelihood(self, x, n_samples=100):
        """Importance-sampled estimate of log p(x) per point (n,), K = n_samples."""
        _check_positive_int(n_samples, "n_samples")
        mu, logvar = self.encode(x)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn((n_samples, *mu.shape), dtype=mu.dtype, device=mu.device)
        z = mu + std * eps                                      # (K, n, latent)
        log_prior = _std_normal_log_pdf(z)
        log_q = _std_normal_log_pdf(eps) - torch.log(std).sum(dim=-1)
        log_w = self.log_px_given_z(x, z) + log_prior - log_q   # (K, n)
        return torch.logsumexp(log_w, dim=0) - math.log(n_samples)

    @torch.no_grad()
    def sample(self, n, generator=None):
        """x ~ p(x | z), z ~ N(0, I): n points (n, dim)."""
        _check_positive_int(n, "n")
        p = self.log_sigma
        z = torch.randn(n, self.latent_dim, generator=generator, dtype=p.dtype)
        noise = torch.randn(n, self.dim, generator=generator, dtype=p.dtype)
        z, noise = z.to(p.device), noise.to(p.device)
        return self.decoder(z) + torch.exp(self.log_sigma) * noise


def kl_to_standard_normal(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per row, in closed form."""
    return 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar).sum(dim=-1)


def _std_normal_log_pdf(z):
    return -0.5 * (z**2 + math.log(2 * math.pi)).sum(dim=-1)


def fit_vae(model, X, steps=1000, lr=3e-3, batch_size=256, seed=0):
    """Maximise the ELBO with Adam (one z per point). Returns each step's mean -ELBO."""
    X = _check_points(X, model.dim)
    _check_positive_int(steps, "steps")
    _check_positive_int(batch_size, "batch_size")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)                           # the reparameterisation noise
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    losses = []
    for _ in range(steps):
        batch = X[torch.randint(0, X.shape[0], (batch_size,), generator=g)]
        loss = -model.elbo(batch).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
# --8<-- [end:torch]


# --8<-- [start:checks]
def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


def _check_points(x, dim):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"x must have shape (n, {dim}), got {tuple(x.shape)}")
    return x
# --8<-- [end:checks]


if __name__ == "__main__":
    angle = torch.rand(2000) * math.pi
    X = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)   # one moon
    X = X + 0.05 * torch.randn_like(X)
    model = VAE(latent_dim=1)
    losses = fit_vae(model, X, steps=300)
    with torch.no_grad():
        print(f"-ELBO {losses[0]:.3f} -> {losses[-1]:.3f}; on 100 points: ELBO",
              model.elbo(X[:100], 100).mean().item(), "IW (K=1000)",
              model.iw_log_likelihood(X[:100], 1000).mean().item())
