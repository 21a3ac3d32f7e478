"""Figures of Part VIII: batch normalization, layer normalization, residual connections (Q33-Q35)."""

from __future__ import annotations

from functools import cache

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlhandbook.figures import figure
from dlhandbook.figures.style import PALETTE
from dlhandbook.nn.residual import ResidualBlock, gradient_norms_torch, plain_block
from dlhandbook.norm.batch_norm import activation_std_profile, batch_norm_forward

DEPTH = 30


@cache
def _bn_profiles():
    return {
        (w, bn): activation_std_profile(DEPTH, weight_std=w, use_bn=bn, seed=0)
        for w in (0.5, 2.0) for bn in (False, True)
    }


@cache
def _batch_dependence():
    """Sample 0's first output feature as one batch-mate's value is swept."""
    rng = np.random.default_rng(0)
    C = 4
    gamma, beta = np.ones(C), np.zeros(C)
    base = rng.standard_normal((8, C))
    _, rm, rv, _ = batch_norm_forward(base, gamma, beta, np.zeros(C), np.ones(C), momentum=1.0)
    shifts = np.linspace(-6, 6, 121)
    train, evaluation = [], []
    for s in shifts:
        x = base.copy()
        x[1, 0] = s
        train.append(batch_norm_forward(x, gamma, beta, rm, rv, training=True)[0][0, 0])
        evaluation.append(batch_norm_forward(x, gamma, beta, rm, rv, training=False)[0][0, 0])
    return shifts, np.array(train), np.array(evaluation)


@figure("norm-bn-activation-scale")
def bn_activation_scale():
    profiles = _bn_profiles()
    layers = np.arange(1, DEPTH + 1)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.4))
    ax.semilogy(layers, profiles[(0.5, False)], color=PALETTE[0], label="plain, std 0.5")
    ax.semilogy(layers, profiles[(2.0, False)], color=PALETTE[1], label="plain, std 2")
    ax.semilogy(layers, profiles[(0.5, True)], color=PALETTE[2], label="BN, std 0.5")
    ax.semilogy(layers, profiles[(2.0, True)], color=PALETTE[3], linestyle="--", label="BN, std 2")
    ax.set_xlabel("layer")
    ax.set_ylabel("std of pre-activation")
    ax.set_title("tanh MLP, width 256")
    shifts, train, evaluation = _batch_dependence()
    ax2.plot(shifts, train, color=PALETTE[4], label="train mode")
    ax2.plot(shifts, evaluation, color=PALETTE[5], linestyle="--", label="eval mode")
    ax2.set_xlabel("a batch-mate's value")
    ax2.set_ylabel("sample 0's output")
    ax2.set_title("same sample, other batch")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncol=3)
    return fig


def _axes_mask(kind: str, N: int, C: int, G: int) -> np.ndarray:
    """Cells (sample n, channel c) that share one mean and variance with cell (1, 2)."""
    mask = np.zeros((N, C))
    if kind == "batch":
        mask[:, 2] = 1
    elif kind == "layer":
        mask[1, :] = 1
    elif kind == "instance":
        mask[1, 2] = 1
    else:
        size = C // G
        mask[1, (2 // size) * size:(2 // size + 1) * size] = 1
    return mask


@figure("norm-axes")
def norm_axes():
    """Which values each normalization averages over, on an (N samples, C channels) grid."""
    N, C, G = 4, 8, 4
    titles = {"batch": "batch norm", "layer": "layer norm",
              "instance": "instance norm", "group": f"group norm, {G} groups"}
    fig, axes = plt.subplots(2, 2, figsize=(5.8, 3.5), sharex=True, sharey=True)
    for ax, (kind, title) in zip(axes.flat, titles.items(), strict=True):
        mask = _axes_mask(kind, N, C, G)
        for n in range(N):
            for c in range(C):
                shaded = mask[n, c] > 0
                ax.add_patch(plt.Rectangle((c, n), 0.92, 0.92, facecolor=PALETTE[0] if shaded
                                           else "none", edgecolor="#868e96", linewidth=1.0,
                                           alpha=0.85 if shaded else 1.0))
        ax.set_xlim(-0.2, C + 0.1)
        ax.set_ylim(N + 0.1, -0.2)
        ax.set_aspect("equal")
        ax.set_title(title)
        ax.grid(False)
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
    fig.supxlabel("channel $c$ (a cell holds all $H \\times W$ positions)", fontsize=11)
    for ax in axes[:, 0]:
        ax.set_ylabel("sample $n$")
    return fig


RES_KINDS = {"plain": "plain", None: "residual", "pre": "residual, pre-LN", "post": "residual, post-LN"}
RES_WIDTH, RES_BATCH = 64, 128


def _residual_profile(depth: int, kind, seed: int = 0) -> np.ndarray:
    torch.manual_seed(seed)
    blocks = [(plain_block(RES_WIDTH) if kind == "plain" else ResidualBlock(RES_WIDTH, norm=kind)).double()
              for _ in range(depth)]
    x = torch.randn(RES_BATCH, RES_WIDTH, dtype=torch.float64)
    readout = torch.randn(RES_WIDTH, dtype=torch.float64)
    return gradient_norms_torch(blocks, x, readout).numpy()


@cache
def _residual_profiles():
    depths = (10, 25, 50, 75, 100)
    profiles = {(d, k): _residual_profile(d, k) for d in depths for k in RES_KINDS}
    per_layer = {k: profiles[(50, k)] for k in RES_KINDS}
    ratios = {k: np.array([profiles[(d, k)][0] / profiles[(d, k)][-1] for d in depths])
              for k in RES_KINDS}
    return depths, per_layer, ratios


@figure("norm-residual-gradients")
def residual_gradients():
    depths, per_layer, ratios = _residual_profiles()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.4))
    styles = dict(zip(RES_KINDS, ("-", "-", "--", ":"), strict=True))
    for i, (kind, label) in enumerate(RES_KINDS.items()):
        n = per_layer[kind]
        ax.semilogy(np.arange(len(n)), n / n[-1], color=PALETTE[i], linestyle=styles[kind], label=label)
        ax2.semilogy(depths, ratios[kind], color=PALETTE[i], linestyle=styles[kind], marker="o",
                     markersize=3)
    ax.set_xlabel("block input $l$")
    ax.set_ylabel(r"$\|\partial L/\partial x_l\|$ / output's")
    ax.set_title("depth 50")
    ax2.set_xlabel("depth $L$")
    ax2.set_ylabel(r"first / last")
    ax2.set_title("gradient ratio vs depth")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig
