r"""k-nearest-neighbour classification, and how irrelevant dimensions ruin it.

The k-NN rule predicts for a query $x$ the majority label among the $k$ training points
nearest to it in Euclidean distance,

$$\hat y(x) = \arg\max_c \sum_{i \in N_k(x)} [\,y_i = c\,],\qquad
\lVert x - x_i\rVert^2 = \sum_{j=1}^{d} (x_j - x_{ij})^2 .$$

Every coordinate enters the distance with the same weight. If only $r$ of the $d$
coordinates carry the label, the other $d - r$ add noise of variance growing like
$d - r$ to every squared distance, and the neighbours found stop being the neighbours in
the relevant coordinates: the accuracy falls towards chance.

Reference: Cover & Hart (1967), *Nearest neighbor pattern classification*, IEEE
Transactions on Information Theory.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def knn_predict(X_train, y_train, X_test, k=5):
    """Majority label of the k nearest training rows of each test row (ties: lowest)."""
    X_train, y_train, X_test = _check_knn_args(X_train, y_train, X_test, k)
    sq_tr = (X_train ** 2).sum(axis=1)
    sq_te = (X_test ** 2).sum(axis=1)
    D2 = sq_te[:, None] + sq_tr[None, :] - 2.0 * X_test @ X_train.T   # (m, n)
    nearest = np.argpartition(D2, k - 1, axis=1)[:, :k]             # (m, k), unordered
    votes = np.zeros((len(X_test), y_train.max() + 1))              # (m, classes)
    np.add.at(votes, (np.arange(len(X_test))[:, None], y_train[nearest]), 1.0)
    return votes.argmax(axis=1)                         # first maximum: lowest label


def irrelevant_dims_data(n, n_irrelevant, seed=0):
    """Two uniform coordinates decide y = [x0 + x1 > 1]; n_irrelevant more are noise."""
    _check_positive_int(n, "n")
    _check_positive_int(n_irrelevant, "n_irrelevant", allow_zero=True)
    X = np.random.default_rng(seed).random((n, 2 + n_irrelevant))   # all in [0, 1]
    y = (X[:, 0] + X[:, 1] > 1.0).astype(np.int64)
    return X, y
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_positive_int(value, name, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "positive"
        raise ValueError(f"{name} must be {rule}, got {value}")


def _check_knn_args(X_train, y_train, X_test, k):
    X_train = np.asarray(X_train, dtype=np.float64)
    X_test = np.asarray(X_test, dtype=np.float64)
    y_train = np.asarray(y_train)
    if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"X_train and X_test must be (n, d) and (m, d), got "
                         f"{X_train.shape} and {X_test.shape}")
    if y_train.shape != (len(X_train),) or not np.issubdtype(y_train.dtype, np.integer):
        raise ValueError(f"y_train must be integer labels of shape ({len(X_train)},)")
    if y_train.min() < 0:
        raise ValueError("y_train must hold labels 0, 1, 2, ...")
    _check_positive_int(k, "k")
    if k > len(X_train):
        raise ValueError(f"k must be at most len(X_train) = {len(X_train)}, got {k}")
    return X_train, y_train, X_test
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def knn_predict_torch(X_train, y_train, X_test, k=5):
    """Majority label of the k nearest training rows (ties: lowest), on X's device."""
    _check_knn_args_torch(X_train, y_train, X_test, k)
    if X_train.dtype in (torch.float16, torch.bfloat16):    # distances in float32
        X_train, X_test = X_train.float(), X_test.float()
    D = torch.cdist(X_test, X_train)                        # (m, n) distances
    nearest = D.topk(k, dim=1, largest=False).indices        # (m, k)
    n_classes = int(y_train.max()) + 1
    votes = torch.nn.functional.one_hot(y_train[nearest], n_classes).sum(dim=1)
    return votes.argmax(dim=1)                      # first maximum: lowest label
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_knn_args_torch(X_train, y_train, X_test, k):
    for name, X in (("X_train", X_train), ("X_test", X_test)):
        if not isinstance(X, torch.Tensor) or not X.is_floating_point() or X.dim() != 2:
            raise TypeError(f"{name} must be a 2-D floating-point torch.Tensor")
    if X_train.shape[1] != X_test.shape[1] or X_train.dtype != X_test.dtype:
        raise ValueError("X_train and X_test must have the same columns and dtype")
    if y_train.shape != (len(X_train),) or y_train.dtype != torch.int64:
        raise ValueError(f"y_train must be int64 labels of shape ({len(X_train)},)")
    if isinstance(k, bool) or not isinstance(k, int) or not 0 < k <= len(X_train):
        raise ValueError(f"k must be an int in [1, {len(X_train)}], got {k}")
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    for extra in (0, 10, 100, 1000):
        X, y = irrelevant_dims_data(1000, extra, seed=0)
        y_hat = knn_predict(X[:800], y[:800], X[800:], k=5)
        print(f"{extra:5d} irrelevant dims: accuracy {(y_hat == y[800:]).mean():.3f}")
