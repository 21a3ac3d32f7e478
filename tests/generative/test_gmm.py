import numpy as np
import pytest
import torch
from torch import distributions as D

from dlhandbook.generative.gmm import GMM, gmm_em, gmm_log_density, gmm_sample
from dlhandbook.generative.toy_data import ring_of_gaussians, two_moons


def _random_gmm(rng, K=3, d=2):
    A = rng.standard_normal((K, d, d))
    return GMM(weights=rng.dirichlet(np.ones(K)), means=rng.standard_normal((K, d)) * 2,
               covs=A @ A.transpose(0, 2, 1) + 0.1 * np.eye(d))


def test_log_density_matches_torch_mixture(rng):
    gmm = _random_gmm(rng)
    X = rng.standard_normal((50, 2)) * 3
    mixture = D.MixtureSameFamily(
        D.Categorical(probs=torch.tensor(gmm.weights)),
        D.MultivariateNormal(torch.tensor(gmm.means), covariance_matrix=torch.tensor(gmm.covs)))
    expected = mixture.log_prob(torch.tensor(X)).numpy()
    np.testing.assert_allclose(gmm_log_density(X, gmm), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_em_log_likelihood_never_decreases(seed):
    """Exact EM (reg_covar=0): every iteration's log-likelihood >= the previous one."""
    for X in (two_moons(400, noise=0.1, seed=seed), ring_of_gaussians(400, seed=seed)):
        _, history = gmm_em(X, 6, n_iter=60, reg_covar=0.0, seed=seed)
        assert np.all(np.diff(history) >= -1e-12 * np.abs(history[1:]))
        assert history[-1] > history[0] + 0.5          # and it does climb


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_em_recovers_a_well_separated_mixture(seed):
    X = ring_of_gaussians(2000, n_modes=4, radius=2.0, std=0.2, seed=seed)
    gmm, _ = gmm_em(X, 4, n_iter=100, seed=seed)
    true_means = 2.0 * np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=float)
    dist = np.linalg.norm(gmm.means[:, None] - true_means[None], axis=-1)     # (4, 4)
    order = dist.argmin(axis=0)                        # fitted component of each mode
    assert sorted(order) == [0, 1, 2, 3]               # one component per mode
    np.testing.assert_allclose(gmm.means[order], true_means, atol=0.05)
    np.testing.assert_allclose(gmm.weights, 0.25, atol=0.05)
    np.testing.assert_allclose(gmm.covs, np.broadcast_to(0.04 * np.eye(2), (4, 2, 2)),
                               atol=0.01)


def test_samples_have_the_mixture_mean_and_covariance(rng):
    gmm = _random_gmm(rng)
    S = gmm_sample(gmm, 100_000, seed=1)
    mean = gmm.weights @ gmm.means
    second = np.einsum("k,kij->ij", gmm.weights,
                       gmm.covs + np.einsum("ki,kj->kij", gmm.means, gmm.means))
    cov = second - np.outer(mean, mean)
    # standard error of a mean of 1e5 samples is sqrt(var / 1e5) < 0.02 here; 0.05 is > 2.5 SE
    np.testing.assert_allclose(S.mean(axis=0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(S.T), cov, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("call, error, match", [
    (lambda X: gmm_em(X[:, 0], 2), ValueError, "X must have shape"),
    (lambda X: gmm_em(X.astype(int), 2), TypeError, "X must be a floating-point"),
    (lambda X: gmm_em(X, 0), ValueError, "n_components must be positive"),
    (lambda X: gmm_em(X, 2.0), TypeError, "n_components must be an int"),
    (lambda X: gmm_em(X, 50), ValueError, "n_components"),
    (lambda X: gmm_em(X, 2, n_iter=0), ValueError, "n_iter must be positive"),
    (lambda X: gmm_em(X, 2, reg_covar=-1.0), ValueError, "reg_covar"),
    (lambda X: gmm_log_density(np.ones((3, 3)), gmm_em(X, 2, n_iter=2)[0]), ValueError,
     r"X must have shape \(n, 2\)"),
    (lambda X: gmm_sample(gmm_em(X, 2, n_iter=2)[0], 0), ValueError, "n must be"),
])
def test_bad_input_names_the_argument(call, error, match):
    X = two_moons(20)
    with pytest.raises(error, match=match):
        call(X)
