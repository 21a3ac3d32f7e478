"""Figures of Part IX on weight penalties and overfitting (Q40, Q45-Q47)."""

from __future__ import annotations

from functools import cache

import matplotlib.pyplot as plt
import numpy as np

from dlhandbook.figures import figure
from dlhandbook.figures.style import PALETTE
from dlhandbook.regularization.overfitting import (
    capacity_curve,
    fit_polynomial,
    make_data,
    mse,
    polynomial_features,
    time_curve,
)
from dlhandbook.regularization.penalties import (
    l1_prox_step,
    l1_subgradient,
    l2_decay_step,
    lasso_ista,
    lasso_lambda_max,
    regularization_path,
    ridge_closed_form,
)

GREY = "#868e96"

# ---- Q46: constraint regions against a quadratic loss ---------------------------------

A_GEOM = np.array([[2.0, 0.9], [0.9, 1.0]])      # Hessian of the data loss
W_STAR = np.array([1.6, 0.6])                    # its unregularised minimiser
LAM_GEOM = 0.8


def _quadratic_as_regression(A, w_star):
    """X, y with X'X/n = A and X'y/n = A w_star (n = 2), so the solvers apply."""
    X = np.sqrt(2.0) * np.linalg.cholesky(A).T     # (2, 2)
    return X, X @ w_star


@cache
def _geometry():
    X, y = _quadratic_as_regression(A_GEOM, W_STAR)
    return {"l1": lasso_ista(X, y, LAM_GEOM, n_iter=2000),
            "l2": ridge_closed_form(X, y, LAM_GEOM)}


def _loss(w1, w2):
    d1, d2 = w1 - W_STAR[0], w2 - W_STAR[1]
    return 0.5 * (A_GEOM[0, 0] * d1 * d1 + 2 * A_GEOM[0, 1] * d1 * d2 + A_GEOM[1, 1] * d2 * d2)


@figure("reg-l1-l2-geometry")
def l1_l2_geometry():
    sol = _geometry()
    g = np.linspace(-1.2, 2.4, 300)
    W1, W2 = np.meshgrid(g, g)
    J = _loss(W1, W2)
    fig, axes = plt.subplots(1, 2, figsize=(5.8, 3.3), sharex=True, sharey=True)
    t = np.linspace(0, 2 * np.pi, 400)
    for ax, kind in zip(axes, ("l1", "l2"), strict=True):
        w = sol[kind]
        level = _loss(*w)
        ax.contour(W1, W2, J, levels=[level / 4, level, 2.5 * level], colors=GREY,
                   linewidths=1.0)
        if kind == "l1":
            r = np.abs(w).sum()
            ax.fill([r, 0, -r, 0], [0, r, 0, -r], color=PALETTE[0], alpha=0.3, lw=0)
            ax.set_title(r"L1: $|w_1|+|w_2|\leq r$")
        else:
            r = np.linalg.norm(w)
            ax.fill(r * np.cos(t), r * np.sin(t), color=PALETTE[1], alpha=0.3, lw=0)
            ax.set_title(r"L2: $w_1^2+w_2^2\leq r^2$")
        ax.plot(*W_STAR, "x", color=PALETTE[3], markersize=8, mew=2, label="unregularised")
        ax.plot(*w, "o", color=PALETTE[6], markersize=7, label="regularised")
        ax.axhline(0, color=GREY, lw=0.8)
        ax.axvline(0, color=GREY, lw=0.8)
        ax.set_aspect("equal")
        ax.set_xlabel("$w_1$")
    axes[0].set_ylabel("$w_2$")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig


# ---- Q46/Q45: regularization paths -------------------------------------------------------

def sparse_regression(seed=0, n=60, d=8, k=3, noise=0.5):
    """y = X w_true + noise; w_true has k non-zeros; features mildly correlated."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    X = Z + 0.5 * Z[:, [0]]                      # every feature shares part of feature 0
    w_true = np.zeros(d)
    w_true[:k] = [2.5, -1.5, 1.0][:k]
    return X, X @ w_true + noise * rng.standard_normal(n), w_true


@cache
def _paths():
    X, y, w_true = sparse_regression()
    lam_max = lasso_lambda_max(X, y)
    lams_l1 = lam_max * np.geomspace(1e-3, 1.0, 40)
    lams_l2 = np.geomspace(1e-2, 1e3, 40)
    return (lams_l1, regularization_path(X, y, lams_l1, "l1", n_iter=300),
            lams_l2, regularization_path(X, y, lams_l2, "l2"), w_true)


@figure("reg-paths")
def paths():
    lams_l1, l1, lams_l2, l2, w_true = _paths()
    fig, axes = plt.subplots(1, 2, figsize=(5.8, 3.3), sharey=True)
    for j in range(l1.shape[1]):
        color = PALETTE[j] if w_true[j] != 0 else GREY
        lw = 1.8 if w_true[j] != 0 else 1.0
        axes[0].semilogx(lams_l1, l1[:, j], color=color, lw=lw)
        axes[1].semilogx(lams_l2, l2[:, j], color=color, lw=lw)
    axes[0].set_title("L1 (lasso)")
    axes[1].set_title("L2 (ridge)")
    axes[0].set_ylabel("weight $w_j$")
    for ax in axes:
        ax.set_xlabel(r"penalty $\lambda$")
        ax.axhline(0, color=GREY, lw=0.8)
    return fig


# ---- Q47: what one step does to a weight --------------------------------------------

LR_STEP, LAM_STEP = 0.1, 1.0


@cache
def _steps():
    w = np.linspace(-0.5, 0.5, 401)
    zero = np.zeros_like(w)
    maps = {"l2": l2_decay_step(w, zero, LR_STEP, LAM_STEP),
            "prox": l1_prox_step(w, zero, LR_STEP, LAM_STEP),
            "sub": w - LR_STEP * l1_subgradient(w, LAM_STEP)}
    T = 12
    traj = {k: [np.array([0.45])] for k in maps}
    for _ in range(T):
        z = np.zeros(1)
        traj["l2"].append(l2_decay_step(traj["l2"][-1], z, LR_STEP, LAM_STEP))
        traj["prox"].append(l1_prox_step(traj["prox"][-1], z, LR_STEP, LAM_STEP))
        s = traj["sub"][-1]
        traj["sub"].append(s - LR_STEP * l1_subgradient(s, LAM_STEP))
    return w, maps, {k: np.concatenate(v) for k, v in traj.items()}


STEP_LABELS = {"l2": "L2 / weight decay", "prox": "L1, proximal step",
               "sub": "L1, subgradient step"}


@figure("reg-update-maps")
def update_maps():
    w, maps, traj = _steps()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.4))
    styles = {"l2": "-", "prox": "-", "sub": ":"}
    for i, k in enumerate(maps):
        ax.plot(w, maps[k], color=PALETTE[i], linestyle=styles[k], label=STEP_LABELS[k])
        ax2.plot(np.arange(len(traj[k])), traj[k], color=PALETTE[i], linestyle=styles[k],
                 marker="o", markersize=3)
    ax.plot(w, w, color=GREY, lw=0.8, linestyle="--")
    ax.set_xlabel("weight before")
    ax.set_ylabel("weight after one step")
    ax.set_title(r"$\eta\lambda = 0.1$, no data gradient")
    ax2.axhline(0, color=GREY, lw=0.8)
    ax2.set_xlabel("step")
    ax2.set_ylabel("weight")
    ax2.set_title("from $w = 0.45$")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig


# ---- Q40: overfitting against capacity and training time -----------------------------

N_TRAIN, MAX_DEGREE = 20, 15


@cache
def _overfitting():
    train, val = make_data(N_TRAIN, seed=0), make_data(200, seed=100)
    degrees = np.arange(MAX_DEGREE + 1)
    steps = [int(t) for t in np.unique(np.geomspace(1, 1e8, 60).astype(np.int64))]
    lams = np.geomspace(1e-8, 10.0, 19)
    val_by_lam = [mse(*val, fit_polynomial(*train, MAX_DEGREE, lam)) for lam in lams]
    return {"train": train, "val": val, "degrees": degrees,
            "capacity": capacity_curve(train, val, degrees), "steps": np.array(steps),
            "time": time_curve(train, val, MAX_DEGREE, steps),
            "lam": lams[int(np.argmin(val_by_lam))]}


@figure("reg-overfitting-curves")
def overfitting_curves():
    r = _overfitting()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.4))
    tr, va, _ = r["capacity"]
    ax.semilogy(r["degrees"], tr, color=PALETTE[0], marker="o", markersize=3, label="train")
    ax.semilogy(r["degrees"], va, color=PALETTE[1], marker="o", markersize=3,
                label="validation")
    ax.set_xlabel("polynomial degree")
    ax.set_ylabel("mean squared error")
    ax.set_title("capacity (least squares)")
    tr, va, _ = r["time"]
    ax2.loglog(r["steps"], tr, color=PALETTE[0])
    ax2.loglog(r["steps"], va, color=PALETTE[1])
    ax2.axvline(r["steps"][int(np.argmin(va))], color=GREY, linestyle="--", lw=1.0)
    ax2.set_xlabel("gradient-descent step")
    ax2.set_title(f"training time, degree {MAX_DEGREE}")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig


@figure("reg-overfitting-weights")
def overfitting_weights():
    r = _overfitting()
    (x, y), grid = r["train"], np.linspace(-1, 1, 400)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.4))
    fits = {"degree 3": fit_polynomial(x, y, 3),
            f"degree {MAX_DEGREE}": fit_polynomial(x, y, MAX_DEGREE),
            f"degree {MAX_DEGREE}, ridge": fit_polynomial(x, y, MAX_DEGREE, r["lam"])}
    for i, (label, w) in enumerate(fits.items()):
        ax.plot(grid, polynomial_features(grid, len(w) - 1) @ w, color=PALETTE[i + 2],
                label=label, linestyle=":" if "ridge" in label else "-")
    ax.plot(x, y, "o", color=PALETTE[6], markersize=4)
    ax.set_ylim(-2.5, 2.5)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title(f"fits to {N_TRAIN} points")
    _, va, norm = r["time"]
    ax2.loglog(r["steps"], norm, color=PALETTE[4])
    ax2.axvline(r["steps"][int(np.argmin(va))], color=GREY, linestyle="--", lw=1.0)
    ax2.set_xlabel("gradient-descent step")
    ax2.set_ylabel(r"$\|w_t\|$")
    ax2.set_title("weight norm while training")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3)
    return fig


@cache
def _ridge_sweep():
    train, val = make_data(N_TRAIN, seed=0), make_data(200, seed=100)
    lams = np.geomspace(1e-8, 10.0, 37)
    ws = [fit_polynomial(*train, MAX_DEGREE, lam) for lam in lams]
    return (lams, np.array([mse(*train, w) for w in ws]), np.array([mse(*val, w) for w in ws]),
            np.linalg.norm(ws, axis=1))


@figure("reg-ridge-sweep")
def ridge_sweep():
    lams, tr, va, norm = _ridge_sweep()
    best = lams[int(np.argmin(va))]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.4))
    ax.loglog(lams, tr, color=PALETTE[0], label="train")
    ax.loglog(lams, va, color=PALETTE[1], label="validation")
    ax2.loglog(lams, norm, color=PALETTE[4])
    for a in (ax, ax2):
        a.axvline(best, color=GREY, linestyle="--", lw=1.0)
        a.set_xlabel(r"ridge penalty $\lambda$")
    ax.set_ylabel("mean squared error")
    ax.set_title(f"degree {MAX_DEGREE}, {N_TRAIN} points")
    ax2.set_ylabel(r"$\|w\|$")
    ax2.set_title("weight norm")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig
