r"""RMSprop (plain, centred, with momentum) as a drop-in ``torch.optim.Optimizer``.

$$v_t = \alpha\, v_{t-1} + (1-\alpha)\, g_t^2, \qquad
\theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon}$$

Centred: $m_t = \alpha\, m_{t-1} + (1-\alpha)\, g_t$ and the denominator is
$\sqrt{v_t - m_t^2} + \epsilon$ (an estimate of the gradient's standard deviation).
Momentum: $b_t = \mu\, b_{t-1} + g_t / (\sqrt{v_t} + \epsilon)$ and
$\theta_t = \theta_{t-1} - \eta\, b_t$.
No bias correction: $v_0 = 0$, so the first steps are larger than $\eta$.

Same keyword names, defaults, state keys and update order as ``torch.optim.RMSprop``;
the tests check both paths against torch's in float64, float32, float16 and bfloat16.

Reference: Tieleman & Hinton (2012), *Lecture 6.5, rmsprop: Divide the gradient by a
running average of its recent magnitude* (COURSERA: Neural Networks for Machine
Learning); centred form from Graves (2013), *Generating Sequences With Recurrent Neural
Networks*, arXiv:1308.0850.
"""

# --8<-- [start:imports]
import numbers

import torch

# --8<-- [end:imports]


# --8<-- [start:torch]
# --8<-- [start:step]
def _rmsprop_loop(params, grads, states, *, lr, alpha, eps, weight_decay, momentum,
                  centered, maximize):
    """The readable update, one parameter tensor at a time."""
    for p, g, state in zip(params, grads, states, strict=True):
        state["step"] += 1
        v = state["square_avg"]
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)        # L2 penalty lambda * theta
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)  # v = alpha v + (1-alpha) g^2
        if centered:
            m = state["grad_avg"]
            m.lerp_(g, 1 - alpha)                   # m = alpha m + (1-alpha) g
            denom = v.addcmul(m, m, value=-1).sqrt_().add_(eps)  # sqrt(v - m^2) + eps
        else:
            denom = v.sqrt().add_(eps)              # sqrt(v) + eps
        if momentum > 0:
            b = state["momentum_buffer"]
            b.mul_(momentum).addcdiv_(g, denom)     # b = mu b + g / denom
            p.add_(b, alpha=-lr)
        else:
            p.addcdiv_(g, denom, value=-lr)         # theta -= eta g / denom
# --8<-- [end:step]


class RMSprop(torch.optim.Optimizer):
    """RMSprop (plain, centred, momentum): arguments and state as torch.optim.RMSprop.

    foreach=None runs the multi-tensor path on CUDA or for 16 tensors or more.
    Not offered (a clear error): capturable, differentiable, sparse gradients, complex
    parameters. alpha must lie in [0, 1] (torch only checks alpha >= 0). State per
    parameter: step, square_avg (v), grad_avg (m, centred), momentum_buffer (b).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
                 momentum=0, centered=False, *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_real("lr", float(_check_lr(lr)) if torch.is_tensor(lr) else lr)
        _check_real("alpha", alpha)
        if alpha > 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        _check_real("eps", eps)
        _check_real("weight_decay", weight_decay)
        _check_real("momentum", momentum)
        _reject_unoffered(capturable=capturable, differentiable=differentiable)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, foreach=foreach,
                        maximize=maximize)
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
            options = dict(lr=_check_lr(group["lr"]), alpha=group["alpha"],
                           eps=group["eps"], weight_decay=group["weight_decay"],
                           momentum=group["momentum"],
                           centered=group["centered"], maximize=group["maximize"])
            if _use_foreach(group["foreach"], params):
                for bucket in _split_by_device_and_dtype(params, grads, states):
                    _rmsprop_foreach(*bucket, **options)
            else:
                _rmsprop_loop(params, grads, states, **options)
        return loss

    def __setstate__(self, state):
        """Add the group keys that checkpoints of older torch lack, as torch does."""
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in _LATER_KEYS.items():
                group.setdefault(key, value)
# --8<-- [end:torch]


# --8<-- [start:foreach]
def _rmsprop_foreach(params, grads, states, *, lr, alpha, eps, weight_decay, momentum,
                     centered, maximize):
    """The same update on lists of tensors, one torch._foreach_* call per line."""
    for state in states:
        state["step"] += 1
    v = [state["square_avg"] for state in states]
    if maximize:
        grads = torch._foreach_neg(grads)               # a copy: p.grad is untouched
    if weight_decay != 0:
        if maximize:
            torch._foreach_add_(grads, params, alpha=weight_decay)   # already a copy
        else:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
    torch._foreach_mul_(v, alpha)
    torch._foreach_addcmul_(v, grads, grads, value=1 - alpha)
    if centered:
        m = [state["grad_avg"] for state in states]
        torch._foreach_lerp_(m, grads, 1 - alpha)
        denom = torch._foreach_addcmul(v, m, m, value=-1)
        torch._foreach_sqrt_(denom)
    else:
        denom = torch._foreach_sqrt(v)
    torch._foreach_add_(denom, eps)
    if momentum > 0:
        b = [state["momentum_buffer"] for state in states]
        torch._foreach_mul_(b, momentum)
        torch._foreach_addcdiv_(b, grads, denom)
        torch._foreach_add_(params, b, alpha=-lr)
    else:
        torch._foreach_addcdiv_(params, grads, denom, value=-lr)


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
_LATER_KEYS = dict(momentum=0, centered=False, foreach=None, maximize=False,
                   differentiable=False, capturable=False)


def _gather(state_of, group):
    """Parameters with a gradient, their gradients and their (lazily created) state."""
    params, grads, states = [], [], []
    for p in group["params"]:
        if p.grad is None:
            continue                                    # frozen or unused: skip
        if p.grad.is_sparse:
            raise RuntimeError("RMSprop does not support sparse gradients")
        if p.is_complex():
            raise TypeError("RMSprop here supports real parameters only; "
                            "use torch.optim.RMSprop")
        state = state_of[p]
        if not state:
            state["step"] = 0
            state["square_avg"] = torch.zeros_like(
                p, memory_format=torch.preserve_format)
        elif torch.is_tensor(state["step"]):
            state["step"] = int(state["step"].item())  # state loaded from torch.optim
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(
                p, memory_format=torch.preserve_format)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        params.append(p)
        grads.append(p.grad)
        states.append(state)
    return params, grads, states


def _check_lr(lr):
    """A one-element tensor lr works on both paths, as in torch.optim.RMSprop."""
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
    optimizer = RMSprop(model.parameters(), lr=1e-2, centered=True)
    for _ in range(200):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
    print(f"final loss {loss.item():.4f}")
