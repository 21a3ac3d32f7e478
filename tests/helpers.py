"""Test helpers shared by the whole suite (importable as ``helpers``).

``assert_matches_torch`` is the one-line oracle: it checks a NumPy function and its hand-written
gradient against a PyTorch reference and autograd, in float64, on the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def assert_matches_torch(
    np_fn: Callable[..., np.ndarray],
    torch_fn: Callable[..., torch.Tensor],
    inputs: Sequence[np.ndarray],
    np_grad_fn: Callable[..., np.ndarray | tuple[np.ndarray, ...]] | None = None,
    atol: float = 1e-12,
    rtol: float = 1e-10,
    grad_atol: float = 1e-12,
    device: torch.device | str = "cpu",
    seed: int = 0,
) -> None:
    """Assert ``np_fn(*inputs) == torch_fn(*tensors)`` and, if given, the gradients agree.

    ``np_grad_fn(*inputs, upstream)`` must return the gradient of ``sum(upstream * np_fn(*inputs))``
    with respect to each input (a tuple when there are several). It is compared with
    ``torch.autograd.grad`` for a random upstream gradient of the output's shape.
    """
    tensors = [torch.tensor(x, dtype=torch.float64, device=device, requires_grad=True) for x in inputs]
    expected = torch_fn(*tensors)
    got = np_fn(*inputs)
    np.testing.assert_allclose(got, to_numpy(expected), atol=atol, rtol=rtol, err_msg="forward")
    if np_grad_fn is None:
        return
    upstream = np.random.default_rng(seed).standard_normal(np.shape(got))
    expected_grads = torch.autograd.grad(
        expected, tensors, grad_outputs=torch.tensor(upstream, device=device), allow_unused=True
    )
    grads = np_grad_fn(*inputs, upstream)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert len(grads) == len(tensors), "np_grad_fn must return one gradient per input"
    for i, (g, e) in enumerate(zip(grads, expected_grads, strict=True)):
        e = np.zeros_like(inputs[i]) if e is None else to_numpy(e)
        np.testing.assert_allclose(g, e, atol=grad_atol, rtol=rtol, err_msg=f"gradient of input {i}")


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, tiny), the cs231n-style relative error."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-300)))


def central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centred finite-difference gradient of scalar ``f`` at ``x`` (float64)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        fp = f(x)
        x[idx] = old - eps
        fm = f(x)
        x[idx] = old
        grad[idx] = (fp - fm) / (2 * eps)
    return grad
