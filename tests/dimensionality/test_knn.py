import numpy as np
import pytest
import torch

from dlhandbook.dimensionality.knn import irrelevant_dims_data, knn_predict, knn_predict_torch

EXTRA = (0, 10, 100, 1000)


def _accuracy(n_irrelevant, seed, k=5):
    X, y = irrelevant_dims_data(1000, n_irrelevant, seed=seed)
    return float((knn_predict(X[:800], y[:800], X[800:], k=k) == y[800:]).mean())


def test_one_nearest_neighbour_is_the_argmin_of_the_distances(rng):
    X, Q = rng.standard_normal((50, 4)), rng.standard_normal((20, 4))
    y = rng.integers(0, 3, 50)
    nearest = np.argmin(((Q[:, None] - X[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(knn_predict(X, y, Q, k=1), y[nearest])


@pytest.mark.parametrize("dtype, agreement", [(torch.float64, 1.0), (torch.float32, 1.0),
                                              (torch.float16, 0.97), (torch.bfloat16, 0.95)])
def test_numpy_matches_torch_predictions(device, dtype, agreement):
    """Half-precision inputs are rounded (distances are then computed in float32), so a
    few near-ties may flip; float64 and float32 must agree exactly."""
    X, y = irrelevant_dims_data(600, 20, seed=1)
    expected = knn_predict(X[:500], y[:500], X[500:], k=7)
    Xt = torch.tensor(X, device=device).to(dtype)
    got = knn_predict_torch(Xt[:500], torch.tensor(y[:500], device=device), Xt[500:], k=7)
    assert (got.cpu().numpy() == expected).mean() >= agreement


def test_accuracy_falls_as_irrelevant_dimensions_are_added():
    """800 training and 200 test points, k = 5, five seeds; chance is 0.5."""
    for seed in range(5):
        acc = [_accuracy(extra, seed) for extra in EXTRA]
        assert np.all(np.diff(acc) < 0), (seed, acc)
        assert acc[0] > 0.95
        assert acc[-1] < 0.65


def test_bad_arguments_raise_naming_the_argument():
    X, y = irrelevant_dims_data(20, 1, seed=0)
    with pytest.raises(ValueError, match="k must be at most"):
        knn_predict(X, y, X, k=21)
    with pytest.raises(ValueError, match="k must be positive"):
        knn_predict(X, y, X, k=0)
    with pytest.raises(ValueError, match="X_train and X_test"):
        knn_predict(X, y, X[:, :2], k=1)
    with pytest.raises(ValueError, match="y_train must be integer"):
        knn_predict(X, y.astype(float), X, k=1)
    with pytest.raises(ValueError, match="n_irrelevant must be >= 0"):
        irrelevant_dims_data(10, -1)
    with pytest.raises(TypeError, match="n_irrelevant must be an int"):
        irrelevant_dims_data(10, 2.5)
    with pytest.raises(ValueError, match="n must be positive"):
        irrelevant_dims_data(0, 1)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    with pytest.raises(ValueError, match="k must be an int"):
        knn_predict_torch(Xt, yt, Xt, k=0)
    with pytest.raises(TypeError, match="X_test must be"):
        knn_predict_torch(Xt, yt, X, k=1)
    with pytest.raises(ValueError, match="y_train must be int64"):
        knn_predict_torch(Xt, yt.float(), Xt, k=1)
    with pytest.raises(ValueError, match="same columns and dtype"):
        knn_predict_torch(Xt, yt, Xt.float(), k=1)


def test_an_isometric_embedding_in_1000_dimensions_changes_no_prediction():
    """Ambient dimension alone does not hurt: rotate the 2-D task into R^1000."""
    rng = np.random.default_rng(0)
    X, y = irrelevant_dims_data(1000, 0, seed=0)
    basis, _ = np.linalg.qr(rng.standard_normal((1000, 2)))   # (1000, 2) orthonormal
    X_big = X @ basis.T                                       # (1000, 1000), same distances
    low = knn_predict(X[:800], y[:800], X[800:], k=5)
    high = knn_predict(X_big[:800], y[:800], X_big[800:], k=5)
    np.testing.assert_array_equal(low, high)
    assert (low == y[800:]).mean() > 0.95
