r"""Where the volume of a high-dimensional cube is: near its surface, not in its ball.

In the unit cube $[0, 1]^d$ the points within $\epsilon$ of the surface are those
outside the inner cube of side $1 - 2\epsilon$, and the inscribed ball has radius $1/2$:

$$V_{\text{shell}}(d, \epsilon) = 1 - (1 - 2\epsilon)^d, \qquad
V_{\text{ball}}(d) = \frac{\pi^{d/2}}{\Gamma(d/2 + 1)}\Bigl(\frac12\Bigr)^d .$$

The first tends to 1 and the second to 0 as $d$ grows. A sub-cube holding a fraction $r$
of the volume (or of uniform data) has edge $r^{1/d}$, which tends to 1: a "local"
neighbourhood spans almost the whole range of every coordinate.

Reference: Hastie, Tibshirani & Friedman (2009), *The Elements of Statistical Learning*,
2nd ed., Section 2.5.
"""

# --8<-- [start:imports]
import math

import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
def shell_fraction(d, eps):
    """Fraction of the unit d-cube within eps of its surface: 1 - (1 - 2 eps)^d."""
    _check_dimension(d)
    _check_eps(eps)
    return 1.0 - (1.0 - 2.0 * eps) ** d


def ball_fraction(d):
    """Fraction of the unit d-cube inside its inscribed ball (radius 1/2)."""
    _check_dimension(d)
    log_v = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1) - d * math.log(2)
    return math.exp(log_v)                     # in logs: Gamma overflows for d > 340


def edge_for_fraction(r, d):
    """Edge of the sub-cube holding a fraction r of the unit d-cube's volume."""
    _check_dimension(d)
    if not 0.0 < r <= 1.0:
        raise ValueError(f"r must be in (0, 1], got {r}")
    return r ** (1.0 / d)


def monte_carlo_fractions(d, eps, n=100_000, seed=0):
    """Monte Carlo estimates of (shell_fraction(d, eps), ball_fraction(d))."""
    _check_dimension(d)
    _check_eps(eps)
    _check_dimension(n, "n")
    X = np.random.default_rng(seed).random((n, d))            # uniform in the cube
    to_surface = np.minimum(X, 1.0 - X).min(axis=1)           # distance to the surface
    in_ball = ((X - 0.5) ** 2).sum(axis=1) <= 0.25            # |x - centre| <= 1/2
    return float((to_surface < eps).mean()), float(in_ball.mean())
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_dimension(d, name="d"):
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(d).__name__}")
    if d <= 0:
        raise ValueError(f"{name} must be positive, got {d}")


def _check_eps(eps):
    if not 0.0 <= eps <= 0.5:
        raise ValueError(f"eps must be in [0, 0.5], got {eps}")
# --8<-- [end:checks]


if __name__ == "__main__":
    for d in (1, 2, 10, 50):
        print(d, shell_fraction(d, 0.05), ball_fraction(d),
              monte_carlo_fractions(d, 0.05, n=20_000))
