"""Figures and tables for Part II, activation functions (Q6, Q7, Q8)."""

from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlhandbook.activations.elu import elu, elu_grad
from dlhandbook.activations.gelu import gelu, gelu_grad
from dlhandbook.activations.leaky_relu import leaky_relu, leaky_relu_grad
from dlhandbook.activations.relu import relu, relu_grad
from dlhandbook.activations.sigmoid import sigmoid, sigmoid_grad
from dlhandbook.activations.silu import silu, silu_grad
from dlhandbook.activations.softplus import softplus, softplus_grad
from dlhandbook.activations.tanh import tanh, tanh_grad
from dlhandbook.figures import figure, table
from dlhandbook.figures.style import PALETTE
from dlhandbook.networks.polynomial_activation import Square, best_polynomial_mse, fit_regression
from dlhandbook.networks.xor import make_mlp, make_xor, train_classifier

SATURATION = 0.05   # a region is "saturated" where |f'(z)| is below this (a definition, not a measurement)

# name: (f, f', label); leaky ReLU is drawn with slope 0.1 so that the leak is visible
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad, r"sigmoid $\sigma(z)$"),
    "tanh": (tanh, tanh_grad, r"$\tanh(z)$"),
    "relu": (relu, relu_grad, r"ReLU $\max(0,z)$"),
    "leaky_relu": (lambda z: leaky_relu(z, 0.1), lambda z: leaky_relu_grad(z, 0.1),
                   r"leaky ReLU, $\alpha=0.1$"),
    "elu": (elu, elu_grad, r"ELU, $\alpha=1$"),
    "gelu": (gelu, gelu_grad, r"GELU $z\,\Phi(z)$"),
    "silu": (silu, silu_grad, r"SiLU $z\,\sigma(z)$"),
    "softplus": (softplus, softplus_grad, r"softplus $\log(1+e^z)$"),
}


def _shade_saturation(ax, z, dy):
    """Shade the tails where |f'(z)| < SATURATION all the way to the edge of the plot.

    An isolated zero of f' (the minimum of GELU or SiLU) is a turning point, not saturation.
    """
    low = np.abs(dy) < SATURATION
    tail = np.zeros_like(low)
    left = np.argmin(low) if not low.all() else len(low)       # length of the leading run
    right = np.argmin(low[::-1]) if not low.all() else len(low)
    tail[:left] = low[0]
    tail[len(low) - right:] = low[-1]
    # one rectangle per shaded run (light SVG), the same area fill_between(where=tail) covers
    edges = np.flatnonzero(np.diff(np.r_[0, tail.astype(int), 0]))
    label = f"saturated: $|f'| < {SATURATION}$"
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        ax.axvspan(z[start], z[stop - 1], color="#868e96", alpha=0.25, linewidth=0,
                   label=label)
        label = None


@figure("activations-grid")
def grid():
    z = np.linspace(-6, 6, 1201)
    fig, axes = plt.subplots(4, 2, figsize=(5.8, 8.2), sharex=True)
    for ax, (f, df, label) in zip(axes.flat, ACTIVATIONS.values(), strict=True):
        y, dy = f(z), df(z)
        _shade_saturation(ax, z, dy)
        ax.axhline(0, color="#868e96", linewidth=0.8)
        ax.plot(z, y, color=PALETTE[0], label="$f(z)$")
        ax.plot(z, dy, color=PALETTE[1], linestyle="--", label="$f'(z)$")
        ax.set_title(label)
        ax.set_ylim(-1.5, 3)
    for ax in axes[-1]:
        ax.set_xlabel("$z$")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3)
    return fig


@table("activations-properties")
def properties() -> str:
    """f(0), f'(0), the largest derivative on a grid, and the derivative at -10 and +10."""
    z = np.linspace(-10, 10, 20001)
    rows = ["| activation | $f(0)$ | $f'(0)$ | $\\max f'$ on $[-10, 10]$ | $f'(-10)$ | $f'(10)$ |",
            "|---|---|---|---|---|---|"]
    for f, df, label in ACTIVATIONS.values():
        d = df(z)
        rows.append(f"| {label} | {float(f(0.0)):.4g} | {float(df(0.0)):.4g} | {d.max():.4g} "
                    f"| {float(df(-10.0)):.3g} | {float(df(10.0)):.3g} |")
    return "\n".join(rows)


@functools.cache
def _xor_models():
    X, y = make_xor()
    Xt, yt = torch.tensor(X), torch.tensor(y)
    models = {}
    with torch.random.fork_rng():
        for name, act in (("no activation (identity)", nn.Identity), ("ReLU", nn.ReLU)):
            torch.manual_seed(0)
            model = make_mlp([2, 8, 1], act).double()
            accuracy = train_classifier(model, Xt, yt, steps=500, lr=0.05)
            models[name] = (model, accuracy)
    return X, y, models


@figure("activations-xor-regions")
def xor_regions():
    X, y, models = _xor_models()
    g = np.linspace(-0.5, 1.5, 201)
    G1, G2 = np.meshgrid(g, g)
    grid_points = torch.tensor(np.column_stack([G1.ravel(), G2.ravel()]))   # (201 * 201, 2)
    fig, axes = plt.subplots(1, 2, figsize=(5.8, 3.5), sharey=True)
    for ax, (name, (model, accuracy)) in zip(axes, models.items(), strict=True):
        with torch.no_grad():
            p = torch.sigmoid(model(grid_points)).reshape(G1.shape).numpy()   # (201, 201)
        ax.contourf(G1, G2, p > 0.5, levels=[-0.5, 0.5, 1.5], colors=[PALETTE[0], PALETTE[1]], alpha=0.3)
        ax.contour(G1, G2, p, levels=[0.5], colors=["#868e96"], linewidths=1.2)
        for label, marker, color in ((0, "o", PALETTE[0]), (1, "s", PALETTE[1])):
            ax.scatter(*X[y == label].T, marker=marker, s=90, color=color, edgecolor="#868e96",
                       zorder=3, label=f"class {label}")
        ax.set_title(f"{name}\naccuracy {accuracy:.2f}")
        ax.set_xlabel("$x_1$")
        ax.set_xticks([0, 0.5, 1])
        ax.set_aspect("equal")
        ax.grid(False)
    axes[0].set_ylabel("$x_2$")
    fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig


@functools.cache
def _polynomial_fits():
    x = torch.linspace(-1, 1, 101, dtype=torch.float64)
    y = torch.sin(3 * x).abs()
    fits = {}
    with torch.random.fork_rng():
        for name, act in ((r"$\phi(z)=z^2$", Square()), (r"$\phi(z)=\tanh z$", nn.Tanh())):
            torch.manual_seed(0)
            model, mse = fit_regression(act, x, y)
            with torch.no_grad():
                fits[name] = (model(x.unsqueeze(-1)).squeeze(-1).numpy(), mse)
    xn, yn = x.numpy(), y.numpy()
    quad = np.polynomial.polynomial.polyval(xn, np.polynomial.polynomial.polyfit(xn, yn, 2))
    return xn, yn, fits, quad, best_polynomial_mse(xn, yn, 2)


@figure("activations-polynomial-fit")
def polynomial_fit():
    x, y, fits, quad, quad_mse = _polynomial_fits()
    fig, ax = plt.subplots(figsize=(5.8, 4.4))
    ax.plot(x, y, color="#868e96", linewidth=4, alpha=0.6, label=r"target $|\sin 3x|$")
    ax.plot(x, quad, color=PALETTE[2], linestyle=":", linewidth=2.5,
            label=f"best quadratic (least squares), MSE {quad_mse:.3g}")
    for color, (name, (y_hat, mse)) in zip((PALETTE[1], PALETTE[0]), fits.items(), strict=True):
        ax.plot(x, y_hat, color=color, linestyle="--" if "z^2" in name else "-",
                label=f"1-64-1 net, {name}, MSE {mse:.3g}")
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    fig.legend(loc="outside lower center", ncol=1)
    return fig
