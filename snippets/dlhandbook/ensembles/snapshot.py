r"""Snapshot ensembles: one training run, a cyclic cosine learning rate, M snapshots.

With $T$ steps split into $M$ cycles of $C = T/M$ steps, step
$t = 1, \dots, T$ uses (Huang et al. 2017, after SGDR)
$$\eta(t) = \frac{\eta_0}{2}\left(\cos\frac{\pi \,\mathrm{mod}(t-1, C)}{C} + 1\right).$$
Each cycle starts at $\eta_0$, which kicks the weights out of the previous minimum, and
anneals to almost zero, where a snapshot is taken. Averaging the $M$ snapshots'
predictions gives an ensemble for the training cost of one model.

Reference: Huang, Li, Pleiss, Liu, Hopcroft & Weinberger (2017), *Snapshot ensembles:
Train 1, get M for free*, ICLR; Loshchilov & Hutter (2017), *SGDR*, ICLR.
"""

# --8<-- [start:imports]
import copy
import math

import torch

# --8<-- [end:imports]


# --8<-- [start:schedule]
def snapshot_lr(t, total_steps, n_cycles, lr_max):
    """Learning rate at step t (1-based) of a cyclic cosine schedule."""
    _check_schedule(total_steps, n_cycles, lr_max)
    cycle = total_steps // n_cycles                    # steps per cycle
    return lr_max / 2 * (math.cos(math.pi * ((t - 1) % cycle) / cycle) + 1)
# --8<-- [end:schedule]


# --8<-- [start:torch]
def fit_snapshots(model, loss_fn, X, y, total_steps, n_cycles, lr_max,
                  momentum=0.9):
    """Full-batch SGD with the cyclic schedule; returns one copy of the model
    taken at the end of each cycle (n_cycles snapshots)."""
    _check_schedule(total_steps, n_cycles, lr_max)
    cycle = total_steps // n_cycles
    opt = torch.optim.SGD(model.parameters(), lr=lr_max, momentum=momentum, fused=True)
    # LambdaLR multiplies lr_max by a factor; its counter k starts at 0, t = k + 1
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: snapshot_lr(k + 1, total_steps, n_cycles, 1.0))
    snapshots = []
    for step in range(1, total_steps + 1):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
        sched.step()
        if step % cycle == 0:                           # the end of a cycle
            snapshots.append(copy.deepcopy(model).eval())
    return snapshots
# --8<-- [end:torch]


# --8<-- [start:checks]
def _check_schedule(total_steps, n_cycles, lr_max):
    for name, value in (("total_steps", total_steps), ("n_cycles", n_cycles)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if total_steps % n_cycles:
        raise ValueError(f"total_steps ({total_steps}) must be a multiple of "
                         f"n_cycles ({n_cycles})")
    if not 0 < lr_max < float("inf"):
        raise ValueError(f"lr_max must be positive and finite, got {lr_max}")
# --8<-- [end:checks]


if __name__ == "__main__":
    print([round(snapshot_lr(t, 12, 3, 0.1), 4) for t in range(1, 13)])
