import math

import numpy as np
import pytest
import torch

from dlhandbook.ensembles.averaging import (
    Ensemble,
    ambiguity_decomposition,
    average_predictions,
    bootstrap_indices,
    fit_bagging,
)
from dlhandbook.ensembles.snapshot import fit_snapshots, snapshot_lr

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]


# --- Krogh & Vedelsby ---------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 100), (3, 20, 4), (1, 7)])
@pytest.mark.parametrize("weighted", [False, True])
def test_ensemble_error_is_average_member_error_minus_ambiguity(shape, weighted):
    rng = np.random.default_rng(0)
    y = rng.standard_normal(shape[1:])
    preds = y + rng.standard_normal(shape) + rng.standard_normal(shape[:1] + (1,) * (len(shape) - 1))
    weights = rng.dirichlet(np.ones(shape[0])) if weighted else None
    E, E_bar, A = ambiguity_decomposition(preds, y, weights)
    assert E == pytest.approx(E_bar - A, abs=1e-12)
    w = np.full(shape[0], 1 / shape[0]) if weights is None else weights
    f_bar = np.tensordot(w, preds, axes=1)
    assert E == pytest.approx(np.mean((f_bar - y) ** 2), abs=1e-12)
    assert E_bar == pytest.approx(sum(wm * np.mean((p - y) ** 2) for wm, p in zip(w, preds, strict=True)))


def test_ensemble_is_never_worse_than_the_average_member_and_equal_only_without_spread():
    rng = np.random.default_rng(1)
    for _ in range(200):
        M, n = rng.integers(1, 8), rng.integers(1, 30)
        y = rng.standard_normal(n)
        preds = rng.standard_normal((M, n)) * rng.uniform(0.1, 3)
        E, E_bar, A = ambiguity_decomposition(preds, y)
        assert A >= 0 and E <= E_bar + 1e-12
        assert (A > 0) == (M > 1)        # random distinct members always have spread
    same = np.tile(rng.standard_normal(10), (4, 1))
    E, E_bar, A = ambiguity_decomposition(same, np.zeros(10))
    assert A == 0 and E == pytest.approx(E_bar, abs=1e-15)


def test_average_predictions_is_the_weighted_mean():
    preds = np.array([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(average_predictions(preds), [2.0, 4.0])
    np.testing.assert_allclose(average_predictions(preds, [0.25, 0.75]), [2.5, 5.0])


# --- the PyTorch module and bagging -------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_ensemble_module_averages_member_outputs_or_probabilities(dtype, device):
    torch.manual_seed(0)
    members = [torch.nn.Linear(4, 3, dtype=dtype, device=device) for _ in range(5)]
    x = torch.randn(6, 4, dtype=dtype, device=device)
    with torch.no_grad():
        out = Ensemble(members)(x)
        outs = torch.stack([m(x) for m in members]).float()
        probs = Ensemble(members, probs=True)(x)
    tol = {torch.float16: 2e-3, torch.bfloat16: 2e-2}.get(dtype, 1e-6)
    assert out.dtype == dtype and out.shape == (6, 3)
    torch.testing.assert_close(out.float(), outs.mean(0), atol=tol, rtol=tol)
    torch.testing.assert_close(probs.float().sum(-1), torch.ones(6, device=device), atol=tol, rtol=0)


def test_bootstrap_samples_leave_out_about_one_over_e_of_the_points():
    """Unique fraction of n = 10000 draws: mean 1 - (1 - 1/n)^n, std about 0.003; the
    0.02 tolerance is over 6 standard deviations (failure probability < 1e-8 per member)."""
    n = 10_000
    idx = bootstrap_indices(n, 20, np.random.default_rng(0))
    assert idx.shape == (20, n) and idx.min() >= 0 and idx.max() < n
    expected = 1 - (1 - 1 / n) ** n
    for row in idx:
        assert abs(len(np.unique(row)) / n - expected) < 0.02
    assert expected == pytest.approx(1 - math.exp(-1), abs=1e-4)
    np.testing.assert_array_equal(idx, bootstrap_indices(n, 20, np.random.default_rng(0)))


def test_fit_bagging_trains_each_member_on_its_own_bootstrap_sample():
    X = torch.arange(50.0).unsqueeze(1)
    y = 2 * X
    seen = []

    def fit(model, X_b, y_b):
        assert X_b.shape == X.shape
        torch.testing.assert_close(y_b, 2 * X_b)          # pairs stay together
        seen.append(X_b.squeeze(1).long())

    def make_model():
        return torch.nn.Linear(1, 1)

    ens = fit_bagging(make_model, fit, X, y, 4, generator=torch.Generator().manual_seed(0))
    assert isinstance(ens, Ensemble) and len(ens.members) == 4
    assert all(len(torch.unique(s)) < 50 for s in seen)   # drawn with replacement
    assert all(not torch.equal(seen[i], seen[j]) for i in range(4) for j in range(i))
    first = list(seen)
    seen.clear()
    fit_bagging(make_model, fit, X, y, 4, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(first, seen, strict=True))   # seeded


# --- snapshot ensembles --------------------------------------------------------------


def test_snapshot_schedule_matches_torch_cosine_annealing_warm_restarts():
    total, cycles, lr_max = 60, 4, 0.1
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr_max)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=total // cycles)
    for t in range(1, total + 1):
        assert snapshot_lr(t, total, cycles, lr_max) == pytest.approx(
            opt.param_groups[0]["lr"], abs=1e-12)
        opt.step()
        sched.step()


def test_each_cycle_restarts_at_lr_max_and_anneals_towards_zero():
    total, cycles, lr_max = 400, 8, 0.05
    lrs = np.array([snapshot_lr(t, total, cycles, lr_max) for t in range(1, total + 1)])
    per_cycle = lrs.reshape(cycles, -1)
    assert np.all(per_cycle[:, 0] == lr_max)
    assert np.all(np.diff(per_cycle, axis=1) < 0)                 # falls within a cycle
    assert np.all(per_cycle[:, -1] < 1e-3 * lr_max)               # ends near zero


def test_fit_snapshots_returns_one_distinct_snapshot_per_cycle_with_spread():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    X = torch.rand(40, 1, generator=g) * 6 - 3
    y = torch.sin(X) + 0.3 * torch.randn(40, 1, generator=g)
    model = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    snaps = fit_snapshots(model, torch.nn.functional.mse_loss, X, y, 120, 4, lr_max=0.1)
    assert len(snaps) == 4 and all(not s.training for s in snaps)
    first = [p.clone() for p in snaps[0].parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)                                           # snapshots are copies
    assert all(torch.equal(a, b) for a, b in zip(first, snaps[0].parameters(), strict=True))
    X_test = torch.linspace(-3, 3, 200).unsqueeze(1)
    with torch.no_grad():
        preds = torch.stack([s(X_test) for s in snaps]).squeeze(-1).numpy()
    E, E_bar, A = ambiguity_decomposition(preds, np.sin(X_test.squeeze(1).numpy()))
    assert A > 0 and E < E_bar                                    # diverse, so it helps


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("call, exc, name", [
    (lambda: average_predictions(np.zeros((0, 3))), ValueError, "preds"),
    (lambda: ambiguity_decomposition(np.zeros((0, 3)), np.zeros(3)), ValueError, "preds"),
    (lambda: average_predictions(np.zeros((2, 3)), [0.5, 0.6]), ValueError, "weights"),
    (lambda: average_predictions(np.zeros((2, 3)), [1.5, -0.5]), ValueError, "weights"),
    (lambda: Ensemble([]), ValueError, "members"),
    (lambda: bootstrap_indices(10, 0, np.random.default_rng(0)), ValueError, "n_members"),
    (lambda: bootstrap_indices(0, 3, np.random.default_rng(0)), ValueError, "n"),
    (lambda: fit_bagging(None, None, torch.zeros(3, 1), torch.zeros(3), 0), ValueError, "n_members"),
    (lambda: fit_bagging(None, None, torch.zeros(3, 1), torch.zeros(3), 2.0), TypeError, "n_members"),
    (lambda: snapshot_lr(1, 10, 0, 0.1), ValueError, "n_cycles"),
    (lambda: snapshot_lr(1, 10, 3, 0.1), ValueError, "multiple"),
    (lambda: snapshot_lr(1, 10, 2, 0.0), ValueError, "lr_max"),
])
def test_bad_input_raises_naming_the_argument(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
