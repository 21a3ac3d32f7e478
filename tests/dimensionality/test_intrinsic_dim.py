import numpy as np
import pytest
import torch

from dlhandbook.dimensionality.intrinsic_dim import (
    curved_manifold,
    levina_bickel_dimension,
    linear_manifold,
    pca_explained_variance,
    two_nn_dimension,
    two_nn_dimension_torch,
)


def _components_for(ratios, share=0.95):
    return int(np.searchsorted(np.cumsum(ratios), share) + 1)


def test_pca_ratios_match_the_eigenvalues_of_the_torch_covariance(rng):
    X = rng.standard_normal((200, 6)) @ rng.standard_normal((6, 6))
    eig = torch.linalg.eigvalsh(torch.cov(torch.tensor(X).T)).flip(0).numpy()
    np.testing.assert_allclose(pca_explained_variance(X), eig / eig.sum(), rtol=1e-10)


def test_pca_finds_the_dimension_of_a_linear_manifold():
    """3-dimensional subspace of R^50, 1000 points, three seeds."""
    for seed in range(3):
        exact = pca_explained_variance(linear_manifold(1000, 3, 50, seed=seed))
        assert exact[:3].sum() > 1 - 1e-12
        noisy = pca_explained_variance(linear_manifold(1000, 3, 50, noise=0.01, seed=seed))
        assert noisy[:3].sum() > 0.99
        assert noisy[:2].sum() < 0.95
        assert noisy[3] < 1e-4


def test_local_estimators_recover_a_curved_manifold_that_pca_overcounts():
    """x = sin(W z + b), z uniform in [0, 1]^k, W ~ N(0, 2^2), D = 50, 1000 points, 3 seeds."""
    for k in (2, 5):
        for seed in range(3):
            X = curved_manifold(1000, k, 50, freq=2.0, seed=seed)
            assert abs(two_nn_dimension(X) - k) < 0.15 * k, (k, seed)
            assert abs(levina_bickel_dimension(X, n_neighbors=10) - k) < 0.1 * k, (k, seed)
            assert _components_for(pca_explained_variance(X)) > 2 * k, (k, seed)


def test_two_nn_does_not_depend_on_the_ambient_dimension_of_an_isometric_embedding(rng):
    Z = rng.random((500, 3))
    estimates = []
    for D in (3, 10, 500):
        basis, _ = np.linalg.qr(rng.standard_normal((D, 3)))   # orthonormal columns
        estimates.append(two_nn_dimension(Z @ basis.T))
    assert max(estimates) - min(estimates) < 1e-8


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-4),
                                        (torch.float16, 0.05), (torch.bfloat16, 0.05)])
def test_torch_two_nn_matches_numpy(device, dtype, tol):
    X = curved_manifold(500, 3, 20, freq=2.0, seed=0)
    expected = two_nn_dimension(X)
    got = two_nn_dimension_torch(torch.tensor(X, device=device).to(dtype))
    assert abs(got - expected) < tol * expected


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match="k must be positive"):
        linear_manifold(10, 0, 5)
    with pytest.raises(ValueError, match="D must be positive"):
        curved_manifold(10, 2, -3)
    with pytest.raises(ValueError, match="n must be positive"):
        curved_manifold(0, 2, 3)
    with pytest.raises(ValueError, match="k must be at most D"):
        linear_manifold(10, 6, 5)
    with pytest.raises(ValueError, match="freq must be positive"):
        curved_manifold(10, 2, 3, freq=0.0)
    with pytest.raises(ValueError, match="X must have shape"):
        two_nn_dimension(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="duplicate rows"):
        two_nn_dimension(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="n_neighbors must be in"):
        levina_bickel_dimension(np.random.default_rng(0).random((5, 2)), n_neighbors=5)
    with pytest.raises(ValueError, match="n_neighbors must be positive"):
        levina_bickel_dimension(np.random.default_rng(0).random((5, 2)), n_neighbors=0)
    with pytest.raises(TypeError, match="X must be a floating-point"):
        two_nn_dimension_torch(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="duplicate rows"):
        two_nn_dimension_torch(torch.zeros(4, 3))


def test_levina_bickel_with_two_neighbours_is_two_nn():
    """With m = 2 the only ratio is T_2 / T_1 = r2 / r1: the two estimators coincide."""
    for k in (1, 3):
        X = curved_manifold(300, k, 20, freq=2.0, seed=k)
        assert levina_bickel_dimension(X, n_neighbors=2) == pytest.approx(
            two_nn_dimension(X), rel=1e-12)
