import numpy as np
import pytest
import torch

from dlhandbook.regularization.early_stopping import (
    EarlyStopping,
    fit_with_early_stopping,
    gd_filter,
    gd_least_squares,
    ridge,
    ridge_filter,
)


def least_squares_problem(seed=0, n=40, d=40, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) / np.sqrt(n)
    w_true = rng.standard_normal(d)
    y = X @ w_true + noise * rng.standard_normal(n)
    return X, y


class Tiny(torch.nn.Module):
    def __init__(self, dtype=torch.float32, device="cpu"):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2, dtype=dtype, device=device)


# --- the helper -------------------------------------------------------------------


def test_stops_after_exactly_patience_checks_without_improvement():
    stopper = EarlyStopping(patience=3)
    losses = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0]
    stops = [stopper.step(v) for v in losses]
    # best at index 2; indices 3, 4, 5 do not improve: stop is signalled at index 5
    assert stops == [False, False, False, False, False, True, False]
    assert stopper.best == 2.0 and stopper.best_epoch == 6


def test_improvements_smaller_than_min_delta_do_not_reset_patience():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    assert not stopper.step(1.0)
    assert not stopper.step(0.95)        # better, but by less than min_delta
    assert stopper.step(0.91)            # second check without a real improvement
    assert stopper.best == 1.0 and stopper.best_epoch == 0


def test_mode_max_monitors_a_metric_to_maximise():
    stopper = EarlyStopping(patience=1, mode="max")
    assert not stopper.step(0.5)
    assert not stopper.step(0.7)
    assert stopper.step(0.6)
    assert stopper.best == 0.7


def test_nan_never_counts_as_an_improvement():
    stopper = EarlyStopping(patience=2)
    stopper.step(1.0)
    assert not stopper.step(float("nan"))
    assert stopper.step(float("nan"))
    assert stopper.best == 1.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_restore_loads_the_exact_weights_of_the_best_epoch(dtype, device):
    model = Tiny(dtype, device)
    stopper = EarlyStopping(patience=5)
    saved = {}
    for epoch, val in enumerate([3.0, 1.0, 2.0, 2.5]):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))         # "training" changes the weights
        saved[epoch] = {k: v.clone() for k, v in model.state_dict().items()}
        stopper.step(val, model)
    stopper.restore(model)
    for k, v in model.state_dict().items():
        assert v.dtype == dtype and v.device.type == device.type
        assert torch.equal(v, saved[1][k])           # bit for bit the best epoch


def test_saved_weights_are_a_copy_not_a_view():
    model = Tiny()
    stopper = EarlyStopping(patience=5)
    stopper.step(1.0, model)
    best = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.lin.weight.mul_(0.0)
    for k, v in stopper.best_state.items():
        assert torch.equal(v, best[k])


def test_restore_before_any_save_raises():
    with pytest.raises(RuntimeError, match="step"):
        EarlyStopping().restore(Tiny())


@pytest.mark.parametrize("kwargs, exc, name", [
    ({"patience": 0}, ValueError, "patience"),
    ({"patience": -3}, ValueError, "patience"),
    ({"patience": 2.5}, TypeError, "patience"),
    ({"patience": True}, TypeError, "patience"),
    ({"min_delta": -0.1}, ValueError, "min_delta"),
    ({"min_delta": float("inf")}, ValueError, "min_delta"),
    ({"mode": "lower"}, ValueError, "mode"),
])
def test_bad_arguments_raise_naming_the_argument(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        EarlyStopping(**kwargs)


def test_in_a_training_loop_it_stops_early_and_restores_the_best_validation_loss():
    """Linear regression with as many weights as points (n = d = 40) overfits the noise."""
    rng = np.random.default_rng(0)
    w_true = rng.standard_normal(40)
    X, Xv = rng.standard_normal((40, 40)) / np.sqrt(40), rng.standard_normal((200, 40)) / np.sqrt(40)
    y = X @ w_true + rng.standard_normal(40)
    yv = Xv @ w_true + rng.standard_normal(200)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    torch.manual_seed(0)
    model = torch.nn.Linear(40, 1, bias=False, dtype=torch.float64)
    torch.nn.init.zeros_(model.weight)
    mse = lambda out, target: torch.mean((out.squeeze(-1) - target) ** 2)  # noqa: E731
    stopper, train_curve, val_curve = fit_with_early_stopping(
        model, mse, (t(X), t(y)), (t(Xv), t(yv)), lr=0.5, max_epochs=5000, patience=200)
    assert len(val_curve) < 5000                                  # it stopped early
    assert len(val_curve) == stopper.best_epoch + 1 + 200         # exactly patience later
    with torch.no_grad():
        restored = mse(model(t(Xv)), t(yv)).item()
    assert restored == pytest.approx(min(val_curve), rel=1e-12)   # best weights are back
    assert val_curve[-1] > min(val_curve)                         # it had got worse


# --- early stopping as L2 ---------------------------------------------------------


def test_gd_from_zero_is_the_spectral_filter_one_minus_one_minus_lr_s_to_the_t():
    X, y = least_squares_problem()
    s, V = np.linalg.eigh(X.T @ X)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    lr = 0.5 / s.max()
    path = gd_least_squares(X, y, lr, 300)
    for t in (0, 1, 7, 300):
        predicted = V @ (gd_filter(s, lr, t) * (V.T @ w_star))
        np.testing.assert_allclose(path[t], predicted, rtol=0, atol=1e-9)


def test_ridge_is_the_spectral_filter_s_over_s_plus_lambda():
    X, y = least_squares_problem()
    s, V = np.linalg.eigh(X.T @ X)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    for lam in (1e-3, 0.1, 10.0):
        predicted = V @ (ridge_filter(s, lam) * (V.T @ w_star))
        np.testing.assert_allclose(ridge(X, y, lam), predicted, rtol=0, atol=1e-9)


@pytest.mark.parametrize("u_max, bound", [(0.01, 0.205), (0.1, 0.22)])
def test_gd_filter_lies_between_ridge_filter_with_lambda_one_over_lr_t_and_that_plus_bound(
        u_max, bound):
    """0 <= [1 - (1 - u)^t] - [u t / (1 + u t)] <= bound for 0 < u = lr * s <= u_max."""
    u = np.linspace(1e-5, u_max, 4001)
    worst = 0.0
    for t in [1, 2, 3, 5, 10, 30, 100, 300, 1000, 10000]:
        gap = gd_filter(u, 1.0, t) - ridge_filter(u, 1.0 / t)
        assert gap.min() >= -1e-15
        worst = max(worst, gap.max())
    # the gradient-flow limit of the gap is max_x 1/(1+x) - exp(-x) = 0.2036 at x = 2.51
    assert 0.2 < worst <= bound


def test_early_stopped_weights_are_within_022_of_ridge_with_lambda_one_over_lr_t():
    X, y = least_squares_problem()
    s = np.linalg.eigvalsh(X.T @ X)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    lr = 0.1 / s.max()                                    # lr * s <= 0.1 everywhere
    path = gd_least_squares(X, y, lr, 3000)
    for t in (3, 30, 300, 3000):
        gap = np.linalg.norm(path[t] - ridge(X, y, 1.0 / (lr * t)))
        assert gap <= 0.22 * np.linalg.norm(w_star)


def test_the_best_matching_l2_strength_falls_as_t_grows_like_one_over_lr_t():
    X, y = least_squares_problem()
    s = np.linalg.eigvalsh(X.T @ X)
    lr = 0.5 / s.max()
    path = gd_least_squares(X, y, lr, 3000)
    lams = np.logspace(-6, 3, 361)
    R = np.stack([ridge(X, y, lam) for lam in lams])
    best = []
    for t in (3, 10, 30, 100, 300, 1000, 3000):
        i = np.argmin(np.linalg.norm(R - path[t], axis=1))
        assert 0 < i < len(lams) - 1                      # strictly inside the grid
        best.append(lams[i])
        assert 0.3 <= lams[i] * lr * t <= 1.5             # lambda* ~ 1 / (lr t)
    assert all(a > b for a, b in zip(best, best[1:], strict=False))     # strictly falling


@pytest.mark.parametrize("call, name", [
    (lambda: gd_filter([1.0], 0.0, 3), "lr"),
    (lambda: gd_filter([1.0], 0.1, -1), "t"),
    (lambda: gd_filter([-1.0], 0.1, 1), "s"),
    (lambda: ridge_filter([1.0], -1.0), "lam"),
    (lambda: gd_least_squares(np.ones((3, 2)), np.ones(2), 0.1, 3), "X"),
])
def test_numpy_functions_reject_bad_input(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
