r"""Two-dimensional toy data for the generative models: two moons, a ring of Gaussians.

Two moons: half the points on the upper half circle of radius 1 centred at $(0, 0)$,
half on the lower half circle centred at $(1, \tfrac12)$, each point moved by
$\mathcal N(0, \sigma^2 I)$ noise. Ring: $K$ equally weighted Gaussians of standard
deviation $s$ whose means lie evenly on a circle of radius $r$,

$$p(x) = \frac1K\sum_{k=0}^{K-1}\mathcal N\bigl(x;\ r(\cos\tfrac{2\pi k}{K},
\sin\tfrac{2\pi k}{K}),\ s^2 I\bigr).$$

Reference: the ring is the usual mode-collapse test of Metz, Poole, Pfau &
Sohl-Dickstein (2017), *Unrolled Generative Adversarial Networks*, ICLR.
"""

# --8<-- [start:imports]
import numpy as np

# --8<-- [end:imports]


# --8<-- [start:numpy]
def two_moons(n, noise=0.1, seed=0):
    """n points (n, 2) on two interleaved half circles, plus Gaussian noise."""
    _check_n(n)
    _check_scale(noise, "noise", allow_zero=True)
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    angle = rng.uniform(0.0, np.pi, n)
    X = np.stack([np.cos(angle), np.sin(angle)], axis=1)          # (n, 2)
    X[n_upper:] = np.array([1.0, 0.5]) - X[n_upper:]                # lower moon
    return X + noise * rng.standard_normal((n, 2))


def ring_of_gaussians(n, n_modes=8, radius=2.0, std=0.1, seed=0):
    """n points (n, 2) from n_modes equal Gaussians evenly spaced on a circle."""
    _check_n(n)
    _check_n(n_modes, "n_modes")
    _check_scale(radius, "radius")
    _check_scale(std, "std")
    rng = np.random.default_rng(seed)
    k = rng.integers(0, n_modes, n)                                 # mode of each point
    angle = 2 * np.pi * k / n_modes
    means = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return means + std * rng.standard_normal((n, 2))
# --8<-- [end:numpy]


# --8<-- [start:checks]
def _check_n(n, name="n"):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n <= 0:
        raise ValueError(f"{name} must be positive, got {n}")


def _check_scale(value, name, allow_zero=False):
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
# --8<-- [end:checks]


if __name__ == "__main__":
    print(two_moons(5).round(3))
    print(ring_of_gaussians(5).round(3))
