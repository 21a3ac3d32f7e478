r"""Ensembles by averaging: the ambiguity decomposition, bagging, an averaging module.

For members $f_1, \dots, f_M$ with convex weights $c_m$ and the ensemble
$\bar f = \sum_m c_m f_m$, at every input (Krogh & Vedelsby 1995)
$$(\bar f - y)^2 = \sum_m c_m (f_m - y)^2 - \sum_m c_m (f_m - \bar f)^2,$$
ensemble error = average member error - ambiguity, so the ensemble is never worse than
the average member, and better by exactly the members' spread around it. Bagging
(Breiman 1996) trains each member on a bootstrap sample: $n$ draws with replacement,
which leave out a fraction $(1 - 1/n)^n \approx e^{-1}$ of the points.

Reference: Krogh & Vedelsby (1995), *Neural network ensembles, cross validation, and
active learning*, NeurIPS 7.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def average_predictions(preds, weights=None):
    """Ensemble prediction: (weighted) mean over axis 0 of preds (M, ...)."""
    preds, weights = _check_members(preds, weights)
    return np.tensordot(weights, preds, axes=1)         # sum_m c_m f_m


def ambiguity_decomposition(preds, y, weights=None):
    """(ensemble error, average member error, ambiguity), squared errors
    averaged over samples; the first equals the second minus the third."""
    preds, weights = _check_members(preds, weights)
    f_bar = np.tensordot(weights, preds, axes=1)
    ensemble_error = np.mean((f_bar - y) ** 2)
    member_errors = np.mean((preds - y) ** 2, axis=tuple(range(1, preds.ndim)))
    spreads = np.mean((preds - f_bar) ** 2, axis=tuple(range(1, preds.ndim)))
    return ensemble_error, weights @ member_errors, weights @ spreads


def bootstrap_indices(n, n_members, rng):
    """One bootstrap sample of n indices (drawn with replacement) per member."""
    _check_count("n", n)
    _check_count("n_members", n_members)
    return rng.integers(0, n, size=(n_members, n))      # (M, n)
# --8<-- [end:numpy]


# --8<-- [start:torch]
class Ensemble(torch.nn.Module):
    """Average the members' outputs, or their softmax probabilities (probs=True)."""

    def __init__(self, members, probs=False):
        super().__init__()
        members = list(members)
        if not members:
            raise ValueError("members must hold at least one model, got 0")
        self.members = torch.nn.ModuleList(members)
        self.probs = probs

    def forward(self, x):
        outs = [m(x) for m in self.members]
        if self.probs:
            outs = [o.softmax(dim=-1) for o in outs]     # average probabilities
        return torch.stack(outs).mean(dim=0)


def fit_bagging(make_model, fit, X, y, n_members, generator=None):
    """Train n_members models, each by fit(model, X_b, y_b) on a bootstrap
    sample; generator is a CPU torch.Generator (or None)."""
    _check_count("n_members", n_members)
    members = []
    for _ in range(n_members):
        # n draws with replacement (a CPU generator), then moved to X's device
        idx = torch.randint(len(X), (len(X),), generator=generator).to(X.device)
        model = make_model()
        fit(model, X[idx], y[idx])
        members.append(model)
    return Ensemble(members)
# --8<-- [end:torch]


# --8<-- [start:checks_numpy]
def _check_members(preds, weights):
    preds = np.asarray(preds, dtype=np.float64)
    if preds.ndim < 1 or preds.shape[0] == 0:
        raise ValueError("preds must stack at least one member on axis 0, got 0")
    M = preds.shape[0]
    if weights is None:
        return preds, np.full(M, 1.0 / M)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (M,) or np.any(weights < 0):
        raise ValueError(f"weights must be {M} non-negative numbers")
    if not np.isclose(weights.sum(), 1.0):
        raise ValueError(f"weights must sum to 1, got {weights.sum()}")
    return preds, weights
# --8<-- [end:checks_numpy]


# --8<-- [start:checks]
def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
# --8<-- [end:checks]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    y = rng.standard_normal(100)
    preds = y + rng.standard_normal((5, 100))
    E, E_bar, A = ambiguity_decomposition(preds, y)
    print(f"ensemble {E:.3f} = members {E_bar:.3f} - ambiguity {A:.3f}")
