"""Figures of Part IX's extra pages: early stopping, augmentation, ensembles, transfer learning."""

from __future__ import annotations

from functools import cache

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlhandbook.figures import figure
from dlhandbook.figures.style import PALETTE
from dlhandbook.regularization.early_stopping import (
    EarlyStopping,
    fit_with_early_stopping,
    gd_filter,
    ridge_filter,
)


def _regression_split(seed=0, n=40, d=40, n_val=200, noise=1.0):
    """Linear regression with as many weights as training points: GD overfits the noise."""
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(d)
    X, X_val = rng.standard_normal((n, d)) / np.sqrt(d), rng.standard_normal((n_val, d)) / np.sqrt(d)
    y = X @ w_true + noise * rng.standard_normal(n)
    y_val = X_val @ w_true + noise * rng.standard_normal(n_val)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    return (t(X), t(y)), (t(X_val), t(y_val))


def _mse(out, target):
    return torch.mean((out.squeeze(-1) - target) ** 2)


@cache
def _early_stopping_run(patience: int, max_epochs: int):
    train, val = _regression_split()
    model = torch.nn.Linear(40, 1, bias=False, dtype=torch.float64)
    torch.nn.init.zeros_(model.weight)
    stopper, train_curve, val_curve = fit_with_early_stopping(
        model, _mse, train, val, lr=0.5, max_epochs=max_epochs, patience=patience)
    return stopper.best_epoch, np.array(train_curve), np.array(val_curve)


@figure("extras9-early-stopping")
def early_stopping_curves():
    best, train_full, val_full = _early_stopping_run(10**9, 2000)
    stopper = EarlyStopping(patience=200)      # replay the helper on the full curve
    stop = next(i for i, v in enumerate(val_full) if stopper.step(v))
    epochs = np.arange(1, len(val_full) + 1)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.5))
    ax.loglog(epochs, train_full, color=PALETTE[0], label="train")
    ax.loglog(epochs, val_full, color=PALETTE[1], label="validation")
    ax.axvline(best + 1, color=PALETTE[7], linestyle=":")
    ax.plot([best + 1], [val_full[best]], "o", color=PALETTE[6], label="best epoch")
    ax.plot([stop + 1], [val_full[stop]], "s", color=PALETTE[3],
            label="stop (patience 200)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_title("n = d = 40, GD lr 0.5")
    s = np.logspace(-3, 1, 300)
    for i, t in enumerate((10, 100, 1000)):
        ax2.semilogx(s, gd_filter(s, 0.1, t), color=PALETTE[2 + 2 * i], label=f"GD, t = {t}")
        ax2.semilogx(s, ridge_filter(s, 1 / (0.1 * t)), color=PALETTE[2 + 2 * i], linestyle="--")
    ax2.set_xlabel("eigenvalue s of XᵀX")
    ax2.set_ylabel("filter factor")
    ax2.set_title("dashed: ridge, λ = 1/(ηt)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncol=3)
    return fig


# --- ensembles ---------------------------------------------------------------------------

N_MEMBERS = 8


def _sine_data(seed=0, n=40, noise=0.3):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 1, generator=g) * 6 - 3
    y = torch.sin(X) + noise * torch.randn(n, 1, generator=g)
    X_test = torch.linspace(-3, 3, 400).unsqueeze(1)
    return X, y, X_test, torch.sin(X_test)


def _batched_mlp_fit(X, y, sample_weights, hidden=32, steps=400, lr=1e-2, seed=0):
    """Train M independent 1-hidden-hidden-1 tanh MLPs at once (batched matmuls).

    Each member m minimises its own weighted mean squared error; Adam is elementwise, so
    summing the members' losses trains each exactly as if it were alone. A bootstrap
    sample is the weight vector counts / n.
    """
    M = sample_weights.shape[0]
    g = torch.Generator().manual_seed(seed)

    def layer(fan_in, fan_out):      # nn.Linear's default init, one copy per member
        bound = 1 / np.sqrt(fan_in)
        W = (torch.rand(M, fan_in, fan_out, generator=g) * 2 - 1) * bound
        b = (torch.rand(M, 1, fan_out, generator=g) * 2 - 1) * bound
        return [W.requires_grad_(), b.requires_grad_()]

    params = layer(1, hidden) + layer(hidden, hidden) + layer(hidden, 1)

    def forward(x):                  # x: (n, 1) -> (M, n)
        h = x.expand(M, -1, -1)
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = torch.tanh(h)
        return h.squeeze(-1)

    opt = torch.optim.Adam(params, lr=lr, fused=True)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((forward(X) - y.T) ** 2 * sample_weights).sum()
        loss.backward()
        opt.step()
    return forward


@cache
def _ensemble_curves():
    from dlhandbook.ensembles.averaging import ambiguity_decomposition, bootstrap_indices
    from dlhandbook.ensembles.snapshot import fit_snapshots

    X, y, X_test, y_test = _sine_data()
    n = len(X)
    target = y_test.squeeze(1).numpy()
    uniform = torch.full((N_MEMBERS, n), 1 / n)
    idx = bootstrap_indices(n, N_MEMBERS, np.random.default_rng(0))
    counts = np.stack([np.bincount(row, minlength=n) for row in idx]) / n
    curves = {}
    for name, weights in (("independent", uniform), ("bagging", torch.tensor(counts, dtype=torch.float32))):
        predict = _batched_mlp_fit(X, y, weights)
        with torch.no_grad():
            curves[name] = predict(X_test).numpy()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32),
                                torch.nn.Tanh(), torch.nn.Linear(32, 1))
    snaps = fit_snapshots(model, torch.nn.functional.mse_loss, X, y, 400, N_MEMBERS, lr_max=0.1)
    with torch.no_grad():
        curves["snapshot"] = torch.stack([s(X_test) for s in snaps]).squeeze(-1).numpy()
    out = {}
    for name, preds in curves.items():
        rows = [ambiguity_decomposition(preds[:k], target) for k in range(1, N_MEMBERS + 1)]
        out[name] = np.array(rows)            # (M, 3): ensemble error, mean member error, ambiguity
    return out


@figure("extras9-ensemble-size")
def ensemble_size():
    curves = _ensemble_curves()
    k = np.arange(1, N_MEMBERS + 1)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.5))
    for i, name in enumerate(("independent", "bagging", "snapshot")):
        rows = curves[name]
        ax.plot(k, rows[:, 0], "o-", color=PALETTE[i], markersize=4, label=name)
        ax.plot(k, rows[:, 1], "--", color=PALETTE[i])
    ax.plot([], [], "-", color=PALETTE[7], label="ensemble")
    ax.plot([], [], "--", color=PALETTE[7], label="mean member")
    ax.set_xlabel("members M")
    ax.set_ylabel("test MSE")
    ax.set_ylim(bottom=0)
    ax.set_title("sin(x) + noise, 40 points")
    rows = curves["bagging"]
    ax2.bar(k - 0.2, rows[:, 1], width=0.4, color=PALETTE[1], label="mean member error")
    ax2.bar(k + 0.2, rows[:, 2], width=0.4, color=PALETTE[4], label="ambiguity")
    ax2.plot(k, rows[:, 0], "o-", color=PALETTE[6], markersize=4, label="ensemble error")
    ax2.set_xlabel("members M (bagging)")
    ax2.set_xticks([2, 4, 6, 8])
    ax2.set_title("Krogh & Vedelsby")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncol=3)
    return fig


# --- augmentation -------------------------------------------------------------------------


def _letter_images(size=24):
    """Two grey-level test images: an asymmetric 'F' on a gradient, and a ring."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    f = 0.25 * xx
    f[4:20, 6:9] = 1.0          # stem
    f[4:7, 6:17] = 1.0          # top bar
    f[11:14, 6:14] = 1.0        # middle bar
    r = np.hypot(xx - 0.5, yy - 0.5)
    ring = ((r > 0.25) & (r < 0.38)).astype(float)
    return f[None, None], ring[None, None]     # (1, 1, H, W) each


@figure("extras9-augmentation")
def augmentation_examples():
    from dlhandbook.augmentation.augment import add_noise, mixup, random_crop, random_hflip, tta_hflip

    f, ring = _letter_images()
    rng = np.random.default_rng(3)
    flipped = random_hflip(f, 1.0, rng)
    cropped = random_crop(f, 24, 4, rng)
    noisy = add_noise(f, 0.2, rng)
    X_mix, _, lam = mixup(np.concatenate([f, ring]), np.eye(2), 1.0, np.random.default_rng(1))
    tiles = [f, flipped, cropped, noisy, X_mix[:1]]
    names = ["original", "flip", "pad 4 + crop", "noise σ 0.2", f"mixup λ {lam:.2f}"]
    gap = np.full((24, 3), np.nan)
    mosaic = np.concatenate(sum([[t[0, 0], gap] for t in tiles], [])[:-1], axis=1)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(5.8, 5.4), height_ratios=[1, 1.6])
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for i, name in enumerate(names):
        ax.text(i * 27 + 12, -3, name, ha="center", va="bottom")
    ax.set_axis_off()
    rng = np.random.default_rng(0)
    W = rng.standard_normal(24 * 24) / 24
    X = rng.uniform(0, 1, size=(200, 1, 24, 24)) * np.linspace(0, 1, 24)   # left-right asymmetric

    def predict(Z):
        return np.tanh(Z.reshape(len(Z), -1) @ W)

    mirror = X[..., ::-1]
    ax2.plot(predict(X), predict(mirror), "o", color=PALETTE[1], markersize=3, label="model f")
    ax2.plot(tta_hflip(predict, X), tta_hflip(predict, mirror), "o", color=PALETTE[0], markersize=3,
             label="TTA: (f(x) + f(flip x)) / 2")
    ax2.set_xlabel("prediction on x")
    ax2.set_ylabel("prediction on flip(x)")
    ax2.set_aspect("equal", adjustable="datalim")
    ax2.legend(loc="upper left")
    return fig


# --- transfer learning ----------------------------------------------------------------------

N_LABELS = (10, 30, 100, 300)
TRANSFER_SEEDS = (0, 1)
STRATEGIES = ("scratch", "linear_probe", "fine_tune")


@cache
def _transfer_accuracies():
    """Test accuracy (strategy -> (len(N_LABELS), len(TRANSFER_SEEDS))) on the synthetic task."""
    import copy

    from dlhandbook.transfer.fine_tune import SmallNet, accuracy, make_tasks, prepare_transfer, train

    def as_torch(X, y):
        return torch.tensor(X, dtype=torch.float32), torch.tensor(y)

    sample = make_tasks(seed=0)
    X_src, y_src = as_torch(*sample("source", 2000, np.random.default_rng(1)))
    X_te, y_te = as_torch(*sample("target", 1000, np.random.default_rng(1)))
    torch.manual_seed(0)
    net = SmallNet(30, 32)
    train(net, torch.optim.Adam(net.parameters(), lr=1e-2, fused=True), X_src, y_src, steps=200)
    acc = {s: np.zeros((len(N_LABELS), len(TRANSFER_SEEDS))) for s in STRATEGIES}
    for i, n in enumerate(N_LABELS):
        for j, seed in enumerate(TRANSFER_SEEDS):
            X_tr, y_tr = as_torch(*sample("target", n, np.random.default_rng(100 + seed)))
            for strategy in STRATEGIES:
                torch.manual_seed(seed)
                model = copy.deepcopy(net)
                opt = prepare_transfer(model, 4, strategy)
                train(model, opt, X_tr, y_tr, steps=100)
                acc[strategy][i, j] = accuracy(model, X_te, y_te)
    return acc


@figure("extras9-transfer")
def transfer_accuracy():
    acc = _transfer_accuracies()
    labels = {"scratch": "from scratch", "linear_probe": "linear probe (frozen body)",
              "fine_tune": "fine-tune (body lr × 0.1)"}
    fig, ax = plt.subplots(figsize=(5.8, 4.0))
    n = np.array(N_LABELS)
    for i, strategy in enumerate(STRATEGIES):
        runs = acc[strategy]
        for j in range(runs.shape[1]):
            ax.semilogx(n, runs[:, j], "o", color=PALETTE[i], markersize=3, alpha=0.6)
        ax.semilogx(n, runs.mean(axis=1), "-", color=PALETTE[i], label=labels[strategy])
    ax.axhline(0.25, color=PALETTE[7], linestyle=":", label="chance (4 classes)")
    ax.set_xlabel("labelled target examples")
    ax.set_ylabel("target test accuracy")
    ax.set_xticks(n, [str(v) for v in N_LABELS])
    fig.legend(loc="outside lower center", ncol=2)
    return fig
