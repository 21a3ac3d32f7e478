r"""Adam as a drop-in ``torch.optim.Optimizer``: a readable loop, multi-tensor, fused.

$$m_t = \beta_1 m_{t-1} + (1-\beta_1)\,g_t, \qquad
v_t = \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2$$

$$\hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
\theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}$$

with $g_t = \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}$ (L2, the default) or, with
``decoupled_weight_decay=True``, $g_t = \nabla f(\theta_{t-1})$ and $\theta$ shrunk by
$1 - \eta\lambda$ first (AdamW). Same keyword names, defaults, state keys and order of
operations as ``torch.optim.Adam``: the code computes $\sqrt{v_t}/\sqrt{1-\beta_2^t}$,
never $\hat v_t$ itself, which overflows float16 once $|g| \gtrsim 256$. The tests check
both paths against torch's in float64, float32, float16 and bfloat16. ``fused=True``
runs torch's single-pass kernel through its public functional API,
``torch.optim.adam.adam(..., fused=True)``: each tensor is read and written once a step.

Reference: Kingma & Ba (2015), *Adam: A Method for Stochastic Optimization*, ICLR.
"""

# --8<-- [start:imports]
import numbers

import torch
from torch.optim.adam import adam as torch_adam  # torch's functional Adam (public)

# --8<-- [end:imports]


# --8<-- [start:torch]
# --8<-- [start:step]
def _adam_loop(params, grads, states, *, lr, beta1, beta2, eps, weight_decay,
               amsgrad, maximize, decoupled_weight_decay):
    """The readable update, one parameter tensor at a time."""
    for p, g, state in zip(params, grads, states, strict=True):
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if maximize:
            g = -g
        if weight_decay != 0:
            if decoupled_weight_decay:
                p.mul_(1 - lr * weight_decay)       # AdamW: shrink theta
            else:
                g = g.add(p, alpha=weight_decay)    # L2: enters m and v
        m.lerp_(g, 1 - beta1)                       # m = beta1 m + (1 - beta1) g
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v = beta2 v + (1 - beta2) g^2
        if amsgrad:
            v_max = state["max_exp_avg_sq"]
            torch.maximum(v_max, v, out=v_max)      # the denominator never shrinks
            v = v_max
        bias1, bias2 = 1 - beta1**t, 1 - beta2**t   # undo the zero start of m, v
        # sqrt(v_hat) as sqrt(v) / sqrt(bias2): v / bias2 can overflow in float16
        denom = (v.sqrt() / bias2**0.5).add_(eps)
        p.addcdiv_(m, denom, value=-lr / bias1)     # theta -= lr m_hat / denom
# --8<-- [end:step]


class Adam(torch.optim.Optimizer):
    """Adam (Kingma & Ba, 2015): arguments, defaults and state as in torch.optim.Adam.

    foreach=None runs the multi-tensor path on CUDA or for 16 tensors or more;
    fused=True runs torch's fused kernel (floating-point tensors on CPU or CUDA).
    Not offered (a clear error): capturable, differentiable, sparse gradients,
    complex parameters, a tensor lr with foreach (torch rejects that too).
    State per parameter: step, exp_avg (m), exp_avg_sq (v), max_exp_avg_sq (AMSGrad).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_args(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                    foreach=foreach)
        _reject_unoffered(capturable=capturable, differentiable=differentiable)
        _check_fused(fused, foreach)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay, fused=fused)
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
            fused = bool(group["fused"])
            foreach = not fused and _use_foreach(group["foreach"], params, group["lr"])
            beta1, beta2 = group["betas"]
            options = dict(lr=_check_lr(group["lr"], foreach), beta1=beta1,
                           beta2=beta2, eps=group["eps"],
                           weight_decay=group["weight_decay"],
                           amsgrad=group["amsgrad"], maximize=group["maximize"],
                           decoupled_weight_decay=group["decoupled_weight_decay"])
            if fused:
                _adam_fused(params, grads, states, **options,
                            grad_scale=getattr(self, "grad_scale", None),
                            found_inf=getattr(self, "found_inf", None))
            elif foreach:
                for bucket in _split_by_device_and_dtype(params, grads, states):
                    _adam_foreach(*bucket, **options)
            else:
                _adam_loop(params, grads, states, **options)
        return loss

    def __setstate__(self, state):
        """Add the group keys that checkpoints of older torch lack, as torch does."""
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in _LATER_KEYS.items():
                group.setdefault(key, value)
# --8<-- [end:torch]


# --8<-- [start:foreach]
def _adam_foreach(params, grads, states, *, lr, beta1, beta2, eps, weight_decay,
                  amsgrad, maximize, decoupled_weight_decay):
    """The same update on lists of tensors, one torch._foreach_* call per line."""
    for state in states:
        state["step"] += 1
    m = [state["exp_avg"] for state in states]
    v = [state["exp_avg_sq"] for state in states]
    if maximize:
        grads = torch._foreach_neg(grads)               # a copy: p.grad is untouched
    if weight_decay != 0:
        if decoupled_weight_decay:
            torch._foreach_mul_(params, 1 - lr * weight_decay)
        elif maximize:
            torch._foreach_add_(grads, params, alpha=weight_decay)   # already a copy
        else:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
    torch._foreach_lerp_(m, grads, 1 - beta1)
    torch._foreach_mul_(v, beta2)
    torch._foreach_addcmul_(v, grads, grads, value=1 - beta2)
    if amsgrad:
        v_max = [state["max_exp_avg_sq"] for state in states]
        torch._foreach_maximum_(v_max, v)
        v = v_max
    # lr m_hat / (sqrt(v_hat) + eps) = (lr s / b1) m / (sqrt(v) + eps s), with
    # b1 = 1 - beta1^t and s = sqrt(1 - beta2^t): one pass fewer over the tensors.
    b1 = [1 - beta1 ** state["step"] for state in states]
    s = [(1 - beta2 ** state["step"]) ** 0.5 for state in states]
    denom = torch._foreach_sqrt(v)
    torch._foreach_add_(denom, [eps * s_i for s_i in s])
    step_sizes = [-lr * s_i / b1_i for s_i, b1_i in zip(s, b1, strict=True)]
    torch._foreach_addcdiv_(params, m, denom, step_sizes)


def _adam_fused(params, grads, states, *, lr, beta1, beta2, eps, weight_decay,
                amsgrad, maximize, decoupled_weight_decay, grad_scale, found_inf):
    """The same update in one pass: torch's fused kernel, per device and dtype."""
    torch_adam(params, grads,
               [state["exp_avg"] for state in states],
               [state["exp_avg_sq"] for state in states],
               [state["max_exp_avg_sq"] for state in states] if amsgrad else [],
               [state["step"] for state in states],  # float32 tensors, += 1 inside
               fused=True, grad_scale=grad_scale, found_inf=found_inf,
               amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=lr,
               weight_decay=weight_decay, eps=eps, maximize=maximize,
               decoupled_weight_decay=decoupled_weight_decay)


def _use_foreach(foreach, params, lr=None):
    """Resolve foreach=None: multi-tensor on CUDA, or when there are many tensors."""
    if foreach is not None:
        return bool(foreach)
    if torch.is_tensor(lr):
        return False                        # as torch: a tensor lr stays on the loop
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
_LATER_KEYS = dict(amsgrad=False, maximize=False, foreach=None, capturable=False,
                   differentiable=False, fused=None, decoupled_weight_decay=False)


def _gather(state_of, group):
    """Parameters with a gradient, their gradients and their (lazily created) state."""
    params, grads, states = [], [], []
    for p in group["params"]:
        if p.grad is None:
            continue                                    # frozen or unused: skip
        if p.grad.is_sparse:
            raise RuntimeError("Adam does not support sparse gradients")
        if p.is_complex():
            raise TypeError("Adam here supports real parameters only; "
                            "use torch.optim.Adam")
        state = state_of[p]
        if not state:
            if group["fused"]:
                _check_fused_param(p)                   # on its first step, as torch
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p,
                                                   memory_format=torch.preserve_format)
        # An int on our loops, a tensor on the fused path: convert one the other path
        # left (a checkpoint, or fused switched on or off).
        if torch.is_tensor(state["step"]) != bool(group["fused"]):
            state["step"] = _step_as(state["step"], p, group["fused"])
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = torch.zeros_like(
                p, memory_format=torch.preserve_format)
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


def _check_lr(lr, foreach):
    """A one-element tensor lr works on the loop path; foreach rejects it, as torch."""
    if not torch.is_tensor(lr):
        return lr
    if lr.numel() != 1:
        raise ValueError(f"a tensor lr must have one element, got {tuple(lr.shape)}")
    if foreach:
        raise RuntimeError("lr as a Tensor is not supported with foreach=True (as in "
                           "torch.optim.Adam without capturable); use foreach=False or "
                           "a float lr")
    return lr.squeeze()


def _check_args(*, lr, betas, eps, weight_decay, foreach):
    """Clear errors, naming the argument, for values torch.optim.Adam rejects."""
    _check_real("lr", float(_check_lr(lr, foreach)) if torch.is_tensor(lr) else lr)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    _check_real("betas[0]", betas[0], high=1.0)
    _check_real("betas[1]", betas[1], high=1.0)
    _check_real("eps", eps)
    _check_real("weight_decay", weight_decay)


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
    optimizer = Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
    print(f"final loss {loss.item():.4f}")
