from functools import cache

import pytest
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

SEEDS = range(3)


def _mlp_accuracy(X, y, X_test, y_test, steps, seed):
    predict = train_mlp_classifier(torch.tensor(X), torch.tensor(y), width=32, steps=steps,
                                   lr=0.01, seed=seed)
    return accuracy(predict(torch.tensor(X_test)).numpy(), y_test)


@cache
def _circles(seed):
    """Data and the network's held-out accuracy, shared by the two circles tests."""
    X, y = make_circles(400, seed=seed)
    X_test, y_test = make_circles(400, seed=100 + seed)
    return X, y, X_test, y_test, _mlp_accuracy(X, y, X_test, y_test, steps=500, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_on_circles_learned_features_beat_a_linear_model_on_raw_inputs(seed):
    """400 training and 400 held-out points: logistic regression on (x1, x2) stays below
    0.7 held-out accuracy; a 2-32-1 ReLU net (Adam, lr 0.01, 500 steps) exceeds 0.95."""
    X, y, X_test, y_test, mlp = _circles(seed)
    assert accuracy(fit_logistic(X, y)(X_test), y_test) < 0.7
    assert mlp > 0.95


@pytest.mark.parametrize("seed", SEEDS)
def test_on_circles_one_hand_made_feature_makes_a_linear_model_as_good(seed):
    """The feature x1^2 + x2^2 with logistic regression: held-out accuracy > 0.95, and
    within 0.02 of the network's (or above it)."""
    X, y, X_test, y_test, mlp = _circles(seed)
    linear = accuracy(fit_logistic(radius_feature(X), y)(radius_feature(X_test)), y_test)
    assert linear > 0.95
    assert linear >= mlp - 0.02


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_on_a_checkerboard_fourier_features_and_a_linear_model_beat_a_small_net(seed):
    """4 x 4 checkerboard, 300 training points, 2000 held out. Logistic regression on the
    16 products of sines (frequencies 1..4) exceeds 0.93; the 2-32-1 ReLU net on the raw
    inputs (Adam, lr 0.01, 1000 steps) stays below 0.85; raw-input logistic below 0.6."""
    X, y = make_checkerboard(300, seed=seed)
    X_test, y_test = make_checkerboard(2000, seed=100 + seed)
    fourier = accuracy(fit_logistic(fourier_features(X), y)(fourier_features(X_test)), y_test)
    assert fourier > 0.93
    assert _mlp_accuracy(X, y, X_test, y_test, steps=1000, seed=seed) < 0.85
    assert accuracy(fit_logistic(X, y)(X_test), y_test) < 0.6


def test_mlp_trains_on_any_device_and_in_float32(device):
    X, y = make_circles(200, seed=0)
    Xt = torch.tensor(X, dtype=torch.float32, device=device)
    yt = torch.tensor(y, dtype=torch.float32, device=device)
    predict = train_mlp_classifier(Xt, yt, width=16, steps=150, lr=0.05, seed=0)
    labels = predict(Xt)
    assert labels.dtype == torch.float32
    assert accuracy(labels.cpu().numpy(), y) > 0.9


def test_data_and_features_have_the_documented_shapes():
    X, y = make_circles(10, seed=0)
    assert X.shape == (10, 2) and set(y) == {-1.0, 1.0}
    Xc, yc = make_checkerboard(10, seed=0)
    assert fourier_features(Xc, max_freq=3).shape == (10, 9)
    assert radius_feature(X).shape == (10, 1)


def test_bad_input_raises_naming_the_argument():
    X, y = make_circles(10, seed=0)
    with pytest.raises(ValueError, match="y must hold labels"):
        fit_logistic(X, (y > 0).astype(float))
    with pytest.raises(ValueError, match="y must have shape"):
        fit_logistic(X, y[:-1])
    with pytest.raises(ValueError, match="F must be 2-D"):
        fit_logistic(X[:, 0], y)
    with pytest.raises(ValueError, match="F_new must be"):
        fit_logistic(X, y, steps=1)(radius_feature(X))
    with pytest.raises(ValueError, match="width"):
        train_mlp_classifier(torch.tensor(X), torch.tensor(y), width=0)
    with pytest.raises(ValueError, match="X must be"):
        train_mlp_classifier(torch.tensor(X), torch.tensor(y[:-1]))
