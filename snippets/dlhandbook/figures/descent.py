"""Figures of Part VI: gradient descent, SGD, momentum, batch size, schedules (Q10-Q27, extras)."""

from __future__ import annotations

from functools import cache

import matplotlib.pyplot as plt
import numpy as np

from dlhandbook.figures import figure
from dlhandbook.optim.gd import gradient_descent
from dlhandbook.optim.minibatch import (
    iterate_minibatches,
    linear_scaling_gap,
    minibatch_grad_variance,
    per_example_grads,
    steps_to_stay_below,
    theoretical_minibatch_variance,
)
from dlhandbook.optim.momentum import momentum_init, momentum_update
from dlhandbook.optim.nesterov import nesterov_init, nesterov_update
from dlhandbook.optim.schedules import (
    cosine_warm_restarts_lr,
    exponential_lr,
    inverse_time_lr,
    linear_warmup_lr,
    step_lr,
)
from dlhandbook.optim.sgd import sgd

CONTOUR = "#868e96"          # mid grey: readable on the light and the dark background
RAVINE = np.diag([1.0, 100.0])
START = np.array([-10.0, 1.0])


def _ravine_loss(P):
    return 0.5 * (RAVINE[0, 0] * P[0] ** 2 + RAVINE[1, 1] * P[1] ** 2)


def _run(init, update, grad_fn, theta0, n_steps, **hyper):
    theta, state, out = np.array(theta0, dtype=np.float64), init(np.asarray(theta0, float)), []
    out.append(theta)
    for _ in range(n_steps):
        theta, state = update(theta, grad_fn(theta), state, **hyper)
        out.append(theta)
    return np.stack(out)


def _linreg(n, d, seed=0, scales=1.0, noise=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * scales
    y = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]

    def grad_fn(w, idx=slice(None)):
        return X[idx].T @ (X[idx] @ w - y[idx]) / len(X[idx])

    def loss(w):
        return 0.5 * np.mean((X @ w - y) ** 2)

    return X, y, w_star, grad_fn, loss


# ---------------------------------------------------------------- trajectories (Q11, Q22, Q24)

@cache
def _ravine_runs(n_steps=300):
    def grad(th):
        return RAVINE @ th

    return {
        "GD, lr = 0.019 (near 2/L)": gradient_descent(grad, START, 0.019, n_steps)[1],
        "heavy ball, lr = 0.01, momentum 0.9": _run(momentum_init, momentum_update, grad, START,
                                                    n_steps, lr=0.01, momentum=0.9),
        "Nesterov, lr = 0.01, momentum 0.9": _run(nesterov_init, nesterov_update, grad, START,
                                                  n_steps, lr=0.01, momentum=0.9),
    }


@figure("descent-trajectories")
def trajectories():
    runs = _ravine_runs()
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 7.6))
    xs, ys = np.linspace(-11, 3, 180), np.linspace(-1.3, 1.3, 180)   # smooth, light SVG
    XX, YY = np.meshgrid(xs, ys)
    a.contour(XX, YY, _ravine_loss(np.stack([XX, YY])), levels=np.geomspace(0.05, 150, 14),
              colors=CONTOUR, linewidths=0.6, alpha=0.8)
    for name, path in runs.items():
        a.plot(path[:80, 0], path[:80, 1], marker="o", markersize=2, linewidth=1.1, label=name)
        b.semilogy(np.maximum(_ravine_loss(path.T), 1e-16), label=name.split(",")[0])
    a.plot(0, 0, marker="*", markersize=12, color="#e0a100", linestyle="none")
    a.set_title(r"ravine $\frac{1}{2}(x^2 + 100\,y^2)$, first 80 steps")
    a.set_xlabel("$x$ (shallow)")
    a.set_ylabel("$y$ (steep)")
    a.grid(False)
    fig.legend(*a.get_legend_handles_labels(), loc="outside lower center")
    b.set_title("loss against step")
    b.set_xlabel("step")
    b.set_ylabel("loss (log scale)")
    b.set_ylim(1e-12, 1e3)
    return fig


@figure("descent-overshoot")
def overshoot():
    runs = _ravine_runs()
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 6.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (name, path), color in zip(list(runs.items())[1:], colors[1:3], strict=True):
        a.plot(path[:150, 0], color=color, label=name)
        b.plot(np.arange(20, 150), path[20:150, 0], color=color, label=name.split(",")[0])
    for ax in (a, b):
        ax.axhline(0, color=CONTOUR, linewidth=1, linestyle="--")
        ax.set_xlabel("step")
    a.set_ylabel("$x$ (shallow coordinate)")
    a.set_title("from $x = -10$ to the minimum at $x = 0$")
    b.set_ylim(-0.6, 2.0)
    b.set_ylabel("$x$")
    b.set_title("zoom: the overshoot past $x = 0$")
    a.legend(loc="lower right")
    return fig


# ---------------------------------------------------------------- learning rates (Q10)

@figure("descent-learning-rates")
def learning_rates():
    L, mu = 10.0, 1.0
    A = np.diag([L, mu])
    settings = [(0.05 / L, "lr = 0.05 / L: too small"), (2 / (L + mu), r"lr = $2/(L + \mu)$: best"),
                (1.9 / L, "lr = 1.9 / L: zig-zags, slower"), (2.05 / L, "lr = 2.05 / L: diverges")]
    fig, ax = plt.subplots(figsize=(5.8, 3.8))
    for lr, label in settings:
        _, traj = gradient_descent(lambda th: A @ th, np.array([1.0, 1.0]), lr, 120)
        ax.semilogy(0.5 * np.einsum("ti,ij,tj->t", traj, A, traj), label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (log scale)")
    ax.set_title(r"gradient descent on $\frac{1}{2}(10x^2 + y^2)$, $L = 10$")
    ax.legend()
    return fig


# ---------------------------------------------------------------- noise ball (Q21, Q22)

NOISE_LRS = (0.005, 0.01, 0.02, 0.04)


@cache
def _noise_ball(n_steps=12_000, record=10):
    X, y, w_star, grad_fn, _ = _linreg(2000, 5)
    curves = {}
    for lr in NOISE_LRS:
        _, traj = sgd(grad_fn, np.zeros(5), len(X), 1, lr, n_steps, seed=1, replace=True,
                      record_every=record)
        curves[lr] = np.sum((traj - w_star) ** 2, axis=1)
    lrs = inverse_time_lr(np.arange(n_steps), 0.04, k=0.02)
    _, traj = sgd(grad_fn, np.zeros(5), len(X), 1, lambda t: lrs[t], n_steps, seed=1,
                  replace=True, record_every=record)
    curves["decay"] = np.sum((traj - w_star) ** 2, axis=1)
    return curves, record


@figure("descent-noise-ball")
def noise_ball():
    curves, record = _noise_ball()
    d = 5
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 7.0))
    steps = np.arange(len(curves["decay"])) * record
    window = 50                                   # running mean over 50 records = 500 steps

    def smooth(c):
        return np.convolve(c, np.ones(window) / window, mode="valid")

    for lr in NOISE_LRS:
        a.semilogy(steps[window - 1:], smooth(curves[lr]), label=f"constant lr = {lr}")
    a.semilogy(steps[window - 1:], smooth(curves["decay"]), linestyle="--",
               label="lr = 0.04 / (1 + 0.02 t)")
    a.set_xlabel("step (batch size 1)")
    a.set_ylabel(r"$\|w_t - w^*\|^2$, running mean (log)")
    a.set_title("SGD on least squares: constant lr stalls, decay converges")
    a.set_ylim(bottom=1e-5)   # room for the legend below the curves
    a.legend(loc="lower left", ncol=2)
    lr_grid = np.geomspace(0.004, 0.05, 50)
    b.loglog(lr_grid, d * lr_grid / (2 - 2 * lr_grid - d * lr_grid), color=CONTOUR,
             linestyle="--", label=r"exact steady state $d\eta/(2-(d+2)\eta)$")
    half = len(steps) // 2
    b.loglog(NOISE_LRS, [curves[lr][half:].mean() for lr in NOISE_LRS], marker="o",
             linestyle="none", label="measured (mean over 2nd half)")
    b.set_xticks(NOISE_LRS, [str(lr) for lr in NOISE_LRS])
    b.minorticks_off()
    b.set_xlabel("learning rate")
    b.set_ylabel(r"stationary $\mathrm{E}\,\|w - w^*\|^2$")
    b.set_title("the noise ball grows in proportion to lr")
    b.legend()
    return fig


# ---------------------------------------------------------------- GD vs SGD (Q23, Q25)

@cache
def _gd_vs_sgd(n=1000, epochs=10):
    X, y, w_star, grad_fn, loss = _linreg(n, 5)
    w0 = np.full(5, 3.0)
    f_star = loss(w_star)
    L = np.linalg.eigvalsh(X.T @ X / n).max()
    out = {}
    _, traj = gradient_descent(grad_fn, w0, 1 / L, epochs)
    out["batch GD (B = N), lr = 1/L"] = (np.arange(epochs + 1) * n, traj)
    for B, lr in ((1, 0.01), (32, 0.1)):
        _, traj = sgd(grad_fn, w0, n, B, lr, epochs * n // B, seed=0, replace=False,
                      record_every=max(1, 20 // B))
        out[f"SGD, B = {B}, lr = {lr}"] = (np.arange(len(traj)) * B * max(1, 20 // B), traj)
    return {k: (ex, np.array([loss(w) - f_star for w in tr])) for k, (ex, tr) in out.items()}


@figure("descent-gd-vs-sgd")
def gd_vs_sgd():
    runs = _gd_vs_sgd()
    fig, ax = plt.subplots(figsize=(5.8, 3.9))
    for name, (examples, excess) in runs.items():
        ax.loglog(examples[1:] / 1000, excess[1:], label=name,
                  marker="o" if "GD (" in name else None, markersize=4)
    ax.set_xlabel("epochs (example gradients / N)")
    ax.set_ylabel("excess loss $J(w) - J(w^*)$")
    ax.set_title("equal compute: SGD is ahead early, GD wins late")
    ax.legend()
    return fig


# ---------------------------------------------------------------- batch size (Q25, Q26, Q27)

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


BATCH_SEEDS = (0, 1, 2)


@cache
def _batch_size_steps():
    """Steps after which the excess loss stays below 2% of the start, lr tuned per B on a
    grid that runs past 2 / lambda_max (the test asserts the best lr is inside it)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1024, 10)) * np.geomspace(1.0, 0.1, 10)
    y = X @ rng.standard_normal(10) + 0.3 * rng.standard_normal(1024)
    lrs = np.geomspace(0.01, 2.5 / np.linalg.eigvalsh(X.T @ X / 1024).max(), 16)
    return {(B, seed): steps_to_stay_below(X, y, B, lrs, 0.02, 4000, seed=seed).min()
            for B in BATCH_SIZES for seed in BATCH_SEEDS}


@figure("descent-batch-size")
def batch_size():
    best = _batch_size_steps()
    B = np.array(BATCH_SIZES)
    runs = np.array([[best[b, s] for b in BATCH_SIZES] for s in BATCH_SEEDS])  # (seeds, B)
    steps = np.median(runs, axis=0)
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 6.6))
    for row in runs:
        a.loglog(B, row, color="C0", alpha=0.3, linewidth=0.8)
    a.loglog(B, steps, marker="o", color="C0", label="median of 3 seeds (lr tuned per B)")
    a.loglog(B, steps[0] / B, color=CONTOUR, linestyle="--", label="perfect scaling, 1/B")
    a.set_ylim(steps.min() / 3, steps[0] * 2)
    a.set_xlabel("batch size B")
    a.set_ylabel("steps until the loss stays below target")
    a.set_title("steps fall with B, then saturate")
    a.legend()
    b.loglog(B, B * steps, marker="o")
    b.set_xlabel("batch size B")
    b.set_ylabel("examples processed = B x steps")
    b.set_title("past the knee, extra examples buy nothing")
    return fig


@cache
def _variance_vs_batch():
    X, y, _, _, _ = _linreg(1024, 10)
    per_ex = per_example_grads(X, y, np.zeros(10))
    sizes = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1000])
    rng = np.random.default_rng(0)
    emp = [minibatch_grad_variance(per_ex, int(B), 1000, rng) for B in sizes]
    return per_ex, sizes, np.array(emp)


@figure("descent-gradient-variance")
def gradient_variance():
    per_ex, sizes, emp = _variance_vs_batch()
    grid = np.unique(np.geomspace(1, 1023, 200).astype(int))
    fig, ax = plt.subplots(figsize=(5.8, 3.9))
    ax.loglog(grid, [theoretical_minibatch_variance(per_ex, int(B), replace=True) for B in grid],
              color=CONTOUR, linestyle="--", label=r"$\mathrm{tr}\,\Sigma / B$ (with replacement)")
    ax.loglog(grid, [theoretical_minibatch_variance(per_ex, int(B)) for B in grid],
              label=r"$\mathrm{tr}\,\Sigma / B \cdot (N - B)/(N - 1)$")
    ax.loglog(sizes, emp, marker="o", linestyle="none", label="measured, without replacement")
    ax.set_xlabel("batch size B  (N = 1024)")
    ax.set_ylabel(r"$\mathrm{E}\,\|g_B - \nabla J\|^2$")
    ax.set_title("mini-batch gradient variance")
    ax.legend()
    return fig


@figure("descent-linear-scaling")
def linear_scaling():
    X, y, _, grad_fn, _ = _linreg(256, 10)
    batches = list(iterate_minibatches(256, 32, np.random.default_rng(0)))
    lrs = np.geomspace(1e-4, 5e-2, 20)
    gaps = [linear_scaling_gap(grad_fn, np.zeros(10), batches, float(lr)) for lr in lrs]
    fig, ax = plt.subplots(figsize=(5.8, 3.6))
    ax.loglog(8 * lrs, gaps, marker="o", markersize=3)
    ax.set_xlabel("large-batch learning rate $8\\eta$")
    ax.set_ylabel("relative gap")
    ax.set_title("8 steps of B = 32 at $\\eta$ vs 1 step of B = 256 at $8\\eta$")
    return fig


# ---------------------------------------------------------------- schedules (extra page)

@figure("descent-schedules")
def schedules():
    t = np.arange(1000)
    lr0 = 0.1
    warm = linear_warmup_lr(t, lr0, total_iters=100, start_factor=0.01)
    cosine = 0.5 * lr0 * (1 + np.cos(np.pi * np.clip(t - 100, 0, 900) / 900))
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 6.4), sharex=True)
    a.plot(t, step_lr(t, lr0, step_size=300, gamma=0.1), label="step (x0.1 every 300)")
    a.plot(t, exponential_lr(t, lr0, gamma=0.996), label="exponential (0.996 per step)")
    a.plot(t, inverse_time_lr(t, lr0, k=0.01), label="1/t: 0.1 / (1 + 0.01 t)")
    a.set_title("decays")
    b.plot(t, cosine_warm_restarts_lr(t, lr0, T_0=100, T_mult=2), label="cosine, warm restarts")
    b.plot(t, np.where(t < 100, warm, cosine), label="linear warm-up, then cosine")
    b.set_title("cycles and warm-up")
    for ax in (a, b):
        ax.set_ylabel("learning rate")
    a.legend()
    fig.legend(*b.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    b.set_xlabel("step")
    return fig


# ---------------------------------------------------------------- sharpness (Q27)

SHARPNESS_LR, SHARPNESS_TARGET, SHARPNESS_SEEDS = 0.5, 0.01, (0, 1, 2)


@cache
def _sharpness_runs():
    """Same lr, init and data; B = 8 and B = 256 both stopped at the same full training loss."""
    from dlhandbook.optim.sharpness import make_mlp, make_two_moons, train_sgd, training_sharpness

    runs = {}
    for seed in SHARPNESS_SEEDS:
        X, y = make_two_moons(256, noise=0.1, seed=seed)
        for B in (8, 256):
            model = make_mlp(seed=seed)
            curve = train_sgd(model, X, y, B, SHARPNESS_LR, max_steps=3000,
                              target=SHARPNESS_TARGET, seed=seed)
            sharp, _ = training_sharpness(model, X, y, iters=30, seed=seed)
            runs[seed, B] = (np.array(curve), sharp)
    return runs


@figure("descent-sharpness")
def sharpness():
    runs = _sharpness_runs()
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 6.8))
    for B, color in [(8, "C0"), (256, "C1")]:
        curve = runs[SHARPNESS_SEEDS[0], B][0]
        a.semilogy(np.arange(1, len(curve) + 1), curve, color=color, linewidth=1,
                   label=f"B = {B}" + (" (full batch)" if B == 256 else ""))
        sharp = [runs[seed, B][1] for seed in SHARPNESS_SEEDS]
        b.plot([str(B)] * len(sharp), sharp, marker="o", linestyle="none", color=color,
               markersize=7, alpha=0.8)
    a.axhline(SHARPNESS_TARGET, color=CONTOUR, linestyle="--", label="target loss, both stop")
    a.set_xlabel("step")
    a.set_ylabel("training loss (all 256 points)")
    a.set_title(f"SGD at lr = {SHARPNESS_LR}, seed {SHARPNESS_SEEDS[0]}")
    a.legend()
    b.axhline(2 / SHARPNESS_LR, color=CONTOUR, linestyle="--", label=r"$2/\eta$ (GD stability)")
    b.set_ylim(0, 2 / SHARPNESS_LR * 1.15)
    b.set_xlabel("batch size B")
    b.set_ylabel(r"sharpness $\lambda_{\max}$ at the target loss")
    b.set_title(f"top Hessian eigenvalue, seeds {', '.join(map(str, SHARPNESS_SEEDS))}")
    b.legend()
    return fig
