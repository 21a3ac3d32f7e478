"""Figures of Q48-Q49: the curse of dimensionality, and the structure that escapes it."""

from __future__ import annotations

import math
from functools import cache

import matplotlib.pyplot as plt
import numpy as np

from dlhandbook.dimensionality.distances import distance_spread, pairwise_distances, uniform_cube
from dlhandbook.dimensionality.intrinsic_dim import (
    curved_manifold,
    levina_bickel_dimension,
    linear_manifold,
    pca_explained_variance,
    two_nn_dimension,
)
from dlhandbook.dimensionality.knn import irrelevant_dims_data, knn_predict
from dlhandbook.dimensionality.volume import (
    ball_fraction,
    edge_for_fraction,
    monte_carlo_fractions,
    shell_fraction,
)
from dlhandbook.figures import figure
from dlhandbook.figures.style import PALETTE

N_POINTS = 200
HIST_DIMS = (2, 10, 100, 1000)
SPREAD_DIMS = (2, 5, 10, 20, 50, 100, 200, 500, 1000)
KNN_EXTRA = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
KNN_SEEDS = range(5)
ID_K = (1, 2, 3, 4, 5, 6)


@cache
def _distances():
    hists = {}
    for d in HIST_DIMS:
        D = pairwise_distances(uniform_cube(N_POINTS, d, seed=0))
        d_ij = D[np.triu_indices(N_POINTS, k=1)]
        hists[d] = d_ij / d_ij.mean()
    spread = np.array([distance_spread(uniform_cube(N_POINTS, d, seed=0)) for d in SPREAD_DIMS])
    return hists, spread


@figure("dimensionality-distances")
def distances_figure():
    hists, spread = _distances()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.3))
    bins = np.linspace(0, 2.5, 76)
    for i, d in enumerate(HIST_DIMS):
        ax.hist(hists[d], bins=bins, density=True, histtype="step", color=PALETTE[i],
                linewidth=1.6, label=f"d = {d}")
    ax.set_xlabel("distance / mean distance")
    ax.set_ylabel("density")
    ax.set_title("pairwise distances")
    dims = np.array(SPREAD_DIMS)
    ax2.loglog(dims, spread[:, 0] - 1, "o-", color=PALETTE[4], markersize=3, label="max/min − 1")
    ax2.loglog(dims, spread[:, 1], "s-", color=PALETTE[5], markersize=3, label="std/mean")
    ax2.loglog(dims, math.sqrt(7 / 20) / np.sqrt(dims), ":", color=PALETTE[7],
               label=r"$\sqrt{7/20}\,/\sqrt{d}$")
    ax2.set_xlabel("dimension $d$")
    ax2.set_title("spread of the distances")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncol=4)
    return fig


VOL_DIMS = tuple(range(1, 21))
EPS = 0.05


@cache
def _volumes():
    mc = np.array([monte_carlo_fractions(d, EPS, n=20_000, seed=d) for d in VOL_DIMS])
    return mc


@figure("dimensionality-volume")
def volume_figure():
    mc = _volumes()
    dims = np.arange(1, 21)
    fine = np.arange(1, 101)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.3))
    ax.semilogy(dims, [shell_fraction(int(d), EPS) for d in dims], color=PALETTE[0],
                label=f"within {EPS} of the surface")
    ax.semilogy(dims, [ball_fraction(int(d)) for d in dims], color=PALETTE[1],
                label="inside the inscribed ball")
    ax.semilogy(dims, mc[:, 0], "o", color=PALETTE[0], markersize=3.5, label="Monte Carlo")
    ball_mc = np.where(mc[:, 1] > 0, mc[:, 1], np.nan)        # no point landed: not drawn
    ax.semilogy(dims, ball_mc, "o", color=PALETTE[1], markersize=3.5)
    ax.set_xlabel("dimension $d$")
    ax.set_ylabel("fraction of the cube's volume")
    ax.set_xticks([1, 5, 10, 15, 20])
    ax.set_title("unit cube $[0, 1]^d$")
    for i, r in enumerate((0.01, 0.1)):
        ax2.plot(fine, [edge_for_fraction(r, int(d)) for d in fine], color=PALETTE[2 + i],
                 linestyle=("-", "--")[i], label=f"{r:.0%} of the volume")
    ax2.set_ylim(0, 1.02)
    ax2.set_xlabel("dimension $d$")
    ax2.set_ylabel("edge of the sub-cube")
    ax2.set_title("a 'local' neighbourhood")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncol=2)
    return fig


@cache
def _knn_curves():
    acc = np.zeros((len(KNN_SEEDS), len(KNN_EXTRA)))
    for s in KNN_SEEDS:
        for j, extra in enumerate(KNN_EXTRA):
            X, y = irrelevant_dims_data(1000, extra, seed=s)
            acc[s, j] = (knn_predict(X[:800], y[:800], X[800:], k=5) == y[800:]).mean()
    return acc


@figure("dimensionality-knn")
def knn_figure():
    acc = _knn_curves()
    x = np.array(KNN_EXTRA)
    fig, ax = plt.subplots(figsize=(5.8, 3.2))
    ax.fill_between(x, acc.min(axis=0), acc.max(axis=0), color=PALETTE[0], alpha=0.25,
                    linewidth=0, label="range over 5 seeds")
    ax.plot(x, acc.mean(axis=0), "o-", color=PALETTE[0], markersize=3.5, label="mean")
    ax.set_xscale("symlog", linthresh=1)      # linear on [0, 1], logarithmic beyond
    ax.axhline(0.5, color=PALETTE[7], linestyle=":", label="chance")
    ax.set_xlabel("irrelevant dimensions (besides the 2 relevant ones)")
    ax.set_ylabel("test accuracy, 5-NN")
    ax.set_ylim(0.4, 1.02)
    ax.legend(loc="upper right")
    return fig


@cache
def _intrinsic():
    linear = pca_explained_variance(linear_manifold(1000, 3, 50, noise=0.01, seed=0))
    curved = pca_explained_variance(curved_manifold(1000, 3, 50, freq=2.0, seed=0))
    two_nn, lb, pca95 = [], [], []
    for k in ID_K:
        X = curved_manifold(1000, k, 50, freq=2.0, seed=0)
        two_nn.append(two_nn_dimension(X))
        lb.append(levina_bickel_dimension(X, n_neighbors=10))
        pca95.append(int(np.searchsorted(np.cumsum(pca_explained_variance(X)), 0.95) + 1))
    return linear, curved, np.array(two_nn), np.array(lb), np.array(pca95)


@figure("dimensionality-intrinsic")
def intrinsic_figure():
    linear, curved, two_nn, lb, pca95 = _intrinsic()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.3))
    comps = np.arange(1, 21)
    ax.plot(comps, np.cumsum(linear)[:20], "o-", color=PALETTE[0], markersize=3,
            label="flat, $k = 3$")
    ax.plot(comps, np.cumsum(curved)[:20], "s-", color=PALETTE[1], markersize=3,
            label="curved, $k = 3$")
    ax.axhline(0.95, color=PALETTE[7], linestyle=":")
    ax.set_xticks([1, 5, 10, 15, 20])
    ax.set_xlabel("principal components")
    ax.set_ylabel("variance explained")
    ax.set_title("PCA in $D = 50$")
    ks = np.array(ID_K)
    ax2.plot(ks, pca95, "s-", color=PALETTE[1], markersize=3.5, label="PCA, 95% variance")
    ax2.plot(ks, two_nn, "o-", color=PALETTE[2], markersize=3.5, label="two-NN")
    ax2.plot(ks, lb, "^--", color=PALETTE[4], markersize=3.5, label="Levina-Bickel")
    ax2.plot(ks, ks, ":", color=PALETTE[7], label="true $k$")
    ax2.set_yscale("log")
    ax2.set_yticks([1, 2, 5, 10, 20], labels=["1", "2", "5", "10", "20"])
    ax2.minorticks_off()
    ax2.set_xlabel("true dimension $k$ (curved)")
    ax2.set_ylabel("estimated dimension")
    ax2.set_title("estimators")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncol=2)
    return fig
