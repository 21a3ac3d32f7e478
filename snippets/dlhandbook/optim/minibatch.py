r"""Mini-batches: iterate over them, take per-example gradients, and measure the gradient noise.

For per-example gradients $g_i$ with mean $G = \frac1N\sum_i g_i$ and covariance
$\Sigma = \frac1N\sum_i (g_i - G)(g_i - G)^\top$, the mean $g_B$ of a batch of $B$ examples drawn
uniformly **without** replacement is unbiased, $\mathbb E[g_B] = G$, with

$$\mathbb E\,\lVert g_B - G\rVert^2 = \frac{\operatorname{tr}\Sigma}{B}\cdot\frac{N - B}{N - 1}$$

(drop the last factor when sampling with replacement). The ratio
$B_{\text{noise}} = \operatorname{tr}\Sigma / \lVert G\rVert^2$ is the gradient noise scale:
batches much smaller than it are dominated by noise, batches much larger waste examples.

Reference: McCandlish, Kaplan, Amodei & OpenAI Dota Team (2018), *An Empirical Model of
Large-Batch Training*; Bottou, Curtis & Nocedal (2018), *Optimization Methods for Large-Scale
Machine Learning*.
"""

import numpy as np
import torch


# --8<-- [start:numpy]
def iterate_minibatches(n, batch_size, rng=None, shuffle=True, drop_last=False):
    """Yield index arrays that cover range(n) once: one epoch, like a DataLoader.

    With drop_last=False the batches form a partition of range(n); the last one may be short.
    """
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if shuffle and not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator when shuffle=True")
    order = rng.permutation(n) if shuffle else np.arange(n)   # reshuffled every epoch
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def per_example_grads(X, y, w):
    """Gradients of l_i(w) = 1/2 (x_i . w - y_i)^2, one row per example: shape (N, d)."""
    X, y, w = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), np.asarray(w)
    if X.ndim != 2 or y.shape != (X.shape[0],) or w.shape != (X.shape[1],):
        raise ValueError(f"need X (N, d), y (N,), w (d,); got {X.shape}, {y.shape}, {w.shape}")
    residual = X @ w - y                      # (N,)
    return residual[:, None] * X              # (N, d): g_i = r_i x_i


def minibatch_grad_variance(per_ex, batch_size, n_draws, rng, replace=False):
    """Monte-Carlo estimate of E ||g_B - G||^2 over ``n_draws`` random batches."""
    per_ex = np.asarray(per_ex, dtype=np.float64)
    if per_ex.ndim != 2:
        raise ValueError(f"per_ex must have shape (N, d), got {per_ex.shape}")
    N = per_ex.shape[0]
    if not (isinstance(batch_size, int) and 1 <= batch_size <= N):
        raise ValueError(f"batch_size must be an int in [1, {N}], got {batch_size!r}")
    if not (isinstance(n_draws, int) and n_draws >= 2):
        raise ValueError(f"n_draws must be an int >= 2, got {n_draws!r}")
    G = per_ex.mean(axis=0)
    if replace:
        idx = rng.integers(0, N, size=(n_draws, batch_size))           # (n_draws, B)
    else:
        idx = np.argsort(rng.random((n_draws, N)), axis=1)[:, :batch_size]
    g_B = per_ex[idx].mean(axis=1)            # (n_draws, B, d) -> (n_draws, d)
    return float(np.mean(np.sum((g_B - G) ** 2, axis=1)))


def theoretical_minibatch_variance(per_ex, batch_size, replace=False):
    """tr(Sigma) / B, times (N - B) / (N - 1) without replacement."""
    per_ex = np.asarray(per_ex, dtype=np.float64)
    if per_ex.ndim != 2:
        raise ValueError(f"per_ex must have shape (N, d), got {per_ex.shape}")
    N = per_ex.shape[0]
    if not (isinstance(batch_size, int) and 1 <= batch_size <= N):
        raise ValueError(f"batch_size must be an int in [1, {N}], got {batch_size!r}")
    if N == 1:
        return 0.0
    trace_sigma = np.sum(per_ex.var(axis=0))  # population covariance: divides by N
    factor = 1.0 if replace else (N - batch_size) / (N - 1)
    return float(trace_sigma / batch_size * factor)


def gradient_noise_scale(per_ex):
    """B_noise = tr(Sigma) / ||G||^2 (McCandlish et al. 2018)."""
    per_ex = np.asarray(per_ex, dtype=np.float64)
    if per_ex.ndim != 2:
        raise ValueError(f"per_ex must have shape (N, d), got {per_ex.shape}")
    G = per_ex.mean(axis=0)
    return float(np.sum(per_ex.var(axis=0)) / np.sum(G**2))

def steps_to_target(grad_fn, loss_fn, theta0, n, batch_size, lr, target, max_steps, seed=0):
    """Steps of mini-batch SGD (batches without replacement) until loss_fn(theta) <= target.

    grad_fn(theta, idx) is the mean gradient over examples idx. Returns None if the target is
    not reached within max_steps, or if the run diverges.
    """
    if not (callable(grad_fn) and callable(loss_fn)):
        raise TypeError("grad_fn and loss_fn must be callable")
    if not (isinstance(batch_size, int) and 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be an int in [1, n={n}], got {batch_size!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
    rng = np.random.default_rng(seed)
    theta = np.array(theta0, dtype=np.float64)
    start_loss = loss_fn(theta)
    for t in range(1, max_steps + 1):
        idx = rng.choice(n, size=batch_size, replace=False)
        theta = theta - lr * grad_fn(theta, idx)
        loss = loss_fn(theta)
        if loss <= target:
            return t
        if not loss < 1e6 * start_loss:          # diverging: stop before overflow
            return None
    return None

def linear_scaling_gap(grad_fn, theta0, batches, lr):
    """How far k small steps are from one large step (the linear scaling rule).

    Runs k SGD steps at ``lr`` on the k equal-size ``batches`` in turn, and one step at
    ``k * lr`` on their union (whose mean gradient at theta0 is the mean of the k batch
    gradients). Returns ||theta_small - theta_large|| / ||theta_large - theta0||, which is
    O(lr): the rule holds while the gradient changes little over the k steps.
    """
    if not callable(grad_fn):
        raise TypeError("grad_fn must be callable")
    if len(batches) < 1 or len({len(b) for b in batches}) != 1:
        raise ValueError("batches must be a non-empty list of equal-size index arrays")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    theta0 = np.array(theta0, dtype=np.float64)
    theta_small = theta0
    for idx in batches:                                    # k sequential steps, lr each
        theta_small = theta_small - lr * grad_fn(theta_small, idx)
    k = len(batches)
    g_union = np.mean([grad_fn(theta0, idx) for idx in batches], axis=0)
    theta_large = theta0 - k * lr * g_union                # one step, k * lr, batch k * B
    return float(np.linalg.norm(theta_small - theta_large) / np.linalg.norm(theta_large - theta0))
# --8<-- [end:numpy]


# --8<-- [start:torch]
def per_example_grads_torch(model: torch.nn.Module, loss_fn, X: torch.Tensor,
                            y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-example gradients of ``loss_fn(model(x_i), y_i)`` for every parameter, in one pass.

    Returns a dict name -> tensor of shape (N, *param.shape), via ``torch.func.vmap``.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss_one(p, x, t):
        y_hat = torch.func.functional_call(model, (p, buffers), (x.unsqueeze(0),))  # batch of 1
        return loss_fn(y_hat, t.unsqueeze(0))

    return torch.func.vmap(torch.func.grad(loss_one), in_dims=(None, 0, 0))(params, X, y)
# --8<-- [end:torch]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4096, 10))
    y = X @ rng.standard_normal(10) + rng.standard_normal(4096)
    per_ex = per_example_grads(X, y, np.zeros(10))
    for B in (1, 16, 256):
        print(B, minibatch_grad_variance(per_ex, B, 500, rng),
              theoretical_minibatch_variance(per_ex, B))
