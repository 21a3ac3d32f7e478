r"""An LSTM cell, whose additive cell state lets a gradient survive many time steps.

$$\begin{aligned}
a_t &= x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}, \qquad
(i, f, g, o) = (\sigma, \sigma, \tanh, \sigma)(a_t)\\
c_t &= f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t).
\end{aligned}$$

Along the cell state the step Jacobian has the direct term $\partial c_t/\partial
c_{t-1} \ni \mathrm{diag}(f_t)$: no weight matrix, no squashing derivative. If the
forget gate stays near 1 the gradient is carried almost unchanged; at PyTorch's default
init $f \approx \sigma(0) = 1/2$ and it still halves every step. A forget-gate bias of 1
or more opens the carousel.

Reference: Hochreiter & Schmidhuber (1997), *Long Short-Term Memory*; Gers, Schmidhuber
& Cummins (2000), *Learning to Forget: Continual Prediction with LSTM*; Jozefowicz,
Zaremba & Sutskever (2015), *An Empirical Exploration of Recurrent Network
Architectures*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))               # overflow-free


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, as torch.nn.LSTMCell (gate order i, f, g, o). Returns (h', c').

    Shapes: x (..., D), h and c (..., H), W_ih (4H, D), W_hh (4H, H), b_ih and b_hh
    (4H,).
    """
    H = W_hh.shape[1]
    if W_ih.shape[0] != 4 * H or W_hh.shape[0] != 4 * H:
        raise ValueError(f"W_ih and W_hh must have 4 * H = {4 * H} rows")
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh       # (..., 4H)
    i, f, g, o = np.split(gates, 4, axis=-1)            # each (..., H)
    i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
    c_next = f * c + i * g                              # the additive path
    return o * np.tanh(c_next), c_next
# --8<-- [end:numpy]


# --8<-- [start:torch]
def lstm_cell_torch(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step (h, c) -> (h', c'), the same function as ``torch.nn.LSTMCell``."""
    if not isinstance(state, tuple) or len(state) != 2:
        raise TypeError("state must be a tuple (h, c)")
    h, c = state
    if W_ih.shape[0] != 4 * h.shape[-1] or W_hh.shape != (4 * h.shape[-1], h.shape[-1]):
        raise ValueError(f"W_ih and W_hh must have 4 * H = {4 * h.shape[-1]} rows")
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh       # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)                 # each (B, H)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_next), c_next


@torch.no_grad()
def set_forget_bias_(cell: torch.nn.LSTMCell | torch.nn.LSTM, value: float) -> None:
    """Set the total forget-gate bias (b_ih + b_hh, rows H:2H) of every layer to
    ``value``."""
    if not isinstance(cell, (torch.nn.LSTMCell, torch.nn.LSTM)):
        raise TypeError("cell must be an nn.LSTMCell or nn.LSTM")
    H = cell.hidden_size
    for name, b in cell.named_parameters():
        if name.startswith("bias_ih"):
            b[H:2 * H] = value                          # forget-gate rows
        elif name.startswith("bias_hh"):
            b[H:2 * H] = 0.0
# --8<-- [end:torch]


if __name__ == "__main__":
    cell = torch.nn.LSTMCell(8, 32)
    set_forget_bias_(cell, 3.0)
    print(cell.bias_ih[32:64] + cell.bias_hh[32:64])
