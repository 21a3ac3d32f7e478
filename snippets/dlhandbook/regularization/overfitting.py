r"""Overfitting a small regression: capacity, training time and the size of the weights.

A polynomial of degree $p$ in the Legendre basis, $\hat y = \Phi_p(x)\,w$, is fitted to
$n$ noisy samples of $\sin(3x)$ by least squares, $J(w) = \frac{1}{2n}\lVert\Phi w -
y\rVert^2$. Gradient descent from $w_0 = 0$ with step $\eta$ has the closed form

$$w_t = V\,\operatorname{diag}\Bigl(\frac{1 - (1-\eta s_i)^t}{s_i}\Bigr)V^\top
\frac{\Phi^\top y}{n}, \qquad \frac{\Phi^\top\Phi}{n} = V\operatorname{diag}(s)V^\top,$$

so each eigen-direction is learned at its own rate $\eta s_i$: the well-determined
directions first, the noise-fitting ones (small $s_i$) last, while $\lVert w_t\rVert$
grows. For a network with 1-Lipschitz activations,
$\lVert f(x) - f(x')\rVert \le \prod_l \lVert W_l\rVert_2\,\lVert x - x'\rVert$.

Reference: Bishop (2006), *Pattern Recognition and Machine Learning*, §1.1 and §3.2;
Bartlett, Foster & Telgarsky (2017), *Spectrally-normalized margin bounds for neural
networks*, NeurIPS.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def make_data(n, noise=0.3, seed=0):
    """n points x ~ U[-1, 1], y = sin(3x) + noise * N(0, 1)."""
    n = _check_int("n", n)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    return x, np.sin(3 * x) + _check_nonneg("noise", noise) * rng.standard_normal(n)


def polynomial_features(x, degree):
    """Legendre polynomials P_0..P_degree at x: shape (n, degree + 1)."""
    x = np.asarray(x, dtype=np.float64)
    return np.polynomial.legendre.legvander(x, _check_int("degree", degree, low=0))


def fit_polynomial(x, y, degree, lam=0.0):
    """Least squares (lam = 0, minimum norm) or ridge on the features."""
    Phi, y = polynomial_features(x, degree), np.asarray(y, dtype=np.float64)
    if _check_nonneg("lam", lam) == 0:
        return np.linalg.lstsq(Phi, y, rcond=None)[0]
    n, d = Phi.shape
    return np.linalg.solve(Phi.T @ Phi / n + lam * np.eye(d), Phi.T @ y / n)


def mse(x, y, w):
    """Mean squared error of the polynomial with coefficients w."""
    return np.mean((polynomial_features(x, len(w) - 1) @ w - y) ** 2)


def capacity_curve(train, val, degrees, lam=0.0):
    """Train MSE, validation MSE and |w| for each degree: three arrays."""
    rows = []
    for p in degrees:
        w = fit_polynomial(*train, p, lam)
        rows.append((mse(*train, w), mse(*val, w), np.linalg.norm(w)))
    train_mse, val_mse, norm = np.array(rows).T      # (3, len(degrees))
    return train_mse, val_mse, norm


def gd_weights(x, y, degree, steps, lr=None):
    """Weights after t steps of gradient descent from 0, for each t in steps."""
    Phi, y = polynomial_features(x, degree), np.asarray(y, dtype=np.float64)
    n = len(y)
    s, V = np.linalg.eigh(Phi.T @ Phi / n)          # curvature along each direction
    s = np.maximum(s, 0.0)
    lr = 1.0 / s[-1] if lr is None else _check_lr(lr, s[-1])
    rate = np.minimum(lr * s, 1 - 1e-12)            # lr * s = 1: learned in one step
    b = V.T @ (Phi.T @ y / n)                       # the target in the eigenbasis
    out = []
    for t in steps:
        t = _check_int("steps", t, low=0)
        # learned part of each direction, (1 - (1 - lr s)^t) / s, or t * lr if s = 0
        learned = -np.expm1(t * np.log1p(-rate))
        gain = np.where(s > 0, learned / np.where(s > 0, s, 1.0), t * lr)
        out.append(V @ (gain * b))
    return np.array(out)                            # (len(steps), degree + 1)


def time_curve(train, val, degree, steps, lr=None):
    """Train MSE, validation MSE and |w| along gradient descent: three arrays."""
    W = gd_weights(*train, degree, steps, lr)
    return (np.array([mse(*train, w) for w in W]), np.array([mse(*val, w) for w in W]),
            np.linalg.norm(W, axis=1))
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_int(name, value, low=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_lr(lr, s_max):
    if not (0 < lr <= 1.0 / s_max):
        raise ValueError(f"lr must lie in (0, 1/L] = (0, {1.0 / s_max:.4g}], got {lr}")
    return float(lr)


def _check_nonneg(name, value):
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return float(value)
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def lipschitz_upper_bound(model):
    """Product of the spectral norms of the Linear layers of a Sequential.

    A bound on |f(x) - f(x')| / |x - x'| when every other layer is 1-Lipschitz
    (ReLU, tanh, LeakyReLU with slope <= 1).
    """
    layers = _linear_layers(model)
    bound = 1.0
    for layer in layers:
        W = layer.weight.detach()
        W = W.to(torch.promote_types(W.dtype, torch.float32))   # no fp16 svd
        bound *= torch.linalg.matrix_norm(W, ord=2).item()      # largest singular value
    return bound


@torch.no_grad()
def rebalance_(first, second, c):
    """Scale Linear `first` (weight and bias) by c > 0, `second`'s weight by 1/c.

    With a ReLU between them the network computes exactly the same function,
    since relu(c z) = c relu(z), but its weight norm changes.
    """
    if isinstance(c, bool) or not (isinstance(c, (int, float)) and c > 0):
        raise ValueError(f"c must be a number > 0, got {c!r}")
    for name, layer in (("first", first), ("second", second)):
        if not isinstance(layer, torch.nn.Linear):
            raise TypeError(
                f"{name} must be a torch.nn.Linear, got {type(layer).__name__}")
    first.weight.mul_(c)
    if first.bias is not None:
        first.bias.mul_(c)
    second.weight.div_(c)
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _linear_layers(model):
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not layers:
        raise ValueError("model must contain at least one torch.nn.Linear layer")
    return layers
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    train, val = make_data(15, seed=0), make_data(200, seed=1)
    tr, va, norm = capacity_curve(train, val, range(15))
    for p in (1, 3, 9, 14):
        print(f"degree {p:2d}: train {tr[p]:.4f}  val {va[p]:.3g}  |w| {norm[p]:.3g}")
