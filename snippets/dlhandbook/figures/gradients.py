"""Figures and the generated table of Part IV: gradient pathologies and their fixes (Q14-Q16, Q36-Q39)."""

from __future__ import annotations

import math
from contextlib import contextmanager
from functools import cache, wraps

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlhandbook.clipping.clip_grad import clip_grad_norm, clip_grad_value
from dlhandbook.diagnostics.activation_stats import activation_stats
from dlhandbook.diagnostics.backward_signal import (
    backward_signal_norms,
    backward_signal_norms_torch,
    make_mlp_blocks,
    random_mlp_weights,
)
from dlhandbook.diagnostics.dead_units import dead_fraction_after_training
from dlhandbook.figures import figure, table
from dlhandbook.rnn.lstm_cell import set_forget_bias_
from dlhandbook.rnn.rnn_cell import input_gradient_norms, linear_rnn_gradient_norms

DEPTH, WIDTH, BATCH = 30, 64, 256


@contextmanager
def _one_thread():
    """Small tensors train far faster on one thread than on several contending ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _experiment(fn):
    """Cache an experiment (each figure is drawn twice) and run it single-threaded."""

    @cache
    @wraps(fn)
    def run():
        with _one_thread():
            return fn()

    return run


# ---------------------------------------------------------------- backward signal (Q14, Q15)

SIGNAL_SETTINGS = [
    ("sigmoid, std $1/\\sqrt{n}$", "sigmoid", 1.0 / math.sqrt(WIDTH)),
    ("tanh, Xavier", "tanh", math.sqrt(2.0 / (2 * WIDTH))),
    ("ReLU, He", "relu", math.sqrt(2.0 / WIDTH)),
    ("ReLU, 0.7 x He", "relu", 0.7 * math.sqrt(2.0 / WIDTH)),
    ("ReLU, 1.5 x He", "relu", 1.5 * math.sqrt(2.0 / WIDTH)),
]


@_experiment
def _signal_curves():
    out = []
    for label, act, std in SIGNAL_SETTINGS:
        rng = np.random.default_rng(0)
        X, G = rng.standard_normal((BATCH, WIDTH)), rng.standard_normal((BATCH, WIDTH))
        out.append((label, backward_signal_norms(X, random_mlp_weights(DEPTH, WIDTH, std, rng), act, G)))
    return out


@figure("gradients-backward-signal")
def backward_signal():
    fig, ax = plt.subplots(figsize=(5.8, 4.0))
    layers = np.arange(1, DEPTH + 1)
    for label, norms in _signal_curves():
        ax.semilogy(layers, norms / norms[-1], marker="o", markersize=3, label=label)
    ax.set_xlabel("layer $l$ (the gradient flows from right to left)")
    ax.set_ylabel(r"$\|\partial L/\partial h_l\|\;/\;\|\partial L/\partial h_{30}\|$")
    ax.set_title(f"Backward signal in a {DEPTH}-layer, width-{WIDTH} MLP\nat initialisation")
    ax.legend(loc="lower right")
    return fig


# ---------------------------------------------------------------- RNN vs LSTM (Q14, Q38)

T_STEPS = 100


@_experiment
def _rnn_curves():
    curves = []
    for label, kind, bias in [("vanilla RNN (tanh)", "rnn", None), ("LSTM, default init", "lstm", None),
                              ("LSTM, forget bias 1", "lstm", 1.0), ("LSTM, forget bias 3", "lstm", 3.0)]:
        torch.manual_seed(0)
        cell = (torch.nn.RNNCell(8, 32) if kind == "rnn" else torch.nn.LSTMCell(8, 32)).double()
        if bias is not None:
            set_forget_bias_(cell, bias)
        xs = torch.randn(T_STEPS, 1, 8, dtype=torch.float64)
        norms = input_gradient_norms(cell, xs).numpy()
        curves.append((label, norms[::-1] / norms[-1]))      # index k = steps back from T
    return curves


@figure("gradients-rnn-vs-lstm")
def rnn_vs_lstm():
    fig, ax = plt.subplots(figsize=(5.8, 4.0))
    for label, norms in _rnn_curves():
        ax.semilogy(np.arange(T_STEPS), norms, label=label)
    ax.set_xlabel("steps back in time, $T - t$")
    ax.set_ylabel(r"$\|\partial (\sum h_T)/\partial x_t\|$, relative to $t = T$")
    ax.set_title(f"Gradient reaching the input $t$ steps back\n(hidden size 32, T = {T_STEPS})")
    ax.legend()
    return fig


@figure("gradients-linear-rnn")
def linear_rnn():
    fig, ax = plt.subplots(figsize=(5.8, 4.2))
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((32, 32)))
    steps = np.arange(1, 51)
    for rho in (0.9, 1.0, 1.1):
        ax.semilogy(steps, linear_rnn_gradient_norms(rho * Q, 50), label=rf"$W = {rho}\,Q$ ($Q$ orthogonal)")
    W = np.random.default_rng(1).standard_normal((32, 32)) / np.sqrt(32)
    rho = np.max(np.abs(np.linalg.eigvals(W)))
    ax.semilogy(steps, linear_rnn_gradient_norms(W, 50), "--", label="random Gaussian $W$")
    ax.semilogy(steps, rho**steps, ":", label=rf"$\rho(W)^T$ of that matrix, $\rho$ = {rho:.3f}")
    ax.set_xlabel("time steps $T$")
    ax.set_ylabel(r"$\|\partial h_T/\partial h_0\|_2 = \|W^T\|_2$")
    ax.set_title(r"Linear RNN $h_t = W h_{t-1}$:" "\n" r"the gradient scales like $\rho(W)^T$")
    ax.legend()
    return fig


# ---------------------------------------------------------------- dead units (Q16)

LEARNING_RATES = (0.01, 0.1, 1.0, 2.0, 3.0)
SEEDS = (0, 1, 2)


@_experiment
def _dead_runs():
    return {lr: [dead_fraction_after_training(lr, seed) for seed in SEEDS] for lr in LEARNING_RATES}


@figure("gradients-dead-units")
def dead_units():
    runs = _dead_runs()
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(5.8, 6.6))
    newly = np.array([[after - before for before, after in runs[lr]] for lr in LEARNING_RATES])
    for k in range(len(SEEDS)):
        ax1.plot(LEARNING_RATES, newly[:, k], "o", alpha=0.5, color="C0",
                 label="one seed" if k == 0 else None)
    ax1.plot(LEARNING_RATES, newly.mean(axis=1), "-", color="C1", label="mean over seeds")
    ax1.set_xscale("log")
    ax1.set_xlabel("SGD learning rate")
    ax1.set_ylabel("fraction of units newly dead")
    ax1.set_title("Units killed by 200 SGD steps")
    ax1.legend()
    before = np.array([[b for b, _ in runs[lr]] for lr in LEARNING_RATES])
    after = np.array([[a for _, a in runs[lr]] for lr in LEARNING_RATES])
    x = np.arange(len(LEARNING_RATES))
    ax2.bar(x - 0.2, before.mean(axis=1), 0.4, label="at init (PyTorch default)")
    ax2.bar(x + 0.2, after.mean(axis=1), 0.4, label="after training")
    ax2.set_xticks(x, [f"{lr:g}" for lr in LEARNING_RATES])
    ax2.set_xlabel("SGD learning rate")
    ax2.set_ylabel("dead fraction, first hidden layer")
    ax2.set_title("Dead on all 512 training points")
    ax2.legend()
    fig.suptitle("2-64-64-1 ReLU MLP on two moons")
    return fig


# ---------------------------------------------------------------- clipping (Q36, Q39)

def _quartic_path(lr=0.1, steps=200, max_norm=None):
    w, path = np.array([3.0]), [3.0]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g = 4 * w**3                                   # f(w) = w^4
            if max_norm is not None:
                clip_grad_norm([g], max_norm)
            w = w - lr * g
            path.append(float(w[0]))
    return np.array(path)


@figure("gradients-clipping-geometry")
def clipping_geometry():
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(5.8, 7.6))
    c = 1.0
    theta = np.linspace(0, 2 * np.pi, 200)
    ax1.plot(c * np.cos(theta), c * np.sin(theta), color="C7", lw=1)
    ax1.plot([-c, c, c, -c, -c], [-c, -c, c, c, -c], color="C7", lw=1, ls="--")
    for k, g in enumerate([np.array([2.6, 0.6]), np.array([-0.8, 2.2]), np.array([-2.0, -1.4])]):
        by_norm, by_value = g.copy(), g.copy()
        clip_grad_norm([by_norm], c)
        clip_grad_value([by_value], c)
        kw = dict(angles="xy", scale_units="xy", scale=1, width=0.012)
        ax1.quiver(0, 0, *g, color="C7", alpha=0.5, label="raw gradient" if k == 0 else None, **kw)
        ax1.quiver(0, 0, *by_norm, color="C0", label="clip by norm (radius 1)" if k == 0 else None, **kw)
        ax1.quiver(0, 0, *by_value, color="C1", label="clip by value (box [-1, 1])" if k == 0 else None,
                   **kw)
    ax1.set_aspect("equal")
    ax1.set_xlim(-2.3, 2.9)
    ax1.set_ylim(-1.7, 2.5)
    ax1.set_title("Clipping at 1: norm vs value")
    ax1.legend(loc="lower right")
    steps = np.arange(201)
    raw, clipped = _quartic_path(), _quartic_path(max_norm=1.0)
    shown = np.isfinite(raw) & (np.abs(raw) < 1e12)
    ax2.semilogy(steps[shown], np.abs(raw[shown]), "o-", markersize=3,
                 label="unclipped (leaves the plot, then overflows)")
    ax2.set_ylim(1e-2, 1e12)
    ax2.semilogy(steps, np.abs(clipped), label="clipped by norm, max_norm = 1")
    ax2.set_xlabel("gradient-descent step")
    ax2.set_ylabel("$|w_t|$")
    ax2.set_title(r"GD on $f(w) = w^4$ from $w_0 = 3$, lr 0.1")
    ax2.legend()
    return fig


# ---------------------------------------------------------------- initialisation (Q37)

INIT_SETTINGS = [
    ("ReLU, Xavier", "relu", math.sqrt(2.0 / 512)),
    ("ReLU, He", "relu", math.sqrt(2.0 / 256)),
    ("ReLU, PyTorch Linear default", "relu", math.sqrt(1.0 / (3 * 256))),
    ("tanh, Xavier", "tanh", math.sqrt(2.0 / 512)),
    ("tanh, Xavier with gain 5/3", "tanh", 5.0 / 3 * math.sqrt(2.0 / 512)),
]


@_experiment
def _init_stats():
    out = {}
    for label, act, std in INIT_SETTINGS:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((512, 256))
        Ws = [rng.normal(0.0, std, (256, 256)) for _ in range(DEPTH)]
        out[label] = activation_stats(X, Ws, act)
    return out


@figure("gradients-activation-variance")
def activation_variance():
    fig, ax = plt.subplots(figsize=(5.8, 4.0))
    for label, stats in _init_stats().items():
        ax.semilogy(np.arange(1, DEPTH + 1), stats["second_moment"], marker="o", markersize=3,
                    label=label)
    ax.set_xlabel("layer $l$")
    ax.set_ylabel(r"$E[h_l^2]$")
    ax.set_title("Forward signal through 30 layers of width 256,\nunit-variance inputs")
    ax.legend()
    return fig


@figure("gradients-activation-histograms")
def activation_histograms():
    stats = _init_stats()
    layers = (1, 10, 20, 30)
    fig, axes = plt.subplots(len(layers), 2, figsize=(5.8, 7.6), sharex=True)
    bins = np.linspace(0, 3, 41)
    for row, (label, color) in enumerate([("ReLU, Xavier", "C1"), ("ReLU, He", "C0")]):
        for col, layer in enumerate(layers):
            h = stats[label]["hs"][layer - 1].ravel()
            ax = axes[col, row]   # a row per layer, a column per initialisation
            ax.hist(h[(h > 0) & (h < 3)], bins=bins, color=color, histtype="stepfilled")
            ax.set_title(f"{label}, layer {layer}\nstd {h.std():.2g}, zeros {np.mean(h == 0):.0%}")
            ax.set_yticks([])
    for ax in axes[-1]:
        ax.set_xlabel("nonzero activations in (0, 3)")
    fig.suptitle("ReLU activations of a 30-layer network:\nXavier shrinks them toward 0, He keeps "
                 "their scale")
    return fig


# ---------------------------------------------------------------- remedies (Q38, Q39)

def _he(w):
    return torch.nn.init.kaiming_normal_(w, nonlinearity="relu")


REMEDIES = [
    ("sigmoid, Xavier init", torch.nn.Sigmoid, torch.nn.init.xavier_normal_, None, False),
    ("tanh, PyTorch default init", torch.nn.Tanh, None, None, False),
    ("tanh, Xavier init", torch.nn.Tanh, torch.nn.init.xavier_normal_, None, False),
    ("ReLU, PyTorch default init", torch.nn.ReLU, None, None, False),
    ("ReLU, He init", torch.nn.ReLU, _he, None, False),
    ("ReLU, default init + LayerNorm", torch.nn.ReLU, None, "layer", False),
    ("ReLU, default init + BatchNorm", torch.nn.ReLU, None, "batch", False),
    ("sigmoid, Xavier init + residual", torch.nn.Sigmoid, torch.nn.init.xavier_normal_, None, True),
    ("ReLU, He init + residual (unscaled)", torch.nn.ReLU, _he, None, True),
]


@_experiment
def _remedy_curves():
    """Per-layer backward-signal norms of each configuration, for seeds 0, 1, 2."""
    out = {}
    for label, act, init, norm, residual in REMEDIES:
        runs = []
        for seed in range(3):
            torch.manual_seed(seed)
            blocks = make_mlp_blocks(DEPTH, WIDTH, act(), init, norm, residual)
            X = torch.randn(BATCH, WIDTH, dtype=torch.float64)
            G = torch.randn(BATCH, WIDTH, dtype=torch.float64)
            runs.append(backward_signal_norms_torch(blocks, X, G).numpy())
        out[label] = np.array(runs)
    return out


def _sci(x):
    """2 significant digits; powers of ten in LaTeX outside [0.01, 100)."""
    if 0.01 <= x < 100:
        return f"{x:.2g}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"${mantissa} \\times 10^{{{int(exponent)}}}$"


def _verdict(ratio):
    if ratio < 0.1:
        return "vanishes"
    if ratio > 10:
        return "explodes"
    return "preserved"


@table("gradients-remedies")
def remedies_table():
    rows = ["| configuration (30 layers, width 64) | attenuation $\\lVert\\partial L/\\partial h_1\\rVert"
            " / \\lVert\\partial L/\\partial h_{30}\\rVert$ | verdict |", "|---|---|---|"]
    for label, runs in _remedy_curves().items():
        ratio = float(np.exp(np.mean(np.log(runs[:, 0] / runs[:, -1]))))   # geometric mean, 3 seeds
        rows.append(f"| {label} | {_sci(ratio)} | {_verdict(ratio)} |")
    return "\n".join(rows) + ("\n\nGeometric mean over 3 seeds, a batch of 256 Gaussian inputs and a "
                              "random upstream gradient; verdict: below 0.1 vanishes, above 10 "
                              "explodes. Computed by `dlhandbook.diagnostics.backward_signal`.")


@figure("gradients-remedies")
def remedies_figure():
    fig, ax = plt.subplots(figsize=(5.8, 6.6))
    layers = np.arange(1, DEPTH + 1)
    styles = ["-", "--", ":", "-."]
    for k, (label, runs) in enumerate(_remedy_curves().items()):
        curve = runs[0] / runs[0, -1]
        ax.semilogy(layers, curve, styles[k // 8], color=f"C{k % 8}", label=label)
    ax.set_xlabel("layer $l$")
    ax.set_ylabel(r"$\|\partial L/\partial h_l\|\;/\;\|\partial L/\partial h_{30}\|$")
    ax.set_title("Backward signal with and without the standard remedies\n(seed 0)")
    fig.legend(loc="outside lower center", ncol=2)
    return fig
