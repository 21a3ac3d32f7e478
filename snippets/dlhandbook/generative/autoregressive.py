r"""Autoregressive model of discretised 2-D data: exact probabilities by the chain rule.

Each coordinate is cut into $K$ equal bins, so a point becomes a pair of integers
$(i, j)$. The model factorises the joint exactly, one softmax per factor:

$$p(i, j) = p(i)\,p(j \mid i),\qquad p(i) = \operatorname{softmax}(a)_i,\qquad
p(j\mid i) = \operatorname{softmax}\bigl(g(e_i)\bigr)_j ,$$

with a learned vector $a$, an embedding $e_i$ of the first bin and a small network $g$.
Every factor is normalised, so $\sum_{i,j}p(i,j) = 1$ and $\log p$ is exact; PixelCNN,
WaveNet and GPT apply the same chain rule to pixels, samples and tokens. Spreading each
bin's probability uniformly over the bin (dequantisation) gives a continuous density
$p(x) = p(i, j)/\Delta^2$ for a bin of side $\Delta$. Sampling is ancestral: $i$ first,
then $j$ given $i$.

Reference: van den Oord, Kalchbrenner & Kavukcuoglu (2016), *Pixel Recurrent Neural
Networks*, ICML.
"""

# --8<-- [start:imports]
import math

import torch
from torch import nn

# --8<-- [end:imports]


# --8<-- [start:torch]
def discretise(X, bins, low, high):
    """Bin indices (n, 2) of points X (n, 2) on a bins x bins grid over [low, high]^2.

    Points outside the square are put in the nearest edge bin."""
    _check_grid(bins, low, high)
    X = _check_points(X)
    idx = torch.floor((X - low) / (high - low) * bins).long()
    return idx.clamp(0, bins - 1)


class Autoregressive2D(nn.Module):
    """p(i, j) = p(i) p(j | i) over a bins x bins grid."""

    def __init__(self, bins, hidden=64):
        super().__init__()
        _check_positive_int(bins, "bins")
        _check_positive_int(hidden, "hidden")
        self.bins = bins
        self.first_logits = nn.Parameter(torch.zeros(bins))        # a, for p(i)
        self.embed = nn.Embedding(bins, hidden)                     # e_i
        self.cond = nn.Sequential(nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                  nn.Linear(hidden, bins))          # g, for p(j | i)

    def log_prob(self, idx):
        """Exact log p(i, j) for each row (i, j) of the long tensor idx, shape (n,)."""
        idx = _check_indices(idx, self.bins)
        i, j = idx[:, 0], idx[:, 1]
        log_p_i = torch.log_softmax(self.first_logits, dim=-1)[i]              # (n,)
        log_p_j = torch.log_softmax(self.cond(self.embed(i)), dim=-1)          # (n, K)
        return log_p_i + log_p_j.gather(1, j[:, None])[:, 0]

    def prob_table(self):
        """The whole joint p(i, j) as a (bins, bins) tensor."""
        all_i = torch.arange(self.bins, device=self.first_logits.device)
        p_i = torch.softmax(self.first_logits, dim=-1)                         # (K,)
        p_j_given_i = torch.softmax(self.cond(self.embed(all_i)), dim=-1)      # (K, K)
        return p_i[:, None] * p_j_given_i

    @torch.no_grad()
    def sample(self, n, generator=None):
        """n index pairs (n, 2): draw i from p(i), then j from p(j | i)."""
        _check_positive_int(n, "n")
        device = self.first_logits.device
        p_i = torch.softmax(self.first_logits, dim=-1).cpu()
        i = torch.multinomial(p_i, n, replacement=True, generator=generator)
        p_j = torch.softmax(self.cond(self.embed(i.to(device))), dim=-1).cpu()
        j = torch.multinomial(p_j, 1, generator=generator)[:, 0]
        return torch.stack([i, j], dim=1)


def log_density(model, X, low, high):
    """Dequantised continuous log-density log p(i, j) - 2 log(bin side) at points X."""
    side = (high - low) / model.bins
    return model.log_prob(discretise(X, model.bins, low, high)) - 2 * math.log(side)


def bin_centres(idx, bins, low, high):
    """The centre (n, 2) of each bin index pair: map samples back to the plane."""
    idx = _check_indices(idx, bins)
    return low + (idx.double() + 0.5) * (high - low) / bins


def fit_autoregressive(model, idx, steps=500, lr=1e-2, batch_size=256, seed=0):
    """Maximum likelihood (cross-entropy) with Adam. Returns each step's mean NLL."""
    idx = _check_indices(idx, model.bins)
    _check_positive_int(steps, "steps")
    _check_positive_int(batch_size, "batch_size")
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    losses = []
    for _ in range(steps):
        batch = idx[torch.randint(0, idx.shape[0], (batch_size,), generator=g)]
        loss = -model.log_prob(batch).mean()
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


def _check_grid(bins, low, high):
    _check_positive_int(bins, "bins")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"low must be below high (both finite), got {low}, {high}")


def _check_points(X):
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError("X must be a floating-point torch.Tensor")
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {tuple(X.shape)}")
    return X


def _check_indices(idx, bins):
    if not isinstance(idx, torch.Tensor) or idx.dtype != torch.long:
        raise TypeError("idx must be a torch.long tensor of bin indices")
    if idx.ndim != 2 or idx.shape[1] != 2:
        raise ValueError(f"idx must have shape (n, 2), got {tuple(idx.shape)}")
    if idx.numel() and (idx.min() < 0 or idx.max() >= bins):
        raise ValueError(f"idx must lie in [0, {bins - 1}]")
    return idx
# --8<-- [end:checks]


if __name__ == "__main__":
    X = torch.randn(2000, 2) * torch.tensor([1.0, 0.3])
    X[:, 1] += X[:, 0] ** 2 / 2                                   # a curved cloud
    model = Autoregressive2D(bins=16)
    losses = fit_autoregressive(model, discretise(X, 16, -3.0, 3.0), steps=200)
    print(f"NLL {losses[0]:.3f} -> {losses[-1]:.3f} (uniform: {math.log(256):.3f})")
    print("sum of p(i, j):", model.prob_table().sum().item())
