r"""A Gaussian mixture fitted by expectation-maximisation (EM), with exact likelihood.

$$p(x) = \sum_{k=1}^K \pi_k\,\mathcal N(x;\ \mu_k, \Sigma_k).$$

E-step: responsibilities $r_{ik} = \pi_k\mathcal N(x_i;\mu_k,\Sigma_k) / p(x_i)$.
M-step, with $N_k = \sum_i r_{ik}$:

$$\pi_k = \frac{N_k}{n},\qquad \mu_k = \frac{1}{N_k}\sum_i r_{ik}x_i,\qquad
\Sigma_k = \frac{1}{N_k}\sum_i r_{ik}(x_i-\mu_k)(x_i-\mu_k)^\top .$$

Each iteration maximises a lower bound that touches $\log p(X)$ at the current
parameters, so the log-likelihood never decreases (Dempster, Laird & Rubin 1977).
With ``reg_covar > 0`` a small ridge is added to each $\Sigma_k$ (a common guard against
a component collapsing onto one point); the guarantee is for ``reg_covar = 0``.

Reference: Dempster, Laird & Rubin (1977), *Maximum Likelihood from Incomplete Data via
the EM Algorithm*, JRSS B.
"""

# --8<-- [start:imports]
from typing import NamedTuple

import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
class GMM(NamedTuple):
    weights: np.ndarray   # (K,)      pi_k
    means: np.ndarray     # (K, d)    mu_k
    covs: np.ndarray      # (K, d, d) Sigma_k


def gmm_log_joint(X, gmm):
    """(n, K) array of log pi_k + log N(x_i; mu_k, Sigma_k)."""
    X = _check_points(X, gmm.means.shape[1])
    L = np.linalg.cholesky(gmm.covs)                        # (K, d, d)
    diff = X[None, :, :] - gmm.means[:, None, :]            # (K, n, d)
    z = np.linalg.solve(L, diff.transpose(0, 2, 1))         # (K, d, n) = L^-1 (x - mu)
    maha = (z**2).sum(axis=1)                               # (K, n)
    log_det = 2 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)   # (K,)
    d = X.shape[1]
    log_norm = -0.5 * (maha + log_det[:, None] + d * np.log(2 * np.pi))
    return (np.log(gmm.weights)[:, None] + log_norm).T      # (n, K)


def gmm_log_density(X, gmm):
    """Exact log p(x_i) for each row of X, shape (n,)."""
    return _logsumexp(gmm_log_joint(X, gmm), axis=1)


def gmm_em(X, n_components, n_iter=100, reg_covar=1e-6, seed=0):
    """Fit a K-component GMM by EM. Returns (gmm, mean log-likelihood per iteration)."""
    X = _check_points(X)
    _check_em_args(X, n_components, n_iter, reg_covar)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    gmm = GMM(weights=np.full(n_components, 1.0 / n_components),
              means=_kmeans_plus_plus(X, n_components, rng),
              covs=np.repeat(np.cov(X.T)[None], n_components, axis=0))
    history = []
    for _ in range(n_iter):
        # E-step: responsibilities r_ik, and the log-likelihood of the current gmm
        log_joint = gmm_log_joint(X, gmm)                    # (n, K)
        log_px = _logsumexp(log_joint, axis=1)               # (n,)
        history.append(log_px.mean())
        r = np.exp(log_joint - log_px[:, None])              # (n, K), rows sum to 1
        # M-step: weighted maximum likelihood for each component
        N_k = r.sum(axis=0)                                  # (K,)
        means = (r.T @ X) / N_k[:, None]                     # (K, d)
        diff = X[None, :, :] - means[:, None, :]             # (K, n, d)
        weighted = r.T[:, None, :] * diff.transpose(0, 2, 1)  # (K, d, n)
        covs = weighted @ diff / N_k[:, None, None]          # (K, d, d)
        covs = covs + reg_covar * np.eye(d)
        gmm = GMM(weights=N_k / n, means=means, covs=covs)
    return gmm, np.array(history)


def gmm_sample(gmm, n, seed=0):
    """n points (n, d): component k with probability pi_k, then x ~ N(mu_k, Sigma_k)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive int, got {n!r}")
    rng = np.random.default_rng(seed)
    k = rng.choice(len(gmm.weights), size=n, p=gmm.weights)          # (n,)
    L = np.linalg.cholesky(gmm.covs)[k]                              # (n, d, d)
    eps = rng.standard_normal((n, gmm.means.shape[1], 1))            # (n, d, 1)
    return gmm.means[k] + (L @ eps)[:, :, 0]


def _kmeans_plus_plus(X, k, rng):
    """Initial means: each next one drawn with probability ~ squared distance to the
    nearest chosen so far (Arthur & Vassilvitskii 2007). EM only finds a local
    maximum, so where it starts matters."""
    means = [X[rng.integers(len(X))]]
    for _ in range(k - 1):
        d2 = ((X[:, None, :] - np.array(means)[None]) ** 2).sum(-1).min(axis=1)
        means.append(X[rng.choice(len(X), p=d2 / d2.sum())])
    return np.array(means)


def _logsumexp(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).squeeze(axis)
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_points(X, d=None):
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.floating):
        raise TypeError(f"X must be a floating-point array, got dtype {X.dtype}")
    if X.ndim != 2 or (d is not None and X.shape[1] != d):
        want = "(n, d)" if d is None else f"(n, {d})"
        raise ValueError(f"X must have shape {want}, got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite")
    return X.astype(np.float64)


def _check_em_args(X, n_components, n_iter, reg_covar):
    for name, value in (("n_components", n_components), ("n_iter", n_iter)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
    if n_components > X.shape[0]:
        raise ValueError(f"n_components ({n_components}) exceeds the number of points "
                         f"({X.shape[0]})")
    if not (np.isfinite(reg_covar) and reg_covar >= 0):
        raise ValueError(f"reg_covar must be finite and non-negative, got {reg_covar}")
# --8<-- [end:checks]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 0.5, (300, 2)), rng.normal(1.5, 1.0, (200, 2))])
    gmm, history = gmm_em(X, 2, n_iter=50)
    print(gmm.weights.round(3), gmm.means.round(3), history[[0, -1]].round(4))
    print(gmm_sample(gmm, 3))
