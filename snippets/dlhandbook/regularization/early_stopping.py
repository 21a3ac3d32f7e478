r"""Early stopping: keep the weights of the best validation epoch, stop when it stalls.

For least squares $L(w) = \tfrac12\lVert Xw - y\rVert^2$ and gradient descent from
$w_0 = 0$ with step $\eta$, write $X^\top X = V \operatorname{diag}(s_i) V^\top$ and
$w^\star$ for the minimum-norm least-squares solution. Then, in the eigenbasis,
$$w_t = V \operatorname{diag}\big(1 - (1-\eta s_i)^t\big) V^\top w^\star, \qquad
w_\lambda^{\mathrm{ridge}} = V \operatorname{diag}\Big(\frac{s_i}{s_i+\lambda}\Big)
V^\top w^\star,$$
so stopping after $t$ steps filters the directions like ridge regression with
$\lambda \approx 1/(\eta t)$: for $0 < \eta s_i \le 1$,
$\frac{s_i}{s_i + 1/(\eta t)} \le 1 - (1-\eta s_i)^t$.

Reference: Prechelt (1998), *Early stopping - but when?*, in Neural Networks: Tricks
of the Trade; Goodfellow, Bengio & Courville (2016), *Deep Learning*, section 7.8.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def gd_filter(s, lr, t):
    """Factor by which t GD steps from zero scale w* along an eigenvalue s."""
    s = _check_eigenvalues(s)
    _check_positive("lr", lr)
    _check_steps(t)
    return 1.0 - (1.0 - lr * s) ** t


def ridge_filter(s, lam):
    """Factor by which ridge regression with strength lam scales w* along s."""
    s = _check_eigenvalues(s)
    _check_positive("lam", lam)
    return s / (s + lam)


def gd_least_squares(X, y, lr, n_steps):
    """Plain GD on 0.5 * ||X w - y||^2 from w = 0; returns all iterates."""
    X, y = _check_xy(X, y)
    _check_positive("lr", lr)
    _check_steps(n_steps)
    w = np.zeros(X.shape[1])
    path = [w]
    for _ in range(n_steps):
        w = w - lr * X.T @ (X @ w - y)           # gradient of 0.5 ||Xw - y||^2
        path.append(w)
    return np.stack(path)                        # (n_steps + 1, d)


def ridge(X, y, lam):
    """Ridge solution: argmin 0.5 * ||X w - y||^2 + 0.5 * lam * ||w||^2."""
    X, y = _check_xy(X, y)
    _check_positive("lam", lam)
    d = X.shape[1]
    return np.linalg.solve(X.T @ X + lam * np.eye(d), X.T @ y)
# --8<-- [end:numpy]


# --8<-- [start:torch]
class EarlyStopping:
    """Stop when the monitored metric has not improved for `patience` checks.

    Call `step(metric, model)` once per epoch; it returns True when training
    should stop. An improvement must beat the best value by more than
    `min_delta`. With `restore_best=True`, `restore(model)` loads the weights
    saved at the best epoch.
    """

    def __init__(self, patience=10, min_delta=0.0, mode="min", restore_best=True):
        _check_patience(patience)
        _check_min_delta(min_delta)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.restore_best = restore_best
        self.best = float("inf") if mode == "min" else -float("inf")
        self.best_epoch = -1      # index of the best call to step()
        self.bad_epochs = 0       # checks since the last improvement
        self.epoch = -1
        self.best_state = None
        self.should_stop = False

    def improved(self, metric):
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric, model=None):
        metric = float(metric)
        self.epoch += 1
        if self.improved(metric):            # NaN never counts as an improvement
            self.best, self.best_epoch, self.bad_epochs = metric, self.epoch, 0
            if model is not None and self.restore_best:
                self.best_state = {k: v.detach().clone()      # a copy, not a view
                                   for k, v in model.state_dict().items()}
        else:
            self.bad_epochs += 1
        self.should_stop = self.bad_epochs >= self.patience
        return self.should_stop

    def restore(self, model):
        if self.best_state is None:
            raise RuntimeError("no weights saved: call step(metric, model) first")
        model.load_state_dict(self.best_state)
        return model
# --8<-- [end:torch]


# --8<-- [start:checks_numpy]
def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value}")


def _check_steps(t):
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
        raise TypeError(f"t must be an int, got {type(t).__name__}")
    if t < 0:
        raise ValueError(f"t must be >= 0, got {t}")


def _check_eigenvalues(s):
    s = np.asarray(s, dtype=np.float64)
    if np.any(~np.isfinite(s)) or np.any(s < 0):
        raise ValueError("s must hold finite eigenvalues >= 0")
    return s


def _check_xy(X, y):
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    return X, y
# --8<-- [end:checks_numpy]


# --8<-- [start:checks_torch]
def _check_patience(patience):
    if isinstance(patience, bool) or not isinstance(patience, int):
        raise TypeError(f"patience must be an int, got {type(patience).__name__}")
    if patience < 1:
        raise ValueError(f"patience must be >= 1, got {patience}")


def _check_min_delta(min_delta):
    if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)):
        raise TypeError(f"min_delta must be a real number, got {min_delta!r}")
    if not 0 <= min_delta < float("inf"):           # also rejects NaN
        raise ValueError(f"min_delta must be >= 0 and finite, got {min_delta}")
# --8<-- [end:checks_torch]


# --8<-- [start:loop]
def fit_with_early_stopping(model, loss_fn, train, val, lr=0.01, max_epochs=5000,
                            patience=100, min_delta=0.0):
    """Full-batch SGD with early stopping; returns the stopper and both curves."""
    (X, y), (X_val, y_val) = train, val
    opt = torch.optim.SGD(model.parameters(), lr=lr, fused=True)
    stopper = EarlyStopping(patience=patience, min_delta=min_delta)
    train_curve, val_curve = [], []
    for _ in range(max_epochs):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        with torch.no_grad():
            val_loss = loss_fn(model(X_val), y_val).item()
        train_curve.append(loss.item())
        val_curve.append(val_loss)
        if stopper.step(val_loss, model):
            break
    stopper.restore(model)                    # the weights of the best epoch
    return stopper, train_curve, val_curve
# --8<-- [end:loop]


if __name__ == "__main__":
    s = np.array([0.1, 1.0, 10.0])
    for t in (10, 100, 1000):
        lam = 1 / (0.05 * t)
        print(t, gd_filter(s, 0.05, t).round(3), ridge_filter(s, lam).round(3))
