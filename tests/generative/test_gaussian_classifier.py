import numpy as np
import pytest

from dlhandbook.generative.gaussian_classifier import (
    fit_gaussian_classifier,
    logistic_params,
    posterior,
    sample_labelled,
)


def _data(seed, n=4000):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    L = np.array([[1.0, 0.0], [0.6, 0.8]])
    X = np.array([[0.0, 0.0], [2.0, 1.0]])[y] + rng.standard_normal((n, 2)) @ L.T
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bayes_rule_posterior_is_exactly_a_logistic_regression(seed):
    X, y = _data(seed)
    model = fit_gaussian_classifier(X, y)
    w, b = logistic_params(model)
    grid = np.random.default_rng(seed + 10).uniform(-4, 6, (500, 2))
    np.testing.assert_allclose(posterior(model, grid), 1 / (1 + np.exp(-(grid @ w + b))),
                               rtol=1e-12, atol=1e-14)


def test_it_samples_new_labelled_pairs_like_the_data():
    """20,000 samples: class-1 share within 0.02 (over 6 standard errors) and class means
    within 0.06 (over 4.5 standard errors) of the data's."""
    X, y = _data(0)
    model = fit_gaussian_classifier(X, y)
    Xs, ys = sample_labelled(model, 20_000, seed=1)
    assert abs(ys.mean() - y.mean()) < 0.02
    for k in (0, 1):
        np.testing.assert_allclose(Xs[ys == k].mean(0), X[y == k].mean(0), atol=0.06)


@pytest.mark.parametrize("call, error, match", [
    (lambda X, y: fit_gaussian_classifier(X, y[:-1]), ValueError, "y must have shape"),
    (lambda X, y: fit_gaussian_classifier(X, 2 * y - 1), ValueError, "y must hold labels"),
    (lambda X, y: fit_gaussian_classifier(X, np.zeros_like(y)), ValueError, "both classes"),
    (lambda X, y: fit_gaussian_classifier(X[:, 0], y), TypeError, "X must be a 2-D"),
    (lambda X, y: sample_labelled(fit_gaussian_classifier(X, y), 0), ValueError, "n must be"),
])
def test_bad_input_names_the_argument(call, error, match):
    X, y = _data(0, n=50)
    with pytest.raises(error, match=match):
        call(X, y)
