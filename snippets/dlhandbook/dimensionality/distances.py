r"""Concentration of pairwise distances: all points nearly equidistant.

For $n$ points $x_1, \dots, x_n \in \mathbb{R}^d$ with pairwise Euclidean distances
$D_{ij} = \lVert x_i - x_j\rVert$ $(i < j)$, the spread of the distances is measured by

$$\rho = \frac{\max_{i<j} D_{ij}}{\min_{i<j} D_{ij}}, \qquad
\mathrm{cv} = \frac{\operatorname{std}(D_{ij})}{\operatorname{mean}(D_{ij})}.$$

For i.i.d. coordinates $D_{ij}^2$ is a sum of $d$ i.i.d. terms, so its mean grows like
$d$ and its standard deviation like $\sqrt d$: $\mathrm{cv} = O(1/\sqrt d)$ and
$\rho \to 1$ as $d \to \infty$ for fixed $n$.

Reference: Beyer, Goldstein, Ramakrishnan & Shaft (1999), *When is "nearest neighbor"
meaningful?*, ICDT.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def pairwise_distances(X):
    """Euclidean distances between all rows of X (n, d). Returns (n, n)."""
    X = _check_points(X)
    sq = (X * X).sum(axis=1)                            # (n,) squared norms
    D2 = sq[:, None] + sq[None, :] - 2.0 * (X @ X.T)    # |a-b|^2 = |a|^2+|b|^2-2a.b
    D2 = np.maximum(D2, 0.0)                            # rounding can go below 0
    np.fill_diagonal(D2, 0.0)
    return np.sqrt(D2)                                  # (n, n)


def distance_spread(X):
    """(max/min ratio, coefficient of variation) of the distinct pairwise distances."""
    D = pairwise_distances(X)
    i, j = np.triu_indices(len(D), k=1)                 # each pair once, no diagonal
    d_ij = D[i, j]
    if d_ij.min() == 0.0:
        raise ValueError("X has duplicate rows: the min/max ratio is undefined")
    return d_ij.max() / d_ij.min(), d_ij.std() / d_ij.mean()


def uniform_cube(n, d, seed=0):
    """n points drawn uniformly from the unit cube [0, 1]^d."""
    _check_positive_int(n, "n")
    _check_positive_int(d, "d")
    return np.random.default_rng(seed).random((n, d))
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


def _check_points(X):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"X must have shape (n, d) with n >= 2, d >= 1, got {X.shape}")
    return X
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def pairwise_distances_torch(X):
    """Pairwise distances of the rows of X (n, d), in X's dtype, on X's device.

    Uses |a - b|^2 = |a|^2 + |b|^2 - 2 a.b (one matrix product, no (n, n, d) tensor),
    accumulated in float32 for float16/bfloat16 inputs.
    """
    _check_points_torch(X)
    A = X.float() if X.dtype in (torch.float16, torch.bfloat16) else X
    sq = (A * A).sum(dim=1)                              # (n,)
    D2 = sq[:, None] + sq[None, :] - 2.0 * (A @ A.T)     # (n, n)
    D2 = D2.clamp_min(0.0)                               # rounding can go below 0
    D2.fill_diagonal_(0.0)
    return D2.sqrt().to(X.dtype)


def distance_spread_torch(X):
    """(max/min ratio, coefficient of variation) of the distinct pairwise distances."""
    D = pairwise_distances_torch(X).double()
    i, j = torch.triu_indices(len(D), len(D), offset=1, device=D.device)
    d_ij = D[i, j]
    if d_ij.min() == 0.0:
        raise ValueError("X has duplicate rows: the min/max ratio is undefined")
    ratio = d_ij.max() / d_ij.min()
    cv = d_ij.std(correction=0) / d_ij.mean()
    return ratio.item(), cv.item()
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_points_torch(X):
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError("X must be a floating-point torch.Tensor")
    if X.dim() != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"X must have shape (n, d) with n >= 2, d >= 1, "
                         f"got {tuple(X.shape)}")
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    for d in (2, 10, 100, 1000):
        ratio, cv = distance_spread(uniform_cube(200, d))
        print(f"d={d:5d}  max/min={ratio:9.2f}  cv={cv:.3f}")
