import numpy as np
import pytest
import torch

from dlhandbook.basics.approximation import (
    count_linear_pieces,
    interpolating_relu_net,
    one_hidden_layer,
    one_hidden_layer_torch,
    sawtooth,
    sawtooth_net,
    tent,
)

GRID = np.linspace(0.0, 1.0, 2**12 + 1)     # dyadic: every breakpoint j / 2^k lies on it
WIDTHS = [2, 4, 8, 16, 32, 64]


def _target(x):
    return np.sin(2 * np.pi * x)


def _max_error(width):
    return np.abs(one_hidden_layer(GRID, *interpolating_relu_net(_target, width))
                  - _target(GRID)).max()


def test_one_hidden_layer_max_error_falls_as_width_grows():
    """Target sin(2 pi x) on [0, 1], widths 2..64: the error falls at every doubling and
    stays within the interpolation bound h^2 max|f''| / 8 = (1/m)^2 (2 pi)^2 / 8."""
    errors = [_max_error(m) for m in WIDTHS]
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False))
    for m, e in zip(WIDTHS, errors, strict=True):
        assert e <= (1 / m) ** 2 * (2 * np.pi) ** 2 / 8 + 1e-12
    assert errors[-1] < 1.3e-3


def test_interpolating_net_hits_the_target_at_every_knot():
    knots = np.linspace(0.0, 1.0, 17)
    net = interpolating_relu_net(_target, 16)
    np.testing.assert_allclose(one_hidden_layer(knots, *net), _target(knots), atol=1e-12)


@pytest.mark.parametrize("depth", range(1, 9))
def test_sawtooth_of_depth_k_has_2_to_the_k_pieces(depth):
    assert count_linear_pieces(GRID, sawtooth(GRID, depth)) == 2**depth


def test_tent_is_two_pieces_onto_the_unit_interval():
    assert count_linear_pieces(GRID, tent(GRID)) == 2
    assert tent(0.0) == 0.0 and tent(0.5) == 1.0 and tent(1.0) == 0.0


@pytest.mark.parametrize("width", [1, 3, 10, 40])
def test_one_hidden_layer_relu_net_has_at_most_width_plus_one_pieces(width):
    """Each unit relu(w x + b) bends only at x = -b / w, so m units give <= m + 1 pieces
    (breakpoints placed on the grid so that the count is exact; 20 random nets each)."""
    rng = np.random.default_rng(width)
    x = np.linspace(-1.0, 1.0, 2**11 + 1)
    for _ in range(20):
        kinks = rng.choice(x[1:-1], size=width, replace=False)
        w1 = rng.choice([-1.0, 1.0], width) * rng.uniform(0.5, 2.0, width)
        w2 = rng.standard_normal(width)
        y = one_hidden_layer(x, w1, -w1 * kinks, w2, 0.3)
        assert count_linear_pieces(x, y) <= width + 1
        assert count_linear_pieces(x, y) == width + 1    # distinct kinks, w2 != 0


@pytest.mark.parametrize("depth", [2, 4, 6])
def test_a_one_hidden_layer_net_with_2_to_the_k_units_reproduces_the_sawtooth(depth):
    """The interpolating one-hidden-layer net with 2^k units equals t^k on [0, 1], every
    unit used; the one with 2^k - 2 units (knots off the sawtooth's) misses by > 0.1."""
    f = lambda x: sawtooth(x, depth)  # noqa: E731
    exact = interpolating_relu_net(f, 2**depth)
    np.testing.assert_allclose(one_hidden_layer(GRID, *exact), f(GRID), atol=1e-12)
    assert sum(np.abs(exact[2]) > 1e-12) == 2**depth        # every unit is used
    short = interpolating_relu_net(f, 2**depth - 2)
    assert np.abs(one_hidden_layer(GRID, *short) - f(GRID)).max() > 0.1


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_torch_sawtooth_net_equals_numpy_and_has_2_units_per_layer(depth, device):
    model = sawtooth_net(depth).to(device)
    out = model(torch.tensor(GRID[:, None], device=device)).squeeze(-1).detach().cpu().numpy()
    np.testing.assert_allclose(out, sawtooth(GRID, depth), atol=1e-12)
    hidden = [m for m in model if isinstance(m, torch.nn.Linear)][:-1]
    assert len(hidden) == depth and all(m.out_features == 2 for m in hidden)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_torch_sawtooth_net_is_exact_in_low_precision_on_dyadic_points(dtype, device):
    """Weights 2, -4, -1/2 and dyadic inputs: every intermediate value is representable."""
    x = np.linspace(0.0, 1.0, 2**6 + 1)
    model = sawtooth_net(3, dtype=dtype).to(device)
    out = model(torch.tensor(x[:, None], dtype=dtype, device=device)).squeeze(-1)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.float().detach().cpu().numpy(), sawtooth(x, 3))


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-5),
                                        (torch.bfloat16, 3e-2)])
def test_torch_one_hidden_layer_net_equals_numpy(dtype, tol, device):
    net = interpolating_relu_net(_target, 16)
    model = one_hidden_layer_torch(*net, dtype=dtype).to(device)
    out = model(torch.tensor(GRID[:, None], dtype=dtype, device=device)).squeeze(-1)
    assert out.dtype == dtype
    got = out.double().detach().cpu().numpy()
    assert np.abs(got - one_hidden_layer(GRID, *net)).max() < tol * 40


def test_bad_input_raises_naming_the_argument():
    with pytest.raises(ValueError, match="width"):
        interpolating_relu_net(_target, 0)
    with pytest.raises(ValueError, match="width"):
        interpolating_relu_net(_target, 2.5)
    with pytest.raises(ValueError, match="lo must be below hi"):
        interpolating_relu_net(_target, 4, lo=1.0, hi=0.0)
    with pytest.raises(ValueError, match="depth"):
        sawtooth(GRID, 0)
    with pytest.raises(ValueError, match="x and y"):
        count_linear_pieces(GRID, GRID[:-1])
    with pytest.raises(ValueError, match="increasing"):
        count_linear_pieces(GRID[::-1], GRID)
    with pytest.raises(ValueError, match="depth"):
        sawtooth_net(-1)
    w1, b1, w2, b2 = interpolating_relu_net(_target, 4)
    with pytest.raises(ValueError, match="w1, b1 and w2"):
        one_hidden_layer_torch(w1, b1[:-1], w2, b2)
