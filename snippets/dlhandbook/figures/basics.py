"""Figures of Part I: the neuron, the perceptron, width and depth (Q1-Q5, perceptron page)."""

from __future__ import annotations

from functools import cache

import matplotlib.pyplot as plt
import numpy as np

from dlhandbook.basics.approximation import (
    count_linear_pieces,
    interpolating_relu_net,
    one_hidden_layer,
    sawtooth,
)
from dlhandbook.basics.perceptron import perceptron_train
from dlhandbook.figures import figure
from dlhandbook.figures.style import PALETTE

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([-1, 1, 1, -1])


XOR_ORDER = [1, 2, 0, 3]   # (0,1), (1,0), (0,0), (1,1): a cycle that never passes w = 0


def _separable_points(seed: int = 5, n: int = 40):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (4 * n, 2))
    score = X @ np.array([1.0, -1.5]) + 0.2
    keep = np.abs(score) / np.linalg.norm([1.0, -1.5, 0.2]) > 0.05
    return X[keep][:n], np.sign(score[keep][:n])


def _line(ax, w, b, lim, **kw):
    """Draw w.x + b = 0 inside the square [-lim, lim]^2 (nothing if w = 0)."""
    if np.allclose(w, 0):
        return
    t = np.linspace(-lim, lim, 2)
    if abs(w[1]) > abs(w[0]):
        ax.plot(t, -(w[0] * t + b) / w[1], **kw)
    else:
        ax.plot(-(w[1] * t + b) / w[0], t, **kw)


def _scatter(ax, X, y):
    ax.scatter(*X[y > 0].T, s=22, color=PALETTE[0], marker="o", label="$y=+1$", zorder=3)
    ax.scatter(*X[y < 0].T, s=26, color=PALETTE[1], marker="x", label="$y=-1$", zorder=3)


EPOCHS = 25


@figure("basics-perceptron")
def perceptron_updates():
    X, y = _separable_points()
    run = perceptron_train(X, y, max_epochs=100)
    xor = perceptron_train(XOR_X[XOR_ORDER], XOR_Y[XOR_ORDER], max_epochs=EPOCHS)
    fig = plt.figure(figsize=(5.8, 5.6))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.25, 1])
    ax, ax2 = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    ax3 = fig.add_subplot(grid[1, :])
    _scatter(ax, X, y)
    n = len(run.history)
    for i, (w, b) in enumerate(run.history[:-1]):
        _line(ax, w, b, 1.0, color=PALETTE[7], alpha=0.25 + 0.5 * i / n, linewidth=1.0)
    _line(ax, run.w, run.b, 1.0, color=PALETTE[2], linewidth=2.2)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_aspect("equal")
    ax.set_title(f"separable: {run.n_updates} updates")
    _scatter(ax2, XOR_X, XOR_Y)
    for i, (w, b) in enumerate(xor.history[-4:]):
        _line(ax2, w, b, 2.0, color=PALETTE[2 + i], linewidth=1.6,
              linestyle=("-", "--", "-.", ":")[i], label=f"update {i + 1}")
    ax2.set_xlim(-1.3, 1.7)
    ax2.set_ylim(-1.3, 1.7)
    ax2.set_aspect("equal")
    ax2.set_title("XOR: 4 boundaries, repeating")
    epochs = np.arange(1, EPOCHS + 1)
    sep = np.zeros(EPOCHS)
    sep[:len(run.mistakes)] = run.mistakes
    ax3.step(epochs, sep, where="mid", color=PALETTE[2], label="separable (40 points)")
    ax3.step(epochs, xor.mistakes, where="mid", color=PALETTE[4], linestyle="--",
             label="XOR (4 points)")
    ax3.set_xlabel("epoch")
    ax3.set_ylabel("mistakes")
    ax3.legend(loc="upper right")
    return fig


@figure("basics-sawtooth")
def sawtooth_pieces():
    x = np.linspace(0.0, 1.0, 2**12 + 1)
    depths = np.arange(1, 9)
    pieces = [count_linear_pieces(x, sawtooth(x, k)) for k in depths]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.1))
    for i, k in enumerate((1, 2, 3)):
        ax.plot(x, sawtooth(x, k), color=PALETTE[i], linewidth=1.5, label=f"$k={k}$")
    ax.set_xlabel("$x$")
    ax.set_title("tent map composed $k$ times")
    ax.legend(loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.02), handlelength=1.0,
              columnspacing=0.8)
    ax.set_ylim(-0.25, 1.05)
    ax2.semilogy(depths, pieces, "o-", color=PALETTE[0], label="pieces (measured)")
    ax2.semilogy(depths, 2 * depths, "s--", color=PALETTE[2], markersize=4,
                 label="units, deep")
    ax2.semilogy(depths, np.array(pieces) - 1, "^:", color=PALETTE[1], markersize=4,
                 label="units, 1 layer (min)")
    ax2.set_xlabel("depth $k$")
    ax2.set_title("count")
    ax2.legend(loc="upper left", handlelength=1.4)
    return fig


@cache
def _width_errors():
    x = np.linspace(0.0, 1.0, 2**12 + 1)
    widths = np.array([1, 2, 4, 8, 16, 32, 64, 128])
    errors = [np.abs(one_hidden_layer(x, *interpolating_relu_net(_target, int(m)))
                     - _target(x)).max() for m in widths]
    return widths, np.array(errors)


def _target(x):
    return np.sin(2 * np.pi * x)


@figure("basics-width")
def width_fits():
    x = np.linspace(0.0, 1.0, 2**10 + 1)
    widths, errors = _width_errors()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.1))
    ax.plot(x, _target(x), color=PALETTE[7], linewidth=3.0, alpha=0.6, label="target")
    for i, m in enumerate((3, 6, 12)):
        ax.plot(x, one_hidden_layer(x, *interpolating_relu_net(_target, m)),
                color=PALETTE[i], linewidth=1.4, label=f"{m} units")
    ax.set_xlabel("$x$")
    ax.set_title(r"fits of $\sin 2\pi x$")
    ax.legend(loc="lower left", handlelength=1.2, labelspacing=0.2)
    ax2.loglog(widths[1:], errors[1:], "o-", color=PALETTE[0], label="max error")
    ax2.loglog(widths[1:], (2 * np.pi) ** 2 / (8 * widths[1:] ** 2), "--", color=PALETTE[1],
               label=r"$h^2 \max|f''|/8$")
    ax2.set_xlabel("width $m$")
    ax2.set_title("error vs width")
    ax2.legend(loc="lower left")
    return fig


@figure("basics-neuron")
def neuron_boundary():
    """A sigmoid neuron's output over the plane, with and without its bias."""
    from dlhandbook.basics.neuron import neuron

    g = np.linspace(-2.0, 2.0, 161)
    G1, G2 = np.meshgrid(g, g)
    grid = np.stack([G1.ravel(), G2.ravel()], axis=1)
    w = np.array([3.0, -2.0])
    fig, axes = plt.subplots(1, 2, figsize=(5.8, 3.2), sharey=True)
    for ax, b in zip(axes, (1.0, 0.0), strict=True):
        a = neuron(grid, w, b, "sigmoid").reshape(G1.shape)
        mesh = ax.pcolormesh(G1, G2, a, cmap="RdBu_r", vmin=0, vmax=1, shading="auto",
                             rasterized=True, alpha=0.75)
        _line(ax, w, b, 2.0, color="black", linewidth=1.8)
        foot = -b * w / (w @ w)                  # the point of the boundary nearest 0
        ax.annotate("", xy=foot + 0.25 * w, xytext=foot,
                    arrowprops={"arrowstyle": "->", "linewidth": 1.6, "color": "black"})
        ax.plot([0], [0], "k+", markersize=9)
        ax.set_xlim(-2, 2)
        ax.set_ylim(-2, 2)
        ax.set_aspect("equal")
        ax.grid(False)
        ax.set_xlabel("$x_1$")
        ax.set_title(f"$b = {b:g}$")
    axes[0].set_ylabel("$x_2$")
    fig.colorbar(mesh, ax=axes, shrink=0.8, label=r"$\sigma(w^\top x + b)$")
    return fig


@figure("basics-architecture")
def architecture_diagram():
    """A fully connected network drawn from its layer sizes, with each weight's shape."""
    from dlhandbook.basics.architecture import count_params, layer_shapes

    sizes = [3, 4, 4, 2]
    names = ["input $x$", "hidden 1", "hidden 2", r"output $\hat y$"]
    fig, ax = plt.subplots(figsize=(5.8, 2.9))
    xs = np.arange(len(sizes)) * 2.8
    pos = [[(x, (n - 1) / 2 - i) for i in range(n)] for x, n in zip(xs, sizes, strict=True)]
    for l in range(len(sizes) - 1):
        for a in pos[l]:
            for b in pos[l + 1]:
                ax.plot([a[0], b[0]], [a[1], b[1]], color=PALETTE[7], linewidth=0.8, alpha=0.7)
    colors = [PALETTE[7], PALETTE[0], PALETTE[0], PALETTE[2]]
    for layer, color in zip(pos, colors, strict=True):
        for x, y in layer:
            ax.add_patch(plt.Circle((x, y), 0.2, facecolor=color, edgecolor="none", zorder=3))
    top = max(sizes) / 2
    for x, name in zip(xs, names, strict=True):
        ax.text(x, top + 0.05, name, ha="center", va="bottom")
    for l, ((w_shape, _), x) in enumerate(zip(layer_shapes(sizes, 1), xs[:-1], strict=True), 1):
        ax.text(x + 1.4, -top - 0.05, f"$W_{l}$: {w_shape[0]}×{w_shape[1]}", ha="center",
                va="top")
    ax.set_title(f"widths {sizes}: {count_params(sizes)} parameters", pad=22)
    ax.set_xlim(-0.5, xs[-1] + 0.5)
    ax.set_ylim(-top - 0.7, top + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


@cache
def _representation_runs():
    """Held-out accuracies and decision maps of the four models (circles, checkerboard)."""
    import torch

    from dlhandbook.basics.representation import (
        accuracy,
        fit_logistic,
        fourier_features,
        make_checkerboard,
        make_circles,
        radius_feature,
        train_mlp_classifier,
    )

    def mlp(X, y, steps):
        with torch.random.fork_rng():
            predict = train_mlp_classifier(torch.from_numpy(X), torch.from_numpy(y), width=32,
                                           steps=steps, lr=0.01, seed=0)
        return lambda Z: predict(torch.from_numpy(Z)).numpy()

    runs = {}
    X, y = make_circles(400, seed=0)
    Xt, yt = make_circles(400, seed=100)
    g = np.linspace(-1.6, 1.6, 121)
    G = np.stack([a.ravel() for a in np.meshgrid(g, g)], axis=1)
    raw, radial, net = fit_logistic(X, y), fit_logistic(radius_feature(X), y), mlp(X, y, 500)
    runs["circles"] = (X, y, g, {
        "linear on $(x_1, x_2)$": (accuracy(raw(Xt), yt), raw(G)),
        "linear on $x_1^2 + x_2^2$": (accuracy(radial(radius_feature(Xt)), yt),
                                       radial(radius_feature(G))),
        "2-32-1 network": (accuracy(net(Xt), yt), net(G)),
    })
    X, y = make_checkerboard(300, seed=0)
    Xt, yt = make_checkerboard(2000, seed=100)
    g = np.linspace(0.0, 1.0, 121)
    G = np.stack([a.ravel() for a in np.meshgrid(g, g)], axis=1)
    four, net = fit_logistic(fourier_features(X), y), mlp(X, y, 1000)
    runs["checkerboard"] = (X, y, g, {
        "linear on 16 sine products": (accuracy(four(fourier_features(Xt)), yt),
                                       four(fourier_features(G))),
        "2-32-1 network": (accuracy(net(Xt), yt), net(G)),
    })
    return runs


@figure("basics-representation")
def representation():
    runs = _representation_runs()
    fig, axes = plt.subplots(2, 2, figsize=(5.8, 6.0))
    panels = [("circles", "linear on $(x_1, x_2)$"), ("circles", "2-32-1 network"),
              ("checkerboard", "linear on 16 sine products"), ("checkerboard", "2-32-1 network")]
    for ax, (task, model) in zip(axes.flat, panels, strict=True):
        X, y, g, results = runs[task]
        acc, labels = results[model]
        ax.pcolormesh(g, g, labels.reshape(len(g), len(g)), cmap="RdBu_r", vmin=-3, vmax=3,
                      shading="auto", rasterized=True)
        ax.scatter(*X[y > 0].T, s=5, color=PALETTE[1], linewidths=0)
        ax.scatter(*X[y < 0].T, s=5, color=PALETTE[0], linewidths=0)
        if task == "circles" and model == "2-32-1 network":
            radial = results["linear on $x_1^2 + x_2^2$"][1].reshape(len(g), len(g))
            ax.contour(g, g, radial, levels=[0], colors="black", linestyles="--", linewidths=1.2)
        ax.set_title(f"{model}\nheld-out accuracy {acc:.2f}")
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    return fig
