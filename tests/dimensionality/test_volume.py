import math

import numpy as np
import pytest

from dlhandbook.dimensionality.volume import (
    ball_fraction,
    edge_for_fraction,
    monte_carlo_fractions,
    shell_fraction,
)


def test_ball_fraction_closed_form_in_low_dimension_and_recursion():
    assert ball_fraction(1) == pytest.approx(1.0, rel=1e-12)
    assert ball_fraction(2) == pytest.approx(math.pi / 4, rel=1e-12)
    assert ball_fraction(3) == pytest.approx(math.pi / 6, rel=1e-12)
    for d in range(3, 401):   # V_d(1/2) = V_{d-2}(1/2) * pi / (2 d)
        assert ball_fraction(d) == pytest.approx(ball_fraction(d - 2) * math.pi / (2 * d),
                                                 rel=1e-10)


def test_ball_fraction_vanishes_and_shell_fraction_tends_to_one():
    fracs = [ball_fraction(d) for d in range(1, 60)]
    assert np.all(np.diff(fracs) < 0)
    assert ball_fraction(10) < 3e-3
    assert ball_fraction(20) < 3e-8
    shells = [shell_fraction(d, 0.05) for d in range(1, 200)]
    assert np.all(np.diff(shells) > 0)
    assert shell_fraction(1, 0.05) == pytest.approx(0.1, rel=1e-12)
    assert shell_fraction(100, 0.05) > 0.9999


def test_monte_carlo_matches_the_closed_forms_within_six_standard_errors():
    """Binomial standard error sqrt(p (1-p) / n), n = 200 000; expected counts of about 500
    and more, so the normal tail applies: each of the six checks fails with probability < 2e-9."""
    n = 200_000
    for d in (2, 5, 10):
        shell_mc, ball_mc = monte_carlo_fractions(d, 0.05, n=n, seed=d)
        for mc, exact in ((shell_mc, shell_fraction(d, 0.05)), (ball_mc, ball_fraction(d))):
            se = math.sqrt(exact * (1 - exact) / n)
            assert abs(mc - exact) < 6 * se, (d, mc, exact)


def test_edge_of_the_cube_holding_ten_percent_of_the_data():
    assert edge_for_fraction(0.1, 1) == pytest.approx(0.1)
    assert edge_for_fraction(0.1, 10) == pytest.approx(0.1 ** 0.1, rel=1e-12)
    assert 0.79 < edge_for_fraction(0.1, 10) < 0.80
    assert edge_for_fraction(0.01, 100) > 0.95


def test_bad_arguments_raise_naming_the_argument():
    for fn in (ball_fraction, lambda d: shell_fraction(d, 0.1),
               lambda d: edge_for_fraction(0.5, d)):
        with pytest.raises(ValueError, match="d must be positive"):
            fn(0)
        with pytest.raises(TypeError, match="d must be an int"):
            fn(2.0)
    with pytest.raises(ValueError, match="eps must be in"):
        shell_fraction(3, 0.6)
    with pytest.raises(ValueError, match="r must be in"):
        edge_for_fraction(0.0, 3)
    with pytest.raises(ValueError, match="n must be positive"):
        monte_carlo_fractions(3, 0.1, n=0)
    with pytest.raises(TypeError, match="n must be an int"):
        monte_carlo_fractions(3, 0.1, n=2.5)
    with pytest.raises(ValueError, match="eps must be in"):
        monte_carlo_fractions(3, -0.1)
