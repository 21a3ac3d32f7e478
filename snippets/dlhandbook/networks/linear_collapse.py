r"""A stack of affine layers with no activation between them is one affine layer.

$$f(x) = W_L(\cdots(W_2(W_1x + b_1) + b_2)\cdots) + b_L = W x + b,\qquad
W = W_L\cdots W_1,\quad b = \sum_{l=1}^{L} W_L\cdots W_{l+1}\,b_l$$

Depth adds no expressive power without a nonlinearity, but it can take some away: the
rank of $W$ is at most the narrowest layer's width, so a bottleneck restricts the map to
a low-rank one.

Reference: Baldi & Hornik (1989), *Neural Networks and Principal Component Analysis:
Learning from Examples Without Local Minima*.
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
def collapse_linear_layers(weights, biases):
    """Fold affine layers y = W_l x + b_l (applied in order) into a single (W, b).

    Args:
        weights: sequence of 2-D arrays; weights[l] has shape (out_l, in_l), as in
        nn.Linear. biases: sequence of 1-D arrays; biases[l] has shape (out_l,).
    Returns:
        (W, b) with W of shape (out_L, in_1) and b of shape (out_L,), such that
        x @ W.T + b equals the stack applied to x.
    """
    if isinstance(weights, np.ndarray) or isinstance(biases, np.ndarray):
        raise TypeError("weights and biases must be sequences of arrays, one per layer")
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    biases = [np.asarray(b, dtype=np.float64) for b in biases]
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError(f"weights and biases must be non-empty and of equal length, "
                         f"got {len(weights)} and {len(biases)}")
    if weights[0].ndim != 2:
        raise ValueError(f"weights[0] must be 2-D, got shape {weights[0].shape}")
    W = np.eye(weights[0].shape[1])                      # the empty stack: x -> x
    b = np.zeros(weights[0].shape[1])
    for l, (W_l, b_l) in enumerate(zip(weights, biases, strict=True)):
        if W_l.ndim != 2 or W_l.shape[1] != W.shape[0]:
            raise ValueError(
                f"weights[{l}] must have shape (out, {W.shape[0]}), got {W_l.shape}")
        if b_l.shape != (W_l.shape[0],):
            raise ValueError(
                f"biases[{l}] must have shape ({W_l.shape[0]},), got {b_l.shape}")
        W = W_l @ W                                      # (out_l, in_1)
        b = W_l @ b + b_l                                # (out_l,)
    return W, b
# --8<-- [end:numpy]


# --8<-- [start:torch]
@torch.no_grad()
def collapse_linear_stack(layers) -> nn.Linear:
    """One nn.Linear equal to a stack of nn.Linear layers with nothing in between.

    Args:
        layers: an nn.Sequential or a sequence of nn.Linear modules, applied in order.
    Returns:
        an nn.Linear with in_features of the first layer and out_features of the last.
    """
    layers = list(layers)
    if not layers or not all(isinstance(m, nn.Linear) for m in layers):
        raise TypeError("layers must be a non-empty sequence of nn.Linear modules")
    first = layers[0].weight
    W = torch.eye(first.shape[1], dtype=first.dtype, device=first.device)
    b = torch.zeros(first.shape[1], dtype=first.dtype, device=first.device)
    for l, layer in enumerate(layers):
        if layer.in_features != W.shape[0]:
            raise ValueError(
                f"layers[{l}] expects {layer.in_features} inputs, gets {W.shape[0]}")
        bias = (layer.bias if layer.bias is not None
                else torch.zeros_like(layer.weight[:, 0]))
        W = layer.weight @ W                             # (out_l, in_1)
        b = layer.weight @ b + bias                      # (out_l,)
    out = nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype, device=W.device)
    out.weight.copy_(W)
    out.bias.copy_(b)
    return out
# --8<-- [end:torch]


if __name__ == "__main__":
    torch.manual_seed(0)
    stack = nn.Sequential(nn.Linear(5, 16), nn.Linear(16, 1), nn.Linear(1, 5)).double()
    single = collapse_linear_stack(stack)
    x = torch.randn(3, 5, dtype=torch.float64)
    print((stack(x) - single(x)).abs().max().item(),
          torch.linalg.matrix_rank(single.weight).item())
