r"""Gradient clipping: rescale by the global norm (keeps the direction) or clamp each
value.

Clip by norm treats all gradients $g_1, \dots, g_k$ as one vector and shrinks it onto
the ball of radius $c$ only when it is longer than $c$:

$$\lVert g\rVert_p
= \bigl\lVert(\lVert g_1\rVert_p, \dots, \lVert g_k\rVert_p)\bigr\rVert_p,
\qquad
g_i \leftarrow g_i \cdot \min\!\Bigl(1, \frac{c}{\lVert g\rVert_p + 10^{-6}}\Bigr).$$

Clip by value clamps every entry to $[-c, c]$, which changes the direction of $g$.

Reference: Pascanu, Mikolov & Bengio (2013), *On the difficulty of training recurrent
neural networks*.
"""

# --8<-- [start:imports_numpy]
import math

import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:helpers]
def _check_norm_type(norm_type):
    if (isinstance(norm_type, bool) or not isinstance(norm_type, (int, float))
            or not norm_type > 0):
        raise ValueError(
            f"norm_type must be a positive number or inf, got {norm_type!r}")
    return float(norm_type)


def _check_threshold(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)
# --8<-- [end:helpers]


# --8<-- [start:numpy]
def global_grad_norm(grads, norm_type=2.0):
    """The p-norm of all arrays in ``grads`` seen as one vector (``None`` entries are
    skipped)."""
    p = _check_norm_type(norm_type)
    arrays = [g for g in grads if g is not None]
    if any(not isinstance(g, np.ndarray) or not np.issubdtype(g.dtype, np.floating)
           for g in arrays):
        raise TypeError("grads must be a list of floating-point NumPy arrays or None")
    if not arrays:
        return 0.0
    if p == math.inf:
        return float(max(np.max(np.abs(g), initial=0.0) for g in arrays))
    # one norm per array
    norms = np.array([np.sum(np.abs(g) ** p) ** (1 / p) for g in arrays])
    # norm of the norms
    return float(np.sum(norms**p) ** (1 / p))


def clip_grad_norm(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale every array of ``grads`` in place by min(1, max_norm / (total_norm +
    1e-6)).

    Returns the total norm *before* clipping (log it: it is the diagnostic). If it is
    NaN or inf, raise when ``error_if_nonfinite`` is set; otherwise scale anyway, as
    PyTorch does.
    """
    max_norm = _check_threshold(max_norm, "max_norm")
    with np.errstate(over="ignore", invalid="ignore"):
        total_norm = global_grad_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total_norm):
        raise RuntimeError(
            f"the total norm of the gradients is {total_norm}, so it cannot be clipped")
    coef = min(max_norm / (total_norm + 1e-6), 1.0)   # never scales a gradient up
    with np.errstate(invalid="ignore"):               # inf * 0 is nan, as in PyTorch
        for g in grads:
            if g is not None:
                g *= coef
    return total_norm


def clip_grad_value(grads, clip_value):
    """Clamp every entry of every array of ``grads`` to [-clip_value, clip_value], in
    place."""
    clip_value = _check_threshold(clip_value, "clip_value")
    for g in grads:
        if g is not None:
            if not isinstance(g, np.ndarray):
                raise TypeError("grads must be a list of NumPy arrays or None")
            np.clip(g, -clip_value, clip_value, out=g)
# --8<-- [end:numpy]


# --8<-- [start:torch]
def _grads_of(parameters) -> list[torch.Tensor]:
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    if any(not isinstance(p, torch.Tensor) for p in parameters):
        raise TypeError("parameters must be a tensor or an iterable of tensors")
    return [p.grad for p in parameters if p.grad is not None]


@torch.no_grad()
def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> torch.Tensor:
    """Clip the gradients of ``parameters`` by their global ``norm_type``-norm, in
    place.

    Same result as ``torch.nn.utils.clip_grad_norm_``; returns the total norm before
    clipping.
    """
    max_norm = _check_threshold(max_norm, "max_norm")
    p = _check_norm_type(norm_type)
    grads = _grads_of(parameters)
    if not grads:
        return torch.tensor(0.0)
    # One device and dtype: fused kernels. torch._foreach_* are private (torch's own
    # clip_grad_norm_ uses them) and may change between releases; the loop is the
    # public-API fallback and gives the same result.
    fused = len({(g.device, g.dtype) for g in grads}) == 1
    if fused:
        # one norm per tensor, one launch
        norms = torch._foreach_norm(grads, p)
    else:
        norms = [torch.linalg.vector_norm(g, p) for g in grads]
    device = grads[0].device
    total_norm = torch.linalg.vector_norm(torch.stack([n.to(device) for n in norms]), p)
    if error_if_nonfinite and not torch.isfinite(total_norm):
        raise RuntimeError(f"the total norm of the gradients is {total_norm.item()}, "
                           "so it cannot be clipped")
    # stays a tensor: no GPU sync
    coef = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    if fused:
        torch._foreach_mul_(grads, coef)
    else:
        for g in grads:
            g.mul_(coef.to(g.device))
    return total_norm


@torch.no_grad()
def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp the gradients of ``parameters`` to [-clip_value, clip_value], in place."""
    clip_value = _check_threshold(clip_value, "clip_value")
    for g in _grads_of(parameters):
        g.clamp_(min=-clip_value, max=clip_value)
# --8<-- [end:torch]


if __name__ == "__main__":
    grads = [np.array([3.0, 4.0]), None, np.array([12.0])]
    print(clip_grad_norm(grads, max_norm=1.0), grads)   # 13.0, direction kept
