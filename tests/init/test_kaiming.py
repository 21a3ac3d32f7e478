import math

import numpy as np
import pytest
import torch

from dlhandbook.init.kaiming import (
    calculate_gain,
    kaiming_normal,
    kaiming_normal_,
    kaiming_std,
    kaiming_uniform,
    kaiming_uniform_,
)

CASES = [dict(), dict(nonlinearity="relu"), dict(a=0.2, mode="fan_out"),
         dict(nonlinearity="tanh", mode="fan_out"), dict(a=math.sqrt(5))]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
@pytest.mark.parametrize("shape", [(64, 128), (8, 4, 5, 5)])
def test_same_draws_as_torch_given_the_same_generator(device, kwargs, shape):
    for ours, theirs in [(kaiming_uniform_, torch.nn.init.kaiming_uniform_),
                         (kaiming_normal_, torch.nn.init.kaiming_normal_)]:
        g1 = torch.Generator(device=device).manual_seed(3)
        g2 = torch.Generator(device=device).manual_seed(3)
        a = ours(torch.empty(shape, dtype=torch.float64, device=device), generator=g1, **kwargs)
        b = theirs(torch.empty(shape, dtype=torch.float64, device=device), generator=g2, **kwargs)
        assert torch.equal(a, b)


GAIN_CASES = [(name, None) for name in (
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")] + [
    ("leaky_relu", 0.2), ("leaky_relu", 3), ("leaky_relu", 0.0), ("relu", 0.5)]


@pytest.mark.parametrize("name,param", GAIN_CASES, ids=str)
def test_gains_match_torch(name, param):
    ours, theirs = calculate_gain(name, param), torch.nn.init.calculate_gain(name, param)
    assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize("name,param", [("swish", None), ("leaky_relu", "0.1"),
                                        ("leaky_relu", True), ("leaky_relu", np.int64(2)),
                                        ("Linear", None)], ids=str)
def test_gain_rejects_what_torch_rejects(name, param):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(name, param)
    with pytest.raises(ValueError, match="param|nonlinearity"):
        calculate_gain(name, param)


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0), (4, 0, 3)])
def test_zero_element_tensors_are_a_no_op_with_torchs_warning(shape):
    for ours, theirs in [(kaiming_uniform_, torch.nn.init.kaiming_uniform_),
                         (kaiming_normal_, torch.nn.init.kaiming_normal_)]:
        for fn in (ours, theirs):
            t = torch.empty(shape)
            with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
                assert fn(t) is t
    for fn in (kaiming_uniform, kaiming_normal):
        with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
            assert fn(shape).shape == shape


def test_relu_variance_is_two_over_fan_in():
    rng = np.random.default_rng(0)
    for W in (kaiming_normal((1000, 1000), nonlinearity="relu", rng=rng),
              kaiming_uniform((1000, 1000), nonlinearity="relu", rng=rng)):
        assert abs(W.var() / (2.0 / 1000) - 1) < 0.01
    assert kaiming_std((10, 400), mode="fan_in") ** 2 == pytest.approx(2 / 400, rel=1e-15)
    assert kaiming_std((10, 400), mode="fan_out") ** 2 == pytest.approx(2 / 10, rel=1e-15)


def test_pytorch_linear_default_is_kaiming_uniform_a_sqrt5_variance_one_third_fan_in():
    # nn.Linear's default weight: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in)), Var = 1/(3 fan_in).
    assert kaiming_std((10, 300), a=math.sqrt(5)) ** 2 == pytest.approx(1 / (3 * 300), rel=1e-12)
    torch.manual_seed(5)
    layer = torch.nn.Linear(300, 10)
    torch.manual_seed(5)
    W = kaiming_uniform_(torch.empty(10, 300), a=math.sqrt(5))
    assert torch.equal(layer.weight.detach(), W)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        kaiming_normal((4, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="nonlinearity"):
        kaiming_uniform((4, 4), nonlinearity="swish")
    with pytest.raises(ValueError, match="param"):
        calculate_gain("leaky_relu", "0.1")
    with pytest.raises(ValueError, match="shape"):
        kaiming_std((4,))
    with pytest.raises(TypeError, match="tensor"):
        kaiming_uniform_(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="mode"):
        kaiming_normal_(torch.empty(4, 4), mode="avg")
