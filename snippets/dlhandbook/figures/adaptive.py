"""Figures of Part VII: second-order and adaptive optimizers (Q28-Q32 and the extra pages)."""

from __future__ import annotations

from functools import cache

import matplotlib.pyplot as plt
import numpy as np

from dlhandbook.figures import figure
from dlhandbook.optim.adadelta import adadelta_init, adadelta_update
from dlhandbook.optim.adagrad import adagrad_init, adagrad_update
from dlhandbook.optim.adam import adam_init, adam_update
from dlhandbook.optim.adamw import adamw_init, adamw_update
from dlhandbook.optim.averaging import average_init, ema_update, uniform_update
from dlhandbook.optim.bfgs import bfgs_minimize
from dlhandbook.optim.lbfgs import lbfgs_minimize
from dlhandbook.optim.nesterov import nesterov_init, nesterov_update
from dlhandbook.optim.newton import newton_update
from dlhandbook.optim.rmsprop import rmsprop_init, rmsprop_update

CONTOUR = "#868e96"    # mid grey: readable on the light and the dark background


# ---------------------------------------------------------------- shared helpers

def _run_stateful(init, update, theta0, grad_fn, n_steps, **hyper):
    theta, state = np.array(theta0, dtype=np.float64), init(np.asarray(theta0, dtype=np.float64))
    out = [theta]
    for _ in range(n_steps):
        theta, state = update(theta, grad_fn(theta), state, **hyper)
        out.append(theta)
    return np.stack(out)


def _run_gd(theta0, grad_fn, n_steps, lr, momentum=0.0):
    """Gradient descent, with heavy-ball momentum b <- mu b + g as in torch.optim.SGD."""
    theta, b, out = np.array(theta0, dtype=np.float64), np.zeros(len(theta0)), []
    out.append(theta)
    for _ in range(n_steps):
        b = momentum * b + grad_fn(theta)
        theta = theta - lr * b
        out.append(theta)
    return np.stack(out)


def _rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def _rosenbrock_grad(p):
    return np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2), 200 * (p[1] - p[0] ** 2)])


def _contours(ax, f, xlim, ylim, levels):
    xs, ys = np.linspace(*xlim, 180), np.linspace(*ylim, 180)   # smooth, and a light SVG
    X, Y = np.meshgrid(xs, ys)
    Z = f(np.stack([X, Y]))
    ax.contour(X, Y, Z, levels=levels, colors=CONTOUR, linewidths=0.6, alpha=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.grid(False)


# ---------------------------------------------------------------- trajectories (Q29, Q31)

RAVINE = np.array([1.0, 25.0])          # f = (x^2 + 25 y^2) / 2, condition number 25
METHODS = ("GD", "momentum", "Nesterov", "RMSProp", "Adam")


def _ravine_grad(p):
    return RAVINE * p


def _quartic(P):
    return P[0] ** 2 - P[1] ** 2 + P[1] ** 4 / 4


def _quartic_grad(p):
    return np.array([2 * p[0], -2 * p[1] + p[1] ** 3])


def _five_methods(start, grad_fn, n_steps, lr_gd, lr_mom, lr_rms, lr_adam, alpha=0.9):
    """GD, heavy ball and Nesterov (torch.optim.SGD conventions, momentum 0.9), RMSProp, Adam."""
    return {
        "GD": _run_gd(start, grad_fn, n_steps, lr=lr_gd),
        "momentum": _run_gd(start, grad_fn, n_steps, lr=lr_mom, momentum=0.9),
        "Nesterov": _run_stateful(nesterov_init, nesterov_update, start, grad_fn, n_steps,
                                  lr=lr_mom, momentum=0.9),
        "RMSProp": _run_stateful(rmsprop_init, rmsprop_update, start, grad_fn, n_steps,
                                 lr=lr_rms, alpha=alpha),
        "Adam": _run_stateful(adam_init, adam_update, start, grad_fn, n_steps, lr=lr_adam),
    }


@cache
def _trajectories():
    quad = _five_methods(np.array([-4.0, 1.0]), _ravine_grad, 60, lr_gd=0.075, lr_mom=0.01,
                         lr_rms=0.1, lr_adam=0.3)
    # start almost on the saddle's stable axis: the y-gradient is tiny at first
    saddle = _five_methods(np.array([1.5, 1e-3]), _quartic_grad, 100, lr_gd=0.05, lr_mom=0.01,
                           lr_rms=0.05, lr_adam=0.1)
    rosen = _five_methods(np.array([-1.2, 1.0]), _rosenbrock_grad, 3000, lr_gd=1e-3,
                          lr_mom=2e-4, lr_rms=1e-3, lr_adam=2e-2, alpha=0.99)
    return quad, saddle, rosen


@figure("adaptive-trajectories")
def trajectories():
    quad, saddle, rosen = _trajectories()
    fig, ((a, b), (c, d)) = plt.subplots(2, 2, figsize=(5.8, 7.2))
    _contours(a, lambda P: 0.5 * (RAVINE[0] * P[0] ** 2 + RAVINE[1] * P[1] ** 2), (-4.5, 1.0),
              (-1.5, 1.5), np.geomspace(0.05, 40, 12))
    _contours(b, _quartic, (-1.0, 2.0), (-0.5, 2.0), np.linspace(-1, 3, 17))
    _contours(c, _rosenbrock, (-1.5, 1.5), (-0.5, 1.6), np.geomspace(0.05, 300, 14))
    for ax, paths, marker in ((a, quad, 2), (b, saddle, 2), (c, rosen, 0)):
        for i, name in enumerate(METHODS):
            path = paths[name]
            ax.plot(path[:, 0], path[:, 1], color=f"C{i}", marker="o" if marker else None,
                    markersize=marker, linewidth=1.2, label=name)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
    for i, name in enumerate(METHODS):
        d.semilogy([_rosenbrock(p) for p in rosen[name]], color=f"C{i}", label=name)
    a.plot(0, 0, marker="*", markersize=12, color="#e0a100", linestyle="none")
    b.plot(0, 0, marker="x", markersize=9, color=CONTOUR, linestyle="none")
    b.plot(0, np.sqrt(2), marker="*", markersize=12, color="#e0a100", linestyle="none")
    c.plot(1, 1, marker="*", markersize=12, color="#e0a100", linestyle="none")
    a.set_title(r"ravine $\frac{1}{2}(x^2 + 25y^2)$" "\n60 steps")
    b.set_title(r"saddle $x^2 - y^2 + y^4/4$" "\n" r"from $(1.5, 10^{-3})$, 100 steps")
    c.set_title("Rosenbrock from $(-1.2, 1)$\n3000 steps")
    d.set_title("Rosenbrock:\nloss per step")
    d.set_xlabel("step")
    d.set_ylabel("loss")
    fig.legend(*a.get_legend_handles_labels(), loc="outside lower center", ncol=3)
    return fig


# ---------------------------------------------------------------- AdaGrad step (Q30, AdaGrad)

@cache
def _effective_lr(T=1000):
    """The multiplier each method puts on its gradient term, per unit lr: AdaGrad
    1/(sqrt(G_t) + eps), RMSProp 1/(sqrt(v_t) + eps), Adam 1/(sqrt(v_hat_t) + eps)."""
    noisy = 1.0 + np.random.default_rng(0).standard_normal(T)   # mean 1, std 1
    out = {}
    for kind, grads in (("constant", np.ones(T)), ("noisy", noisy)):
        for name, init, update, hyper in (
            ("AdaGrad", adagrad_init, adagrad_update, {"lr": 0.1}),
            ("RMSProp", rmsprop_init, rmsprop_update, {"lr": 0.1, "alpha": 0.99}),
            ("Adam", adam_init, adam_update, {"lr": 0.1}),
        ):
            theta, state, trace = np.zeros(1), init(np.zeros(1)), []
            for t, g in enumerate(grads, start=1):       # the same gradients for each method
                theta, state = update(theta, np.array([g]), state, **hyper)
                if name == "AdaGrad":
                    trace.append(1 / (np.sqrt(state.G[0]) + 1e-10))
                elif name == "RMSProp":
                    trace.append(1 / (np.sqrt(state.v[0]) + 1e-8))
                else:
                    trace.append(1 / (np.sqrt(state.v[0] / (1 - 0.999**t)) + 1e-8))
            out[(kind, name)] = np.array(trace)
    return out


@figure("adaptive-adagrad-step")
def adagrad_step():
    lrs = _effective_lr()
    t = np.arange(1, 1001)
    fig, axes = plt.subplots(1, 2, figsize=(5.8, 3.9), sharey=True)
    for ax, kind in zip(axes, ("constant", "noisy"), strict=True):
        for name in ("AdaGrad", "RMSProp", "Adam"):
            ax.loglog(t, lrs[(kind, name)], label=name)
        ax.loglog(t, 1 / np.sqrt(t), linestyle=":", linewidth=2.4, color=CONTOUR,
                  label=r"$1/\sqrt{t}$")
        ax.set_xlabel("step $t$")
        ax.set_title(f"{kind} gradient\n" + ("$g = 1$" if kind == "constant" else r"$g \sim N(1, 1)$"))
    axes[0].set_ylabel(r"effective learning rate $\eta_t / \eta$")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4)
    return fig


# ---------------------------------------------------------------- bias correction (Q31)

@figure("adaptive-adam-bias-correction")
def adam_bias_correction():
    T = 100
    t = np.arange(1, T + 1)
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 7.0))
    for bc, label in ((True, "with bias correction"), (False, "without")):
        path = _run_stateful(adam_init, adam_update, np.zeros(1), lambda th: np.ones(1), T,
                             lr=1e-3, bias_correction=bc)
        a.plot(t, -np.diff(path[:, 0]) / 1e-3, marker="o", markersize=2, label=label)
    a.plot(t, (1 - 0.9**t) / np.sqrt(1 - 0.999**t), linestyle="--", color=CONTOUR,
           label=r"$(1-\beta_1^t)/\sqrt{1-\beta_2^t}$")
    a.set_xlabel("step $t$")
    a.set_ylabel(r"$|\Delta\theta_t| / \eta$")
    a.set_title(r"constant gradient, default $\beta_1=0.9,\ \beta_2=0.999$")
    a.legend()
    for g, ls in ((1e-3, "-"), (1.0, "--"), (1e3, ":")):
        for bc, color in ((True, "C0"), (False, "C1")):
            path = _run_stateful(adam_init, adam_update, np.zeros(1),
                                 lambda th, g=g: np.array([g]), 5, lr=1e-3, bias_correction=bc)
            b.plot(np.arange(1, 6), -np.diff(path[:, 0]) / 1e-3, linestyle=ls, color=color,
                   marker="o", markersize=3,
                   label=f"$g = {g:g}$, " + ("corrected" if bc else "uncorrected"))
    b.set_xlabel("step $t$")
    b.set_title("first steps do not depend on the gradient's scale")
    fig.legend(*b.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig


# ---------------------------------------------------------------- Reddi et al. (Q31)

def _reddi(C, amsgrad, n_steps=3000, lr=0.1):
    x, state, xs = np.zeros(1), adam_init(np.zeros(1)), [0.0]
    for t in range(1, n_steps + 1):
        g = np.array([C if t % 3 == 1 else -1.0])
        x, state = adam_update(x, g, state, lr=lr / np.sqrt(t), betas=(0.0, 1 / (1 + C**2)),
                               amsgrad=amsgrad)
        x = np.clip(x, -1.0, 1.0)
        xs.append(x[0])
    return np.array(xs)


@figure("adaptive-reddi")
def reddi():
    fig, ax = plt.subplots(figsize=(5.8, 3.8))
    for C, ls in ((3.0, "-"), (10.0, "--")):
        ax.plot(_reddi(C, False), color="C1", linestyle=ls, label=f"Adam, C = {C:g}")
        ax.plot(_reddi(C, True), color="C0", linestyle=ls, label=f"AMSGrad, C = {C:g}")
    ax.axhline(-1, color=CONTOUR, linewidth=0.8)
    ax.set_xlabel("step $t$")
    ax.set_ylabel("$x_t$")
    ax.set_title(r"$f_t(x) = Cx$ if $t$ mod 3 = 1, else $-x$, on $[-1, 1]$;" "\n"
                 r"the best point is $x=-1$")
    ax.legend(ncol=2)
    return fig


# ---------------------------------------------------------------- AdamW vs L2 (Q32)

@cache
def _adamw_vs_l2():
    T, lr = 300, 1e-2
    zero = {}
    for lam in (0.01, 0.1):
        zero[("Adam + L2", lam)] = _run_stateful(adam_init, adam_update, np.ones(1),
                                                 lambda th: np.zeros(1), T, lr=lr,
                                                 weight_decay=lam)[:, 0]
        zero[("AdamW", lam)] = _run_stateful(adamw_init, adamw_update, np.ones(1),
                                             lambda th: np.zeros(1), T, lr=lr,
                                             weight_decay=lam)[:, 0]
    rng = np.random.default_rng(0)
    n = 500
    scale = np.r_[np.full(n, 10.0), np.full(n, 0.01)]
    noise = [scale * rng.standard_normal(2 * n) for _ in range(T)]
    groups = {}
    for name, init, update in (("Adam + L2", adam_init, adam_update),
                               ("AdamW", adamw_init, adamw_update)):
        feed = iter(noise)
        path = _run_stateful(init, update, np.ones(2 * n), lambda th, f=feed: next(f), T, lr=lr,
                             weight_decay=1e-2)
        groups[name] = (path[:, :n].mean(axis=1), path[:, n:].mean(axis=1))
    return zero, groups


@figure("adaptive-adamw-vs-l2")
def adamw_vs_l2():
    zero, groups = _adamw_vs_l2()
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 7.6))
    for (name, lam), w in zero.items():
        a.plot(w, color="C1" if name == "Adam + L2" else "C0",
               linestyle="-" if lam == 0.01 else "--", label=rf"{name}, $\lambda = {lam:g}$")
    a.set_xlabel("step $t$")
    a.set_ylabel("weight")
    a.set_title(r"zero data gradient, $\eta = 10^{-2}$")
    a.legend()
    for name, (ga, gb) in groups.items():
        color = "C1" if name == "Adam + L2" else "C0"
        b.plot(ga, color=color, label=f"{name}: noisy weights (grad std 10)")
        b.plot(gb, color=color, linestyle="--", label=f"{name}: quiet weights (grad std 0.01)")
    b.set_xlabel("step $t$")
    b.set_ylabel("mean weight of the group")
    b.set_title(r"pure-noise gradients, $\lambda = 10^{-2}$")
    fig.legend(*b.get_legend_handles_labels(), loc="outside lower center")
    return fig


# ---------------------------------------------------------------- Newton at a saddle (Q28)

@figure("adaptive-saddle")
def saddle():
    start = np.array([1.0, 0.5])
    newton = [start]
    for _ in range(6):
        p = newton[-1]
        newton.append(newton_update(p, _quartic_grad(p), np.diag([2.0, -2.0 + 3 * p[1] ** 2])))
    newton = np.stack(newton)
    gd = _run_gd(start, _quartic_grad, 60, lr=0.1)
    fig, ax = plt.subplots(figsize=(5.8, 5.2))
    _contours(ax, _quartic, (-1.5, 1.5), (-2.0, 2.0), np.linspace(-1, 3, 17))
    ax.plot(gd[:, 0], gd[:, 1], marker="o", markersize=3, label="gradient descent, 60 steps")
    ax.plot(newton[:, 0], newton[:, 1], marker="s", markersize=4, label="Newton, 6 steps")
    ax.plot([0, 0, 0], [0, -np.sqrt(2), np.sqrt(2)], marker="x", color=CONTOUR, markersize=9,
            linestyle="none", label="saddle (0, 0) and minima (0, ±√2)")
    ax.set_title(r"$f = x^2 - y^2 + y^4/4$ from (1, 0.5)")
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    fig.legend(loc="outside lower center", ncol=1)
    return fig


@figure("adaptive-newton-vs-gd")
def newton_vs_gd():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    b = rng.standard_normal(10)
    fig, ax = plt.subplots(figsize=(5.8, 4.3))
    for i, kappa in enumerate((10.0, 100.0, 1000.0)):
        A = Q @ np.diag(np.geomspace(1.0, kappa, 10)) @ Q.T
        x_star = np.linalg.solve(A, b)
        x, errs = np.zeros(10), []
        for _ in range(3000):
            errs.append(np.linalg.norm(x - x_star) / np.linalg.norm(x_star))
            x = x - 2 / (1 + kappa) * (A @ x - b)           # best fixed step for GD
        ax.semilogy(errs, color=f"C{i}", label=rf"GD, $\kappa = {kappa:g}$")
        x1 = newton_update(np.zeros(10), -b, A)
        e1 = max(np.linalg.norm(x1 - x_star) / np.linalg.norm(x_star), 1e-16)
        ax.semilogy([0, 1], [1.0, e1], color=f"C{i}", marker="o", linestyle=":")
    ax.plot([], [], color=CONTOUR, marker="o", linestyle=":", label="Newton (dotted): one step")
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"$\|\theta - \theta^*\| / \|\theta^*\|$")
    ax.set_title("10-dimensional quadratic with condition number $\\kappa$")
    ax.set_ylim(1e-17, 2)
    fig.legend(loc="outside lower center", ncol=2)
    return fig


# ---------------------------------------------------------------- rare feature (AdaGrad)

@cache
def _rare_feature():
    rng = np.random.default_rng(0)
    n = 5000
    X = np.column_stack([rng.standard_normal((n, 5)), (rng.random(n) < 0.02).astype(float)])
    w_true = np.r_[0.5 * rng.standard_normal(5), 3.0]
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ w_true))).astype(float)
    # lr 0.3 is AdaGrad's and lr 1 SGD's best training loss on the grid 0.03 ... 10
    # (tests/optim/test_adagrad.py); lr 0.3 for SGD is the equal-rate comparison.
    traces = {}
    for name, lr in (("SGD", 0.3), ("SGD", 1.0), ("AdaGrad", 0.3)):
        order = np.random.default_rng(1)
        w, state, trace = np.zeros(6), adagrad_init(np.zeros(6)), [0.0]
        for _ in range(2):
            perm = order.permutation(n)
            for i in range(0, n, 50):
                idx = perm[i:i + 50]
                g = X[idx].T @ (1 / (1 + np.exp(-X[idx] @ w)) - y[idx]) / len(idx)
                if name == "SGD":
                    w = w - lr * g
                else:
                    w, state = adagrad_update(w, g, state, lr=lr)
                trace.append(w[-1])
        traces[f"{name}, lr {lr:g}"] = np.array(trace)
    return traces


@figure("adaptive-rare-feature")
def rare_feature():
    fig, ax = plt.subplots(figsize=(5.8, 4.2))
    for name, trace in _rare_feature().items():
        ax.plot(trace, label=name)
    ax.axhline(3.0, color=CONTOUR, linestyle="--", linewidth=1, label="true weight")
    ax.set_xlabel("mini-batch step (batch 50, two epochs)")
    ax.set_ylabel("weight of the rare feature")
    ax.set_title("logistic regression; the feature is non-zero\nin 2% of examples")
    fig.legend(loc="outside lower center", ncol=2)
    return fig


# ---------------------------------------------------------------- Adadelta units (Adadelta)

@cache
def _adadelta_units(c=10.0, T=200):
    def grad_x(x):
        return np.array([1.0, 25.0]) * x

    def grad_u(u):
        return c * grad_x(c * u)

    x0 = np.array([1.0, 1.0])
    out = {
        ("Adadelta", "x"): _run_stateful(adadelta_init, adadelta_update, x0, grad_x, T, rho=0.95,
                                         eps=1e-6, eps_delta=1e-6),
        ("Adadelta", "u"): c * _run_stateful(adadelta_init, adadelta_update, x0 / c, grad_u, T,
                                             rho=0.95, eps=1e-6 * c**2, eps_delta=1e-6 / c**2),
        ("RMSProp", "x"): _run_stateful(rmsprop_init, rmsprop_update, x0, grad_x, T, lr=0.01),
        ("RMSProp", "u"): c * _run_stateful(rmsprop_init, rmsprop_update, x0 / c, grad_u, T,
                                            lr=0.01, eps=1e-8 * c**2),
    }
    return {k: v[:, 0] for k, v in out.items()}


@figure("adaptive-adadelta-units")
def adadelta_units():
    fig, ax = plt.subplots(figsize=(5.8, 4.8))
    for (name, unit), x in _adadelta_units().items():
        ax.plot(x, color="C0" if name == "Adadelta" else "C1",
                linestyle="-" if unit == "x" else "--", linewidth=3.0 if unit == "x" else 1.4,
                label=f"{name}, trained in " + ("$x$" if unit == "x" else "$u = x/10$, shown as $10u$"))
    ax.set_xlabel("step $t$")
    ax.set_ylabel("first coordinate $x_t$")
    ax.set_title(r"$\frac{1}{2}(x^2 + 25y^2)$ in two units: only Adadelta's runs coincide")
    fig.legend(loc="outside lower center")
    return fig


# ---------------------------------------------------------------- BFGS and L-BFGS

@cache
def _quasi_newton():
    start = np.array([-1.2, 1.0])
    bfgs = bfgs_minimize(_rosenbrock, _rosenbrock_grad, start, max_iter=200, tol=1e-12)
    lbfgs = lbfgs_minimize(_rosenbrock, _rosenbrock_grad, start, history_size=5,
                           max_iter=200, tol=1e-12).thetas
    gd = _run_gd(start, _rosenbrock_grad, 5000, lr=1e-3)
    newton = [start]
    for _ in range(30):
        p = newton[-1]
        x, y = p
        H = np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])
        newton.append(newton_update(p, _rosenbrock_grad(p), H))
    return {"GD (lr 1e-3)": gd, "Newton (pure)": np.stack(newton), "BFGS": bfgs.thetas,
            "L-BFGS (m = 5)": lbfgs}


@figure("adaptive-bfgs")
def quasi_newton():
    paths = _quasi_newton()
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 7.4))
    for name, path in paths.items():
        f = np.maximum([_rosenbrock(p) for p in path], 1e-30)
        a.semilogy(np.arange(len(f)), f, label=name, marker="o" if len(f) < 100 else None,
                   markersize=2)
        b.plot(path[:, 0], path[:, 1], label=name, linewidth=1.2, marker="o" if len(f) < 100
               else None, markersize=2)
    a.set_xscale("symlog", linthresh=10)
    a.set_xlabel("iteration")
    a.set_ylabel("loss")
    a.set_title("Rosenbrock from (-1.2, 1)")
    a.legend()
    _contours(b, _rosenbrock, (-1.5, 1.5), (-0.5, 1.6), np.geomspace(0.05, 300, 14))
    b.plot(1, 1, marker="*", markersize=12, color="#e0a100", linestyle="none")
    b.set_xlabel("$x$")
    b.set_ylabel("$y$")
    b.set_title("paths")
    return fig


# ---------------------------------------------------------------- weight averaging

@cache
def _averaging(T=3000, start=500):
    rng = np.random.default_rng(0)
    theta, thetas = np.array([2.0, 2.0]), []
    for _ in range(T):
        theta = theta - 0.1 * (np.array([1.0, 4.0]) * theta + rng.standard_normal(2))
        thetas.append(theta)
    thetas = np.stack(thetas)
    ema = unif = average_init(thetas[start])
    ema_path, unif_path = [ema.theta_avg], [unif.theta_avg]
    for th in thetas[start + 1:]:
        ema, unif = ema_update(ema, th, 0.99), uniform_update(unif, th)
        ema_path.append(ema.theta_avg)
        unif_path.append(unif.theta_avg)
    return thetas, np.stack(ema_path), np.stack(unif_path)


@figure("adaptive-averaging")
def averaging():
    thetas, ema, unif = _averaging()
    start = len(thetas) - len(ema)

    def f(P):
        return 0.5 * (P[..., 0] ** 2 + 4 * P[..., 1] ** 2)

    fig, (a, b) = plt.subplots(2, 1, figsize=(5.8, 7.4))
    a.scatter(thetas[start:, 0], thetas[start:, 1], s=2, alpha=0.35, color="C7",
              label="SGD iterates", rasterized=True)   # 2500 dots: an image is lighter
    a.plot(ema[:, 0], ema[:, 1], linewidth=1.0, color="C1", label="EMA (0.99)")
    a.plot(unif[:, 0], unif[:, 1], linewidth=1.4, color="C0", label="uniform average")
    a.plot(0, 0, marker="*", markersize=12, color="#e0a100", linestyle="none")
    a.set_xlabel(r"$\theta_1$")
    a.set_ylabel(r"$\theta_2$")
    a.set_title(r"SGD on $\frac{1}{2}(\theta_1^2 + 4\theta_2^2)$, noisy gradients, constant step")
    a.legend(loc="upper right", markerscale=4)
    t = np.arange(start, len(thetas))
    b.semilogy(t, f(thetas[start:]), color="C7", linewidth=0.6, label="last iterate")
    b.semilogy(t, f(ema), color="C1", label="EMA (0.99)")
    b.semilogy(t, f(unif), color="C0", label="uniform average")
    b.set_xlabel("step")
    b.set_ylabel("loss")
    b.set_title("loss of what you would evaluate")
    b.legend()
    return fig
