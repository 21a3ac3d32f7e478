import math

import numpy as np
import pytest
import torch

from dlhandbook.init.xavier import (
    fan_in_fan_out,
    xavier_normal,
    xavier_normal_,
    xavier_std,
    xavier_uniform,
    xavier_uniform_,
)


@pytest.mark.parametrize("shape", [(300, 500), (16, 8, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 5.0 / 3])
def test_same_draws_as_torch_given_the_same_generator(device, shape, gain):
    for ours, theirs in [(xavier_uniform_, torch.nn.init.xavier_uniform_),
                         (xavier_normal_, torch.nn.init.xavier_normal_)]:
        g1 = torch.Generator(device=device).manual_seed(7)
        g2 = torch.Generator(device=device).manual_seed(7)
        a = ours(torch.empty(shape, dtype=torch.float64, device=device), gain=gain, generator=g1)
        b = theirs(torch.empty(shape, dtype=torch.float64, device=device), gain=gain, generator=g2)
        assert torch.equal(a, b)


def test_variance_is_two_over_fan_in_plus_fan_out():
    rng = np.random.default_rng(0)
    target = 2.0 / (1000 + 1000)
    for W in (xavier_uniform((1000, 1000), rng=rng), xavier_normal((1000, 1000), rng=rng)):
        assert abs(W.var() / target - 1) < 0.01
    assert xavier_std((300, 500)) ** 2 == pytest.approx(2.0 / 800, rel=1e-15)


def test_uniform_bound_is_sqrt_six_over_fan_sum_not_the_square_root_formula():
    W = xavier_uniform((1000, 1000), rng=np.random.default_rng(1))
    a = math.sqrt(6.0 / 2000)
    assert np.abs(W).max() <= a and np.abs(W).max() > a - 1e-4
    # The misquoted "2 / (2 sqrt(n_in + n_out))" would be 22x too large at this size.
    assert (2 / (2 * math.sqrt(2000))) / W.var() > 20


def test_conv_fans_count_kernel_taps():
    assert fan_in_fan_out((16, 8, 3, 3)) == (8 * 9, 16 * 9)
    W = torch.empty(16, 8, 3, 3)
    assert fan_in_fan_out(W.shape) == torch.nn.init._calculate_fan_in_and_fan_out(W)


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (4, 0, 3)])
def test_zero_element_tensors_are_returned_unchanged_as_in_torch(shape):
    for ours, theirs in [(xavier_uniform_, torch.nn.init.xavier_uniform_),
                         (xavier_normal_, torch.nn.init.xavier_normal_)]:
        for fn in (ours, theirs):
            t = torch.empty(shape)
            assert fn(t) is t
    for fn in (xavier_uniform, xavier_normal):
        assert fn(shape).shape == shape


def test_zero_by_zero_weight_is_returned_unchanged_where_torch_divides_by_zero():
    t = torch.empty(0, 0)
    assert xavier_uniform_(t) is t and xavier_normal_(t) is t
    with pytest.raises(ZeroDivisionError):
        torch.nn.init.xavier_uniform_(torch.empty(0, 0))


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="shape"):
        xavier_uniform((5,))
    with pytest.raises(ValueError, match="gain"):
        xavier_normal((5, 5), gain=-1.0)
    with pytest.raises(ValueError, match="tensor"):
        xavier_uniform_(torch.empty(5))
    with pytest.raises(TypeError, match="tensor"):
        xavier_normal_(torch.empty(5, 5, dtype=torch.int64))
