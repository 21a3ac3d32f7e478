r"""Mini-batches: iterate over them, take per-example gradients, measure gradient noise.

For per-example gradients $g_i$ with mean $G = \frac1N\sum_i g_i$ and covariance
$\Sigma = \frac1N\sum_i (g_i - G)(g_i - G)^\top$, the mean $g_B$ of a batch of $B$
examples drawn uniformly **without** replacement is unbiased, $\mathbb E[g_B] = G$, with

$$\mathbb E\,\lVert g_B - G\rVert^2
= \frac{\operatorname{tr}\Sigma}{B}\cdot\frac{N - B}{N - 1}$$

(drop the last factor when sampling with replacement). The ratio
$B_{\text{noise}} = \operatorname{tr}\Sigma / \lVert G\rVert^2$ is the gradient noise
scale: batches much smaller than it are dominated by noise, batches much larger waste
examples.

Gradient accumulation over $k$ equal micro-batches $\mathcal B_1, \dots, \mathcal B_k$
reproduces the gradient of their union only if each micro-batch's mean loss is divided
by $k$, since $\nabla\frac{1}{kb}\sum_{i}\ell_i = \sum_{j=1}^k \frac1k\,
\nabla\frac1b\sum_{i\in\mathcal B_j}\ell_i$.

Reference: McCandlish, Kaplan, Amodei & OpenAI Dota Team (2018), *An Empirical Model of
Large-Batch Training*; Bottou, Curtis & Nocedal (2018), *Optimization Methods for
Large-Scale Machine Learning*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def iterate_minibatches(n, batch_size, rng=None, shuffle=True, drop_last=False):
    """Yield index arrays that cover range(n) once: one epoch, like a DataLoader.

    With drop_last=False the batches form a partition of range(n); the last one may be
    short.
    """
    _check_epoch(n, batch_size, rng, shuffle)
    order = rng.permutation(n) if shuffle else np.arange(n)  # reshuffled every epoch
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def per_example_grads(X, y, w):
    """Gradients of l_i(w) = 1/2 (x_i . w - y_i)^2, one row per example: (N, d)."""
    X, y, w = _check_linreg(X, y, w)
    residual = X @ w - y  # (N,)
    return residual[:, None] * X  # (N, d): g_i = r_i x_i


def minibatch_grad_variance(per_ex, batch_size, n_draws, rng, replace=False):
    """Monte-Carlo estimate of E ||g_B - G||^2 over n_draws random batches."""
    per_ex = _check_per_ex(per_ex, batch_size)
    if not (isinstance(n_draws, int) and n_draws >= 2):
        raise ValueError(f"n_draws must be an int >= 2, got {n_draws!r}")
    N = per_ex.shape[0]
    G = per_ex.mean(axis=0)
    if replace:
        idx = rng.integers(0, N, size=(n_draws, batch_size))  # (n_draws, B)
    else:
        idx = np.argsort(rng.random((n_draws, N)), axis=1)[:, :batch_size]
    g_B = per_ex[idx].mean(axis=1)  # (n_draws, B, d) -> (n_draws, d)
    return float(np.mean(np.sum((g_B - G) ** 2, axis=1)))


def theoretical_minibatch_variance(per_ex, batch_size, replace=False):
    """tr(Sigma) / B, times (N - B) / (N - 1) without replacement."""
    per_ex = _check_per_ex(per_ex, batch_size)
    N = per_ex.shape[0]
    if N == 1:
        return 0.0
    trace_sigma = np.sum(per_ex.var(axis=0))  # population covariance: divides by N
    factor = 1.0 if replace else (N - batch_size) / (N - 1)
    return float(trace_sigma / batch_size * factor)


def gradient_noise_scale(per_ex):
    """B_noise = tr(Sigma) / ||G||^2 (McCandlish et al. 2018)."""
    per_ex = _check_per_ex(per_ex, 1)
    G = per_ex.mean(axis=0)
    return float(np.sum(per_ex.var(axis=0)) / np.sum(G**2))
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_epoch(n, batch_size, rng, shuffle):
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if shuffle and not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator when shuffle=True")


def _check_linreg(X, y, w):
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],) or w.shape != (X.shape[1],):
        raise ValueError(
            f"need X (N, d), y (N,), w (d,); got {X.shape}, {y.shape}, {w.shape}"
        )
    return X, y, w


def _check_per_ex(per_ex, batch_size):
    per_ex = np.asarray(per_ex, dtype=np.float64)
    if per_ex.ndim != 2:
        raise ValueError(f"per_ex must have shape (N, d), got {per_ex.shape}")
    N = per_ex.shape[0]
    if not (isinstance(batch_size, int) and 1 <= batch_size <= N):
        raise ValueError(f"batch_size must be an int in [1, {N}], got {batch_size!r}")
    return per_ex
# --8<-- [end:checks_numpy]


# --8<-- [start:experiments]
def steps_to_stay_below(X, y, batch_size, lrs, target_fraction, n_steps, seed=0):
    """Least squares by mini-batch SGD from w = 0, one run per learning rate in lrs.

    All runs see the same batches, a DataLoader's: reshuffled every epoch, the short
    remainder dropped. Returns, per lr, the number of steps t after which the excess
    loss J(w) - J(w*) stays at or below target_fraction * (J(0) - J(w*)) up to step
    n_steps; inf where it does not (including runs that diverge).
    """
    X, y, _ = _check_linreg(X, y, np.zeros(np.shape(X)[1]))
    n, d = X.shape
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.ndim != 1 or not np.all(lrs > 0):
        raise ValueError("lrs must be a 1-D array of positive learning rates")
    if not (isinstance(batch_size, int) and 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be an int in [1, n={n}], got {batch_size!r}")
    if not 0 < target_fraction < 1:
        raise ValueError(f"target_fraction must be in (0, 1), got {target_fraction}")
    if not (isinstance(n_steps, int) and n_steps >= 1):
        raise ValueError(f"n_steps must be a positive int, got {n_steps!r}")
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    H, Xty = X.T @ X / n, X.T @ y / n  # H: Hessian of J(w) = 1/(2n) ||X w - y||^2

    def excess(W):  # (..., d) -> (...): J(w) - J(w*) = 1/2 (w - w*)^T H (w - w*)
        D = W - w_star
        return 0.5 * np.sum((D @ H) * D, axis=-1)

    start = excess(np.zeros(d))
    target, blown_up = target_fraction * start, 1e6 * start
    rng = np.random.default_rng(seed)
    k, B, per_epoch = len(lrs), batch_size, n // batch_size
    W = np.zeros((k, d))  # one iterate per learning rate
    last_above = np.zeros(k, dtype=np.int64)  # the last step t with loss above target
    diverged = np.zeros(k, dtype=bool)
    # The loss is checked every `chunk` steps, on the iterates kept since the last
    # check: one vectorised pass instead of a few small NumPy calls per step.
    chunk = 32
    kept = np.empty((chunk, k, d))
    lr = lrs[:, None]
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run may overflow
        for t in range(1, n_steps + 1):
            if B == n:  # every batch is the whole set: the full gradient
                W -= lr * (W @ H - Xty)
            else:
                i = (t - 1) % per_epoch
                if i == 0:  # shuffled once per epoch: each batch is then a view
                    order = rng.permutation(n)
                    X_epoch, y_epoch = X[order], y[order]
                Xb, yb = X_epoch[i * B:(i + 1) * B], y_epoch[i * B:(i + 1) * B]
                W -= lr * ((W @ Xb.T - yb) @ Xb) / B
            kept[(t - 1) % chunk] = W
            if t % chunk == 0 or t == n_steps:
                m = (t - 1) % chunk + 1  # kept[j]: the iterate after step t - m + 1 + j
                e = excess(kept[:m])  # (m, k)
                blown = ~np.all(e < blown_up, axis=0)  # diverging, or nan: stop them
                diverged |= blown
                W[blown] = 0.0
                above = e > target
                last = m - 1 - np.argmax(above[::-1], axis=0)  # per run
                last_above = np.where(above.any(axis=0), t - m + 1 + last, last_above)
    settled = ~diverged & (last_above < n_steps)
    return np.where(settled, last_above + 1.0, np.inf)


def linear_scaling_gap(grad_fn, theta0, batches, lr):
    """How far k small steps are from one large step (the linear scaling rule).

    Runs k SGD steps at lr on the k equal-size batches in turn, and one step at k * lr
    on their union (whose mean gradient at theta0 is the mean of the k batch gradients).
    Returns ||theta_small - theta_large|| / ||theta_large - theta0||, which is O(lr):
    the rule holds while the gradient changes little over the k steps.
    """
    if not callable(grad_fn):
        raise TypeError("grad_fn must be callable")
    if len(batches) < 1 or len({len(b) for b in batches}) != 1:
        raise ValueError("batches must be a non-empty list of equal-size index arrays")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    theta0 = np.array(theta0, dtype=np.float64)
    theta_small = theta0
    for idx in batches:  # k sequential steps, lr each
        theta_small = theta_small - lr * grad_fn(theta_small, idx)
    k = len(batches)
    g_union = np.mean([grad_fn(theta0, idx) for idx in batches], axis=0)
    theta_large = theta0 - k * lr * g_union  # one step, k * lr, batch k * B
    gap = np.linalg.norm(theta_small - theta_large)
    return float(gap / np.linalg.norm(theta_large - theta0))
# --8<-- [end:experiments]


# --8<-- [start:torch]
def per_example_grads_torch(model, loss_fn, X, y):
    """Per-example gradients of loss_fn(model(x_i), y_i) for every parameter at once.

    Returns a dict name -> tensor of shape (N, *param.shape), via torch.func.vmap.
    """
    _check_model(model, X, y)
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss_one(p, x, t):
        x, t = x.unsqueeze(0), t.unsqueeze(0)  # a batch of one: (1, ...)
        y_hat = torch.func.functional_call(model, (p, buffers), (x,))
        return loss_fn(y_hat, t)

    grad_one = torch.func.grad(loss_one)
    return torch.func.vmap(grad_one, in_dims=(None, 0, 0))(params, X, y)
# --8<-- [end:torch]


# --8<-- [start:accumulate]
def accumulated_step(model, loss_fn, optimizer, X, y, accumulation_steps):
    """One optimizer step on the batch (X, y), computed in equal micro-batches.

    loss_fn returns the mean loss of a micro-batch. Each is divided by the number of
    micro-batches, so the gradients that backward() adds up are the gradient of the
    mean loss over the whole batch (without BatchNorm). Returns that mean loss.
    """
    _check_model(model, X, y)
    k = accumulation_steps
    if not (isinstance(k, int) and k >= 1 and len(X) % k == 0):
        raise ValueError(
            f"accumulation_steps must be a positive int dividing len(X)={len(X)}, "
            f"got {k!r}"
        )
    optimizer.zero_grad()
    total = 0.0
    for X_micro, y_micro in zip(X.chunk(k), y.chunk(k), strict=True):  # (B / k, ...)
        loss = loss_fn(model(X_micro), y_micro) / k  # mean over the micro-batch, / k
        loss.backward()  # adds into p.grad: the sum over micro-batches
        total += loss.item()
    optimizer.step()
    return total
# --8<-- [end:accumulate]


# --8<-- [start:checks_torch]
def _check_model(model, X, y):
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)}, {len(y)}")
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4096, 10))
    y = X @ rng.standard_normal(10) + rng.standard_normal(4096)
    per_ex = per_example_grads(X, y, np.zeros(10))
    for B in (1, 16, 256):
        print(B, minibatch_grad_variance(per_ex, B, 500, rng),
              theoretical_minibatch_variance(per_ex, B))
