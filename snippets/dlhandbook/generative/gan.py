r"""A generative adversarial network with the non-saturating generator loss; no density.

A generator $G$ maps noise $z\sim\mathcal N(0, I)$ to points; a discriminator with
logit $l(x)$ and $D(x) = \sigma(l(x))$ tells data from samples. The discriminator
minimises the binary cross-entropy

$$L_D = -\mathbb E_{x}\log D(x) - \mathbb E_{z}\log\bigl(1 - D(G(z))\bigr).$$

The minimax generator would minimise $\mathbb E_z \log(1 - D(G(z)))$, whose gradient
with respect to the logit is $-\sigma(l)$: it vanishes exactly when the discriminator
confidently rejects the samples, i.e. early in training. Goodfellow et al. (2014)
instead let the generator minimise

$$L_G = -\mathbb E_z \log D(G(z)) = \mathbb E_z \operatorname{softplus}(-l(G(z))),$$

whose logit gradient $-(1-\sigma(l))$ tends to $-1$ there. Both have the same fixed
point. The model defines samples, not a density: there is no likelihood to evaluate.

Reference: Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville &
Bengio (2014), *Generative Adversarial Nets*, NeurIPS.
"""

# --8<-- [start:imports]
import torch
from torch import nn
from torch.nn.functional import softplus

# --8<-- [end:imports]


# --8<-- [start:torch]
def discriminator_loss(real_logits, fake_logits):
    """-mean log D(x) - mean log(1 - D(G(z))), written with softplus for stability."""
    _check_logits(real_logits, "real_logits")
    _check_logits(fake_logits, "fake_logits")
    return softplus(-real_logits).mean() + softplus(fake_logits).mean()


def generator_loss(fake_logits, non_saturating=True):
    """-mean log D(G(z)) (non-saturating), or mean log(1 - D(G(z))) (minimax)."""
    _check_logits(fake_logits, "fake_logits")
    if non_saturating:
        return softplus(-fake_logits).mean()
    return -softplus(fake_logits).mean()


class GAN(nn.Module):
    def __init__(self, dim=2, noise_dim=2, hidden=64):
        super().__init__()
        for name, value in (("dim", dim), ("noise_dim", noise_dim),
                            ("hidden", hidden)):
            _check_positive_int(value, name)
        self.dim, self.noise_dim = dim, noise_dim
        self.generator = nn.Sequential(nn.Linear(noise_dim, hidden), nn.ReLU(),
                                       nn.Linear(hidden, hidden), nn.ReLU(),
                                       nn.Linear(hidden, dim))
        self.discriminator = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2),
                                           nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                           nn.Linear(hidden, 1))

    def sample(self, n, generator=None):
        """n generated points (n, dim)."""
        _check_positive_int(n, "n")
        p = next(self.generator.parameters())
        z = torch.randn(n, self.noise_dim, generator=generator, dtype=p.dtype)
        return self.generator(z.to(p.device))


def fit_gan(gan, X, steps=2000, lr=1e-3, batch_size=256, seed=0,
            non_saturating=True):
    """Alternate one discriminator step and one generator step with Adam.

    Returns the discriminator's and the generator's loss at every step."""
    _check_points(X, gan.dim)
    _check_positive_int(steps, "steps")
    _check_positive_int(batch_size, "batch_size")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt_d = torch.optim.Adam(gan.discriminator.parameters(), lr=lr, betas=(0.5, 0.999),
                             fused=True)
    opt_g = torch.optim.Adam(gan.generator.parameters(), lr=lr, betas=(0.5, 0.999),
                             fused=True)
    d_losses, g_losses = [], []
    for _ in range(steps):
        real = X[torch.randint(0, X.shape[0], (batch_size,), generator=g)]
        fake = gan.sample(batch_size, generator=g)
        loss_d = discriminator_loss(gan.discriminator(real),
                                    gan.discriminator(fake.detach()))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = generator_loss(gan.discriminator(fake), non_saturating)
        opt_g.zero_grad()                     # also drops D's gradients from this loss
        loss_g.backward()
        opt_g.step()
        d_losses.append(loss_d.item())
        g_losses.append(loss_g.item())
    return d_losses, g_losses
# --8<-- [end:torch]


# --8<-- [start:checks]
def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


def _check_points(x, dim):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("X must be a floating-point torch.Tensor")
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"X must have shape (n, {dim}), got {tuple(x.shape)}")


def _check_logits(logits, name):
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"{name} must be a floating-point torch.Tensor")
# --8<-- [end:checks]


if __name__ == "__main__":
    X = torch.randn(2000, 2) * 0.2 + torch.tensor([2.0, -1.0])
    gan = GAN()
    d_losses, g_losses = fit_gan(gan, X, steps=300)
    print("sample mean", gan.sample(1000).mean(dim=0).detach(), "target [2, -1]")
