"""Figures for Part V, loss functions (Q18, Q19, Q20)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from dlhandbook.figures import figure
from dlhandbook.figures.style import PALETTE
from dlhandbook.losses.binary_cross_entropy import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
)
from dlhandbook.losses.divergence_margin_focal import (
    multi_margin_loss,
    multi_margin_loss_grad,
    sigmoid_focal_loss,
    sigmoid_focal_loss_grad,
)
from dlhandbook.losses.regression import (
    huber_loss,
    huber_loss_grad,
    l1_loss,
    l1_loss_grad,
    mse_loss,
    mse_loss_grad,
)

DELTA = 1.0     # Huber threshold drawn
OTHERS = 1e-6   # probability of each class other than the true one and the predicted one


@figure("losses-regression")
def regression_losses():
    """MSE, MAE and Huber and their gradients against the residual."""
    r = np.linspace(-3, 3, 601)
    zero = np.zeros_like(r)
    curves = [
        ("squared $r^2$", mse_loss(r, zero, "none"), mse_loss_grad(r, zero, "none"), "-"),
        ("absolute $|r|$", l1_loss(r, zero, "none"), l1_loss_grad(r, zero, "none"), "--"),
        (rf"Huber, $\delta={DELTA:g}$", huber_loss(r, zero, "none", DELTA),
         huber_loss_grad(r, zero, "none", DELTA), "-."),
    ]
    fig, (ax_l, ax_g) = plt.subplots(1, 2, figsize=(5.8, 3.2), sharex=True)
    for i, (label, loss, grad, ls) in enumerate(curves):
        ax_l.plot(r, loss, color=PALETTE[i], linestyle=ls, label=label)
        ax_g.plot(r, grad, color=PALETTE[i], linestyle=ls)
    ax_l.set_ylim(-0.2, 5)
    ax_l.set_title("loss")
    ax_g.set_title("gradient")
    ax_g.set_ylim(-4, 4)
    for ax in (ax_l, ax_g):
        ax.set_xlabel(r"residual $r = \hat y - y$")
    fig.legend(loc="outside lower center", ncol=3)
    return fig


def confidently_wrong_curves(p):
    """Loss and |d loss / d z| of a sigmoid unit with target 1, as p = sigma(z) varies.

    Squared error (p - 1)^2 has gradient 2 (p - 1) p (1 - p) in the logit; cross-entropy
    has gradient p - 1.
    """
    z = np.log(p) - np.log1p(-p)                         # the logit with sigma(z) = p
    one = np.ones_like(z)
    ce = binary_cross_entropy_with_logits(z, one, reduction="none")
    ce_grad = np.abs(binary_cross_entropy_with_logits_grad(z, one, reduction="none"))
    se = (p - 1) ** 2
    se_grad = np.abs(2 * (p - 1) * p * (1 - p))
    return ce, ce_grad, se, se_grad


@figure("losses-confidently-wrong")
def confidently_wrong():
    """Loss and logit gradient of CE and squared error on a sigmoid output, target 1."""
    p = np.logspace(-6, np.log10(0.999), 400)
    ce, ce_grad, se, se_grad = confidently_wrong_curves(p)
    fig, (ax_l, ax_g) = plt.subplots(1, 2, figsize=(5.8, 3.2), sharex=True)
    ax_l.plot(p, ce, color=PALETTE[0], label=r"cross-entropy $-\log p$")
    ax_l.plot(p, se, color=PALETTE[1], linestyle="--", label=r"squared error $(1-p)^2$")
    ax_g.semilogy(p, ce_grad, color=PALETTE[0])
    ax_g.semilogy(p, se_grad, color=PALETTE[1], linestyle="--")
    ax_l.set_title("loss")
    ax_g.set_title(r"$|\partial \ell / \partial z|$")
    for ax in (ax_l, ax_g):
        ax.set_xscale("log")
        ax.set_xlabel(r"$p = \sigma(z)$, target $y=1$")
        ax.axvspan(p[0], 0.01, color="#868e96", alpha=0.2, linewidth=0)
    fig.legend(loc="outside lower center", ncol=2)
    return fig


def softmax_gradient_norms(q_true, k=10):
    """||d loss / d z|| for softmax CE and for squared error on softmax, K classes.

    The logits put probability ``q_true`` on the true class (0), the rest of the mass on
    class 1, and a tiny equal share on the others: a confident mistake as q_true -> 0.
    """
    import torch

    ce_norm, se_norm = [], []
    for q in q_true:
        probs = np.full(k, OTHERS)
        probs[0], probs[1] = q, 1.0 - q - OTHERS * (k - 2)
        z = torch.tensor(np.log(probs), requires_grad=True)
        target = torch.tensor([0])
        ce = torch.nn.functional.cross_entropy(z[None], target)
        (g_ce,) = torch.autograd.grad(ce, z)
        se = ((torch.softmax(z, 0) - torch.eye(k, dtype=z.dtype)[0]) ** 2).sum()
        (g_se,) = torch.autograd.grad(se, z)
        ce_norm.append(float(g_ce.norm()))
        se_norm.append(float(g_se.norm()))
    return np.array(ce_norm), np.array(se_norm)


@figure("losses-softmax-gradient")
def softmax_gradient():
    """Gradient norm of softmax CE and of squared error on softmax, 10 classes."""
    q = np.logspace(-6, np.log10(0.98), 200)
    ce_norm, se_norm = softmax_gradient_norms(q)
    fig, ax = plt.subplots(figsize=(5.8, 3.2))
    ax.loglog(q, ce_norm, color=PALETTE[0], label="cross-entropy")
    ax.loglog(q, se_norm, color=PALETTE[1], linestyle="--",
              label="squared error on softmax")
    ax.axvspan(q[0], 0.01, color="#868e96", alpha=0.2, linewidth=0)
    ax.set_xlabel(r"probability of the true class $q_y$ ($K = 10$)")
    ax.set_ylabel(r"$\|\nabla_z \ell\|$")
    ax.legend(loc="lower right")
    return fig


RACE_LRS = (1.0, 10.0)   # learning rates drawn in the race figure
RACE_SCALE = 2.0         # size of the confidently wrong initial weights


@figure("losses-race")
def race():
    """Training accuracy of CE and squared error on softmax from a confidently wrong start."""
    from dlhandbook.losses.classification_race import confidently_wrong_init, make_blobs, train

    X, y, C = make_blobs(seed=0)
    W0 = confidently_wrong_init(C, RACE_SCALE)
    steps = np.arange(1, 301)
    fig, ax = plt.subplots(figsize=(5.8, 3.2))
    for lr, ls in zip(RACE_LRS, ("-", "--"), strict=True):
        for j, (loss, name) in enumerate((("ce", "cross-entropy"), ("se", "squared error"))):
            acc = train(X, y, W0, loss, lr, len(steps))
            ax.plot(steps, acc, color=PALETTE[j], linestyle=ls, label=rf"{name}, $\eta={lr:g}$")
    ax.axhline(0.95, color="#868e96", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("full-batch gradient steps")
    ax.set_ylabel("training accuracy")
    fig.legend(loc="outside lower center", ncol=2)
    return fig


def margin_curves(m, gamma=2.0):
    """Binary losses and d loss / d m of the margin m = (+-1) * logit, label +1.

    The hinge is our two-class multi_margin_loss with scores (0, m), times the two classes
    it averages over; the focal loss has no alpha weighting.
    """
    one = np.ones_like(m)
    logistic = binary_cross_entropy_with_logits(m, one, reduction="none")
    logistic_grad = binary_cross_entropy_with_logits_grad(m, one, reduction="none")
    hinge, hinge_grad, focal, focal_grad = (np.empty_like(m) for _ in range(4))
    for i, mi in enumerate(m):
        scores, target = np.array([[0.0, mi]]), np.array([1])
        hinge[i] = 2 * multi_margin_loss(scores, target)
        hinge_grad[i] = 2 * multi_margin_loss_grad(scores, target)[0, 1]
        focal[i] = sigmoid_focal_loss(m[i:i + 1], one[:1], alpha=-1, gamma=gamma)
        focal_grad[i] = sigmoid_focal_loss_grad(m[i:i + 1], one[:1], alpha=-1, gamma=gamma)[0]
    zero_one = (m <= 0).astype(float)
    return {"zero-one": (zero_one, np.zeros_like(m)),
            "logistic (cross-entropy)": (logistic, logistic_grad),
            "hinge": (hinge, hinge_grad),
            rf"focal, $\gamma={gamma:g}$": (focal, focal_grad)}


@figure("losses-margin")
def margin_losses():
    """Classification losses and their gradients against the margin."""
    m = np.linspace(-3, 3, 601)
    fig, (ax_l, ax_g) = plt.subplots(1, 2, figsize=(5.8, 3.4), sharex=True)
    for i, (label, (loss, grad)) in enumerate(margin_curves(m).items()):
        ls = ["-", "--", "-.", ":"][i]
        color = PALETTE[7] if label == "zero-one" else PALETTE[i - 1]
        ax_l.plot(m, loss, color=color, linestyle=ls, label=label)
        ax_g.plot(m, grad, color=color, linestyle=ls)
    ax_l.set_ylim(-0.2, 4)
    ax_l.set_title("loss")
    ax_g.set_title("gradient in the margin")
    for ax in (ax_l, ax_g):
        ax.set_xlabel("margin $m = y z$, $y = \\pm 1$")
    fig.legend(loc="outside lower center", ncol=2)
    return fig
