r"""Adadelta as a drop-in ``torch.optim.Optimizer``: a readable and a multi-tensor path.

$$v_t = \rho\, v_{t-1} + (1-\rho)\, g_t^2, \qquad
\Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\; g_t, \qquad
u_t = \rho\, u_{t-1} + (1-\rho)\, \Delta_t^2, \qquad
\theta_t = \theta_{t-1} - \eta\, \Delta_t$$

The ratio of two running RMS values gives the step the units of $\theta$ (Zeiler's
"units" argument), so the paper uses no learning rate; PyTorch keeps $\eta$ (default
1.0) as a multiplier. Same keyword names, defaults, state keys and update order as
``torch.optim.Adadelta``; the tests check both paths against torch's in float64,
float32, float16 and bfloat16.

Reference: Zeiler (2012), *ADADELTA: An Adaptive Learning Rate Method*, arXiv:1212.5701.
"""

# --8<-- [start:imports]
import numbers

import torch

# --8<-- [end:imports]


# --8<-- [start:torch]
# --8<-- [start:step]
def _adadelta_loop(params, grads, states, *, lr, rho, eps, weight_decay, maximize):
    """The readable update, one parameter tensor at a time."""
    for p, g, state in zip(params, grads, states, strict=True):
        state["step"] += 1
        v, u = state["square_avg"], state["acc_delta"]
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)        # L2 penalty lambda * theta
        v.mul_(rho).addcmul_(g, g, value=1 - rho)   # v = rho v + (1 - rho) g^2
        delta = u.add(eps).sqrt_().div_(v.add(eps).sqrt_()).mul_(g)  # RMS ratio * g
        u.mul_(rho).addcmul_(delta, delta, value=1 - rho)  # rho u + (1-rho) delta^2
        p.add_(delta, alpha=-lr)
# --8<-- [end:step]


class Adadelta(torch.optim.Optimizer):
    """Adadelta (Zeiler, 2012): arguments, defaults and state as torch.optim.Adadelta.

    foreach=None runs the multi-tensor path on CUDA or for 16 tensors or more.
    Not offered (a clear error): capturable, differentiable, sparse gradients, complex
    parameters. State per parameter: step, square_avg (v), acc_delta (u).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None,
                 *, capturable=False, maximize=False, differentiable=False):
        _check_real("lr", float(_check_lr(lr)) if torch.is_tensor(lr) else lr)
        _check_real("rho", rho)
        if rho > 1:
            raise ValueError(f"rho must be in [0, 1], got {rho}")
        _check_real("eps", eps)
        _check_real("weight_decay", weight_decay)
        _reject_unoffered(capturable=capturable, differentiable=differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

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
            options = dict(lr=_check_lr(group["lr"]), rho=group["rho"],
                           eps=group["eps"], weight_decay=group["weight_decay"],
                           maximize=group["maximize"])
            if _use_foreach(group["foreach"], params):
                for bucket in _split_by_device_and_dtype(params, grads, states):
                    _adadelta_foreach(*bucket, **options)
            else:
                _adadelta_loop(params, grads, states, **options)
        return loss

    def __setstate__(self, state):
        """Add the group keys that checkpoints of older torch lack, as torch does."""
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in _LATER_KEYS.items():
                group.setdefault(key, value)
# --8<-- [end:torch]


# --8<-- [start:foreach]
def _adadelta_foreach(params, grads, states, *, lr, rho, eps, weight_decay, maximize):
    """The same update on lists of tensors, one torch._foreach_* call per line."""
    for state in states:
        state["step"] += 1
    v = [state["square_avg"] for state in states]
    u = [state["acc_delta"] for state in states]
    if maximize:
        grads = torch._foreach_neg(grads)               # a copy: p.grad is untouched
    if weight_decay != 0:
        if maximize:
            torch._foreach_add_(grads, params, alpha=weight_decay)   # already a copy
        else:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
    torch._foreach_mul_(v, rho)
    torch._foreach_addcmul_(v, grads, grads, value=1 - rho)
    rms_g = torch._foreach_add(v, eps)
    torch._foreach_sqrt_(rms_g)
    delta = torch._foreach_add(u, eps)
    torch._foreach_sqrt_(delta)
    torch._foreach_div_(delta, rms_g)
    torch._foreach_mul_(delta, grads)
    torch._foreach_mul_(u, rho)
    torch._foreach_addcmul_(u, delta, delta, value=1 - rho)
    torch._foreach_add_(params, delta, alpha=-lr)


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
_LATER_KEYS = dict(foreach=None, maximize=False, differentiable=False, capturable=False)


def _gather(state_of, group):
    """Parameters with a gradient, their gradients and their (lazily created) state."""
    params, grads, states = [], [], []
    for p in group["params"]:
        if p.grad is None:
            continue                                    # frozen or unused: skip
        if p.grad.is_sparse:
            raise RuntimeError("Adadelta does not support sparse gradients")
        if p.is_complex():
            raise TypeError("Adadelta here supports real parameters only; "
                            "use torch.optim.Adadelta")
        state = state_of[p]
        if not state:
            state["step"] = 0
            state["square_avg"] = torch.zeros_like(
                p, memory_format=torch.preserve_format)
            state["acc_delta"] = torch.zeros_like(
                p, memory_format=torch.preserve_format)
        elif torch.is_tensor(state["step"]):
            state["step"] = int(state["step"].item())  # state loaded from torch.optim
        params.append(p)
        grads.append(p.grad)
        states.append(state)
    return params, grads, states


def _check_lr(lr):
    """A one-element tensor lr works on both paths, as in torch.optim.Adadelta."""
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
    optimizer = Adadelta(model.parameters())
    for _ in range(500):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
    print(f"final loss {loss.item():.4f}")
