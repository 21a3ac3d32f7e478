r"""Dead ReLU units: a unit whose pre-activation is negative on every input never learns
again.

For $h = \mathrm{relu}(z)$, $z = x w^\top + b$, the gradient reaching the unit's
parameters is

$$\frac{\partial L}{\partial w}
= \sum_i \frac{\partial L}{\partial h_i}\,\mathbf 1[z_i > 0]\,x_i,
\qquad \frac{\partial L}{\partial b}
= \sum_i \frac{\partial L}{\partial h_i}\,\mathbf 1[z_i > 0].$$

If $z_i \le 0$ for every example $i$ both sums are exactly zero, so no gradient step can
move $w$ or $b$ back: the unit is dead. A leaky ReLU keeps slope $\alpha > 0$ there and
can recover. One large update (a high learning rate) can push $b$ far enough down to
kill a unit.

Reference: Lu, Shin, Su & Karniadakis (2020), *Dying ReLU and Initialization: Theory and
Numerical Examples*; Maas, Hannun & Ng (2013), *Rectifier Nonlinearities Improve Neural
Network Acoustic Models* (leaky ReLU).
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def dead_unit_mask(Z):
    """Boolean mask of units (columns of Z, shape (n, units)) with z <= 0 on every
    row."""
    Z = np.asarray(Z)
    if Z.ndim != 2 or Z.shape[0] == 0:
        raise ValueError(
            f"Z must be a non-empty 2-D (n, units) array, got shape {Z.shape}")
    return np.all(Z <= 0, axis=0)


def dead_relu_fraction(X, W, b):
    """Fraction of the units of relu(X W^T + b) that are zero on the whole data set
    X."""
    X, W, b = (np.asarray(a, dtype=np.float64) for a in (X, W, b))
    if (X.ndim != 2 or W.ndim != 2 or W.shape[1] != X.shape[1]
            or b.shape != (W.shape[0],)):
        raise ValueError(f"X (n, d), W (units, d) and b (units,) do not fit: "
                         f"{X.shape}, {W.shape}, {b.shape}")
    return float(dead_unit_mask(X @ W.T + b).mean())      # Z: (n, units)
# --8<-- [end:numpy]


# --8<-- [start:torch]
@torch.no_grad()
def dead_relu_fractions(model: torch.nn.Module, X: torch.Tensor) -> list[float]:
    """For every ``nn.ReLU`` in ``model`` (call order), the fraction of its units that
    output
    zero for every row of ``X``. A unit is dead when its *input* is <= 0 on the whole
    set."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module")
    if not isinstance(X, torch.Tensor) or not X.is_floating_point() or X.shape[0] == 0:
        raise TypeError("X must be a non-empty floating-point torch.Tensor")
    fractions = []

    def record(module, inputs, output):
        z = inputs[0].reshape(inputs[0].shape[0], -1)                # (n, units)
        fractions.append((z <= 0).all(dim=0).double().mean().item())

    relus = [m for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    handles = [m.register_forward_hook(record) for m in relus]
    try:
        model(X)
    finally:
        for handle in handles:
            handle.remove()
    return fractions
# --8<-- [end:torch]


# --8<-- [start:experiment]
def make_moons(n, noise=0.1, seed=0):
    """Two interleaving half circles in 2-D (float64 tensors X (n, 2) and y (n,))."""
    if not (isinstance(n, int) and n > 0):
        raise ValueError(f"n must be a positive int, got {n!r}")
    gen = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=gen, dtype=torch.float64) * torch.pi
    y = (torch.arange(n) % 2).double()
    # (n, 2)
    X = torch.stack([torch.cos(t) - y, torch.sin(t) * (1 - 2 * y) + 0.5 * y], dim=1)
    return X + noise * torch.randn(n, 2, generator=gen, dtype=torch.float64), y


def dead_fraction_after_training(lr, seed, steps=200, width=64, batch_size=32, n=512):
    """Train a 2-width-width-1 ReLU MLP with SGD at ``lr``; return the first hidden
    layer's
    dead fraction on the whole data set before and after training."""
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    X, y = make_moons(n, seed=seed)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, width), torch.nn.ReLU(),
                                torch.nn.Linear(width, width), torch.nn.ReLU(),
                                torch.nn.Linear(width, 1)).double()
    before = dead_relu_fractions(model, X)[0]
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, n, (batch_size,), generator=gen)
        logits = model(X[idx]).squeeze(1)                       # (batch_size,)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return before, dead_relu_fractions(model, X)[0]
# --8<-- [end:experiment]


if __name__ == "__main__":
    for lr in (0.01, 3.0):
        print(lr, dead_fraction_after_training(lr, seed=0))
