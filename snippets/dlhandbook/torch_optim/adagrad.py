r"""AdaGrad as a drop-in ``torch.optim.Optimizer``: a readable and a multi-tensor path.

$$v_t = v_{t-1} + g_t^2, \qquad \eta_t = \frac{\eta}{1 + (t-1)\,\delta}, \qquad
\theta_t = \theta_{t-1} - \eta_t\, \frac{g_t}{\sqrt{v_t} + \epsilon}$$

$v$ sums every squared gradient ever seen, so each coordinate's step only shrinks: large
for rarely-updated coordinates, small for frequent ones. Same keyword names, defaults,
state keys and update order as ``torch.optim.Adagrad``; the tests check both paths
against torch's in float64, float32, float16 and bfloat16. ``fused=True`` runs torch's
single-pass kernel through its public functional API,
``torch.optim.adagrad.adagrad(..., fused=True)``.

Reference: Duchi, Hazan & Singer (2011), *Adaptive Subgradient Methods for Online
Learning and Stochastic Optimization*, JMLR 12.
"""

# --8<-- [start:imports]
import numbers

import torch
from torch.optim.adagrad import adagrad as torch_adagrad  # functional Adagrad (public)

# --8<-- [end:imports]


# --8<-- [start:torch]
# --8<-- [start:step]
def _adagrad_loop(params, grads, states, *, lr, lr_decay, eps, weight_decay, maximize):
    """The readable update, one parameter tensor at a time."""
    for p, g, state in zip(params, grads, states, strict=True):
        state["step"] += 1
        t = state["step"]
        v = state["sum"]
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)        # L2 penalty lambda * theta
        lr_t = lr / (1 + (t - 1) * lr_decay)        # optional 1/t decay of eta
        v.addcmul_(g, g)                            # v = v + g^2, never forgets
        p.addcdiv_(g, v.sqrt().add_(eps), value=-lr_t)  # eta_t g / (sqrt(v) + eps)
# --8<-- [end:step]


class Adagrad(torch.optim.Optimizer):
    """AdaGrad (Duchi et al., 2011): arguments, defaults, state as torch.optim.Adagrad.

    foreach=None runs the multi-tensor path on CUDA or for 16 tensors or more;
    fused=True runs torch's fused kernel (floating-point tensors on CPU or CUDA).
    Not offered (a clear error): differentiable, sparse gradients (which
    torch.optim.Adagrad accepts), complex parameters. State, created at the first
    step: step, sum (v).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *,
                 maximize=False, differentiable=False, fused=None):
        _check_real("lr", float(_check_lr(lr)) if torch.is_tensor(lr) else lr)
        _check_real("lr_decay", lr_decay)
        _check_real("weight_decay", weight_decay)
        _check_real("initial_accumulator_value", initial_accumulator_value)
        _check_real("eps", eps)
        _reject_unoffered(differentiable=differentiable)
        _check_fused(fused, foreach)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        foreach=foreach, maximize=maximize, fused=fused)
        super().__init__(params, defaults)
        if fused:
            # GradScaler then hands us grad_scale and found_inf instead of unscaling
            self._step_supports_amp_scaling = True

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; return closure() if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, states = _gather(self.state, group)
            if not params:
                continue
            options = dict(lr=_check_lr(group["lr"]), lr_decay=group["lr_decay"],
                           eps=group["eps"], weight_decay=group["weight_decay"],
                           maximize=group["maximize"])
            if group["fused"]:
                _adagrad_fused(params, grads, states, **options,
                               grad_scale=getattr(self, "grad_scale", None),
                               found_inf=getattr(self, "found_inf", None))
            elif _use_foreach(group["foreach"], params):
                for bucket in _split_by_device_and_dtype(params, grads, states):
                    _adagrad_foreach(*bucket, **options)
            else:
                _adagrad_loop(params, grads, states, **options)
        return loss

    def __setstate__(self, state):
        """Add the group keys that checkpoints of older torch lack, as torch does."""
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in _LATER_KEYS.items():
                group.setdefault(key, value)
# --8<-- [end:torch]


# --8<-- [start:foreach]
def _adagrad_foreach(params, grads, states, *, lr, lr_decay, eps, weight_decay,
                     maximize):
    """The same update on lists of tensors, one torch._foreach_* call per line."""
    for state in states:
        state["step"] += 1
    v = [state["sum"] for state in states]
    if maximize:
        grads = torch._foreach_neg(grads)               # a copy: p.grad is untouched
    if weight_decay != 0:
        if maximize:
            torch._foreach_add_(grads, params, alpha=weight_decay)   # already a copy
        else:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
    torch._foreach_addcmul_(v, grads, grads)
    denom = torch._foreach_sqrt(v)
    torch._foreach_add_(denom, eps)
    minus_lr_t = [-lr / (1 + (state["step"] - 1) * lr_decay) for state in states]
    if maximize or weight_decay != 0:
        torch._foreach_mul_(grads, minus_lr_t)          # grads is already a copy
    else:
        grads = torch._foreach_mul(grads, minus_lr_t)   # (torch's order of operations)
    torch._foreach_addcdiv_(params, grads, denom)


def _adagrad_fused(params, grads, states, *, lr, lr_decay, eps, weight_decay, maximize,
                   grad_scale, found_inf):
    """The same update in one pass: torch's fused kernel, per device and dtype."""
    torch_adagrad(params, grads,
                  [state["sum"] for state in states],
                  [state["step"] for state in states],  # float32 tensors, += 1 inside
                  fused=True, grad_scale=grad_scale, found_inf=found_inf, lr=lr,
                  weight_decay=weight_decay, lr_decay=lr_decay, eps=eps,
                  maximize=maximize)


def _use_foreach(foreach, params):
    """Resolve foreach=None: multi-tensor on CUDA, or when there are many tensors."""
    if foreach is not None:
        return bool(foreach)
    return all(p.is_cuda for p in params) or len(params) >= 16


def _split_by_device_and_dtype(params, grads, states):
    """Buckets of (params, grads, states) on one device and dtype, as foreach needs."""
    buckets = {}
    for p, g, state in zip(params, grads, states, strict=True):
        bucket = buckets.setdefault((p.device, p.dtype), ([], [], []))
        bucket[0].append(p)
        bucket[1].append(g)
        bucket[2].append(state)
    return list(buckets.values())
# --8<-- [end:foreach]


# --8<-- [start:checks]
# Group keys torch added over the years, with the values torch fills in for old
# checkpoints (see __setstate__).
_LATER_KEYS = dict(foreach=None, maximize=False, differentiable=False, fused=None)


def _gather(state_of, group):
    """Parameters with a gradient, their gradients and their (lazily created) state."""
    params, grads, states = [], [], []
    for p in group["params"]:
        if p.grad is None:
            continue                                    # frozen or unused: skip
        if p.grad.is_sparse:
            raise RuntimeError("Adagrad here does not support sparse gradients; "
                               "use torch.optim.Adagrad for those")
        if p.is_complex():
            raise TypeError("Adagrad here supports real parameters only; "
                            "use torch.optim.Adagrad")
        state = state_of[p]
        if not state:
            if group["fused"]:
                _check_fused_param(p)                   # on its first step, as torch
            state["step"] = 0
            state["sum"] = torch.full_like(p, group["initial_accumulator_value"],
                                           memory_format=torch.preserve_format)
        # An int on our loops, a tensor on the fused path: convert one the other path
        # left (a checkpoint, or fused switched on or off).
        if torch.is_tensor(state["step"]) != bool(group["fused"]):
            state["step"] = _step_as(state["step"], p, group["fused"])
        params.append(p)
        grads.append(p.grad)
        states.append(state)
    return params, grads, states


def _step_as(step, p, fused):
    """The other path's step count as this path keeps it: for fused, a float32 tensor on
    p's device (as torch); for our loops, an int."""
    if fused:
        return torch.tensor(float(step), dtype=torch.float32, device=p.device)
    return int(step.item())


def _check_fused(fused, foreach):
    """fused is None, True or False, and never together with foreach=True (as torch)."""
    if fused not in (None, True, False):
        raise TypeError(f"fused must be None, True or False, got {fused!r}")
    if fused and foreach:
        raise RuntimeError("fused=True and foreach=True cannot be set together")


# Device types with fused optimizer kernels in torch 2.13 (CPU and the accelerators).
_FUSED_DEVICES = ("cpu", "cuda", "mps", "xpu", "hpu", "mtia")


def _check_fused_param(p):
    """fused=True needs a floating-point tensor on a fused device (torch's rule)."""
    if not p.is_floating_point() or p.device.type not in _FUSED_DEVICES:
        raise RuntimeError("fused=True needs floating-point parameters on one of "
                           f"{', '.join(_FUSED_DEVICES)}; got {p.dtype} on "
                           f"{p.device.type}")


def _check_lr(lr):
    """A one-element tensor lr works on both paths, as in torch.optim.Adagrad."""
    if torch.is_tensor(lr) and lr.numel() != 1:
        raise ValueError(f"a tensor lr must have one element, got {tuple(lr.shape)}")
    return lr.squeeze() if torch.is_tensor(lr) else lr


def _check_real(name, value, low=0.0, high=None):
    """TypeError unless value is a real number; ValueError unless in [low, high)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not value >= low or (high is not None and not value < high):
        rule = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"{name} must be {rule}, got {value}")


def _reject_unoffered(**options):
    """torch.optim options this class does not implement: an error if one is set."""
    for name, value in options.items():
        if value:
            raise ValueError(f"{name}={value!r} is not offered here; "
                             "use torch.optim for it")
# --8<-- [end:checks]


if __name__ == "__main__":
    torch.manual_seed(0)
    model = torch.nn.Linear(10, 1)
    X, y = torch.randn(256, 10), torch.randn(256, 1)
    optimizer = Adagrad(model.parameters(), lr=0.1)
    for _ in range(200):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
    print(f"final loss {loss.item():.4f}")
