r"""He (Kaiming) initialisation: keep a ReLU network's signal variance across depth.

A ReLU keeps half of a symmetric input's second moment,
$E[\mathrm{relu}(z)^2] = \mathrm{Var}(z)/2$, so preserving the forward variance needs
$n_{in}\,\mathrm{Var}(W)/2 = 1$. In general, with the gain of the nonlinearity
($\sqrt2$ for ReLU, $\sqrt{2/(1+a^2)}$ for leaky ReLU of slope $a$):

$$\mathrm{Var}(W) = \frac{\mathrm{gain}^2}{\mathrm{fan}}, \qquad
\mathrm{fan} = n_{in}\ (\text{mode}=\text{fan\_in})
\ \text{or}\ n_{out}\ (\text{mode}=\text{fan\_out}).$$

`fan_in` preserves activations in the forward pass, `fan_out` gradients in the backward
pass. A tensor with a zero-size dimension is left as it is, with a warning, as in
torch.nn.init.

Reference: He, Zhang, Ren & Sun (2015), *Delving Deep into Rectifiers: Surpassing
Human-Level Performance on ImageNet Classification*.
"""

# --8<-- [start:imports]
import math
import warnings

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
def kaiming_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """std = gain / sqrt(fan); the defaults (a=0) give gain sqrt(2), as for ReLU."""
    shape = _check_shape(shape, mode)
    receptive_field = math.prod(shape[2:])              # kernel taps of a conv weight
    fan = (shape[1] if mode == "fan_in" else shape[0]) * receptive_field
    if fan == 0:
        raise ValueError(f"shape must have a non-zero {mode}, got {shape}")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """W ~ U(-b, b) with b = sqrt(3) * std, so that Var(W) = gain^2 / fan."""
    if 0 in tuple(shape):
        return _empty(shape, mode)
    bound = math.sqrt(3.0) * kaiming_std(shape, a, mode, nonlinearity)
    rng = np.random.default_rng() if rng is None else rng
    return rng.uniform(-bound, bound, size=tuple(shape))


def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """W ~ N(0, gain^2 / fan)."""
    if 0 in tuple(shape):
        return _empty(shape, mode)
    std = kaiming_std(shape, a, mode, nonlinearity)
    rng = np.random.default_rng() if rng is None else rng
    return rng.normal(0.0, std, size=tuple(shape))
# --8<-- [end:numpy]


# --8<-- [start:gain]
def calculate_gain(nonlinearity, param=None):
    """The gain torch.nn.init uses: the factor that undoes the activation's shrinking of
    the variance (the values and ValueErrors of torch.nn.init.calculate_gain)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(
                f"param must be a number (the negative slope), got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nonlinearity {nonlinearity!r} is not supported")
# --8<-- [end:gain]


# --8<-- [start:checks_numpy]
def _check_shape(shape, mode):
    shape = tuple(shape)
    if len(shape) < 2 or any(
            not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(
            f"shape must have at least 2 non-negative int dimensions, got {shape}")
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return shape


def _empty(shape, mode):
    """A zero-element weight: nothing to draw (torch warns and returns it unchanged)."""
    _check_shape(shape, mode)                            # a bad shape still raises
    warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
    return np.empty(tuple(shape))
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
@torch.no_grad()
def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                     generator=None):
    """Fill ``tensor`` in place from U(-b, b), b = gain * sqrt(3 / fan)."""
    if _is_empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor.uniform_(-bound, bound, generator=generator)


@torch.no_grad()
def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                    generator=None):
    """Fill ``tensor`` in place from N(0, gain^2 / fan)."""
    if _is_empty(tensor):
        return tensor
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor.normal_(0.0, std, generator=generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    receptive_field = math.prod(tensor.shape[2:])       # (out, in, *kernel)
    fan = (tensor.shape[1] if mode == "fan_in" else tensor.shape[0]) * receptive_field
    return torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _is_empty(tensor):
    """Check the tensor; True (with torch's warning) if it has no elements to fill."""
    if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
        raise TypeError("tensor must be a floating-point torch.Tensor")
    if tensor.dim() < 2:
        raise ValueError(
            f"tensor must have at least 2 dimensions, got shape {tuple(tensor.shape)}")
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    W = kaiming_normal((256, 512), nonlinearity="relu", rng=np.random.default_rng(0))
    print(W.var(), 2 / 512)
    print(kaiming_uniform_(torch.empty(256, 512), nonlinearity="relu").var().item())
