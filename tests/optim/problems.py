"""Test problems shared by the optimizer tests: each returns (loss, grad) functions in NumPy.

Import as ``from optim.problems import quadratic`` (``tests/`` is on the path).
"""

from __future__ import annotations

import numpy as np


def quadratic(A, b=None):
    """f(x) = 1/2 x^T A x - b^T x, gradient A x - b; minimiser A^{-1} b when A is positive definite."""
    A = np.asarray(A, dtype=np.float64)
    b = np.zeros(A.shape[0]) if b is None else np.asarray(b, dtype=np.float64)

    def loss(x):
        return 0.5 * x @ A @ x - b @ x

    def grad(x):
        return A @ x - b

    return loss, grad


def rosenbrock(a: float = 1.0, b: float = 100.0):
    """f(x, y) = (a - x)^2 + b (y - x^2)^2; minimum 0 at (a, a^2)."""

    def loss(p):
        x, y = p
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(p):
        x, y = p
        return np.array([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])

    return loss, grad


def saddle():
    """f(x, y) = x^2 - y^2: a saddle at the origin with an indefinite Hessian diag(2, -2)."""
    return quadratic(np.diag([2.0, -2.0]))
