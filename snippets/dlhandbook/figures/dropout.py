"""Figures of the dropout pages of Part IX (Q41-Q44)."""

from __future__ import annotations

from functools import cache

import matplotlib.pyplot as plt
import numpy as np

from dlhandbook.figures import figure
from dlhandbook.figures.style import PALETTE
from dlhandbook.regularization.dropout import (
    dropout_forward,
    enumerate_masks,
    normalized_geometric_mean,
    subnetwork_outputs,
    train_noisy_xor,
)

GAP_SEEDS = (0, 1, 2)
GAP_PS = (0.0, 0.5)


@cache
def _preactivations(p: float = 0.5, n: int = 1000, T: int = 4000):
    """z = w . dropout(h) over T masks, inverted and classic, and the test-time values."""
    rng = np.random.default_rng(0)
    h = np.abs(rng.standard_normal(n))            # post-ReLU activations
    w = (rng.standard_normal(n) + 0.3) / np.sqrt(n)
    y_inv, mask = dropout_forward(np.tile(h, (T, 1)), p, rng=rng)
    y_cl, _ = dropout_forward(np.tile(h, (T, 1)), p, inverted=False, mask=mask)
    test_inv = w @ dropout_forward(h, p, training=False)[0]
    test_cl = w @ dropout_forward(h, p, training=False, inverted=False)[0]
    return y_inv @ w, y_cl @ w, test_inv, test_cl


@figure("dropout-preactivation")
def preactivation():
    z_inv, z_cl, test_inv, test_cl = _preactivations()
    fig, ax = plt.subplots(figsize=(5.8, 3.2))
    bins = np.linspace(min(z_inv.min(), z_cl.min()), max(z_inv.max(), z_cl.max()), 70)
    ax.hist(z_cl, bins=bins, color=PALETTE[1], alpha=0.55, label="classic, training")
    ax.hist(z_inv, bins=bins, color=PALETTE[0], alpha=0.55, label="inverted, training")
    ax.axvline(test_cl, color=PALETTE[1], linestyle="--", label="classic, test ($\\times(1-p)$)")
    ax.axvline(test_inv, color=PALETTE[0], linestyle="--", label="inverted, test (identity)")
    ax.axvline(z_inv.mean(), color=PALETTE[0], linestyle=":", linewidth=2.2)
    ax.axvline(z_cl.mean(), color=PALETTE[1], linestyle=":", linewidth=2.2)
    ax.set_xlabel("next layer's pre-activation $z = w \\cdot \\tilde h$")
    ax.set_ylabel("masks (of 4000)")
    ax.set_title("1000 units, $p = 0.5$: dotted = mean over masks")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig


@cache
def _relu_gap():
    """One ReLU unit after dropout on 10 inputs: exact E[relu(z)] vs relu(E z)."""
    rng = np.random.default_rng(1)
    h, w = np.abs(rng.standard_normal(10)), rng.standard_normal(10)
    w -= (w @ h - 0.2) / (h @ h) * h               # make E[z] = w . h = 0.2
    ps = np.linspace(0.0, 0.9, 19)
    expected = []
    for p in ps:
        masks, probs = enumerate_masks(10, float(p))
        z = masks @ (w * h) / (1 - p)              # every mask's pre-activation
        expected.append(probs @ np.maximum(z, 0.0))
    return ps, np.array(expected), max(w @ h, 0.0)


@figure("dropout-train-vs-test")
def train_vs_test():
    p = 0.5
    rng = np.random.default_rng(0)
    h, w = np.abs(rng.standard_normal(10)), rng.standard_normal(10) + 0.5
    masks, probs = enumerate_masks(10, p)
    train_inv = probs @ (masks @ (w * h)) / (1 - p)
    train_cl = probs @ (masks @ (w * h))
    bars = {"inverted\ntrain": train_inv, "inverted\ntest": w @ h,
            "classic\ntrain": train_cl, "classic test\n(no scaling)": w @ h}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.4))
    colors = [PALETTE[0], PALETTE[0], PALETTE[1], PALETTE[3]]
    ax.bar(range(4), list(bars.values()), color=colors, alpha=0.8)
    ax.set_xticks(range(4), list(bars), fontsize=11, rotation=90)
    ax.set_ylabel("mean of $z$ over masks")
    ax.set_title(f"linear unit, $p = {p}$")
    ps, expected, test_time = _relu_gap()
    ax2.plot(ps, expected, color=PALETTE[2], label="train: E[relu(z)]")
    ax2.axhline(test_time, color=PALETTE[4], linestyle="--", label="test: relu(E z)")
    ax2.set_xlabel("drop probability $p$")
    ax2.set_ylabel("ReLU unit's output")
    ax2.set_title("after a non-linearity")
    ax2.legend(loc="upper left")
    return fig


@cache
def _gap_runs():
    return {(p, s): train_noisy_xor(p, s) for p in GAP_PS for s in GAP_SEEDS}


@figure("dropout-train-test-gap")
def train_test_gap():
    runs = _gap_runs()
    steps = 20 * np.arange(1, len(runs[(0.0, 0)]) + 1)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.4))
    for i, p in enumerate(GAP_PS):
        h = runs[(p, 0)]
        ax.semilogy(steps, h[:, 0], color=PALETTE[i], linestyle="--", label=f"train, p={p}")
        ax.semilogy(steps, h[:, 1], color=PALETTE[i], label=f"test, p={p}")
    ax.set_xlabel("Adam step")
    ax.set_ylabel("cross-entropy (eval mode)")
    ax.set_title("seed 0")
    for i, p in enumerate(GAP_PS):
        gaps = [runs[(p, s)][-1, 1] - runs[(p, s)][-1, 0] for s in GAP_SEEDS]
        ax2.bar(np.arange(len(GAP_SEEDS)) + 0.4 * i - 0.2, gaps, width=0.38,
                color=PALETTE[i], alpha=0.8)
    ax2.set_xticks(range(len(GAP_SEEDS)), [f"seed {s}" for s in GAP_SEEDS])
    ax2.set_ylabel("test $-$ train cross-entropy")
    ax2.set_title("gap after 400 steps")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig


@cache
def _subnetworks():
    rng = np.random.default_rng(0)
    w, x, b = rng.standard_normal(12), rng.standard_normal(12), 0.3
    outputs, probs = subnetwork_outputs(w, x, b, p=0.5)
    scaled = 1 / (1 + np.exp(-(w @ x + b)))
    return outputs, probs, scaled, normalized_geometric_mean(outputs, probs)


@figure("dropout-subnetworks")
def subnetworks():
    outputs, probs, scaled, geo = _subnetworks()
    fig, ax = plt.subplots(figsize=(5.8, 3.2))
    ax.hist(outputs, bins=60, weights=probs, color=PALETTE[7], alpha=0.7)
    ax.axvline(probs @ outputs, color=PALETTE[1], label="arithmetic mean")
    ax.axvline(geo, color=PALETTE[0], linestyle="--", linewidth=2.4,
               label="normalised geometric mean")
    ax.axvline(scaled, color=PALETTE[2], linestyle=":", linewidth=2.4,
               label="test-time network")
    ax.set_xlabel("sub-network's output $\\sigma(z)$")
    ax.set_ylabel("probability")
    ax.set_title("all $2^{12}$ = 4096 sub-networks of one sigmoid unit, $p = 0.5$")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig
