r"""AdamW (Adam with decoupled weight decay) as a drop-in ``torch.optim.Optimizer``.

$$\theta \leftarrow (1 - \eta\lambda)\,\theta_{t-1}, \qquad
m_t = \beta_1 m_{t-1} + (1-\beta_1)\,g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2$$

$$\hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
\theta_t = \theta - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}$$

The decay acts on $\theta$ directly instead of entering $g_t$, so it is not divided by
$\sqrt{\hat v_t}$: every weight shrinks by the same factor, however large its gradients.
As in ``torch.optim.AdamW`` the factor is $1 - \eta\lambda$ (the paper's schedule multiplier
folded into $\eta$). Same keyword names, defaults, state keys and update order as
``torch.optim.AdamW``; the tests check both follow the same trajectory in float64.

Reference: Loshchilov & Hutter (2019), *Decoupled Weight Decay Regularization*.
"""

import math
import numbers

import torch


# --8<-- [start:torch]
class AdamW(torch.optim.Optimizer):
    r"""AdamW: Adam whose weight decay shrinks the weights directly (Loshchilov & Hutter, 2019).

    $$\theta \leftarrow (1-\eta\lambda)\,\theta, \quad m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,
    \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
    \theta_t = \theta - \eta\,\hat m_t / (\sqrt{\hat v_t} + \epsilon)$$

    with $\hat m_t = m_t / (1-\beta_1^t)$, $\hat v_t = v_t / (1-\beta_2^t)$ and
    $g_t = \nabla f(\theta_{t-1})$ (no penalty term in the gradient).

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate $\eta \ge 0$.
        betas: $(\beta_1, \beta_2)$, each in $[0, 1)$: decay rates of $m$ and $v$.
        eps: $\epsilon \ge 0$, added to $\sqrt{\hat v_t}$ for numerical stability.
        weight_decay: $\lambda \ge 0$ (default 0.01): each step multiplies $\theta$ by
            $1 - \eta\lambda$.
        amsgrad: divide by the running maximum of $v$ (Reddi et al., 2018).
        maximize: ascend the objective instead of descending it.
        foreach: ``True`` runs the multi-tensor path (``torch._foreach_*``), ``False`` the
            per-tensor loop; ``None`` picks foreach when every parameter is on CUDA or the group
            holds at least 16 tensors (there, per-tensor Python overhead dominates).

    Sparse gradients and complex parameters are rejected; ``fused`` and ``capturable`` are
    not offered (use ``torch.optim.AdamW`` for those).

    State per parameter, under ``torch.optim.AdamW``'s keys so that state dicts load
    either way: ``step`` ($t$), ``exp_avg`` ($m$), ``exp_avg_sq`` ($v$) and, with AMSGrad,
    ``max_exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None):
        _check_real("lr", lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        _check_real("betas[0]", betas[0], high=1.0)
        _check_real("betas[1]", betas[1], high=1.0)
        _check_real("eps", eps)
        _check_real("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, states = self._gather(group)
            if not params:
                continue
            beta1, beta2 = group["betas"]
            options = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                           weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                           maximize=group["maximize"])
            if _use_foreach(group["foreach"], params):
                for bucket in _split_by_device_and_dtype(params, grads, states):
                    _adamw_foreach(*bucket, **options)
            else:
                _adamw_loop(params, grads, states, **options)
        return loss

    def _gather(self, group):
        """Parameters with a gradient, their gradients and their (lazily created) state."""
        params, grads, states = [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue                                    # frozen or unused: skip, like torch
            if p.grad.is_sparse:
                raise RuntimeError("AdamW does not support sparse gradients")
            if p.is_complex():
                raise TypeError("AdamW here supports real parameters only; use torch.optim.AdamW")
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            elif torch.is_tensor(state["step"]):
                state["step"] = int(state["step"].item())  # state loaded from torch.optim.AdamW
            if group["amsgrad"] and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            states.append(state)
        return params, grads, states


# --8<-- [start:step]
def _adamw_loop(params, grads, states, *, lr, beta1, beta2, eps, weight_decay, amsgrad,
                maximize):
    """The readable update, one parameter tensor at a time."""
    for p, g, state in zip(params, grads, states, strict=True):
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if maximize:
            g = -g
        if weight_decay != 0:
            p.mul_(1 - lr * weight_decay)                   # decoupled: shrink theta directly
        m.lerp_(g, 1 - beta1)                               # m = beta1 m + (1 - beta1) g
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)       # v = beta2 v + (1 - beta2) g^2
        if amsgrad:
            v_max = state["max_exp_avg_sq"]
            torch.maximum(v_max, v, out=v_max)              # the denominator never shrinks
            v = v_max
        m_hat = m / (1 - beta1**t)                          # undo the bias towards m_0 = 0
        v_hat = v / (1 - beta2**t)
        p.addcdiv_(m_hat, v_hat.sqrt_().add_(eps), value=-lr)
# --8<-- [end:step]


def _adamw_foreach(params, grads, states, *, lr, beta1, beta2, eps, weight_decay, amsgrad,
                   maximize):
    """The same update on lists of tensors, one ``torch._foreach_*`` call per line."""
    for state in states:
        state["step"] += 1
    m = [state["exp_avg"] for state in states]
    v = [state["exp_avg_sq"] for state in states]
    if maximize:
        grads = torch._foreach_neg(grads)                   # a copy: p.grad is never modified
    if weight_decay != 0:
        torch._foreach_mul_(params, 1 - lr * weight_decay)
    torch._foreach_lerp_(m, grads, 1 - beta1)
    torch._foreach_mul_(v, beta2)
    torch._foreach_addcmul_(v, grads, grads, value=1 - beta2)
    if amsgrad:
        v_max = [state["max_exp_avg_sq"] for state in states]
        torch._foreach_maximum_(v_max, v)
        v = v_max
    # eta m_hat / (sqrt(v_hat) + eps) = (eta sqrt(b2) / b1) m / (sqrt(v) + eps sqrt(b2)) with
    # b1 = 1 - beta1^t, b2 = 1 - beta2^t: the same update with one pass fewer over the tensors.
    b1 = [1 - beta1 ** state["step"] for state in states]
    b2_sqrt = [math.sqrt(1 - beta2 ** state["step"]) for state in states]
    denom = torch._foreach_sqrt(v)
    torch._foreach_add_(denom, [eps * s for s in b2_sqrt])
    step_sizes = [-lr * s / b for s, b in zip(b2_sqrt, b1, strict=True)]
    torch._foreach_addcdiv_(params, m, denom, step_sizes)


def _use_foreach(foreach, params):
    """Resolve ``foreach=None``: multi-tensor on CUDA, or when there are many tensors."""
    if foreach is not None:
        return bool(foreach)
    return all(p.is_cuda for p in params) or len(params) >= 16


def _split_by_device_and_dtype(params, grads, states):
    """Buckets of (params, grads, states) sharing a device and dtype, as foreach kernels need."""
    buckets = {}
    for p, g, state in zip(params, grads, states, strict=True):
        bucket = buckets.setdefault((p.device, p.dtype), ([], [], []))
        bucket[0].append(p)
        bucket[1].append(g)
        bucket[2].append(state)
    return list(buckets.values())


def _check_real(name, value, low=0.0, high=None):
    """TypeError unless ``value`` is a real number; ValueError unless low <= value (< high)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not value >= low or (high is not None and not value < high):
        rule = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"{name} must be {rule}, got {value}")
# --8<-- [end:torch]


if __name__ == "__main__":
    torch.manual_seed(0)
    model = torch.nn.Linear(10, 1)
    X, y = torch.randn(256, 10), torch.randn(256, 1)
    optimizer = AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    for _ in range(200):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
    print(f"final loss {loss.item():.4f}")
