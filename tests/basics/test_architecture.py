import numpy as np
import pytest
import torch

from dlhandbook.basics.architecture import (
    count_params,
    forward,
    init_network,
    layer_shapes,
    load_weights,
    make_network,
)


@pytest.mark.parametrize("head", ["identity", "sigmoid", "softmax"])
def test_forward_equals_the_torch_network_with_the_same_weights(head, rng, device):
    sizes = [4, 8, 8, 3]
    weights, biases = init_network(sizes, seed=1)
    X = rng.standard_normal((32, 4))
    model = load_weights(make_network(sizes, head).double(), weights, biases).to(device)
    expected = model(torch.tensor(X, device=device)).detach().cpu().numpy()
    np.testing.assert_allclose(forward(X, weights, biases, head), expected, rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float16, 2e-2),
                                        (torch.bfloat16, 1e-1)])
def test_torch_network_runs_in_low_precision(dtype, tol, rng, device):
    sizes = [4, 8, 2]
    weights, biases = init_network(sizes, seed=2)
    X = rng.standard_normal((16, 4))
    model = load_weights(make_network(sizes, "softmax").double(), weights, biases)
    model = model.to(device=device, dtype=dtype)
    p = model(torch.tensor(X, dtype=dtype, device=device))
    assert p.dtype == dtype
    assert np.abs(p.double().detach().cpu().numpy()
                  - forward(X, weights, biases, "softmax")).max() < tol


def test_parameter_count_and_shapes_of_the_house_price_network():
    sizes = [4, 3, 1]
    assert count_params(sizes) == sum(p.numel() for p in make_network(sizes).parameters()) == 19
    assert layer_shapes(sizes, batch=32) == [((3, 4), (32, 3)), ((1, 3), (32, 1))]
    weights, biases = init_network(sizes)
    assert [W.shape for W in weights] == [(3, 4), (1, 3)]
    assert forward(np.zeros((32, 4)), weights, biases).shape == (32, 1)


def test_heads_give_the_ranges_their_losses_need(rng):
    """identity: any real; sigmoid: (0, 1); softmax: rows of probabilities summing to 1."""
    weights, biases = init_network([3, 16, 5], seed=0)
    X = 10 * rng.standard_normal((200, 3))
    p = forward(X, weights, biases, "softmax")
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    s = forward(X, weights, biases, "sigmoid")
    assert (s > 0).all() and (s < 1).all()
    z = forward(X, weights, biases, "identity")
    assert z.min() < 0 < z.max()


def test_a_sigmoid_head_cannot_fit_house_prices_whatever_its_weights(rng):
    """Targets in [100, 500] (thousands): outputs below 1 miss each by more than 99, so the
    MSE of any sigmoid-head network exceeds 99^2; least squares on the same hidden layer with
    an identity head gets below 1% of the targets' variance."""
    X = rng.uniform(0, 1, (300, 4))
    y = 100 + 400 * X @ np.array([0.4, 0.3, 0.2, 0.1])
    for seed in range(20):
        weights, biases = init_network([4, 32, 1], seed=seed)
        y_hat = forward(X, weights, biases, "sigmoid")[:, 0]
        assert np.mean((y_hat - y) ** 2) > 99**2
    weights, biases = init_network([4, 32, 1], seed=0)
    H = np.maximum(X @ weights[0].T + biases[0], 0.0)                # (300, 32)
    A = np.hstack([H, np.ones((300, 1))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    weights[1], biases[1] = coef[None, :-1], coef[-1:]
    mse = np.mean((forward(X, weights, biases, "identity")[:, 0] - y) ** 2)
    assert mse < 0.01 * y.var()


def test_bad_input_raises_naming_the_argument(rng):
    with pytest.raises(ValueError, match="sizes"):
        init_network([4, 0, 1])
    with pytest.raises(ValueError, match="sizes"):
        count_params([4])
    weights, biases = init_network([4, 3, 1])
    with pytest.raises(ValueError, match="head"):
        forward(np.zeros((2, 4)), weights, biases, "tanh")
    with pytest.raises(ValueError, match=r"weights\[0\]"):
        forward(np.zeros((2, 5)), weights, biases)
    with pytest.raises(ValueError, match="X must be 2-D"):
        forward(np.zeros(4), weights, biases)
    with pytest.raises(ValueError, match="sizes"):
        make_network([4, -1])
    with pytest.raises(ValueError, match="head"):
        make_network([4, 1], "relu")
    with pytest.raises(ValueError, match="Linear layers"):
        load_weights(make_network([4, 3, 1]), weights[:1], biases[:1])
    with pytest.raises(ValueError, match=r"weights\[0\]"):
        load_weights(make_network([4, 3, 1]).double(), [weights[0].T, weights[1]], biases)
