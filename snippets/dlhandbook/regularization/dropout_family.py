r"""The dropout family: random noise in training, its expectation at test time.

All three use inverted scaling, so the test-time network is the plain one.

DropConnect (Wan et al. 2013) masks the *weights* of a linear layer,
$y = x\,(M \odot W)^\top/(1-p) + b$ with $M_{ij} \sim \mathrm{Bernoulli}(1-p)$.
Here the test-time layer is the plain one, the mean; Wan et al. instead sample the
pre-activation from a Gaussian with its mean and variance over masks.

Spatial dropout (Tompson et al. 2015; ``torch.nn.Dropout2d``) draws one mask value per
sample and channel of an $(N, C, H, W)$ input, so a feature map is kept or zeroed whole.

Stochastic depth (Huang et al. 2016) drops whole residual branches:
$x_{l+1} = x_l + \frac{b_l}{q_l}\,f_l(x_l)$ with $b_l \sim \mathrm{Bernoulli}(q_l)$ and
survival probabilities falling linearly with depth, $q_l = 1 - \frac{l}{L}(1-q_L)$.
The paper's test rule $x_l + q_l f_l(x_l)$ is the same model with $f_l$ rescaled.

References: Wan, Zeiler, Zhang, LeCun & Fergus (2013), *Regularization of Neural
Networks using DropConnect*, ICML; Tompson et al. (2015), *Efficient Object
Localization Using Convolutional Networks*, CVPR; Huang, Sun, Liu, Sedra & Weinberger
(2016), *Deep Networks with Stochastic Depth*, ECCV.
"""

# --8<-- [start:imports]
import torch

# --8<-- [end:imports]


# --8<-- [start:torch]
def drop_connect_linear(x, weight, bias=None, p=0.5, training=True, generator=None,
                        per_example=False):
    """A linear layer whose weights are dropped with probability p in training.

    per_example=True draws a weight mask per row of x, as Wan et al. do (memory
    N * out * in); the default draws one mask per call, shared by the batch.
    """
    _check_family_args(x, p, training)
    if not training or p == 0.0:
        return torch.nn.functional.linear(x, weight, bias)
    shape = (x.shape[0], *weight.shape) if per_example else weight.shape
    keep = torch.empty(shape, dtype=weight.dtype, device=weight.device)
    keep.bernoulli_(1.0 - p, generator=generator)
    masked = weight * keep / (1.0 - p)               # (out, in) or (N, out, in)
    if per_example:
        y = torch.einsum("ni,noi->no", x, masked)   # x: (N, in)
        return y if bias is None else y + bias
    return torch.nn.functional.linear(x, masked, bias)


def spatial_dropout(x, p=0.5, training=True, generator=None):
    """Like torch.nn.functional.dropout2d on (N, C, *spatial): drop whole channels."""
    _check_family_args(x, p, training)
    if x.dim() < 3:
        raise ValueError(f"x must be (N, C, *spatial), got shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    shape = (*x.shape[:2], *([1] * (x.dim() - 2)))   # (N, C, 1, 1): one per map
    keep = torch.empty(shape, dtype=x.dtype, device=x.device)
    keep.bernoulli_(1.0 - p, generator=generator)
    return x * (keep / (1.0 - p))


def stochastic_depth(branch, p=0.5, training=True, mode="row", generator=None):
    """Drop a residual branch's output with probability p: use as x + result.

    mode="row" drops it per sample, mode="batch" for the whole batch at once.
    """
    _check_family_args(branch, p, training)
    if mode not in ("row", "batch"):
        raise ValueError(f"mode must be 'row' or 'batch', got {mode!r}")
    if not training or p == 0.0:
        return branch
    row = (branch.shape[0], *([1] * (branch.dim() - 1)))   # (N, 1, ...): per sample
    shape = row if mode == "row" else ()
    keep = torch.empty(shape, dtype=branch.dtype, device=branch.device)
    keep.bernoulli_(1.0 - p, generator=generator)
    return branch * (keep / (1.0 - p))


def linear_decay_survival(L, q_L=0.5):
    """Survival probabilities q_1..q_L of Huang et al.: from near 1 down to q_L."""
    if not isinstance(L, int) or isinstance(L, bool) or L < 1:
        raise ValueError(f"L must be an int >= 1, got {L!r}")
    if not 0.0 < q_L <= 1.0:
        raise ValueError(f"q_L must be in (0, 1], got {q_L}")
    return [1.0 - k / L * (1.0 - q_L) for k in range(1, L + 1)]
# --8<-- [end:torch]


# --8<-- [start:checks]
def _check_family_args(x, p, training):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"p must be a float in [0, 1), got {type(p).__name__}")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p (the drop probability) must be in [0, 1), got {p}")
    if not isinstance(training, bool):
        raise TypeError(f"training must be a bool, got {type(training).__name__}")
# --8<-- [end:checks]


if __name__ == "__main__":
    x = torch.ones(2, 4, 3, 3)
    y = spatial_dropout(x, 0.5, generator=torch.Generator().manual_seed(0))
    print("channels kept per sample:", (y.flatten(2)[:, :, 0] > 0).sum(dim=1).tolist())
    print("survival, L = 4:", linear_decay_survival(4))
