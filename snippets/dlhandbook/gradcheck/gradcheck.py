r"""Gradient checking: compare a hand-written gradient with finite differences.

Centred differences are second-order accurate; one-sided (forward) differences only
first:

$$\frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon}
= \partial_i f(x) + O(\varepsilon^2),
\qquad \frac{f(x + \varepsilon e_i) - f(x)}{\varepsilon}
= \partial_i f(x) + O(\varepsilon).$$

Rounding adds an error of order $u\,|f|/\varepsilon$ ($u \approx 1.1 \times 10^{-16}$ in
float64), so the best step balances the two: about $u^{1/3}$ for centred and $u^{1/2}$
for forward differences. The agreement is measured by the relative error

$$r = \max_i \frac{|g_i - \hat g_i|}{|g_i| + |\hat g_i|}.$$

Reference: Nocedal & Wright (2006), *Numerical Optimization*, 2nd ed., section 8.1.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def numerical_gradient(f, x, eps=1e-5, method="central"):
    """Finite-difference gradient of a scalar function ``f`` at ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored, so ``f`` may ignore
    its argument and read ``x`` through a closure (for example a model's parameter
    array).

    Args:
        f: callable, f(x) -> float.
        x: float ndarray of any shape; the point.
        eps: step size > 0; the default suits centred differences on O(1) inputs in
        float64. method: "central" (2 calls per entry, O(eps^2)) or "forward" (1 + 1 per
        entry, O(eps)).
    Returns:
        float64 array of x's shape.
    """
    if not callable(f):
        raise TypeError("f must be callable")
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("x must be a float numpy array (it is perturbed in place)")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    if method not in ("central", "forward"):
        raise ValueError(f"method must be 'central' or 'forward', got {method!r}")
    grad = np.zeros(x.shape, dtype=np.float64)
    f0 = float(f(x)) if method == "forward" else None
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = float(f(x))
        if method == "central":
            x[idx] = old - eps
            grad[idx] = (f_plus - float(f(x))) / (2 * eps)
        else:
            grad[idx] = (f_plus - f0) / eps
        x[idx] = old                           # restore exactly
    return grad


def relative_error(a, b):
    """max_i |a_i - b_i| / (|a_i| + |b_i|); entries where both are exactly 0 count as
    0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must have the same shape, got {a.shape} and {b.shape}")
    ratio = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-300)
    return float(np.max(ratio, initial=0.0))


def gradient_check(f, grad_f, x, eps=1e-5):
    """Max relative error between ``grad_f(x)`` and the centred-difference gradient of
    ``f``.

    In float64, a correct gradient of a smooth function gives a value many orders of
    magnitude below 1 (the tests require < 1e-6); a real bug (a transpose, a missing
    term) gives a large one.
    """
    analytic = np.asarray(grad_f(x), dtype=np.float64)
    numeric = numerical_gradient(f, x, eps)
    if analytic.shape != numeric.shape:
        raise ValueError(
            f"grad_f(x) must have x's shape {x.shape}, got {analytic.shape}")
    return relative_error(analytic, numeric)
# --8<-- [end:numpy]


# --8<-- [start:torch]
class LogSumExp(torch.autograd.Function):
    """log sum_j exp(x_j) over the last dimension, with a hand-written backward
    (softmax)."""

    @staticmethod
    def forward(ctx, x):
        # shift: exp never overflows
        m = x.amax(dim=-1, keepdim=True)
        out = m.squeeze(-1) + torch.log(torch.exp(x - m).sum(dim=-1))  # (...,)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, out = ctx.saved_tensors
        # d lse / dx_j = softmax_j
        softmax = torch.exp(x - out.unsqueeze(-1))
        return grad_out.unsqueeze(-1) * softmax


def logsumexp(x: torch.Tensor) -> torch.Tensor:
    """LogSumExp over the last dimension of a floating-point tensor."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    return LogSumExp.apply(x)


def check_custom_function(fn, *inputs):
    """torch.autograd.gradcheck in float64 (centred differences against fn's backward).

    Returns True or False instead of raising, so a test can also assert that a bug is
    caught.
    """
    if not callable(fn):
        raise TypeError("fn must be callable")
    inputs = tuple(t.detach().to(torch.float64).requires_grad_() for t in inputs)
    return torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-8, rtol=1e-6,
                                    raise_exception=False)
# --8<-- [end:torch]


if __name__ == "__main__":
    A = np.random.default_rng(0).standard_normal((3, 3))
    x = np.array([0.3, -1.2, 2.0])
    f = lambda v: float(v @ A @ v)                             # noqa: E731
    print("correct:", gradient_check(f, lambda v: (A + A.T) @ v, x))
    print("bug (A instead of A + A.T):", gradient_check(f, lambda v: 2 * A @ v, x))
    print("torch gradcheck:", check_custom_function(logsumexp, torch.randn(4, 5)))
