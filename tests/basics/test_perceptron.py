import itertools

import numpy as np
import pytest
import torch

from dlhandbook.basics.perceptron import novikoff_bound, perceptron_train, perceptron_train_torch

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([-1, 1, 1, -1])


def _separable(seed, n=200, d=5, margin=0.1):
    """Points in [-1, 1]^d at distance > margin (in the augmented space) from a random
    hyperplane, labelled by its side. Returns X, y and the separator (w*, b*)."""
    rng = np.random.default_rng(seed)
    w_star, b_star = rng.standard_normal(d), rng.uniform(-0.5, 0.5)
    X = rng.uniform(-1, 1, (4 * n, d))
    score = (X @ w_star + b_star) / np.linalg.norm(np.append(w_star, b_star))
    keep = np.abs(score) > margin
    return X[keep][:n], np.sign(score[keep][:n]), w_star, b_star


@pytest.mark.parametrize("seed", range(10))
def test_converges_within_novikoff_bound_on_separable_data(seed):
    X, y, w_star, b_star = _separable(seed)
    assert len(y) == 200
    bound = novikoff_bound(X, y, w_star, b_star)
    result = perceptron_train(X, y, max_epochs=int(bound) + 2)
    assert result.converged
    assert result.n_updates <= bound
    assert (np.sign(X @ result.w + result.b) == y).all()


def test_weights_are_a_sum_of_mistaken_examples_the_dual_form():
    """Every update adds y_i (x_i, 1) for one example i, so (w, b) = sum_i alpha_i y_i (x_i, 1)
    with alpha_i >= 0 the number of mistakes on example i (what the kernel perceptron uses)."""
    X, y, *_ = _separable(2)
    result = perceptron_train(X, y)
    X_aug = np.hstack([X, np.ones((len(X), 1))])
    signed = y[:, None] * X_aug                                  # (N, d + 1)
    states = [np.zeros(X_aug.shape[1])] + [np.append(w, b) for w, b in result.history]
    alpha = np.zeros(len(X))
    for before, after in zip(states, states[1:], strict=False):
        match = np.flatnonzero(np.abs(signed - (after - before)).max(axis=1) < 1e-12)
        assert len(match) >= 1                                   # the step is one example
        alpha[match[0]] += 1
    assert alpha.sum() == result.n_updates > 0
    np.testing.assert_allclose(alpha @ signed, np.append(result.w, result.b), atol=1e-12)


def test_learning_rate_only_rescales_the_weights_from_zero():
    X, y, *_ = _separable(0)
    a, b = perceptron_train(X, y, lr=1.0), perceptron_train(X, y, lr=0.01)
    assert a.mistakes == b.mistakes
    np.testing.assert_allclose(b.w, 0.01 * a.w, rtol=1e-12)
    assert abs(b.b - 0.01 * a.b) <= 1e-12 * max(1.0, abs(a.b))


def test_never_stops_on_xor_and_returns_to_zero_after_each_epoch():
    result = perceptron_train(XOR_X, XOR_Y, max_epochs=1000)
    assert not result.converged
    assert len(result.mistakes) == 1000 and min(result.mistakes) >= 1
    # in the given order, each epoch's four updates sum to zero: a cycle of length 4
    assert result.n_updates == 4000 and result.mistakes == [4] * 1000
    for w, b in result.history[3::4]:                  # the state after each epoch's 4th
        np.testing.assert_array_equal(w, [0.0, 0.0])
        assert b == 0.0
    np.testing.assert_array_equal(result.w, [0.0, 0.0])
    assert result.b == 0.0


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_on_xor_every_epoch_has_a_mistake_and_the_weights_cycle_in_any_order(order):
    """Every epoch ends at the same weights, so the run repeats one epoch forever: a cycle
    through at most 4 integer weight vectors with entries in [-1, 1]."""
    idx = list(order)
    result = perceptron_train(XOR_X[idx], XOR_Y[idx], max_epochs=200)
    assert min(result.mistakes) >= 1 and result.mistakes[1:] == [4] * 199
    ends = np.cumsum(result.mistakes) - 1                  # last update of each epoch
    end_states = {(*result.history[e][0], result.history[e][1]) for e in ends}
    assert len(end_states) == 1                            # the same state every epoch
    states = {(*w, b) for w, b in result.history}
    assert all(float(v).is_integer() for s in states for v in s)
    assert len(states) <= 4
    assert max(np.abs(s).max() for s in states) <= 1


def test_on_xor_in_the_figures_order_the_same_four_boundaries_repeat_every_epoch():
    """Order (0,1), (1,0), (0,0), (1,1): after the first epoch every epoch makes 4 updates
    through the same 4 states, none of them w = 0."""
    idx = [1, 2, 0, 3]
    result = perceptron_train(XOR_X[idx], XOR_Y[idx], max_epochs=50)
    first = result.mistakes[0]
    assert result.mistakes[1:] == [4] * 49
    states = [(*w, b) for w, b in result.history[first:]]
    cycle = states[:4]
    assert all(states[i] == cycle[i % 4] for i in range(len(states)))
    assert all(any(v != 0 for v in s[:2]) for s in cycle)


def test_torch_version_matches_numpy(device):
    X, y, *_ = _separable(3)
    result = perceptron_train(X, y, max_epochs=500)
    w, b, mistakes = perceptron_train_torch(torch.tensor(X, device=device),
                                            torch.tensor(y, device=device), max_epochs=500)
    assert mistakes == result.mistakes
    np.testing.assert_allclose(w.cpu().numpy(), result.w, rtol=1e-12, atol=1e-12)
    assert abs(b.item() - result.b) < 1e-12


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_torch_version_cycles_on_xor_in_low_precision(dtype, device):
    w, b, mistakes = perceptron_train_torch(torch.tensor(XOR_X, dtype=dtype, device=device),
                                            torch.tensor(XOR_Y, device=device), max_epochs=50)
    assert mistakes == [4] * 50 and w.dtype == dtype
    assert w.abs().max().item() == 0.0 and b.item() == 0.0


def test_bad_input_raises_naming_the_argument():
    with pytest.raises(ValueError, match="y must hold labels"):
        perceptron_train(XOR_X, [0, 1, 1, 0])
    with pytest.raises(ValueError, match="y must have shape"):
        perceptron_train(XOR_X, [1, -1, 1])
    with pytest.raises(ValueError, match="X must be 2-D"):
        perceptron_train(np.ones(4), XOR_Y)
    with pytest.raises(ValueError, match="max_epochs"):
        perceptron_train(XOR_X, XOR_Y, max_epochs=0)
    with pytest.raises(ValueError, match="lr"):
        perceptron_train(XOR_X, XOR_Y, lr=-1.0)
    with pytest.raises(ValueError, match="does not separate"):
        novikoff_bound(XOR_X, XOR_Y, [1.0, 1.0], -1.0)
    with pytest.raises(ValueError, match="labels"):
        perceptron_train_torch(torch.tensor(XOR_X), torch.tensor([0, 1, 1, 0]))
    with pytest.raises(ValueError, match="X must be"):
        perceptron_train_torch(torch.tensor(XOR_X), torch.tensor([1, -1]))
