import numpy as np
import pytest
import torch

from dlhandbook.optim.averaging import average_init, ema_update, train_with_averaging, uniform_update


def noisy_sgd_iterates(n_steps=2000, lr=0.1, noise=1.0, d=2, seed=0):
    """Constant-step SGD on f = |theta|^2 / 2 with Gaussian gradient noise: it never settles."""
    rng = np.random.default_rng(seed)
    theta, out = np.ones(d), []
    for _ in range(n_steps):
        theta = theta - lr * (theta + noise * rng.standard_normal(d))
        out.append(theta)
    return np.stack(out)


def test_uniform_average_is_the_mean_of_the_iterates():
    thetas = noisy_sgd_iterates(500)
    state = average_init(thetas[0])
    for th in thetas[1:]:
        state = uniform_update(state, th)
    np.testing.assert_allclose(state.theta_avg, thetas.mean(axis=0), rtol=0, atol=1e-13)
    assert state.n_averaged == 500


def test_ema_has_the_closed_form_weights():
    thetas = noisy_sgd_iterates(300)
    beta = 0.95
    state = average_init(thetas[0])
    for th in thetas[1:]:
        state = ema_update(state, th, beta)
    n = len(thetas)
    w = (1 - beta) * beta ** np.arange(n - 1)[::-1]     # weights of theta_2 ... theta_n
    expected = beta ** (n - 1) * thetas[0] + w @ thetas[1:]
    np.testing.assert_allclose(state.theta_avg, expected, rtol=0, atol=1e-13)


def test_averaged_iterates_sit_much_closer_to_the_minimum_than_the_last_sgd_iterate():
    losses_last, losses_ema, losses_unif = [], [], []
    for seed in range(5):
        thetas = noisy_sgd_iterates(4000, seed=seed)
        ema = unif = average_init(thetas[1000])         # skip the transient (SWA style)
        for th in thetas[1001:]:
            ema, unif = ema_update(ema, th, 0.995), uniform_update(unif, th)

        def f(th):
            return 0.5 * th @ th

        losses_last.append(f(thetas[-1]))
        losses_ema.append(f(ema.theta_avg))
        losses_unif.append(f(unif.theta_avg))
    assert np.mean(losses_ema) < 0.2 * np.mean(losses_last)
    assert np.mean(losses_unif) < 0.02 * np.mean(losses_last)


def _torch_problem(device):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 3, generator=g, dtype=torch.float64).to(device)
    y = X @ torch.tensor([1.0, -1.0, 2.0], dtype=torch.float64, device=device)
    y = y + 0.5 * torch.randn(64, generator=g, dtype=torch.float64).to(device)
    batches = [torch.randint(0, 64, (8,), generator=g).to(device) for _ in range(250)]
    model = torch.nn.Linear(3, 1, dtype=torch.float64, device=device)

    def loss_fn(m, idx):
        return ((m(X[idx]).squeeze(1) - y[idx]) ** 2).mean()

    return model, loss_fn, batches


def _flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).cpu().numpy()


@pytest.mark.parametrize("decay", [0.9, 0.99])
def test_numpy_averages_follow_torch_swa_utils_over_250_steps(decay, device):
    model, loss_fn, batches = _torch_problem(device)
    recorded = []

    def recording_loss(m, idx):                         # record theta_k before step k + 1
        recorded.append(_flat(m))
        return loss_fn(m, idx)

    swa_start = 100
    ema_model, swa_model = train_with_averaging(model, recording_loss, batches, lr=0.05,
                                                ema_decay=decay, swa_start=swa_start)
    iterates = recorded[1:] + [_flat(model)]            # theta after steps 1 .. 250
    ema = average_init(iterates[0])
    for th in iterates[1:]:
        ema = ema_update(ema, th, decay)
    unif = average_init(iterates[swa_start])
    for th in iterates[swa_start + 1:]:
        unif = uniform_update(unif, th)
    np.testing.assert_allclose(_flat(ema_model.module), ema.theta_avg, rtol=0, atol=1e-10)
    np.testing.assert_allclose(_flat(swa_model.module), unif.theta_avg, rtol=0, atol=1e-10)
    assert int(swa_model.n_averaged) == len(batches) - swa_start


def test_rejects_bad_arguments():
    state = average_init(np.zeros(2))
    with pytest.raises(ValueError, match="decay"):
        ema_update(state, np.zeros(2), decay=1.0)
    with pytest.raises(ValueError, match="theta"):
        uniform_update(state, np.zeros(3))
    with pytest.raises(TypeError, match="theta"):
        average_init(np.array([1, 2]))
    with pytest.raises(TypeError, match="model"):
        train_with_averaging("model", None, [])
    with pytest.raises(ValueError, match="ema_decay"):
        train_with_averaging(torch.nn.Linear(1, 1), None, [], ema_decay=1.5)
