r"""SGD with momentum, dampening and Nesterov as a drop-in ``torch.optim.Optimizer``.

$$g_t = \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}, \qquad
b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \quad (b_1 = g_1)$$

$$\theta_t = \theta_{t-1} - \eta\, b_t \qquad\text{or, with Nesterov,}\qquad
\theta_t = \theta_{t-1} - \eta\,(g_t + \mu\, b_t)$$

Same keyword names, defaults, state keys and update order as ``torch.optim.SGD`` (whose
momentum buffer starts at the first gradient and whose learning rate multiplies the
buffer, not the gradient alone); the tests check both paths against torch's in float64,
float32, float16 and bfloat16. ``fused=True`` runs torch's single-pass kernel through
its public functional API, ``torch.optim.sgd.sgd(..., fused=True)``.

Reference: Sutskever, Martens, Dahl & Hinton (2013), *On the importance of
initialization and momentum in deep learning*, ICML.
"""

# --8<-- [start:imports]
import numbers

import torch
from torch.optim.sgd import sgd as torch_sgd  # torch's functional SGD (public)

# --8<-- [end:imports]


# --8<-- [start:torch]
# --8<-- [start:step]
def _sgd_loop(params, grads, states, *, lr, momentum, dampening, weight_decay, nesterov,
              maximize):
    """The readable update, one parameter tensor at a time."""
    for p, g, state in zip(params, grads, states, strict=True):
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)        # L2 penalty lambda * theta
        if momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.clone()  # b_1 = g_1
            else:
                b.mul_(momentum).add_(g, alpha=1 - dampening)  # mu b + (1 - tau) g
            g = g.add(b, alpha=momentum) if nesterov else b  # look ahead, or b
        p.add_(g, alpha=-lr)                        # theta -= eta * step
# --8<-- [end:step]


class SGD(torch.optim.Optimizer):
    """SGD with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD.

    foreach=None runs the multi-tensor path on CUDA or for 16 tensors or more;
    fused=True runs torch's fused kernel (floating-point tensors on CPU or CUDA).
    Not offered (a clear error): differentiable, sparse gradients (which
    torch.optim.SGD accepts). State per parameter: momentum_buffer (b), when
    momentum > 0.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        _check_args(lr=lr, momentum=momentum, dampening=dampening,
                    weight_decay=weight_decay, nesterov=nesterov)
        _reject_unoffered(differentiable=differentiable)
        _check_fused(fused, foreach)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, fused=fused)
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
            options = dict(lr=_check_lr(group["lr"]), momentum=group["momentum"],
                           dampening=group["dampening"],
                           weight_decay=group["weight_decay"],
                           nesterov=group["nesterov"], maximize=group["maximize"])
            if group["fused"]:
                _sgd_fused(params, grads, states, **options,
                           grad_scale=getattr(self, "grad_scale", None),
                           found_inf=getattr(self, "found_inf", None))
            elif _use_foreach(group["foreach"], params):
                for bucket in _split_by_device_and_dtype(params, grads, states):
                    _sgd_foreach(*bucket, **options)
            else:
                _sgd_loop(params, grads, states, **options)
        return loss

    def __setstate__(self, state):
        """Add the group keys that checkpoints of older torch lack, as torch does."""
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in _LATER_KEYS.items():
                group.setdefault(key, value)
# --8<-- [end:torch]


# --8<-- [start:foreach]
def _sgd_foreach(params, grads, states, *, lr, momentum, dampening, weight_decay,
                 nesterov, maximize):
    """The same update on lists of tensors, one torch._foreach_* call per line."""
    if maximize:
        grads = torch._foreach_neg(grads)               # a copy: p.grad is untouched
    if weight_decay != 0:
        if maximize:
            torch._foreach_add_(grads, params, alpha=weight_decay)   # already a copy
        else:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
    if momentum != 0:
        if all(state.get("momentum_buffer") is not None for state in states):
            b = [state["momentum_buffer"] for state in states]
            torch._foreach_mul_(b, momentum)
            torch._foreach_add_(b, grads, alpha=1 - dampening)
        else:                                               # first step of some tensors
            b = []
            for g, state in zip(grads, states, strict=True):
                if state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = g.clone()
                else:
                    state["momentum_buffer"].mul_(momentum).add_(g, alpha=1 - dampening)
                b.append(state["momentum_buffer"])
        grads = torch._foreach_add(grads, b, alpha=momentum) if nesterov else b
    torch._foreach_add_(params, grads, alpha=-lr)


def _sgd_fused(params, grads, states, *, lr, momentum, dampening, weight_decay,
               nesterov, maximize, grad_scale, found_inf):
    """The same update in one pass: torch's fused kernel, per device and dtype."""
    options = dict(fused=True, grad_scale=grad_scale, found_inf=found_inf, lr=lr,
                   momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                   nesterov=nesterov, maximize=maximize)
    if momentum == 0:
        _check_fused_params(params)
        torch_sgd(params, grads, [], **options)
        return
    # The kernel starts every buffer (b_1 = g_1) or none: call it once for the tensors
    # that have a buffer and once for those on their first step.
    for first in (False, True):
        idx = [i for i, state in enumerate(states)
               if (state.get("momentum_buffer") is None) == first]
        if not idx:
            continue
        if first:
            _check_fused_params([params[i] for i in idx])   # first step, as torch
        buffers = [states[i].get("momentum_buffer") for i in idx]
        torch_sgd([params[i] for i in idx], [grads[i] for i in idx], buffers, **options)
        for i, b in zip(idx, buffers, strict=True):
            states[i]["momentum_buffer"] = b            # created by the kernel if new


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
_LATER_KEYS = dict(nesterov=False, maximize=False, foreach=None, differentiable=False,
                   fused=False)


def _gather(state_of, group):
    """Parameters with a gradient, their gradients and their state dicts."""
    params, grads, states = [], [], []
    for p in group["params"]:
        if p.grad is None:
            continue                                    # frozen or unused: skip
        if p.grad.is_sparse:
            raise RuntimeError("SGD here does not support sparse gradients; "
                               "use torch.optim.SGD or torch.optim.SparseAdam")
        params.append(p)
        grads.append(p.grad)
        states.append(state_of[p])                      # momentum_buffer: on step 1
    return params, grads, states


def _check_fused(fused, foreach):
    """fused is None, True or False, and never together with foreach=True (as torch)."""
    if fused not in (None, True, False):
        raise TypeError(f"fused must be None, True or False, got {fused!r}")
    if fused and foreach:
        raise RuntimeError("fused=True and foreach=True cannot be set together")


# Device types with fused optimizer kernels in torch 2.13 (CPU and the accelerators).
_FUSED_DEVICES = ("cpu", "cuda", "mps", "xpu", "hpu", "mtia")


def _check_fused_params(params):
    """fused=True needs floating-point tensors on a fused device (torch's rule)."""
    for p in params:
        if not p.is_floating_point() or p.device.type not in _FUSED_DEVICES:
            raise RuntimeError("fused=True needs floating-point parameters on one of "
                               f"{', '.join(_FUSED_DEVICES)}; got {p.dtype} on "
                               f"{p.device.type}")


def _check_lr(lr):
    """A one-element tensor lr works on both paths, as in torch.optim.SGD."""
    if torch.is_tensor(lr) and lr.numel() != 1:
        raise ValueError(f"a tensor lr must have one element, got {tuple(lr.shape)}")
    return lr.squeeze() if torch.is_tensor(lr) else lr


def _check_args(*, lr, momentum, dampening, weight_decay, nesterov):
    """Clear errors, naming the argument, for values torch.optim.SGD rejects."""
    _check_real("lr", float(_check_lr(lr)) if torch.is_tensor(lr) else lr)
    _check_real("momentum", momentum)
    _check_real("dampening", dampening, low=-float("inf"))
    _check_real("weight_decay", weight_decay)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov=True needs momentum > 0 and dampening == 0, "
                         f"got momentum={momentum}, dampening={dampening}")


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
    optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    for _ in range(200):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
    print(f"final loss {loss.item():.4f}")
