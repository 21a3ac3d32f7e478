r"""Sharpness: the largest eigenvalue of the Hessian of the loss, by power iteration.

Power iteration repeats $v \leftarrow Hv / \lVert Hv\rVert$; the Rayleigh quotient
$\lambda = v^\top H v$ converges to the eigenvalue of largest magnitude. At a minimum
$H$ is (nearly) positive semi-definite, so that eigenvalue is the sharpness
$\lambda_{\max}$; away from a minimum it can be a negative eigenvalue. A network never
needs $H$ itself, only Hessian-vector products, which double backward gives at the cost
of about two gradients:

$$Hv = \nabla_\theta\big(\nabla_\theta L(\theta)^\top v\big).$$

For gradient descent at learning rate $\eta$, a quadratic with $\lambda_{\max} > 2/\eta$
diverges along the top eigenvector, so a run that keeps decreasing its loss sits at
$\lambda_{\max}\lesssim 2/\eta$ (the edge of stability).

Reference: Pearlmutter (1994), *Fast Exact Multiplication by the Hessian*; Keskar,
Mudigere, Nocedal, Smelyanskiy & Tang (2017), *On Large-Batch Training for Deep
Learning: Generalization Gap and Sharp Minima*; Cohen, Kaur, Li, Kolter & Talwalkar
(2021), *Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def power_iteration(H, iters=100, seed=0):
    """Eigenvalue of largest magnitude of a symmetric H, and its unit eigenvector.

    It can be negative: away from a minimum, check its sign before calling it sharpness.
    """
    H = _check_symmetric(H, iters)
    v = np.random.default_rng(seed).standard_normal(H.shape[0])
    v /= np.linalg.norm(v)
    eig = 0.0
    for _ in range(iters):
        Hv = H @ v
        eig = float(v @ Hv)  # Rayleigh quotient of the current unit v
        norm = np.linalg.norm(Hv)
        if norm == 0.0:  # v lies in the null space: H v = 0
            return 0.0, v
        v = Hv / norm
    return eig, v
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_symmetric(H, iters):
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix, got shape {H.shape}")
    if not np.allclose(H, H.T):
        raise ValueError("H must be symmetric")
    if not (isinstance(iters, int) and iters >= 1):
        raise ValueError(f"iters must be a positive int, got {iters!r}")
    return H
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def hessian_vector_product(loss_fn, params, vec):
    """H v for the Hessian of loss_fn() with respect to params, by double backward."""
    loss = loss_fn()
    grads = torch.autograd.grad(loss, params, create_graph=True)  # keep grad's graph
    dot = sum((g * v).sum() for g, v in zip(grads, vec, strict=True))
    return torch.autograd.grad(dot, params)  # d/dtheta (grad . v) = H v


def top_hessian_eigenvalue(loss_fn, params, iters=30, seed=0):
    """Largest-magnitude Hessian eigenvalue of loss_fn() at params, by power iteration.

    loss_fn takes no argument and returns a scalar tensor computed from params (the
    whole training set for the sharpness of the training loss). params is a list of
    tensors with requires_grad=True; they are not modified. The result can be negative
    away from a minimum.
    """
    params = _check_hessian_args(loss_fn, params, iters, seed)
    gen = torch.Generator().manual_seed(seed)
    vec = [torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device)
           for p in params]
    norm = torch.sqrt(sum((v * v).sum() for v in vec))
    vec = [v / norm for v in vec]
    eig = 0.0
    for _ in range(iters):
        Hv = hessian_vector_product(loss_fn, params, vec)
        eig = float(sum((h * v).sum() for h, v in zip(Hv, vec, strict=True)))  # v.Hv
        norm = torch.sqrt(sum((h * h).sum() for h in Hv))
        if norm == 0:
            return 0.0
        vec = [h / norm for h in Hv]
    return eig
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_hessian_args(loss_fn, params, iters, seed):
    if not callable(loss_fn):
        raise TypeError("loss_fn must be callable with no argument")
    params = list(params)
    ok = all(isinstance(p, torch.Tensor) and p.requires_grad for p in params)
    if not params or not ok:
        raise TypeError("params must be a non-empty list of tensors with requires_grad")
    if not (isinstance(iters, int) and iters >= 1):
        raise ValueError(f"iters must be a positive int, got {iters!r}")
    if not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return params
# --8<-- [end:checks_torch]


# --8<-- [start:experiment]
def make_two_moons(n=256, noise=0.1, seed=0):
    """Two interleaving half circles in 2-D, labels 0 and 1: X (n, 2), y (n,)."""
    if not (isinstance(n, int) and n >= 2):
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, np.pi, n)
    y = np.arange(n) % 2
    X = np.stack([np.cos(t), np.sin(t)], axis=1)  # (n, 2) upper half circle
    X[y == 1] = np.array([1.0, 0.5]) - X[y == 1]  # second moon: flipped, shifted
    X += noise * rng.standard_normal((n, 2))
    return X, y.astype(np.float64)


def make_mlp(widths=(2, 32, 32, 1), seed=0):
    """A tanh MLP in float64."""
    torch.manual_seed(seed)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(torch.nn.Linear(fan_in, fan_out, dtype=torch.float64))
        if i < len(widths) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def train_sgd(model, X, y, batch_size, lr, max_steps, target=0.0, seed=0):
    """Plain SGD on the logistic loss, batches reshuffled every epoch.

    Stops after the first step at which the loss on the whole training set is <= target,
    or after max_steps; returns that full training loss after every step.
    """
    if not (isinstance(batch_size, int) and 1 <= batch_size <= len(X)):
        raise ValueError(f"batch_size must be in [1, {len(X)}], got {batch_size!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
    X = torch.as_tensor(X, dtype=torch.float64)
    y = torch.as_tensor(y, dtype=torch.float64)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr, fused=True)
    gen = torch.Generator().manual_seed(seed)
    order, start, curve = torch.randperm(len(X), generator=gen), 0, []
    for _ in range(max_steps):
        if start + batch_size > len(X):                          # new epoch: reshuffle
            order, start = torch.randperm(len(X), generator=gen), 0
        idx = order[start:start + batch_size]
        start += batch_size
        opt.zero_grad()
        loss_fn(model(X[idx]).squeeze(-1), y[idx]).backward()
        opt.step()
        with torch.no_grad():
            curve.append(loss_fn(model(X).squeeze(-1), y).item())
        if curve[-1] <= target:
            break
    return curve


def training_sharpness(model, X, y, iters=30, seed=0):
    """Top Hessian eigenvalue of the full training loss of model, and that loss."""
    X = torch.as_tensor(X, dtype=torch.float64)
    y = torch.as_tensor(y, dtype=torch.float64)
    params = list(model.parameters())
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def full_loss():
        return loss_fn(model(X).squeeze(-1), y)

    sharpness = top_hessian_eigenvalue(full_loss, params, iters, seed)
    return sharpness, float(full_loss().detach())
# --8<-- [end:experiment]


if __name__ == "__main__":
    X, y = make_two_moons(256, seed=0)
    lr = 0.5
    for B in (8, 256):
        model = make_mlp(seed=0)
        train_sgd(model, X, y, B, lr, max_steps=4000, target=0.01, seed=0)
        sharp, loss = training_sharpness(model, X, y)
        print(f"B = {B:3d}: training loss {loss:.3f}, sharpness {sharp:.2f}, "
              f"2/lr = {2 / lr:.1f}")
