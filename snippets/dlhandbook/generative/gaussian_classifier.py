r"""A generative classifier: Gaussian classes, one shared covariance (LDA), Bayes' rule.

It models the joint $p(x, y) = p(y)\,p(x\mid y)$ with $p(y{=}k) = \pi_k$ and
$p(x\mid y{=}k) = \mathcal N(x;\ \mu_k, \Sigma)$, fitted by maximum likelihood (class
frequencies, class means, pooled covariance). Classification uses Bayes' rule, and for
two classes the posterior is exactly a logistic regression,

$$p(y{=}1\mid x) = \sigma(w^\top x + b),\qquad w = \Sigma^{-1}(\mu_1-\mu_0),\qquad
b = -\tfrac12\mu_1^\top\Sigma^{-1}\mu_1 + \tfrac12\mu_0^\top\Sigma^{-1}\mu_0
+ \log\frac{\pi_1}{\pi_0}.$$

Because it models $x$ too, it can also sample new labelled pairs $(x, y)$, which a
discriminative model of $p(y\mid x)$ cannot.

Reference: Ng & Jordan (2002), *On Discriminative vs. Generative Classifiers: A
comparison of logistic regression and naive Bayes*, NeurIPS.
"""

# --8<-- [start:imports]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
class GaussianClassifier(NamedTuple):
    priors: np.ndarray   # (2,)    pi_k
    means: np.ndarray    # (2, d)  mu_k
    cov: np.ndarray      # (d, d)  Sigma, shared by both classes


def fit_gaussian_classifier(X, y):
    """Maximum-likelihood p(y) and p(x | y) from X (n, d) and labels y in {0, 1}."""
    X, y = _check_labelled(X, y)
    priors = np.array([np.mean(y == 0), np.mean(y == 1)])
    means = np.stack([X[y == 0].mean(axis=0), X[y == 1].mean(axis=0)])       # (2, d)
    centred = X - means[y]                                                   # (n, d)
    return GaussianClassifier(priors, means, centred.T @ centred / len(X))


def posterior(model, X):
    """p(y = 1 | x) by Bayes' rule from the two class densities, shape (n,)."""
    X = np.asarray(X, dtype=np.float64)
    P = np.linalg.inv(model.cov)
    log_joint = np.stack([            # log pi_k + log N(x; mu_k, Sigma) + const
        np.log(model.priors[k])
        - 0.5 * np.einsum("ni,ij,nj->n", X - model.means[k], P, X - model.means[k])
        for k in (0, 1)], axis=1)                                            # (n, 2)
    log_joint -= log_joint.max(axis=1, keepdims=True)
    p = np.exp(log_joint)
    return p[:, 1] / p.sum(axis=1)


def logistic_params(model):
    """(w, b) with p(y = 1 | x) = sigmoid(w . x + b)."""
    P = np.linalg.inv(model.cov)
    mu0, mu1 = model.means
    w = P @ (mu1 - mu0)
    b = (-0.5 * mu1 @ P @ mu1 + 0.5 * mu0 @ P @ mu0
         + np.log(model.priors[1] / model.priors[0]))
    return w, b


def sample_labelled(model, n, seed=0):
    """n new pairs: y ~ p(y), then x ~ p(x | y). Returns (X (n, d), y (n,))."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive int, got {n!r}")
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < model.priors[1]).astype(int)
    L = np.linalg.cholesky(model.cov)
    X = model.means[y] + rng.standard_normal((n, len(L))) @ L.T
    return X, y
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_labelled(X, y):
    X, y = np.asarray(X), np.asarray(y)
    if not np.issubdtype(X.dtype, np.floating) or X.ndim != 2:
        raise TypeError(
            f"X must be a 2-D floating-point array, got {X.dtype} {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold labels 0 and 1 only")
    if y.min() == y.max():
        raise ValueError("y must contain both classes")
    return X.astype(np.float64), y.astype(int)
# --8<-- [end:checks]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.3).astype(int)
    X = np.array([[0.0, 0.0], [2.0, 1.0]])[y] + rng.standard_normal((500, 2))
    model = fit_gaussian_classifier(X, y)
    w, b = logistic_params(model)
    print(posterior(model, X[:3]), 1 / (1 + np.exp(-(X[:3] @ w + b))))
