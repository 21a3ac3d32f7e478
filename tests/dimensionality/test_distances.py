import math

import numpy as np
import pytest
import torch

from dlhandbook.dimensionality.distances import (
    distance_spread,
    distance_spread_torch,
    pairwise_distances,
    pairwise_distances_torch,
    uniform_cube,
)

DIMS = (2, 10, 100, 1000)
SEEDS = (0, 1, 2)


def test_pairwise_distances_match_torch_cdist(device, rng):
    X = rng.standard_normal((40, 7))
    expected = torch.cdist(torch.tensor(X), torch.tensor(X),
                           compute_mode="donot_use_mm_for_euclid_dist").numpy()
    np.testing.assert_allclose(pairwise_distances(X), expected, rtol=1e-10, atol=1e-12)
    got = pairwise_distances_torch(torch.tensor(X, device=device)).cpu().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert np.all(np.diag(got) == 0.0)


def test_numpy_and_torch_spread_agree(device):
    X = uniform_cube(100, 30, seed=3)
    ratio, cv = distance_spread(X)
    ratio_t, cv_t = distance_spread_torch(torch.tensor(X, device=device))
    assert ratio_t == pytest.approx(ratio, rel=1e-10)
    assert cv_t == pytest.approx(cv, rel=1e-10)


def test_max_min_distance_ratio_falls_towards_one_as_dimension_grows():
    """200 uniform points in [0, 1]^d, three seeds."""
    for seed in SEEDS:
        ratios = [distance_spread(uniform_cube(200, d, seed=seed))[0] for d in DIMS]
        assert np.all(np.diff(ratios) < 0), ratios
        assert ratios[0] > 100.0
        assert 1.0 < ratios[-1] < 1.25


def test_coefficient_of_variation_follows_the_one_over_sqrt_d_law():
    """cv(D) ~ sqrt(7/20) / sqrt(d) for the uniform cube (delta method on D^2)."""
    for seed in SEEDS:
        for d in (100, 1000):
            _, cv = distance_spread(uniform_cube(200, d, seed=seed))
            assert abs(cv * math.sqrt(d) - math.sqrt(7 / 20)) < 0.03, (seed, d, cv)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float16, 1e-3),
                                        (torch.bfloat16, 8e-3)])
def test_torch_distances_in_low_precision(device, dtype, tol):
    X = uniform_cube(200, 100, seed=0)
    expected = pairwise_distances(X)
    got = pairwise_distances_torch(torch.tensor(X, device=device).to(dtype))
    assert got.dtype == dtype
    err = np.abs(got.double().cpu().numpy() - expected).max() / expected.max()
    assert err < tol


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match="d must be positive"):
        uniform_cube(10, 0)
    with pytest.raises(ValueError, match="n must be positive"):
        uniform_cube(-1, 3)
    with pytest.raises(TypeError, match="d must be an int"):
        uniform_cube(10, 2.5)
    with pytest.raises(ValueError, match="X must have shape"):
        pairwise_distances(np.zeros(5))
    with pytest.raises(ValueError, match="X must have shape"):
        pairwise_distances(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="duplicate rows"):
        distance_spread(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="X must be a floating-point"):
        pairwise_distances_torch(torch.zeros(3, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="X must have shape"):
        pairwise_distances_torch(torch.zeros(1, 2))


def test_cosine_similarity_of_random_directions_concentrates_at_zero():
    """2000 pairs of independent Gaussian vectors: the cosine has mean 0 and variance
    exactly 1/d. The sample std of sqrt(d) cos has a standard error of about
    sqrt((kurtosis - 1) / (4 n)) <= 0.016, so 0.06 is more than 3.7 standard errors
    (failure probability < 3e-4 per dimension); the mean's bound is 4 standard errors."""
    rng = np.random.default_rng(0)
    for d in (10, 100, 1000):
        a, b = rng.standard_normal((2, 2000, d))
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        assert abs(cos.std() * math.sqrt(d) - 1.0) < 0.06, d
        assert abs(cos.mean()) < 4 / math.sqrt(2000 * d)


def test_few_directions_of_variation_keep_their_contrast_in_1000_dimensions():
    """200 points varying along 2 directions, isometrically embedded in R^1000: the same
    max/min ratio (> 100) and coefficient of variation as in the plane, to 1e-8."""
    rng = np.random.default_rng(0)
    Z = uniform_cube(200, 2, seed=0)
    basis, _ = np.linalg.qr(rng.standard_normal((1000, 2)))   # (1000, 2) orthonormal
    ratio, cv = distance_spread(Z)
    ratio_big, cv_big = distance_spread(Z @ basis.T)          # (200, 1000)
    assert ratio > 100.0
    assert ratio_big == pytest.approx(ratio, rel=1e-8)
    assert cv_big == pytest.approx(cv, rel=1e-8)
