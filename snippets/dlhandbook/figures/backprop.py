"""Figures and tables for Part III: training and backpropagation (Q9, Q12, Q13, Q17, gradient checking)."""

from __future__ import annotations

from functools import cache

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import FancyBboxPatch

from dlhandbook.autograd.value import Value, topological_sort
from dlhandbook.figures import figure, table
from dlhandbook.figures.style import PALETTE
from dlhandbook.gradcheck.gradcheck import numerical_gradient
from dlhandbook.nn.mlp import (
    LOSS_FNS,
    MLP,
    backward_with_layerwise_updates,
    cross_entropy_loss,
    init_mlp,
    loss_and_grads,
    mlp_backward,
    mlp_forward,
    mlp_from_numpy,
)
from dlhandbook.nn.train import make_moons, minibatches, train, train_torch

OP_NAMES = {"+": "+", "*": "×", "exp": "exp", "log": "log", "tanh": "tanh", "relu": "relu",
            "sigmoid": "σ"}


# ---- the computational graph of one neuron and its loss --------------------------------------
def _neuron_graph():
    x1, w1 = Value(2.0, label="x₁"), Value(-0.5, label="w₁")
    x2, w2 = Value(1.0, label="x₂"), Value(0.8, label="w₂")
    b, y = Value(0.1, label="b"), Value(1.0, label="y")
    h = (x1 * w1 + x2 * w2 + b).tanh()
    loss = (h - y) ** 2
    loss.label = "L"
    loss.backward()
    return loss


def _is_constant(node):
    return not node._prev and not node.label


def _layout(root):
    """Columns by longest distance from the root; rows by the mean row of a node's users."""
    nodes = [n for n in reversed(topological_sort(root)) if not _is_constant(n)]  # root first
    level = {id(root): 0}
    for n in nodes:
        for child in n._prev:
            if not _is_constant(child):
                level[id(child)] = max(level.get(id(child), 0), level[id(n)] + 1)
    users = {id(n): [] for n in nodes}
    for n in nodes:
        for child in n._prev:
            if id(child) in users:
                users[id(child)].append(n)
    pos, depth = {}, max(level.values())
    for lev in range(depth + 1):
        column = [n for n in nodes if level[id(n)] == lev]
        wanted = [0.0 if not users[id(n)] else np.mean([pos[id(u)][1] for u in users[id(n)]])
                  for n in column]
        order = np.argsort(wanted, kind="stable")
        rows = np.arange(len(column)) * 1.2
        rows = rows - rows.mean() + np.mean(wanted)
        for r, i in zip(rows, order, strict=True):
            pos[id(column[i])] = (1.7 * (depth - lev), r)
    return nodes, pos


def _node_title(n):
    if n.label and not n._prev:
        return n.label
    op = OP_NAMES.get(n._op, "(·)²" if n._op == "**2" else n._op)
    consts = [c.data for c in n._prev if _is_constant(c)]
    title = f"{op}({consts[0]:g})" if consts else op
    return f"{n.label} = {title}" if n.label else title


@figure("backprop-computational-graph")
def computational_graph():
    root = _neuron_graph()
    nodes, pos = _layout(root)
    # drawn top to bottom (inputs on top, the loss at the bottom) so that it fits a phone
    pos = {k: (r, -x / 1.7 * 0.95) for k, (x, r) in pos.items()}
    fg = plt.rcParams["text.color"]
    fig, ax = plt.subplots(figsize=(5.8, 7.4))
    w, h = 1.05, 0.7
    for n in nodes:
        x, y = pos[id(n)]
        for child in n._prev:
            if id(child) in pos:
                cx, cy = pos[id(child)]
                ax.annotate("", xy=(x, y + h / 2), xytext=(cx, cy - h / 2),
                            arrowprops={"arrowstyle": "-|>", "color": fg, "lw": 1.0, "alpha": 0.7})
    for n in nodes:
        x, y = pos[id(n)]
        color = PALETTE[0] if not n._prev else PALETTE[1]
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                    fc="none", ec=color, lw=1.6))
        ax.text(x, y + 0.2, _node_title(n), ha="center", va="center", color=color,
                fontweight="bold")
        ax.text(x, y - 0.01, f"data {n.data:.3f}", ha="center", va="center")
        ax.text(x, y - 0.21, f"grad {n.grad:.3f}", ha="center", va="center", color=PALETTE[2])
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.45, max(ys) + 0.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("L = (tanh(w₁x₁ + w₂x₂ + b) − y)²\nforward pass: data, top to bottom;\n"
                 "backward pass: grad = dL/d(node), bottom to top")
    return fig


# ---- finite differences: truncation against rounding -----------------------------------------
@figure("backprop-finite-difference-error")
def finite_difference_error():
    x0, exact = 1.0, np.exp(1.0)               # f = exp, so f' = f'' = f''' = e
    f = lambda v: float(np.exp(v[0]))          # noqa: E731
    eps = np.logspace(-15, -0.5, 146)
    central = np.array([abs(numerical_gradient(f, np.array([x0]), e)[0] - exact) for e in eps])
    forward = np.array([abs(numerical_gradient(f, np.array([x0]), e, "forward")[0] - exact)
                        for e in eps])
    u = np.finfo(np.float64).eps / 2
    fig, ax = plt.subplots(figsize=(5.8, 4.8))
    ax.loglog(eps, np.maximum(forward, 1e-17), ".", ms=4, color=PALETTE[1], label="forward difference")
    ax.loglog(eps, np.maximum(central, 1e-17), ".", ms=4, color=PALETTE[0], label="centred difference")
    ax.loglog(eps, exact * eps / 2 + 2 * u * exact / eps, "-", color=PALETTE[1], alpha=0.6, lw=1.2,
              label=r"model: $\varepsilon f''/2 + 2u|f|/\varepsilon$")
    ax.loglog(eps, exact * eps**2 / 6 + u * exact / eps, "-", color=PALETTE[0], alpha=0.6, lw=1.2,
              label=r"model: $\varepsilon^2 f'''/6 + u|f|/\varepsilon$")
    ax.set_xlabel(r"step $\varepsilon$")
    ax.set_ylabel(r"$|\,$estimate $- f'(1)\,|$")
    ax.set_ylim(1e-13, 10)
    ax.set_title(r"Derivative of $e^x$ at $x = 1$ in float64:" "\n"
                 "rounding (left) vs truncation (right)")
    fig.legend(loc="outside lower center", ncol=2)
    return fig


# ---- the NumPy loop and torch.optim.SGD, step for step ---------------------------------------
class _SameBatches:
    def __init__(self, X, y, batch_size, seed):
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.n, self.batch_size, self.rng = len(X), batch_size, np.random.default_rng(seed)

    def __iter__(self):
        for idx in minibatches(self.n, self.batch_size, self.rng):
            yield self.X[torch.from_numpy(idx)], self.y[torch.from_numpy(idx)]


@cache
def _training_runs():
    X, y = make_moons(200, noise=0.1, seed=0)
    params = init_mlp([2, 16, 16, 2], seed=0)
    model = mlp_from_numpy(params, "tanh")
    step = lambda p, Xb, yb: loss_and_grads(p, Xb, yb, "tanh", "cross_entropy")  # noqa: E731
    losses = train(params, X, y, step, lr=0.2, epochs=80, batch_size=40, seed=1)
    losses_t = train_torch(model, _SameBatches(X, y, 40, 1), LOSS_FNS["cross_entropy"], lr=0.2,
                           epochs=80)
    return np.array(losses), np.array(losses_t)


@figure("backprop-training-curve")
def training_curve():
    losses, losses_t = _training_runs()
    steps = np.arange(1, len(losses) + 1)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(5.8, 6.8))
    ax1.plot(steps, losses, color=PALETTE[0], lw=4, alpha=0.75, label="NumPy: forward, backward, update")
    ax1.plot(steps, losses_t, "--", color=PALETTE[1], lw=1.4, label="PyTorch: torch.optim.SGD")
    ax1.set_xlabel("step (mini-batch of 40, 5 steps per epoch)")
    ax1.set_ylabel("cross-entropy on the batch")
    ax1.set_title("Same weights, same batches: one curve")
    ax1.legend()
    diff = np.abs(losses - losses_t)
    floor = 1e-18
    ax2.semilogy(steps, np.maximum(diff, floor), ".", ms=3, color=PALETTE[4])
    ax2.axhline(1e-10, color=PALETTE[3], lw=1.6, ls=":", label="the test's tolerance")
    ax2.set_ylim(floor / 3, 1e-6)
    ax2.set_xlabel("step")
    ax2.set_ylabel("|loss(NumPy) − loss(PyTorch)|")
    ax2.set_title(f"Difference (exactly equal plotted at {floor:g})")
    ax2.legend(loc="upper left")
    return fig


# ---- updating layer by layer during the backward pass ----------------------------------------
@cache
def _layerwise_errors():
    X, y = make_moons(200, noise=0.1, seed=0)
    params = init_mlp([2, 16, 16, 16, 2], seed=0)
    y_hat, cache_ = mlp_forward(params, X)
    d_out = cross_entropy_loss(y_hat, y)[1]
    correct = mlp_backward(params, cache_, d_out)
    lrs = np.logspace(-3, 0, 13)
    errors = {l: [] for l in range(1, 5)}
    for lr in lrs:
        wrong = backward_with_layerwise_updates({k: v.copy() for k, v in params.items()}, cache_,
                                                d_out, lr)
        for l in errors:
            g, gw = correct[f"W{l}"], wrong[f"W{l}"]
            errors[l].append(np.linalg.norm(gw - g) / np.linalg.norm(g))
    return lrs, errors


@figure("backprop-layerwise-update-error")
def layerwise_update_error():
    lrs, errors = _layerwise_errors()
    fig, ax = plt.subplots(figsize=(5.8, 4.6))
    for i, l in enumerate(sorted(errors)[:-1]):
        ax.loglog(lrs, errors[l], "o-", ms=4, color=PALETTE[i], label=f"layer {l} (W{l})")
    ax.set_xlabel("learning rate used for the premature updates")
    ax.set_ylabel(r"$\|g_{\mathrm{layerwise}} - g_{\mathrm{backprop}}\| \,/\, \|g_{\mathrm{backprop}}\|$")
    ax.set_title("Updating each layer before passing the error down\n"
                 "corrupts every lower layer (2-16-16-16-2 tanh MLP;\n"
                 "the top layer W4 is unaffected and not shown)")
    ax.legend()
    return fig


# ---- the cost of reverse mode ----------------------------------------------------------------
@table("backprop-cost")
def backprop_cost():
    from torch.utils.flop_counter import FlopCounterMode

    rows = ["| network (batch of 128) | parameters $P$ | forward FLOPs | backward FLOPs | "
            "backward / forward | forward passes for centred differences ($2P$) |",
            "|---|---:|---:|---:|---:|---:|"]
    for sizes in ([64, 256, 10], [64, 256, 256, 10], [784, 1024, 1024, 1024, 10]):
        torch.manual_seed(0)
        model = MLP(sizes).double()
        X = torch.randn(128, sizes[0], dtype=torch.float64)
        y = torch.randint(0, sizes[-1], (128,))
        with FlopCounterMode(display=False) as fwd:
            loss = LOSS_FNS["cross_entropy"](model(X), y)
        with FlopCounterMode(display=False) as bwd:
            loss.backward()
        P = sum(p.numel() for p in model.parameters())
        f, b = fwd.get_total_flops(), bwd.get_total_flops()
        rows.append(f"| {'-'.join(map(str, sizes))} | {P:,} | {f:,} | {b:,} | {b / f:.2f} | {2 * P:,} |")
    return "\n".join(rows)
