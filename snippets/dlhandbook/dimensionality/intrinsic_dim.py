r"""Intrinsic dimension: how many coordinates the data really use.

*Linear manifold, PCA.* The explained-variance ratios of the centred data $X_c$ are
$\lambda_i / \sum_j \lambda_j$ with $\lambda_i = s_i^2/n$ from the singular values $s_i$
of $X_c$. Data on a $k$-dimensional affine subspace have exactly $k$ non-zero ratios.

*Curved manifold, two-NN* (Facco, d'Errico, Rodriguez & Laio 2017). For each point let
$r_1 < r_2$ be the distances to its first and second nearest neighbours and
$\mu = r_2 / r_1$. If the density is locally uniform on a $k$-dimensional manifold,
$\mu$ follows the Pareto law $P(\mu > t) = t^{-k}$ $(t \ge 1)$, whatever the ambient
dimension, and the maximum-likelihood estimate of $k$ from $n$ points is

$$\hat k = \frac{n}{\sum_{i=1}^n \log \mu_i}.$$

*Levina-Bickel* (2005) uses the $m$ nearest distances $T_1 \le \dots \le T_m$ of each
point; pooled over the $n$ points (the variant of MacKay & Ghahramani) the estimate is
$\hat k = \bigl[\frac{1}{n(m-1)} \sum_i \sum_{j<m} \log(T_m(x_i)/T_j(x_i))\bigr]^{-1}$.

Reference: Facco, d'Errico, Rodriguez & Laio (2017), *Estimating the intrinsic dimension
of datasets by a minimal neighborhood information*, Scientific Reports 7, 12140.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def pca_explained_variance(X):
    """Explained-variance ratio of each principal component of X (n, D), descending."""
    X = _check_data(X)
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)   # singular values
    return s ** 2 / (s ** 2).sum()


def two_nn_dimension(X):
    """Two-NN estimate of the intrinsic dimension of the rows of X (n, D)."""
    X = _check_data(X)
    sq = (X * X).sum(axis=1)
    D2 = sq[:, None] + sq[None, :] - 2.0 * X @ X.T       # (n, n) squared distances
    np.fill_diagonal(D2, np.inf)                          # a point is not its neighbour
    r2 = np.sqrt(np.maximum(np.partition(D2, 1, axis=1)[:, :2], 0.0))   # (n, 2): r1, r2
    if np.any(r2[:, 0] == 0.0):
        raise ValueError("X has duplicate rows: r2 / r1 is undefined")
    mu = r2[:, 1] / r2[:, 0]
    return len(X) / np.log(mu).sum()                      # Pareto maximum likelihood


def levina_bickel_dimension(X, n_neighbors=10):
    """Levina-Bickel estimate from each point's n_neighbors nearest distances."""
    X = _check_data(X)
    m = n_neighbors
    _check_sizes(n_neighbors=m)
    if not 2 <= m < len(X):
        raise ValueError(f"n_neighbors must be in [2, {len(X) - 1}], got {m}")
    sq = (X * X).sum(axis=1)
    D2 = sq[:, None] + sq[None, :] - 2.0 * X @ X.T
    np.fill_diagonal(D2, np.inf)
    T = np.sort(np.partition(D2, m - 1, axis=1)[:, :m], axis=1)    # (n, m) ascending
    T = np.sqrt(np.maximum(T, 0.0))
    if np.any(T[:, 0] == 0.0):
        raise ValueError("X has duplicate rows: log(T_m / T_j) is undefined")
    logs = np.log(T[:, -1:] / T[:, :-1])                  # (n, m - 1): log(T_m / T_j)
    return 1.0 / logs.mean()           # pooled over points (MacKay and Ghahramani)
# --8<-- [end:numpy]


# --8<-- [start:manifolds]
def linear_manifold(n, k, D, noise=0.0, seed=0):
    """n Gaussian points on a random k-dimensional subspace of R^D, plus noise."""
    _check_sizes(n=n, k=k, D=D)
    if k > D:
        raise ValueError(f"k must be at most D = {D}, got {k}")
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((D, k)))     # (D, k), orthonormal
    Z = rng.standard_normal((n, k))                           # the k latent coordinates
    return Z @ basis.T + noise * rng.standard_normal((n, D))  # (n, D)


def curved_manifold(n, k, D, freq=1.0, seed=0):
    """n points x = sin(W z + b), z uniform in [0, 1]^k: a curved k-manifold in R^D."""
    _check_sizes(n=n, k=k, D=D)
    if not freq > 0:
        raise ValueError(f"freq must be positive, got {freq}")
    rng = np.random.default_rng(seed)
    W = freq * rng.standard_normal((D, k))                    # random frequencies
    b = rng.uniform(0.0, 2.0 * np.pi, D)                      # random phases
    Z = rng.random((n, k))
    return np.sin(Z @ W.T + b)                                # (n, D)
# --8<-- [end:manifolds]


# --8<-- [start:checks_numpy]
def _check_sizes(**sizes):
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")


def _check_data(X):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 3 or X.shape[1] < 1:
        raise ValueError(f"X must have shape (n, D) with n >= 3, D >= 1, got {X.shape}")
    return X
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def two_nn_dimension_torch(X):
    """Two-NN intrinsic dimension of the rows of X (n, D), on X's device."""
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError("X must be a floating-point torch.Tensor")
    if X.dim() != 2 or X.shape[0] < 3:
        raise ValueError(f"X must have shape (n, D) with n >= 3, got {tuple(X.shape)}")
    A = X.float() if X.dtype in (torch.float16, torch.bfloat16) else X
    D = torch.cdist(A, A, compute_mode="donot_use_mm_for_euclid_dist")   # (n, n)
    D.fill_diagonal_(float("inf"))
    r = D.topk(2, dim=1, largest=False).values                # (n, 2): r1 <= r2
    if bool((r[:, 0] == 0).any()):
        raise ValueError("X has duplicate rows: r2 / r1 is undefined")
    return (len(A) / torch.log(r[:, 1] / r[:, 0]).sum()).item()
# --8<-- [end:torch]


if __name__ == "__main__":
    X = linear_manifold(1000, 3, 50, noise=0.01)
    print("linear, PCA ratios", pca_explained_variance(X)[:5].round(4))
    for k in (1, 2, 3, 5):
        X = curved_manifold(1000, k, 50, freq=2.0)
        ratios = pca_explained_variance(X)
        print(f"curved k={k}: two-NN {two_nn_dimension(X):.2f}, "
              f"Levina-Bickel {levina_bickel_dimension(X):.2f}, components for 95%: "
              f"{np.searchsorted(np.cumsum(ratios), 0.95) + 1}")
