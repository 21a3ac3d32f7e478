import numpy as np
import pytest

from dlhandbook.generative.toy_data import ring_of_gaussians, two_moons


def test_two_moons_is_seeded_and_on_two_half_circles():
    X = two_moons(1000, noise=0.0, seed=3)
    np.testing.assert_array_equal(X, two_moons(1000, noise=0.0, seed=3))
    upper, lower = X[:500], X[500:]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0, atol=1e-12)
    assert upper[:, 1].min() >= 0 and lower[:, 1].max() <= 0.5


def test_ring_points_lie_near_their_modes():
    X = ring_of_gaussians(4000, n_modes=8, radius=2.0, std=0.05, seed=0)
    angle = np.arctan2(X[:, 1], X[:, 0]) % (2 * np.pi)
    k = np.round(angle / (2 * np.pi / 8)) % 8
    counts = np.bincount(k.astype(int), minlength=8)
    assert counts.min() > 400                      # every mode is used (expected 500)
    assert np.abs(np.linalg.norm(X, axis=1) - 2.0).max() < 0.5


@pytest.mark.parametrize("call, match", [
    (lambda: two_moons(0), "n must be positive"),
    (lambda: two_moons(2.5), "n must be an int"),
    (lambda: two_moons(10, noise=-1.0), "noise"),
    (lambda: ring_of_gaussians(10, n_modes=0), "n_modes"),
    (lambda: ring_of_gaussians(10, radius=0.0), "radius"),
    (lambda: ring_of_gaussians(10, std=float("nan")), "std"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
