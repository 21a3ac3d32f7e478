r"""SGD with momentum, dampening and Nesterov as a drop-in ``torch.optim.Optimizer``.

$$g_t = \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}, \qquad
b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \quad (b_1 = g_1)$$

$$\theta_t = \theta_{t-1} - \eta\, b_t \qquad\text{or, with Nesterov,}\qquad
\theta_t = \theta_{t-1} - \eta\,(g_t + \mu\, b_t)$$

Same keyword names, defaults, state keys and update order as ``torch.optim.SGD`` (whose
momentum buffer starts at the first gradient and whose learning rate multiplies the buffer,
not the gradient alone); the tests check both follow the same trajectory in float64.

Reference: Sutskever, Martens, Dahl & Hinton (2013), *On the importance of initialization and
momentum in deep learning*.
"""

import numbers

import torch


# --8<-- [start:torch]
class SGD(torch.optim.Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum and weight decay.

    $$b_t = \mu\, b_{t-1} + (1-\tau)\, g_t, \quad b_1 = g_1, \quad
    \theta_t = \theta_{t-1} - \eta\, b_t \;\text{ (Nesterov: } \eta\,(g_t + \mu b_t))$$

    with $g_t = \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}$; $b$ is the momentum buffer.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate $\eta \ge 0$.
        momentum: $\mu \ge 0$; 0 is plain SGD and keeps no state.
        dampening: $\tau$, scales down the new gradient's share of the buffer.
        weight_decay: $\lambda \ge 0$, an L2 penalty added to the gradient.
        nesterov: Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: ascend the objective instead of descending it.
        foreach: ``True`` runs the multi-tensor path (``torch._foreach_*``), ``False`` the
            per-tensor loop; ``None`` picks foreach when every parameter is on CUDA or the group
            holds at least 16 tensors (there, per-tensor Python overhead dominates).

    Sparse gradients are rejected (``torch.optim.SGD`` accepts them); ``fused`` is not offered.

    State per parameter, under ``torch.optim.SGD``'s keys so that state dicts load
    either way: ``momentum_buffer`` ($b$, only when ``momentum > 0``).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None):
        _check_real("lr", lr)
        _check_real("momentum", momentum)
        _check_real("dampening", dampening, low=-float("inf"))
        _check_real("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening == 0, "
                             f"got momentum={momentum}, dampening={dampening}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach)
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
            options = dict(lr=group["lr"], momentum=group["momentum"],
                           dampening=group["dampening"], weight_decay=group["weight_decay"],
                           nesterov=group["nesterov"], maximize=group["maximize"])
            if _use_foreach(group["foreach"], params):
                for bucket in _split_by_device_and_dtype(params, grads, states):
                    _sgd_foreach(*bucket, **options)
            else:
                _sgd_loop(params, grads, states, **options)
        return loss

    def _gather(self, group):
        """Parameters with a gradient, their gradients and their state dicts."""
        params, grads, states = [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue                                    # frozen or unused: skip, like torch
            if p.grad.is_sparse:
                raise RuntimeError("SGD here does not support sparse gradients; "
                                   "use torch.optim.SGD or torch.optim.SparseAdam")
            params.append(p)
            grads.append(p.grad)
            states.append(self.state[p])                  # momentum_buffer appears on step 1
        return params, grads, states


# --8<-- [start:step]
def _sgd_loop(params, grads, states, *, lr, momentum, dampening, weight_decay, nesterov,
              maximize):
    """The readable update, one parameter tensor at a time."""
    for p, g, state in zip(params, grads, states, strict=True):
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)                # L2 penalty lambda * theta
        if momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.clone()    # b_1 = g_1
            else:
                b.mul_(momentum).add_(g, alpha=1 - dampening)   # b = mu b + (1 - tau) g
            g = g.add(b, alpha=momentum) if nesterov else b     # look ahead, or follow b
        p.add_(g, alpha=-lr)                                # theta = theta - eta * step
# --8<-- [end:step]


def _sgd_foreach(params, grads, states, *, lr, momentum, dampening, weight_decay, nesterov,
                 maximize):
    """The same update on lists of tensors, one ``torch._foreach_*`` call per line."""
    if maximize:
        grads = torch._foreach_neg(grads)                   # a copy: p.grad is never modified
    if weight_decay != 0:
        if maximize:
            torch._foreach_add_(grads, params, alpha=weight_decay)   # grads is already a copy
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
    optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    for _ in range(200):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
    print(f"final loss {loss.item():.4f}")
