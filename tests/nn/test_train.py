import itertools

import numpy as np
import pytest
import torch

from dlhandbook.gradcheck.gradcheck import numerical_gradient
from dlhandbook.nn.mlp import LOSS_FNS, init_mlp, loss_and_grads, mlp_forward, mlp_from_numpy
from dlhandbook.nn.train import make_moons, minibatches, sgd_step, train, train_torch

SIZES = [2, 16, 16, 2]


class SameBatches:
    """A loader that yields the batches ``train`` draws, in the same order, as tensors."""

    def __init__(self, X, y, batch_size, seed, device):
        self.X, self.y = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
        self.n, self.batch_size = len(X), batch_size
        self.rng = np.random.default_rng(seed)  # one generator for all epochs, as in train

    def __iter__(self):
        for idx in minibatches(self.n, self.batch_size, self.rng):
            i = torch.from_numpy(idx).to(self.X.device)
            yield self.X[i], self.y[i]


def ce_tanh(params, X, y):
    return loss_and_grads(params, X, y, "tanh", "cross_entropy")


@pytest.mark.parametrize("batch_size", [None, 40], ids=["full-batch", "mini-batch"])
def test_numpy_loop_follows_torch_sgd_step_for_step(batch_size, device):
    X, y = make_moons(200, noise=0.1, seed=0)
    params = init_mlp(SIZES, seed=0)
    model = mlp_from_numpy(params, "tanh", device)          # same initial weights
    epochs = 400 if batch_size is None else 80               # 400 steps either way

    losses = train(params, X, y, ce_tanh, lr=0.2, epochs=epochs, batch_size=batch_size, seed=1)
    losses_t = train_torch(model, SameBatches(X, y, batch_size, 1, device), LOSS_FNS["cross_entropy"],
                           lr=0.2, epochs=epochs)

    assert len(losses) == len(losses_t) == 400
    np.testing.assert_allclose(losses, losses_t, rtol=0, atol=1e-10)
    for l, layer in enumerate(model.layers, start=1):
        np.testing.assert_allclose(params[f"W{l}"], layer.weight.detach().cpu().numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(params[f"b{l}"], layer.bias.detach().cpu().numpy(), rtol=0, atol=1e-10)


def test_training_fits_the_moons():
    X, y = make_moons(200, noise=0.1, seed=0)
    params = init_mlp(SIZES, seed=0)
    losses = train(params, X, y, ce_tanh, lr=0.2, epochs=100, batch_size=20, seed=0)
    accuracy = np.mean(mlp_forward(params, X)[0].argmax(axis=1) == y)
    assert losses[-1] < 0.2 * losses[0]
    assert accuracy > 0.95


def test_gradient_descent_does_not_need_backprop_only_a_gradient():
    X, y = make_moons(20, seed=0)
    start = init_mlp([2, 4, 2], seed=0)

    def finite_difference_grads(params, Xb, yb):  # 2 forward passes per parameter, no backward
        J = lambda _: ce_tanh(params, Xb, yb)[0]  # noqa: E731
        return J(None), {k: numerical_gradient(J, p) for k, p in params.items()}

    by_backprop = {k: v.copy() for k, v in start.items()}
    by_differences = {k: v.copy() for k, v in start.items()}
    train(by_backprop, X, y, ce_tanh, lr=0.5, epochs=30)
    train(by_differences, X, y, finite_difference_grads, lr=0.5, epochs=30)
    for k in start:
        assert np.abs(by_backprop[k] - start[k]).max() > 1e-2        # training moved the weights
        np.testing.assert_allclose(by_differences[k], by_backprop[k], rtol=0, atol=1e-7)


def test_sgd_step_moves_every_parameter_by_minus_lr_times_its_gradient():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal(3)}
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    expected = {k: params[k] - 0.05 * grads[k] for k in params}
    sgd_step(params, grads, lr=0.05)
    for k in params:
        np.testing.assert_array_equal(params[k], expected[k])


def test_each_epoch_visits_every_example_once_in_a_new_order():
    rng = np.random.default_rng(0)
    epochs = [np.concatenate(list(minibatches(103, 10, rng))) for _ in range(3)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(103))
    assert not np.array_equal(epochs[0], epochs[1])
    assert [len(b) for b in minibatches(103, 10, rng)][-1] == 3   # the last batch is short


def test_within_an_epoch_batches_are_unbiased_only_marginally():
    """Exact, over all 720 orders of 6 examples in batches of 2: averaged over the shuffle,
    every batch's mean gradient is the full gradient; given the first batch, the second is
    drawn from the remaining examples and its expected gradient is not."""
    g = np.random.default_rng(0).standard_normal((6, 3))   # per-example gradients
    full = g.mean(axis=0)
    orders = list(itertools.permutations(range(6)))
    for k in range(3):                                      # batch k of the epoch
        marginal = np.mean([g[list(o[2 * k:2 * k + 2])].mean(axis=0) for o in orders], axis=0)
        np.testing.assert_allclose(marginal, full, rtol=0, atol=1e-12)
    given = [o for o in orders if set(o[:2]) == {0, 1}]     # condition on batch 0 = {0, 1}
    conditional = np.mean([g[list(o[2:4])].mean(axis=0) for o in given], axis=0)
    np.testing.assert_allclose(conditional, (6 * full - g[0] - g[1]) / 4, atol=1e-12)
    assert np.abs(conditional - full).max() > 0.1


def test_constant_initialisation_keeps_hidden_units_identical():
    X, y = make_moons(100, seed=0)
    params = {k: np.full_like(v, 0.3) for k, v in init_mlp(SIZES, seed=0).items()}
    train(params, X, y, ce_tanh, lr=0.2, epochs=50, batch_size=None)
    for name in ("W1", "W2"):                    # every hidden unit got the same update
        assert np.abs(params[name] - params[name][:1]).max() < 1e-12
    assert np.abs(params["W1"] - 0.3).max() > 1e-3  # ... and they did move


def test_rejects_bad_arguments():
    params = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match="lr must be"):
        sgd_step(params, {"w": np.zeros(2)}, lr=0.0)
    with pytest.raises(ValueError, match="grads must have"):
        sgd_step(params, {"v": np.zeros(2)}, lr=0.1)
    with pytest.raises(ValueError, match="batch_size must be"):
        list(minibatches(10, 0, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="epochs must be"):
        train(params, np.zeros((4, 2)), np.zeros(4), ce_tanh, lr=0.1, epochs=-1)
    with pytest.raises(ValueError, match="X and y must"):
        train(params, np.zeros((4, 2)), np.zeros(3), ce_tanh, lr=0.1, epochs=1)
    with pytest.raises(ValueError, match="lr must be"):
        train_torch(torch.nn.Linear(2, 1), [], LOSS_FNS["mse"], lr=-1.0, epochs=1)
    with pytest.raises(ValueError, match="epochs must be"):
        train_torch(torch.nn.Linear(2, 1), [], LOSS_FNS["mse"], lr=0.1, epochs=1.5)
    with pytest.raises(ValueError, match="n must be"):
        make_moons(1)
