r"""Data augmentation for images (N, C, H, W) and vectors; test-time augmentation.

Random horizontal flips with probability $p$, random crops of a zero-padded image,
additive Gaussian noise, and mixup (Zhang et al. 2018): with $\lambda \sim
\mathrm{Beta}(\alpha, \alpha)$ and a random permutation $\pi$ of the batch,
$$\tilde x_i = \lambda x_i + (1-\lambda)\, x_{\pi(i)}, \qquad
\tilde y_i = \lambda y_i + (1-\lambda)\, y_{\pi(i)}.$$
Test-time augmentation with the flip $F$ predicts $\tfrac12\big(f(x) + f(Fx)\big)$,
which is exactly invariant to $F$ because $F F x = x$.

Reference: Zhang, Cisse, Dauphin & Lopez-Paz (2018), *mixup: Beyond empirical risk
minimization*, ICLR; Krizhevsky, Sutskever & Hinton (2012), *ImageNet classification
with deep convolutional neural networks*, NeurIPS.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch
import torch.nn.functional as F

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def random_hflip(X, p, rng):
    """Flip each image of X (N, C, H, W) left-right with probability p."""
    X = _check_images(X)
    _check_probability("p", p)
    flip = rng.random(len(X)) < p                        # (N,) one coin per image
    return np.where(flip[:, None, None, None], X[..., ::-1], X)


def crop(X, top, left, size, padding=0):
    """Window (size, size) at (top[n], left[n]) of each zero-padded image."""
    X = _check_images(X)
    pad = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    Xp = np.pad(X, pad)                                  # (N, C, H + 2p, W + 2p)
    rows = np.asarray(top)[:, None] + np.arange(size)    # (N, size)
    cols = np.asarray(left)[:, None] + np.arange(size)   # (N, size)
    n = np.arange(len(X))[:, None, None]
    out = Xp[n, :, rows[:, :, None], cols[:, None, :]]   # (N, size, size, C)
    return out.transpose(0, 3, 1, 2)                     # (N, C, size, size)


def random_crop(X, size, padding, rng):
    """Pad by `padding` zeros, then crop a random (size, size) window per image."""
    X = _check_images(X)
    _check_crop(X.shape, size, padding)
    top = rng.integers(0, X.shape[2] + 2 * padding - size + 1, size=len(X))
    left = rng.integers(0, X.shape[3] + 2 * padding - size + 1, size=len(X))
    return crop(X, top, left, size, padding)


def add_noise(X, std, rng):
    """Add Gaussian noise of standard deviation std (any shape)."""
    _check_nonnegative("std", std)
    X = np.asarray(X, dtype=np.float64)
    return X + std * rng.standard_normal(X.shape)


def mixup(X, Y, alpha, rng):
    """Mix each example with a random partner: one lam ~ Beta(alpha, alpha) per
    batch. Y holds one-hot labels or probabilities. Returns (X, Y, lam)."""
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    _check_alpha(alpha, len(X), len(Y))
    lam = rng.beta(alpha, alpha)
    perm = rng.permutation(len(X))
    return lam * X + (1 - lam) * X[perm], lam * Y + (1 - lam) * Y[perm], lam


def tta_hflip(predict, X):
    """Test-time augmentation: average predictions on X and on its mirror."""
    X = _check_images(X)
    return (predict(X) + predict(X[..., ::-1])) / 2
# --8<-- [end:numpy]


# --8<-- [start:torch]
def random_hflip_torch(X, p, generator=None):
    """Flip each image of X (N, C, H, W) left-right with probability p."""
    _check_images_torch(X)
    _check_probability("p", p)
    coins = torch.rand(len(X), generator=generator, device=X.device)
    return torch.where((coins < p)[:, None, None, None], X.flip(-1), X)


def random_crop_torch(X, size, padding, generator=None):
    """Pad by `padding` zeros, then crop a random (size, size) window per image."""
    _check_images_torch(X)
    _check_crop(X.shape, size, padding)
    N, H, W = len(X), X.shape[2], X.shape[3]
    Xp = F.pad(X, (padding,) * 4)                        # (N, C, H + 2p, W + 2p)
    kw = {"generator": generator, "device": X.device}
    top = torch.randint(H + 2 * padding - size + 1, (N,), **kw)
    left = torch.randint(W + 2 * padding - size + 1, (N,), **kw)
    rows = top[:, None] + torch.arange(size, device=X.device)      # (N, size)
    cols = left[:, None] + torch.arange(size, device=X.device)     # (N, size)
    n = torch.arange(N, device=X.device)[:, None, None]
    out = Xp.permute(0, 2, 3, 1)[n, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2)                       # (N, C, size, size)


def mixup_torch(X, Y, alpha):
    """Mix each example with a random partner; returns (X, Y, lam). Uses the
    global RNG (torch.distributions takes no generator): seed torch.manual_seed."""
    _check_alpha(alpha, len(X), len(Y))
    lam = torch.distributions.Beta(float(alpha), float(alpha)).sample().item()
    perm = torch.randperm(len(X)).to(X.device)
    return lam * X + (1 - lam) * X[perm], lam * Y + (1 - lam) * Y[perm], lam


def tta_hflip_torch(model, X):
    """Test-time augmentation: average model outputs on X and on its mirror."""
    _check_images_torch(X)
    return (model(X) + model(X.flip(-1))) / 2
# --8<-- [end:torch]


# --8<-- [start:checks_numpy]
def _check_images(X):
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError(f"X must be images (N, C, H, W), got shape {X.shape}")
    return X
# --8<-- [end:checks_numpy]


# --8<-- [start:checks_torch]
def _check_images_torch(X):
    if not isinstance(X, torch.Tensor) or X.ndim != 4:
        raise ValueError("X must be a tensor of images (N, C, H, W)")
# --8<-- [end:checks_torch]


# --8<-- [start:checks]
def _check_probability(name, p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")


def _check_nonnegative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not 0 <= value < float("inf"):
        raise ValueError(f"{name} must be >= 0 and finite, got {value}")


def _check_crop(shape, size, padding):
    for name, value in (("size", size), ("padding", padding)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {value!r}")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    if not 1 <= size <= min(shape[2], shape[3]) + 2 * padding:
        raise ValueError(f"size must be in [1, padded image side], got {size}")


def _check_alpha(alpha, n_x, n_y):
    _check_nonnegative("alpha", alpha)
    if alpha == 0:
        raise ValueError("alpha must be > 0, got 0")
    if n_x != n_y:
        raise ValueError(f"X and Y must have the same length, got {n_x} and {n_y}")
# --8<-- [end:checks]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = np.arange(2 * 1 * 4 * 4, dtype=float).reshape(2, 1, 4, 4)
    print(random_hflip(X, 1.0, rng)[0, 0])
    print(random_crop(X, 4, 1, rng)[0, 0])
