import copy

import numpy as np
import pytest
import torch

from dlhandbook.parallel.ddp import allreduce_mean, data_parallel_step, train_ddp


def _mean_grad(theta, X, y):
    return X.T @ (X @ theta - y) / len(X)       # least squares, mean over the shard


def test_simulated_data_parallel_step_equals_the_single_process_step():
    rng = np.random.default_rng(0)
    X, y, theta = rng.standard_normal((64, 5)), rng.standard_normal(64), rng.standard_normal(5)
    single = theta - 0.1 * _mean_grad(theta, X, y)
    for world_size in (1, 2, 4, 8):
        np.testing.assert_allclose(data_parallel_step(theta, X, y, _mean_grad, 0.1, world_size),
                                   single, rtol=0, atol=1e-12)


def test_averaging_shard_means_is_wrong_when_shards_are_unequal():
    # the all-reduce mean weights each worker equally, so unequal shards bias the gradient
    rng = np.random.default_rng(1)
    X, y, theta = rng.standard_normal((64, 5)), rng.standard_normal(64), np.zeros(5)
    uneven = allreduce_mean([_mean_grad(theta, X[:8], y[:8]), _mean_grad(theta, X[8:], y[8:])])
    assert np.linalg.norm(uneven - _mean_grad(theta, X, y)) > 1e-3


@pytest.mark.slow
def test_ddp_on_two_processes_equals_single_process_training_on_the_whole_batch():
    torch.manual_seed(0)
    X = torch.randn(32, 4, dtype=torch.float64)
    y = torch.randn(32, 1, dtype=torch.float64)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(),
                                torch.nn.Linear(8, 1)).double()
    reference = copy.deepcopy(model)
    opt = torch.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(10):
        opt.zero_grad()
        torch.nn.functional.mse_loss(reference(X), y).backward()
        opt.step()
    states = train_ddp(model, X, y, lr=0.1, n_steps=10, world_size=2)
    assert len(states) == 2
    for rank_state in states:                        # every replica, not only rank 0
        assert rank_state.keys() == reference.state_dict().keys()
        for name, param in reference.state_dict().items():
            torch.testing.assert_close(rank_state[name], param, rtol=0, atol=1e-12)
            assert torch.equal(rank_state[name], states[0][name])   # replicas bitwise equal
    assert not torch.equal(states[0]["0.weight"], model.state_dict()["0.weight"])  # trained


def test_rejects_bad_arguments():
    X, y = np.zeros((6, 2)), np.zeros(6)
    with pytest.raises(ValueError, match="world_size"):
        data_parallel_step(np.zeros(2), X, y, _mean_grad, 0.1, 4)
    with pytest.raises(ValueError, match="local_grads"):
        allreduce_mean([])
    with pytest.raises(ValueError, match="world_size"):
        train_ddp(torch.nn.Linear(2, 1), torch.zeros(5, 2), torch.zeros(5, 1), 0.1, 1)
    with pytest.raises(TypeError, match="model"):
        train_ddp(None, torch.zeros(4, 2), torch.zeros(4, 1), 0.1, 1)
