r"""Universal approximation with one hidden layer, and what depth buys: the sawtooth.

**Width.** On $[lo, hi]$ with knots $t_0 < \dots < t_m$ equally spaced, the
one-hidden-layer ReLU network with $m$ units

$$f_m(x) = f(t_0) + \sum_{i=0}^{m-1} c_i\, \mathrm{ReLU}(x - t_i), \qquad
c_i = s_i - s_{i-1},\ s_i = \frac{f(t_{i+1}) - f(t_i)}{t_{i+1} - t_i},\ s_{-1} = 0,$$

is the piecewise-linear interpolant of $f$, so for a twice-differentiable target
$\max |f_m - f| \le h^2 \max|f''| / 8$ with $h = (hi - lo)/m$.

**Depth.** The tent map $t(x) = 2\,\mathrm{ReLU}(x) - 4\,\mathrm{ReLU}(x - 1/2)$ maps
$[0, 1]$ onto itself with two linear pieces; composed $k$ times it is a sawtooth with
$2^k$ pieces, computed by $k$ layers of 2 units. A one-hidden-layer ReLU network
$\sum_i c_i \mathrm{ReLU}(w_i x + b_i) + c_0$ on $\mathbb R$ is linear except at the
points $-b_i / w_i$, one per unit, so it has at most $m + 1$ pieces: matching the
sawtooth needs at least $2^k - 1$ units.

Reference: Cybenko (1989), *Approximation by superpositions of a sigmoidal function*;
Telgarsky (2016), *Benefits of depth in neural networks*, COLT.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch
from torch import nn

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def relu(z):
    return np.maximum(z, 0.0)


def interpolating_relu_net(f, width, lo=0.0, hi=1.0):
    """One hidden layer of `width` ReLU units that interpolates f at width + 1 knots.

    Returns (w1, b1, w2, b2): unit i computes relu(w1[i] x + b1[i]); the output is
    w2 @ hidden + b2.
    """
    _check_width(width)
    if not lo < hi:
        raise ValueError(f"lo must be below hi, got lo={lo!r}, hi={hi!r}")
    t = np.linspace(lo, hi, width + 1)               # knots, (width + 1,)
    v = np.asarray(f(t), dtype=float)
    slopes = np.diff(v) / np.diff(t)                 # slope on each interval, (width,)
    w2 = np.diff(slopes, prepend=0.0)                # change of slope at each knot
    return np.ones(width), -t[:-1], w2, float(v[0])


def one_hidden_layer(x, w1, b1, w2, b2):
    """x (N,) -> (N,): w2 @ relu(w1 x + b1) + b2 for scalar inputs."""
    hidden = relu(np.outer(x, w1) + b1)              # (N, width)
    return hidden @ w2 + b2


def tent(x):
    return 2.0 * relu(x) - 4.0 * relu(x - 0.5)


def sawtooth(x, depth):
    """The tent map composed depth times (a ReLU net of depth layers of 2 units)."""
    _check_width(depth, name="depth")
    for _ in range(depth):
        x = tent(x)
    return x


def count_linear_pieces(x, y, tol=1e-9):
    """Linear pieces of the polyline through (x, y): one more than its slope changes.

    Exact when every breakpoint of the function lies on the grid x.
    """
    x, y = _check_curve(x, y)
    slopes = np.diff(y) / np.diff(x)
    changes = np.abs(np.diff(slopes)) > tol * (1.0 + np.abs(slopes[1:]))
    return 1 + int(changes.sum())
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_width(width, name="width"):
    if not isinstance(width, (int, np.integer)) or isinstance(width, bool) or width < 1:
        raise ValueError(f"{name} must be a positive int, got {width!r}")


def _check_curve(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(
            f"x and y must be 1-D of the same length >= 2, got {x.shape} and {y.shape}")
    if not (np.diff(x) > 0).all():
        raise ValueError("x must be strictly increasing")
    return x, y
# --8<-- [end:checks]


# --8<-- [start:torch]
def sawtooth_net(depth, dtype=torch.float64):
    """depth hidden layers of 2 ReLU units: the tent map composed depth times."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    first = nn.Linear(1, 2, dtype=dtype)             # (x, x - 1/2)
    middle = nn.Linear(2, 2, dtype=dtype)            # (t, t - 1/2), t = 2 h1 - 4 h2
    last = nn.Linear(2, 1, dtype=dtype)              # t = 2 h1 - 4 h2
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0], [1.0]]))
        first.bias.copy_(torch.tensor([0.0, -0.5]))
        middle.weight.copy_(torch.tensor([[2.0, -4.0], [2.0, -4.0]]))
        middle.bias.copy_(torch.tensor([0.0, -0.5]))
        last.weight.copy_(torch.tensor([[2.0, -4.0]]))
        last.bias.zero_()
    layers = [first, nn.ReLU()]
    for _ in range(depth - 1):
        layers += [middle, nn.ReLU()]                # the same map, reused
    return nn.Sequential(*layers, last)


def one_hidden_layer_torch(w1, b1, w2, b2, dtype=torch.float64):
    """nn.Sequential(Linear(1, m), ReLU, Linear(m, 1)) holding the given weights.

    Train it like any module; built from interpolating_relu_net it starts as the
    interpolant.
    """
    w1, b1, w2 = (torch.as_tensor(a, dtype=dtype) for a in (w1, b1, w2))
    if not (w1.ndim == 1 and w1.shape == b1.shape == w2.shape):
        raise ValueError(
            f"w1, b1 and w2 must be 1-D of one length, got {tuple(w1.shape)}, "
            f"{tuple(b1.shape)}, {tuple(w2.shape)}")
    m = w1.numel()
    hidden, out = nn.Linear(1, m, dtype=dtype), nn.Linear(m, 1, dtype=dtype)
    with torch.no_grad():
        hidden.weight.copy_(w1[:, None])             # (m, 1)
        hidden.bias.copy_(b1)
        out.weight.copy_(w2[None, :])                # (1, m)
        out.bias.fill_(float(b2))
    return nn.Sequential(hidden, nn.ReLU(), out)
# --8<-- [end:torch]


if __name__ == "__main__":
    x = np.linspace(0.0, 1.0, 2**12 + 1)
    for m in (2, 8, 32):
        net = interpolating_relu_net(lambda t: np.sin(2 * np.pi * t), m)
        print(m, np.abs(one_hidden_layer(x, *net) - np.sin(2 * np.pi * x)).max())
    for k in range(1, 6):
        print(k, count_linear_pieces(x, sawtooth(x, k)))
