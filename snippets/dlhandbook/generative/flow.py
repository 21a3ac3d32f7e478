r"""A normalising flow (RealNVP couplings): exact likelihood by the change of variables.

An invertible $f$ maps data $x$ to a latent $z = f(x)$ with a standard normal density,
so

$$\log p(x) = \log \mathcal N\bigl(f(x);\ 0, I\bigr)
+ \log\Bigl|\det \frac{\partial f(x)}{\partial x}\Bigr| .$$

An affine coupling keeps the coordinates with mask $b = 1$ and transforms the others
with a scale and shift computed from the kept ones only,

$$y = b\odot x + (1-b)\odot\bigl(x\odot e^{s(b\odot x)} + t(b\odot x)\bigr),$$

so its Jacobian is triangular and $\log|\det| = \sum_j (1-b_j)\,s_j$: one sum, no
determinant. Between couplings an invertible linear map $W$ mixes the coordinates
(Glow's $1\times1$ convolution in two dimensions), with $\log|\det W|$ per point; a
singular $W$ is refused. Sampling runs the layers backwards from $z \sim \mathcal N(0,
I)$.

References: Dinh, Sohl-Dickstein & Bengio (2017), *Density estimation using Real NVP*,
ICLR; Kingma & Dhariwal (2018), *Glow: Generative Flow with Invertible 1x1
Convolutions*, NeurIPS.
"""

# --8<-- [start:imports]
import math

import torch
from torch import nn

# --8<-- [end:imports]


# --8<-- [start:torch]
class AffineCoupling(nn.Module):
    """y = b x + (1 - b)(x exp(s) + t), with s and t computed from b x only."""

    def __init__(self, mask, hidden=64):
        super().__init__()
        mask = _check_mask(mask)
        _check_positive_int(hidden, "hidden")
        d = mask.numel()
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.Tanh(),
                                 nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 2 * d))
        nn.init.zeros_(self.net[-1].weight)       # start as the identity map
        nn.init.zeros_(self.net[-1].bias)

    def _scale_shift(self, kept):
        s, t = self.net(kept).chunk(2, dim=-1)                # (n, d) each
        free = 1 - self.mask
        return torch.tanh(s) * free, t * free                 # bounded log-scale

    def forward(self, x):
        """Data direction to latent: returns (y, log|det dy/dx|) per row."""
        s, t = self._scale_shift(x * self.mask)
        y = x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t)
        return y, s.sum(dim=-1)

    def inverse(self, y):
        s, t = self._scale_shift(y * self.mask)               # y's kept part is x's
        return y * self.mask + (1 - self.mask) * (y - t) * torch.exp(-s)


class InvertibleLinear(nn.Module):
    """z = x W^T with a learnable invertible W; log|det| = log|det W| per row."""

    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(_check_invertible(weight))

    def forward(self, x):
        log_det = torch.linalg.slogdet(self.weight).logabsdet
        return x @ self.weight.T, log_det.expand(x.shape[0])

    def inverse(self, z):
        return torch.linalg.solve(self.weight, z.T).T


class Flow(nn.Module):
    """A stack of invertible layers on top of a standard normal base density."""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        """Returns z = f(x) and log|det df/dx| for each row of x."""
        x = _check_points(x, self.dim)
        log_det = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z):
        z = _check_points(z, self.dim)
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        """Exact log p(x) by the change of variables, shape (n,)."""
        z, log_det = self(x)
        log_base = -0.5 * (z**2).sum(dim=-1) - 0.5 * self.dim * math.log(2 * math.pi)
        return log_base + log_det

    def sample(self, n, generator=None):
        _check_positive_int(n, "n")
        p = next(self.parameters())
        z = torch.randn(n, self.dim, generator=generator, dtype=p.dtype)
        return self.inverse(z.to(p.device))

    @property
    def dim(self):
        return self.layers[0].weight.shape[0] if isinstance(
            self.layers[0], InvertibleLinear) else self.layers[0].mask.numel()


def realnvp(dim=2, n_couplings=6, hidden=64, seed=0):
    """Couplings with alternating masks, a random rotation W after each."""
    _check_positive_int(dim, "dim")
    _check_positive_int(n_couplings, "n_couplings")
    if dim < 2:
        raise ValueError(f"dim must be at least 2 for a coupling, got {dim}")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    layers = []
    for i in range(n_couplings):
        mask = (torch.arange(dim) + i) % 2 == 0
        layers.append(AffineCoupling(mask.float(), hidden))
        Q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=g))   # orthogonal
        layers.append(InvertibleLinear(Q))
    return Flow(layers)


def fit_flow(flow, X, steps=1000, lr=3e-3, batch_size=256, seed=0):
    """Maximum likelihood with Adam. Returns each step's mean negative log-lik."""
    X = _check_points(X, flow.dim)
    _check_positive_int(steps, "steps")
    _check_positive_int(batch_size, "batch_size")
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(flow.parameters(), lr=lr, fused=True)
    losses = []
    for _ in range(steps):
        batch = X[torch.randint(0, X.shape[0], (batch_size,), generator=g)]
        loss = -flow.log_prob(batch).mean()                  # exact NLL
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


def _check_mask(mask):
    mask = torch.as_tensor(mask, dtype=torch.float32)
    if mask.ndim != 1 or not torch.all((mask == 0) | (mask == 1)):
        raise ValueError("mask must be a 1-D tensor of zeros and ones")
    if mask.sum() in (0, mask.numel()):
        raise ValueError("mask must keep some coordinates and transform others")
    return mask


def _check_invertible(weight):
    if not isinstance(weight, torch.Tensor) or not weight.is_floating_point():
        raise TypeError("weight must be a floating-point torch.Tensor")
    if weight.ndim != 2 or weight.shape[0] != weight.shape[1]:
        raise ValueError(f"weight must be a square matrix, got {tuple(weight.shape)}")
    cond = torch.linalg.cond(weight.detach().double())
    if not torch.isfinite(cond) or cond > 1e8:
        raise ValueError(f"weight must be invertible, got condition number {cond:.3g}")
    return weight.detach().clone()
# --8<-- [end:checks]


if __name__ == "__main__":
    angle = torch.rand(2000) * math.pi
    X = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)   # one moon
    X = X + 0.1 * torch.randn_like(X)
    flow = realnvp()
    losses = fit_flow(flow, X, steps=300)
    print(f"NLL {losses[0]:.3f} -> {losses[-1]:.3f}", flow.sample(3).detach())
