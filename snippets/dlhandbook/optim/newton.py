r"""Newton's method: jump to the stationary point of the local quadratic model.

$$J(\theta + \delta) \approx J(\theta) + g^\top \delta
+ \tfrac12\,\delta^\top H \delta, \qquad
H_{ij} = \frac{\partial^2 J}{\partial\theta_i\,\partial\theta_j}, \qquad
\theta_{t+1} = \theta_t - (H + \mu I)^{-1} g .$$

With $\mu = 0$ the step solves a quadratic exactly, in one step, whatever its
conditioning. It goes to the *stationary point* of the model, not to a minimum: where
$H$ has negative eigenvalues (a saddle) the Newton step is attracted to it. Damping
$\mu > 0$ (Levenberg-style) interpolates towards gradient descent with step $1/\mu$.
For $n$ parameters $H$ has $n^2$ entries and solving with it costs $O(n^3)$; a
Hessian-vector product $Hv$ costs a small multiple of a gradient and needs no matrix.

Reference: Nocedal & Wright (2006), *Numerical Optimization*, 2nd ed., ch. 3 (Newton's
method) and 7.1 (Newton steps from Hessian-vector products); Dauphin et al. (2014),
*Identifying and attacking the saddle point problem in high-dimensional non-convex
optimization*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def newton_update(theta, grad, hessian, lr=1.0, damping=0.0):
    """One (damped) Newton step: theta - lr * (H + damping I)^-1 grad.

    hessian is H at theta, (n, n); lr=1 is the pure Newton step; damping >= 0
    is added to the diagonal. Raises LinAlgError if H + damping I is singular.
    """
    theta, grad, H = _check_newton_args(theta, grad, hessian, lr, damping)
    n = theta.shape[0]
    delta = np.linalg.solve(H + damping * np.eye(n), grad)   # solve, never invert
    return theta - lr * delta


def hessian_fd(grad_fn, theta, eps=1e-5):
    """Hessian by central differences of the gradient, then symmetrised.

    Costs 2n gradient calls; error O(eps^2). Use it to check a Hessian.
    """
    if not callable(grad_fn):
        raise TypeError("grad_fn must be callable")
    theta = _as_float_vector("theta", theta)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    n = theta.shape[0]
    H = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = eps
        H[:, j] = (grad_fn(theta + e) - grad_fn(theta - e)) / (2 * eps)  # column j
    return 0.5 * (H + H.T)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _as_float_vector(name, x):
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array, got dtype {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"{name} must be a vector (ndim 1), got shape {x.shape}")
    return x.astype(np.float64)


def _check_newton_args(theta, grad, hessian, lr, damping):
    theta, grad = _as_float_vector("theta", theta), _as_float_vector("grad", grad)
    H = np.asarray(hessian, dtype=np.float64)
    n = theta.shape[0]
    if grad.shape != (n,) or H.shape != (n, n):
        raise ValueError(f"grad must have shape ({n},) and hessian ({n}, {n}); "
                         f"got {grad.shape} and {H.shape}")
    for name, value in (("lr", lr), ("damping", damping)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be positive, got {lr}")
    if not (np.isfinite(damping) and damping >= 0):
        raise ValueError(f"damping must be >= 0, got {damping}")
    return theta, grad, H
# --8<-- [end:checks]


# --8<-- [start:torch]
def hessian(loss_fn, theta):
    """The full Hessian of scalar loss_fn at the 1-D tensor theta, shape (n, n)."""
    _check_theta_tensor(theta)
    return torch.autograd.functional.hessian(loss_fn, theta)


def hvp(loss_fn, theta, v):
    """Hessian-vector product H v by double backward; H is never formed.

    Cost: one gradient with create_graph=True and one more backward pass.
    """
    _check_theta_tensor(theta)
    if not isinstance(v, torch.Tensor) or v.shape != theta.shape:
        raise ValueError(f"v must be a tensor of theta's shape {tuple(theta.shape)}")
    theta = theta.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(theta), theta, create_graph=True)  # keeps graph
    (Hv,) = torch.autograd.grad(g, theta, grad_outputs=v)      # d(g . v)/d theta = H v
    return Hv


def newton_step_torch(loss_fn, theta, damping=0.0):
    """theta - (H + damping I)^-1 g, with g and H from autograd. For small n only."""
    _check_theta_tensor(theta)
    if damping < 0:
        raise ValueError(f"damping must be >= 0, got {damping}")
    theta = theta.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(theta), theta)
    H = hessian(loss_fn, theta.detach())
    eye = torch.eye(theta.numel(), dtype=theta.dtype, device=theta.device)
    return (theta - torch.linalg.solve(H + damping * eye, g)).detach()
# --8<-- [end:torch]


# --8<-- [start:torch_checks]
def _check_theta_tensor(theta):
    if not (isinstance(theta, torch.Tensor) and theta.is_floating_point()
            and theta.ndim == 1):
        raise TypeError("theta must be a 1-D floating-point torch.Tensor")
# --8<-- [end:torch_checks]



if __name__ == "__main__":
    A = np.diag([1.0, 1000.0])                            # condition number 1000
    theta = newton_update(np.array([1.0, 1.0]), A @ np.array([1.0, 1.0]), A)
    print("one Newton step on a quadratic:", theta)       # exactly the minimiser 0
