r"""A vanilla RNN cell and the product of Jacobians that carries a gradient back through
time.

$$h_t = \tanh(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}),\qquad
\frac{\partial h_T}{\partial x_1} = \Bigl(\prod_{t=T}^{2} \mathrm{diag}(1 -
h_t^2)\,W_{hh}\Bigr)
\mathrm{diag}(1 - h_1^2)\,W_{ih}.$$

Every step multiplies by $\mathrm{diag}(\tanh')W_{hh}$, so the gradient from $T$ steps
back scales roughly like $\rho^T$: for a linear RNN ($h_t = W h_{t-1}$) exactly
$\partial h_T/\partial h_0 = W^T$, whose norm grows like $\rho(W)^T$ (spectral radius);
if the largest singular value of $W$ is below $1/\gamma$ ($\gamma$ bounds $|\phi'|$) it
must vanish.

Reference: Bengio, Simard & Frasconi (1994), *Learning long-term dependencies with
gradient descent is difficult*; Pascanu, Mikolov & Bengio (2013), *On the difficulty of
training recurrent neural networks*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One step h' = phi(x W_ih^T + b_ih + h W_hh^T + b_hh), as torch.nn.RNNCell.

    Shapes: x (..., D), h (..., H), W_ih (H, D), W_hh (H, H), b_ih and b_hh (H,).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    H, D = W_ih.shape
    if W_hh.shape != (H, H) or b_ih.shape != (H,) or b_hh.shape != (H,):
        raise ValueError(
            f"W_hh must be ({H}, {H}) and b_ih, b_hh ({H},) to match W_ih {W_ih.shape}")
    if np.shape(x)[-1] != D or np.shape(h)[-1] != H:
        raise ValueError(
            f"x must end in {D} and h in {H}, got {np.shape(x)} and {np.shape(h)}")
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh          # (..., H)
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


def input_jacobians(xs, h0, W_ih, W_hh, b_ih, b_hh):
    """dh_T/dx_t for t = 1 .. T of a tanh RNN on one sequence: shape (T, H, D).

    Forward, then walk back multiplying the step Jacobians dh_t/dh_{t-1} = diag(1-h_t^2)
    W_hh.
    """
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != W_ih.shape[1]:
        raise ValueError(f"xs must have shape (T, {W_ih.shape[1]}), got {xs.shape}")
    hs, h = [], np.asarray(h0, dtype=np.float64)
    for x in xs:
        h = rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    J = np.eye(W_hh.shape[0])                           # dh_T/dh_T
    out = np.empty((len(xs), W_hh.shape[0], W_ih.shape[1]))
    for t in range(len(xs) - 1, -1, -1):
        D = 1.0 - hs[t] ** 2                            # tanh'(a_t) = 1 - h_t^2, (H,)
        out[t] = (J * D) @ W_ih                         # dh_T/dx_t = J diag(D) W_ih
        J = (J * D) @ W_hh                              # dh_T/dh_{t-1} = J diag(D) W_hh
    return out


def linear_rnn_gradient_norms(W, T):
    """||dh_t/dh_0||_2 = ||W^t||_2 for t = 1 .. T of the linear RNN h_t = W h_{t-1}."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {W.shape}")
    if not (isinstance(T, int) and T >= 1):
        raise ValueError(f"T must be a positive int, got {T!r}")
    P, norms = np.eye(W.shape[0]), []
    for _ in range(T):
        P = W @ P                                       # dh_t/dh_0 = W^t
        norms.append(np.linalg.norm(P, 2))              # largest singular value
    return np.array(norms)
# --8<-- [end:numpy]


# --8<-- [start:torch]
def rnn_cell_torch(x: torch.Tensor, h: torch.Tensor, W_ih: torch.Tensor,
                   W_hh: torch.Tensor,
                   b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One tanh RNN step, the same function as ``torch.nn.RNNCell``."""
    if not all(isinstance(t, torch.Tensor) for t in (x, h, W_ih, W_hh, b_ih, b_hh)):
        raise TypeError("x, h, W_ih, W_hh, b_ih and b_hh must be torch.Tensors")
    if W_hh.shape != (W_ih.shape[0], W_ih.shape[0]) or x.shape[-1] != W_ih.shape[1]:
        raise ValueError(f"W_hh {tuple(W_hh.shape)} and x {tuple(x.shape)} do not fit "
                         f"W_ih {tuple(W_ih.shape)}")
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def input_gradient_norms(cell: torch.nn.Module, xs: torch.Tensor,
                         state=None) -> torch.Tensor:
    """||d(sum h_T)/dx_t|| for t = 1 .. T, for an ``nn.RNNCell``, ``nn.GRUCell`` or
    ``nn.LSTMCell``.

    xs: (T, B, D). Plot the result on a log axis against T - t: a straight line that
    falls is a vanishing gradient; the slope is log of the per-step gain.
    """
    if not isinstance(cell, (torch.nn.RNNCell, torch.nn.GRUCell, torch.nn.LSTMCell)):
        raise TypeError("cell must be an nn.RNNCell, nn.GRUCell or nn.LSTMCell")
    if not isinstance(xs, torch.Tensor) or xs.dim() != 3:
        raise ValueError("xs must be a (T, B, D) tensor")
    xs = xs.detach().requires_grad_(True)
    for x in xs:                                        # x: (B, D)
        state = cell(x, state)
    h_T = state[0] if isinstance(state, tuple) else state   # an LSTM's state is (h, c)
    (grad,) = torch.autograd.grad(h_T.sum(), xs)
    return grad.flatten(1).norm(dim=1)                  # (T, B*D) -> (T,)
# --8<-- [end:torch]


if __name__ == "__main__":
    torch.manual_seed(0)
    norms = input_gradient_norms(torch.nn.RNNCell(8, 32).double(),
                                 torch.randn(100, 1, 8, dtype=torch.float64))
    print(norms[0] / norms[-1])
