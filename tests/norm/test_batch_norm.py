import numpy as np
import pytest
import torch

from dlhandbook.norm.batch_norm import (
    BatchNorm,
    activation_std_profile,
    batch_norm_backward,
    batch_norm_forward,
)
from helpers import central_difference, rel_error

SHAPES = {"1d-NC": (16, 5), "1d-NCL": (6, 4, 7), "2d-NCHW": (4, 3, 5, 6)}


def torch_bn(shape):
    cls = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d}
    return cls[len(shape)](shape[1]).double()


def random_params(rng, C):
    return 1 + 0.5 * rng.standard_normal(C), 0.3 * rng.standard_normal(C)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_numpy_matches_torch_batchnorm_over_50_steps_then_eval(rng, shape):
    C = shape[1]
    gamma, beta = random_params(rng, C)
    ref = torch_bn(shape)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(gamma))
        ref.bias.copy_(torch.tensor(beta))
    rm, rv = np.zeros(C), np.ones(C)
    for _ in range(50):
        x = 3 * rng.standard_normal(shape) + 1.5
        y, rm, rv, cache = batch_norm_forward(x, gamma, beta, rm, rv)
        xt = torch.tensor(x, requires_grad=True)
        yt = ref.train()(xt)
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        dy = rng.standard_normal(shape)
        yt.backward(torch.tensor(dy))
        dx, dgamma, dbeta = batch_norm_backward(dy, cache)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dgamma, ref.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(dbeta, ref.bias.grad.numpy(), rtol=1e-10)
        ref.zero_grad()
    np.testing.assert_allclose(rm, ref.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv, ref.running_var.numpy(), rtol=1e-12)
    x = rng.standard_normal(shape)
    y, rm2, rv2, cache = batch_norm_forward(x, gamma, beta, rm, rv, training=False)
    xt = torch.tensor(x, requires_grad=True)
    yt = ref.eval()(xt)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    dy = rng.standard_normal(shape)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(batch_norm_backward(dy, cache)[0], xt.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    assert np.array_equal(rm2, rm) and np.array_equal(rv2, rv)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 3)])
def test_backward_passes_finite_difference_check(rng, shape, training):
    C = shape[1]
    x = rng.standard_normal(shape)
    gamma, beta = random_params(rng, C)
    rm, rv = rng.standard_normal(C), 0.5 + rng.random(C)
    dy = rng.standard_normal(shape)

    def loss(x_, g_, b_):
        return float(np.sum(dy * batch_norm_forward(x_, g_, b_, rm, rv, training)[0]))

    _, _, _, cache = batch_norm_forward(x, gamma, beta, rm, rv, training)
    dx, dgamma, dbeta = batch_norm_backward(dy, cache)
    assert rel_error(dx, central_difference(lambda v: loss(v, gamma, beta), x)) < 1e-6
    assert rel_error(dgamma, central_difference(lambda v: loss(x, v, beta), gamma)) < 1e-6
    assert rel_error(dbeta, central_difference(lambda v: loss(x, gamma, v), beta)) < 1e-6


def test_training_output_has_zero_mean_unit_biased_variance_per_channel(rng):
    x = 4 * rng.standard_normal((10, 3, 4, 4)) - 7
    C = 3
    y = batch_norm_forward(x, np.ones(C), np.zeros(C), np.zeros(C), np.ones(C),
                           eps=0.0)[0]
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-12)


def test_running_variance_uses_the_unbiased_batch_variance(rng):
    x = rng.standard_normal((8, 4)) * 2
    _, rm, rv, _ = batch_norm_forward(x, np.ones(4), np.zeros(4), np.zeros(4),
                                      np.ones(4), momentum=0.1)
    np.testing.assert_allclose(rm, 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(rv, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)


def test_running_statistics_converge_to_the_data_statistics(rng):
    rm, rv = np.zeros(3), np.ones(3)
    mu, sd = np.array([2.0, -1.0, 0.5]), np.array([3.0, 0.5, 1.0])
    for _ in range(200):
        x = mu + sd * rng.standard_normal((256, 3))
        _, rm, rv, _ = batch_norm_forward(x, np.ones(3), np.zeros(3), rm, rv)
    # the moving average keeps noise of about 0.23 sd / sqrt(256) = 0.015 sd
    assert np.all(np.abs(rm - mu) < 0.1 * sd)
    assert np.all(np.abs(rv / sd**2 - 1) < 0.1)


def test_training_output_depends_on_batch_mates_eval_output_does_not(rng):
    C = 4
    gamma, beta = random_params(rng, C)
    rm, rv = rng.standard_normal(C), 0.5 + rng.random(C)
    sample = rng.standard_normal((1, C))
    batch_a = np.vstack([sample, rng.standard_normal((7, C))])
    batch_b = np.vstack([sample, 5 + rng.standard_normal((7, C))])
    outs = {}
    for training in (True, False):
        ya = batch_norm_forward(batch_a, gamma, beta, rm, rv, training)[0][0]
        yb = batch_norm_forward(batch_b, gamma, beta, rm, rv, training)[0][0]
        outs[training] = np.max(np.abs(ya - yb))
    assert outs[True] > 0.5
    assert outs[False] == 0.0


def test_gamma_and_beta_can_undo_the_normalization(rng):
    x = 3 * rng.standard_normal((32, 5)) + 2
    eps = 1e-5
    gamma, beta = np.sqrt(x.var(axis=0) + eps), x.mean(axis=0)
    y = batch_norm_forward(x, gamma, beta, np.zeros(5), np.ones(5), eps=eps)[0]
    np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-12)


def test_output_is_invariant_to_scaling_the_weights_and_gradient_is_orthogonal(rng):
    # z = X W then BN (eps = 0): BN(X (c W)) = BN(X W), so dL/dW is orthogonal to W.
    X, W = rng.standard_normal((32, 6)), rng.standard_normal((6, 4))
    dy = rng.standard_normal((32, 4))
    ones, zeros = np.ones(4), np.zeros(4)

    def bn(W_):
        return batch_norm_forward(X @ W_, ones, zeros, zeros, ones, eps=0.0)

    np.testing.assert_allclose(bn(7.0 * W)[0], bn(W)[0], atol=1e-12)
    dz = batch_norm_backward(dy, bn(W)[3])[0]
    dW = X.T @ dz
    assert abs(np.sum(dW * W)) < 1e-10 * np.linalg.norm(dW) * np.linalg.norm(W)


def test_input_gradient_sums_to_zero_over_each_channel_and_is_orthogonal_to_x_hat(rng):
    x, dy = rng.standard_normal((9, 3, 2)), rng.standard_normal((9, 3, 2))
    cache = batch_norm_forward(x, np.ones(3) * 2, np.zeros(3), np.zeros(3),
                               np.ones(3), eps=0.0)[3]
    dx = batch_norm_backward(dy, cache)[0]
    np.testing.assert_allclose(dx.sum(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose((dx * cache[0]).sum(axis=(0, 2)), 0, atol=1e-12)


def test_eval_mode_folds_into_the_preceding_linear_layer(rng):
    X, W, b = rng.standard_normal((10, 6)), rng.standard_normal((4, 6)), rng.standard_normal(4)
    gamma, beta = random_params(rng, 4)
    rm, rv, eps = rng.standard_normal(4), 0.5 + rng.random(4), 1e-5
    y = batch_norm_forward(X @ W.T + b, gamma, beta, rm, rv, training=False, eps=eps)[0]
    scale = gamma / np.sqrt(rv + eps)
    W_fold, b_fold = W * scale[:, None], beta + scale * (b - rm)
    np.testing.assert_allclose(X @ W_fold.T + b_fold, y, atol=1e-12)


def test_bn_keeps_activation_scale_that_a_plain_deep_net_loses():
    for seed in range(3):
        plain = activation_std_profile(30, weight_std=0.5, seed=seed)
        assert plain[-1] < 1e-6 * plain[0]
        for weight_std in (0.5, 2.0):
            bn = activation_std_profile(30, weight_std=weight_std, use_bn=True, seed=seed)
            assert np.all(np.abs(bn - 1) < 1e-3)


def test_batch_of_one_in_training_raises_like_torch():
    x = np.ones((1, 3))
    with pytest.raises(ValueError, match="x must have more than 1 value"):
        batch_norm_forward(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError):
        torch.nn.BatchNorm1d(3).train()(torch.ones(1, 3))
    with pytest.raises(ValueError, match="x must have more than 1 value"):
        BatchNorm(3)(torch.ones(1, 3))
    y = batch_norm_forward(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3),
                           training=False)[0]
    assert y.shape == (1, 3)


def test_bad_arguments_raise_naming_the_argument():
    ok = np.ones(3), np.zeros(3), np.zeros(3), np.ones(3)
    with pytest.raises(ValueError, match="x must"):
        batch_norm_forward(np.ones(3), *ok)
    with pytest.raises(ValueError, match="gamma must"):
        batch_norm_forward(np.ones((4, 3)), np.ones(2), *ok[1:])
    with pytest.raises(ValueError, match="running_var must"):
        batch_norm_forward(np.ones((4, 3)), *ok[:3], np.ones(4))
    with pytest.raises(ValueError, match="momentum"):
        batch_norm_forward(np.ones((4, 3)), *ok, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        batch_norm_forward(np.ones((4, 3)), *ok, eps=-1.0)
    with pytest.raises(TypeError, match="training"):
        batch_norm_forward(np.ones((4, 3)), *ok, training=1)
    cache = batch_norm_forward(np.ones((4, 3)), *ok)[3]
    with pytest.raises(ValueError, match="dy must"):
        batch_norm_backward(np.ones((4, 2)), cache)
    with pytest.raises(TypeError, match="num_features"):
        BatchNorm(3.0)
    with pytest.raises(TypeError, match="momentum must be a real number"):
        BatchNorm(3, momentum=None)
    with pytest.raises(TypeError, match="momentum must be a real number"):
        batch_norm_forward(np.ones((4, 3)), *ok, momentum=None)
    with pytest.raises(ValueError, match="x must have shape"):
        BatchNorm(3)(torch.ones(4, 2))
    with pytest.raises(TypeError, match="x must be"):
        BatchNorm(3)(torch.ones(4, 3, dtype=torch.long))


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_module_matches_torch_batchnorm_over_20_steps_then_eval(device, shape):
    torch.manual_seed(0)
    ours = BatchNorm(shape[1], dtype=torch.float64, device=device)
    ref = torch_bn(shape).to(device)
    with torch.no_grad():
        for m in (ours, ref):
            m.weight.copy_(torch.linspace(0.5, 1.5, shape[1]))
            m.bias.copy_(torch.linspace(-0.2, 0.2, shape[1]))
    for _ in range(20):
        x = (2 * torch.randn(shape, dtype=torch.float64, device=device) + 1)
        dy = torch.randn(shape, dtype=torch.float64, device=device)
        got = torch.autograd.grad(ours(x.requires_grad_()), [x, ours.weight, ours.bias],
                                  dy)
        exp = torch.autograd.grad(ref(x), [x, ref.weight, ref.bias], dy)
        for g, e in zip(got, exp, strict=True):
            torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(getattr(ours, name), getattr(ref, name), rtol=1e-12,
                                   atol=0)
    x = torch.randn(shape, dtype=torch.float64, device=device)
    torch.testing.assert_close(ours.eval()(x), ref.eval()(x), rtol=1e-12, atol=1e-12)


def test_autograd_function_passes_torch_gradcheck():
    from dlhandbook.norm.batch_norm import BatchNormFunction

    x = torch.randn(6, 3, 2, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *a: BatchNormFunction.apply(*a, 1e-5),
                                    (x, w, b))


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.bfloat16, 5e-2),
                                        (torch.float16, 5e-3)])
def test_module_matches_torch_in_low_precision(device, dtype, tol):
    shape = (16, 4, 3, 3)
    ours = BatchNorm(4, dtype=dtype, device=device)
    ref = torch.nn.BatchNorm2d(4, dtype=dtype, device=device)
    x = (3 * torch.randn(shape, device=device) + 1).to(dtype)
    y_ours, y_ref = ours(x), ref(x)
    assert y_ours.dtype == dtype
    torch.testing.assert_close(y_ours.float(), y_ref.float(), rtol=tol, atol=tol)
    torch.testing.assert_close(ours.running_var.float(), ref.running_var.float(),
                               rtol=tol, atol=tol)
