"""torch.optim oracles for the NumPy optimizers in ``dlhandbook.optim``.

Each ``*_torch_reference(theta0, grads, device, **hyper)`` feeds a fixed list of gradients to
the matching ``torch.optim`` class in float64 and returns every iterate, shape
(len(grads) + 1, *theta0.shape). Import as ``from optim.references import adam_torch_reference``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch


def torch_reference(opt_cls, theta0, grads, device="cpu", **hyper) -> np.ndarray:
    """Run ``opt_cls([theta], **hyper)`` on the given gradients; return every iterate."""
    theta = torch.nn.Parameter(torch.tensor(theta0, dtype=torch.float64, device=device))
    opt = opt_cls([theta], **hyper)
    out = [theta.detach().clone()]
    for g in grads:
        theta.grad = torch.as_tensor(g, dtype=torch.float64, device=device).clone()
        opt.step()
        out.append(theta.detach().clone())
    return torch.stack(out).cpu().numpy()


adam_torch_reference = partial(torch_reference, torch.optim.Adam)
adamw_torch_reference = partial(torch_reference, torch.optim.AdamW)
rmsprop_torch_reference = partial(torch_reference, torch.optim.RMSprop)
adagrad_torch_reference = partial(torch_reference, torch.optim.Adagrad)
adadelta_torch_reference = partial(torch_reference, torch.optim.Adadelta)


def bfgs_inverse_update_torch(H, s, y):
    """The BFGS inverse-Hessian update on tensors (any device), in expanded outer-product form.

    H - rho (s (Hy)^T + Hy s^T) + (rho^2 y^T H y + rho) s s^T with rho = 1 / y^T s.
    """
    if not (H.ndim == 2 and s.ndim == 1 and y.shape == s.shape and H.shape[0] == s.shape[0]):
        raise ValueError("H must be (n, n) and s, y vectors of length n")
    ys = torch.dot(y, s)
    if not ys > 0:
        raise ValueError("curvature condition y^T s > 0 fails")
    rho = 1.0 / ys
    Hy = H @ y                                            # (n,)
    return (H - rho * (torch.outer(s, Hy) + torch.outer(Hy, s))
            + (rho * rho * torch.dot(y, Hy) + rho) * torch.outer(s, s))
