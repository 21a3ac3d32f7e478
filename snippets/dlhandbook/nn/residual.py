r"""Residual blocks: add a layer's input to its output; gradients then survive depth.

A residual block computes $x_{l+1} = x_l + F_l(x_l)$, a plain block
$x_{l+1} = F_l(x_l)$.
Here $F(x) = W_2\,\mathrm{relu}(W_1 x)$ with square weights. The Jacobian of a residual
block is $I + \partial F/\partial x$, so through $L$ blocks

$$\frac{\partial \mathcal L}{\partial x_l} = \frac{\partial \mathcal L}{\partial x_L}
\prod_{k=l}^{L-1}\Bigl(I + \frac{\partial F_k}{\partial x_k}\Bigr),
\qquad x_L = x_l + \sum_{k=l}^{L-1} F_k(x_k),$$

which keeps an identity term however small each $\partial F_k/\partial x_k$ is, while
the plain network's product of $\partial F_k/\partial x_k$ alone shrinks or grows
geometrically. Pre-norm blocks compute $x + F(\mathrm{LN}(x))$ (GPT-2 onward); post-norm
blocks $\mathrm{LN}(x + F(x))$ (the original Transformer).

Reference: He, Zhang, Ren & Sun (2016), *Deep Residual Learning for Image
Recognition*, CVPR.
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
def init_weights(depth, width, seed=0):
    """depth pairs (W1, W2), uniform(-1/sqrt(width), 1/sqrt(width)) as nn.Linear."""
    _check_depth_width(depth, width)
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(width)
    return [tuple(rng.uniform(-bound, bound, (width, width)) for _ in range(2))
            for _ in range(depth)]


def gradient_norms(weights, x, readout, residual=True):
    """Norm of dL/dx_l for every block input x_l, L = sum(x_L @ readout)."""
    x = _check_inputs(weights, x, readout)
    xs, pre = [x], []
    for W1, W2 in weights:                            # forward, caching inputs
        z = xs[-1] @ W1.T                             # (batch, width)
        F = np.maximum(z, 0.0) @ W2.T
        pre.append(z)
        xs.append(xs[-1] + F if residual else F)
    g = np.broadcast_to(readout, xs[-1].shape).copy()  # dL/dx_L
    norms = [np.linalg.norm(g)]
    for (W1, W2), z in zip(reversed(weights), reversed(pre), strict=True):
        dF = ((g @ W2) * (z > 0)) @ W1                # g times dF/dx
        g = g + dF if residual else dF                # identity path: + g
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])                      # index l: block l's input
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_depth_width(depth, width):
    for name, v in (("depth", depth), ("width", width)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} must be an int, got {type(v).__name__}")
        if v < 1:
            raise ValueError(f"{name} must be positive, got {v}")


def _check_inputs(weights, x, readout):
    if not weights:
        raise ValueError("weights must hold at least one (W1, W2) pair")
    width = weights[0][0].shape[1]
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"x must have shape (batch, {width}), got {x.shape}")
    if np.shape(readout) != (width,):
        raise ValueError(f"readout must have shape ({width},), got {np.shape(readout)}")
    return x
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
class ResidualBlock(nn.Module):
    """x + F(x) (norm=None), x + F(LN(x)) ("pre") or LN(x + F(x)) ("post")."""

    def __init__(self, width, norm=None, residual=True):
        super().__init__()
        if norm not in (None, "pre", "post"):
            raise ValueError(f"norm must be None, 'pre' or 'post', got {norm!r}")
        self.norm_kind, self.residual = norm, residual
        self.fc1 = nn.Linear(width, width, bias=False)
        self.fc2 = nn.Linear(width, width, bias=False)
        self.norm = nn.LayerNorm(width) if norm else nn.Identity()

    def forward(self, x):
        h = self.norm(x) if self.norm_kind == "pre" else x
        out = self.fc2(torch.relu(self.fc1(h)))      # F
        if self.residual:
            out = x + out                            # the shortcut
        return self.norm(out) if self.norm_kind == "post" else out


def plain_block(width):
    """The same layers without the shortcut."""
    return ResidualBlock(width, residual=False)


def gradient_norms_torch(blocks, x, readout):
    """Norm of dL/dx_l for every block input x_l, L = sum(x_L @ readout)."""
    inputs = [x.detach().requires_grad_()]
    for block in blocks:
        inputs.append(block(inputs[-1]))
    loss = (inputs[-1] @ readout).sum()
    grads = torch.autograd.grad(loss, inputs)
    return torch.stack([g.norm() for g in grads])
# --8<-- [end:torch]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x, r = rng.standard_normal((64, 32)), rng.standard_normal(32)
    for residual in (False, True):
        n = gradient_norms(init_weights(50, 32), x, r, residual=residual)
        print(f"residual={residual}: |dL/dx_0| / |dL/dx_50| = {n[0] / n[-1]:.3g}")
