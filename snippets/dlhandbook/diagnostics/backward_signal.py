r"""The backward signal of a deep network: the norm of $\partial L/\partial h_l$ at
every layer.

For a bias-free MLP $z_l = h_{l-1} W_l^\top$, $h_l = \phi(z_l)$, the chain rule gives

$$\frac{\partial L}{\partial h_{l-1}}
= \Bigl(\frac{\partial L}{\partial h_l} \odot \phi'(z_l)\Bigr) W_l,
\qquad
\frac{\partial L}{\partial h_l} = \frac{\partial L}{\partial h_L}\prod_{k=L}^{l+1}
\mathrm{diag}\bigl(\phi'(z_k)\bigr) W_k .$$

If the factors shrink vectors the signal vanishes geometrically in depth; if they
stretch them it explodes. Measure $\lVert\partial L/\partial h_l\rVert$, not the weight
gradients $\partial L/\partial W_l = (\partial L/\partial z_l)^\top h_{l-1}$: their
forward factor $h_{l-1}$ and backward factor cancel in ReLU and linear networks and hide
the problem.

Reference: Glorot & Bengio (2010), *Understanding the difficulty of training deep
feedforward neural networks*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:helpers]
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")


def _check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
# --8<-- [end:helpers]


# --8<-- [start:numpy]
def _phi(z, activation):
    """phi(z) and phi'(z) for the supported activations."""
    if activation == "sigmoid":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))          # overflow-free sigmoid
        return s, s * (1.0 - s)                      # sigma' <= 1/4
    if activation == "tanh":
        t = np.tanh(z)
        return t, 1.0 - t**2
    if activation == "relu":
        # PyTorch's convention: 0 at z = 0
        return np.maximum(z, 0.0), (z > 0).astype(z.dtype)
    if activation == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z), np.where(z > 0, 1.0, 0.01)
    return z, np.ones_like(z)                                 # linear


def mlp_backward_signal(X, weights, activation, grad_out):
    """Forward a bias-free MLP, then return dL/dh_l for l = 0 (the input) .. L (the
    output).

    The loss is the linear functional L = sum(grad_out * h_L), so dL/dh_L = grad_out;
    any loss reaches the network through such an upstream gradient.

    Args:
        X: (n, d_0) inputs.  weights: list of L arrays, W_l of shape (d_l, d_{l-1}).
        activation: one of ACTIVATIONS.  grad_out: (n, d_L) upstream gradient dL/dh_L.
    Returns:
        (grads, hs): lists of L + 1 arrays, grads[l] = dL/dh_l and hs[l] = h_l, each (n,
        d_l).
    """
    _check_activation(activation)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D (n, d) array, got shape {X.shape}")
    if len(weights) == 0:
        raise ValueError("weights must hold at least one layer")
    hs, slopes = [X], []
    for W in weights:
        if W.ndim != 2 or W.shape[1] != hs[-1].shape[1]:
            raise ValueError(
                f"weights: a layer of shape {W.shape} does not fit {hs[-1].shape}")
        h, slope = _phi(hs[-1] @ W.T, activation)      # z_l = h_{l-1} W_l^T, (n, d_l)
        hs.append(h)
        slopes.append(slope)
    grad = np.asarray(grad_out, dtype=np.float64)
    if grad.shape != hs[-1].shape:
        raise ValueError(f"grad_out must have shape {hs[-1].shape}, got {grad.shape}")
    grads = [grad]
    for W, slope in zip(reversed(weights), reversed(slopes), strict=True):
        # dL/dh_{l-1} = (dL/dh_l * phi'(z_l)) W_l
        grad = (grad * slope) @ W
        grads.append(grad)
    return grads[::-1], hs


def backward_signal_norms(X, weights, activation, grad_out):
    """||dL/dh_l|| (Frobenius over the batch) for l = 1 .. L: the curve to plot on a log
    axis."""
    grads, _ = mlp_backward_signal(X, weights, activation, grad_out)
    return np.array([np.linalg.norm(g) for g in grads[1:]])


def weight_grad_norms(X, weights, activation, grad_out):
    """||dL/dW_l|| for l = 1 .. L, with dL/dW_l = (dL/dh_l * phi'(z_l))^T h_{l-1}."""
    grads, hs = mlp_backward_signal(X, weights, activation, grad_out)
    out = []
    for l, W in enumerate(weights, start=1):
        _, slope = _phi(hs[l - 1] @ W.T, activation)
        out.append(np.linalg.norm((grads[l] * slope).T @ hs[l - 1]))
    return np.array(out)


def random_mlp_weights(depth, width, std, rng):
    """``depth`` square (width, width) Gaussian weights with the given standard
    deviation."""
    if not (isinstance(depth, int) and depth >= 1
            and isinstance(width, int) and width >= 1):
        raise ValueError(
            f"depth and width must be positive ints, got {depth!r}, {width!r}")
    return [rng.normal(0.0, std, size=(width, width)) for _ in range(depth)]
# --8<-- [end:numpy]


# --8<-- [start:torch]
def backward_signal_norms_torch(blocks, X: torch.Tensor,
                                grad_out: torch.Tensor | None = None) -> torch.Tensor:
    """||dL/dh_l|| after each block of ``blocks`` (any modules: Linear+act, norm,
    residual...).

    Each block's output is kept in the graph with ``retain_grad``; one backward pass of
    the upstream gradient ``grad_out`` (default: ones) fills every ``h.grad``.
    """
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError("X must be a floating-point torch.Tensor")
    blocks = list(blocks)
    if not blocks or not all(isinstance(b, torch.nn.Module) for b in blocks):
        raise TypeError("blocks must be a non-empty sequence of torch.nn.Module")
    h, hs = X, []
    for block in blocks:
        h = block(h)
        h.retain_grad()              # keep dL/dh for this non-leaf tensor
        hs.append(h)
    h.backward(torch.ones_like(h) if grad_out is None else grad_out)
    return torch.stack([t.grad.norm() for t in hs]).detach()


class Residual(torch.nn.Module):
    """h + f(h): the identity path adds I to every layer's Jacobian (He et al. 2016)."""

    def __init__(self, f: torch.nn.Module):
        super().__init__()
        self.f = f

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.f(h)


def make_mlp_blocks(depth: int, width: int, activation: torch.nn.Module, init=None,
                    norm: str | None = None, residual: bool = False,
                    dtype=torch.float64):
    """``depth`` blocks Linear(width, width, bias=False) [-> LayerNorm/BatchNorm] ->
    activation.

    ``init(weight)`` re-initialises each weight in place (default: PyTorch's own init).
    """
    if not (isinstance(depth, int) and depth >= 1
            and isinstance(width, int) and width >= 1):
        raise ValueError(
            f"depth and width must be positive ints, got {depth!r}, {width!r}")
    if norm not in (None, "layer", "batch"):
        raise ValueError(f"norm must be None, 'layer' or 'batch', got {norm!r}")
    blocks = []
    for _ in range(depth):
        linear = torch.nn.Linear(width, width, bias=False, dtype=dtype)
        if init is not None:
            with torch.no_grad():
                init(linear.weight)
        layers = [linear]
        if norm == "layer":
            layers.append(torch.nn.LayerNorm(width, dtype=dtype))
        elif norm == "batch":
            layers.append(torch.nn.BatchNorm1d(width, dtype=dtype))
        block = torch.nn.Sequential(*layers, activation)
        blocks.append(Residual(block) if residual else block)
    return blocks
# --8<-- [end:torch]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X, G = rng.standard_normal((256, 64)), rng.standard_normal((256, 64))
    for act, std in [("sigmoid", 1 / 8), ("relu", np.sqrt(2 / 64))]:
        norms = backward_signal_norms(X, random_mlp_weights(30, 64, std, rng), act, G)
        print(act, norms[0] / norms[-1])
