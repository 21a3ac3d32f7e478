r"""Xavier (Glorot) initialisation: keep activation and gradient variance across layers.

For a layer $y = W x$ with independent zero-mean weights and inputs,
$\mathrm{Var}(y) = n_{in}\,\mathrm{Var}(W)\,\mathrm{Var}(x)$ forward and
$\mathrm{Var}(\partial L/\partial x)
= n_{out}\,\mathrm{Var}(W)\,\mathrm{Var}(\partial L/\partial y)$
backward. Both cannot equal one unless $n_{in} = n_{out}$, so Glorot and Bengio take the
compromise

$$\mathrm{Var}(W) = \mathrm{gain}^2\,\frac{2}{n_{in} + n_{out}}, \qquad
W \sim U(-a, a),\; a = \mathrm{gain}\sqrt{\frac{6}{n_{in} + n_{out}}}
\quad\text{or}\quad W \sim \mathcal N\!\bigl(0, \mathrm{Var}(W)\bigr).$$

The derivation assumes an activation with slope 1 at 0 (tanh, softsign); for ReLU use He
init. A tensor with a zero-size dimension is returned unchanged, as in torch.nn.init
(which divides by zero when both fans are 0; we return that tensor unchanged too).

Reference: Glorot & Bengio (2010), *Understanding the difficulty of training deep
feedforward neural networks*.
"""

# --8<-- [start:imports]
import math

# --8<-- [end:imports]

# isort: split
# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def xavier_std(shape, gain=1.0):
    """Standard deviation gain * sqrt(2 / (fan_in + fan_out)) of a Xavier weight."""
    _check_gain(gain)
    fan_in, fan_out = fan_in_fan_out(shape)
    if fan_in + fan_out == 0:
        raise ValueError(f"shape must have a non-zero fan, got {tuple(shape)}")
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform(shape, gain=1.0, rng=None):
    """W ~ U(-a, a), a = sqrt(3) * std, so Var(W) = gain^2 * 2 / (fan_in + fan_out)."""
    if 0 in tuple(shape):                          # nothing to draw
        return _empty(shape, gain)
    a = math.sqrt(3.0) * xavier_std(shape, gain)   # Var(U(-a, a)) = a^2 / 3
    rng = np.random.default_rng() if rng is None else rng
    return rng.uniform(-a, a, size=tuple(shape))


def xavier_normal(shape, gain=1.0, rng=None):
    """W ~ N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    if 0 in tuple(shape):
        return _empty(shape, gain)
    std = xavier_std(shape, gain)
    rng = np.random.default_rng() if rng is None else rng
    return rng.normal(0.0, std, size=tuple(shape))


def fan_in_fan_out(shape):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as in torch.nn.init.

    fan_in = in * prod(kernel), fan_out = out * prod(kernel): a conv layer's fan counts
    every kernel tap.
    """
    shape = tuple(shape)
    if len(shape) < 2 or any(
            not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(
            f"shape must have at least 2 non-negative int dimensions, got {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_gain(gain):
    if isinstance(gain, bool) or not isinstance(gain, (int, float)) or gain < 0:
        raise ValueError(f"gain must be a non-negative number, got {gain!r}")


def _empty(shape, gain):
    fan_in_fan_out(shape)                          # a bad shape still raises
    _check_gain(gain)
    return np.empty(tuple(shape))
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
@torch.no_grad()
def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Fill ``tensor`` from U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))"""
    if _check(tensor, gain):                       # zero elements: nothing to fill
        return tensor
    a = math.sqrt(3.0) * _xavier_std(tensor, gain)     # Var(U(-a, a)) = a^2 / 3
    return tensor.uniform_(-a, a, generator=generator)


@torch.no_grad()
def xavier_normal_(tensor, gain=1.0, generator=None):
    """Fill ``tensor`` in place from N(0, gain^2 * 2 / (fan_in + fan_out))."""
    if _check(tensor, gain):
        return tensor
    return tensor.normal_(0.0, _xavier_std(tensor, gain), generator=generator)


def _xavier_std(tensor, gain):
    """gain * sqrt(2 / (fan_in + fan_out)) of a weight of shape (out, in, *kernel)."""
    fan_out, fan_in = tensor.shape[0], tensor.shape[1]
    receptive_field = math.prod(tensor.shape[2:])   # kernel taps of a conv weight
    return gain * math.sqrt(2.0 / ((fan_in + fan_out) * receptive_field))
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check(tensor, gain):
    """Check the arguments; True if the tensor has no elements."""
    if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
        raise TypeError("tensor must be a floating-point torch.Tensor")
    if tensor.dim() < 2:
        raise ValueError(
            f"tensor must have at least 2 dimensions, got shape {tuple(tensor.shape)}")
    if isinstance(gain, bool) or not isinstance(gain, (int, float)) or gain < 0:
        raise ValueError(f"gain must be a non-negative number, got {gain!r}")
    return tensor.numel() == 0
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    W = xavier_uniform((300, 500), rng=np.random.default_rng(0))
    print(W.var(), 2 / (300 + 500))
    print(xavier_normal_(torch.empty(300, 500)).var().item())
