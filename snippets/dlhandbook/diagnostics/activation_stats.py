r"""Per-layer activation statistics: the forward half of the vanishing/exploding
picture.

For $z_l = h_{l-1} W_l^\top$ with independent zero-mean weights of variance
$\mathrm{Var}(W_l)$,

$$\mathrm{Var}(z_l) = n_{l-1}\,\mathrm{Var}(W_l)\,E[h_{l-1}^2],$$

so the second moment of the activations is multiplied at every layer by a gain that
initialisation controls: for ReLU, $E[h^2] = \mathrm{Var}(z)/2$ and the gain is
$n\,\mathrm{Var}(W)/2$: one with He init ($2/n$), one half with Xavier ($1/n$ for a
square layer). A saturated unit (tanh near $\pm1$, sigmoid near 0 or 1) or an inactive
ReLU passes (almost) no gradient back.

Reference: He, Zhang, Ren & Sun (2015), *Delving Deep into Rectifiers*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")


# --8<-- [start:numpy]
def _phi_and_slope(z, activation):
    if activation == "sigmoid":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        return s, s * (1.0 - s)
    if activation == "tanh":
        t = np.tanh(z)
        return t, 1.0 - t**2
    if activation == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(np.float64)
    return z, np.ones_like(z)


def activation_stats(X, weights, activation):
    """Forward a bias-free MLP and summarise h_l = phi(h_{l-1} W_l^T) at every layer.

    Returns a dict of arrays of length L: ``mean`` and ``var`` of h_l over batch and
    units, ``second_moment`` E[h_l^2], and ``saturated``: the fraction of entries whose
    slope phi'(z_l) is below 1 % of the activation's largest slope (for ReLU: exactly
    the inactive units). The list ``hs`` of activations (for histograms) comes back
    under ``"hs"``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    h = np.asarray(X, dtype=np.float64)
    if h.ndim != 2:
        raise ValueError(f"X must be a 2-D (n, d) array, got shape {h.shape}")
    max_slope = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "linear": 1.0}[activation]
    stats = {"mean": [], "var": [], "second_moment": [], "saturated": [], "hs": []}
    for W in weights:
        if W.ndim != 2 or W.shape[1] != h.shape[1]:
            raise ValueError(
                f"weights: a layer of shape {W.shape} does not fit {h.shape}")
        h, slope = _phi_and_slope(h @ W.T, activation)      # (n, d_l)
        stats["mean"].append(h.mean())
        stats["var"].append(h.var())
        stats["second_moment"].append(np.mean(h**2))
        stats["saturated"].append(np.mean(slope < 0.01 * max_slope))
        stats["hs"].append(h)
    return {k: (v if k == "hs" else np.array(v)) for k, v in stats.items()}
# --8<-- [end:numpy]


# --8<-- [start:torch]
@torch.no_grad()
def activation_stats_torch(model: torch.nn.Module, X: torch.Tensor,
                           types=(torch.nn.ReLU, torch.nn.Tanh, torch.nn.Sigmoid)):
    """Mean and variance of the output of every activation module of ``model``, in call
    order.

    Uses forward hooks, so it works on any model without changing its code.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module")
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError("X must be a floating-point torch.Tensor")
    means, variances = [], []

    def record(module, inputs, output):
        means.append(output.mean())
        variances.append(output.var(unbiased=False))

    handles = [m.register_forward_hook(record) for m in model.modules()
               if isinstance(m, types)]
    try:
        model(X)
    finally:
        for handle in handles:          # never leave hooks behind on the caller's model
            handle.remove()
    return torch.stack(means), torch.stack(variances)
# --8<-- [end:torch]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 256))
    for name, std in [("xavier", np.sqrt(1 / 256)), ("he", np.sqrt(2 / 256))]:
        Ws = [rng.normal(0, std, (256, 256)) for _ in range(30)]
        print(name, activation_stats(X, Ws, "relu")["var"][[0, 9, 19, 29]])
