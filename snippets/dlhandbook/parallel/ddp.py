r"""Data parallelism: K workers, each with a shard of the batch, average gradients.

With a mean loss and K equal shards of size $B/K$, the all-reduced average of the
workers' gradients is exactly the gradient of the whole batch,

$$\frac1K\sum_{k=1}^K
\underbrace{\frac{K}{B}\sum_{i\in\mathcal S_k}\nabla\ell_i(\theta)}_{g_k}
= \frac1B\sum_{i=1}^B \nabla\ell_i(\theta),$$

so every replica takes the same step as one process training on the concatenated batch.
``DistributedDataParallel`` does the averaging during ``backward()`` (bucketed
all-reduce, overlapped with the backward pass) and broadcasts rank 0's parameters at
start-up.

Reference: Li et al. (2020), *PyTorch Distributed: Experiences on Accelerating Data
Parallel Training*; Goyal et al. (2017), *Accurate, Large Minibatch SGD: Training
ImageNet in 1 Hour*.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import copy
import datetime
import os
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def data_parallel_step(theta, X, y, grad_fn, lr, world_size):
    """One SGD step on the batch (X, y), simulated across world_size workers.

    grad_fn(theta, X_shard, y_shard) is the mean gradient over a shard. The batch is
    split into equal contiguous shards, so the result equals a single-process step.
    """
    _check_step(X, y, lr, world_size)
    shards = zip(np.split(X, world_size), np.split(y, world_size), strict=True)
    local_grads = [grad_fn(theta, Xk, yk) for Xk, yk in shards]  # one per worker
    return theta - lr * allreduce_mean(local_grads)  # identical on every worker


def allreduce_mean(local_grads):
    """What an all-reduce (op=SUM) divided by K computes: the mean of K arrays."""
    local_grads = [np.asarray(g, dtype=np.float64) for g in local_grads]
    if not local_grads or any(g.shape != local_grads[0].shape for g in local_grads):
        raise ValueError("local_grads must be a non-empty list of arrays of one shape")
    return np.sum(local_grads, axis=0) / len(local_grads)
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_step(X, y, lr, world_size):
    if not (isinstance(world_size, int) and world_size >= 1):
        raise ValueError(f"world_size must be a positive int, got {world_size!r}")
    if len(X) != len(y) or len(X) % world_size != 0:
        raise ValueError(
            f"X and y need the same length, divisible by world_size={world_size}"
        )
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
# --8<-- [end:checks_numpy]


# --8<-- [start:torch]
def train_ddp(model, X, y, lr, n_steps, world_size=2):
    """Full-batch SGD on (X, y) split over world_size CPU processes.

    Each process holds a replica of model and 1/world_size of the batch. Returns the
    final state_dict of every replica, rank 0 first; they are identical.
    """
    _check_ddp(model, X, y, lr, world_size)
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "store")  # a FileStore: no TCP port to race for
        args = (world_size, store, model, X, y, lr, n_steps, tmp)
        mp.spawn(_worker, args=args, nprocs=world_size, join=True)  # raises on failure
        return [torch.load(os.path.join(tmp, f"rank{r}.pt")) for r in range(world_size)]


def _worker(rank, world_size, store, model, X, y, lr, n_steps, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",  # gloo: CPU tensors; nccl on GPUs
        init_method="file://" + store,
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=120),  # a lost peer fails, never hangs
    )
    try:
        # spawn shares tensors via shared memory: copy, or replicas share one storage
        replica = DistributedDataParallel(copy.deepcopy(model))  # broadcasts rank 0's
        optimizer = torch.optim.SGD(replica.parameters(), lr=lr)
        X_local = X.chunk(world_size)[rank]  # (B / K, d): this worker's shard
        y_local = y.chunk(world_size)[rank]
        for _ in range(n_steps):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(replica(X_local), y_local)  # local mean
            loss.backward()  # all-reduce: gradients averaged over the K workers
            optimizer.step()  # the same step on every replica
        torch.save(replica.module.state_dict(), os.path.join(out_dir, f"rank{rank}.pt"))
        del replica, optimizer  # release DDP's reducer before the group goes
        dist.barrier()  # no rank tears down while a peer may still talk to it
    finally:
        dist.destroy_process_group()  # in every worker, on success and on error
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_ddp(model, X, y, lr, world_size):
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module")
    if not (isinstance(world_size, int) and world_size >= 1):
        raise ValueError(f"world_size must be a positive int, got {world_size!r}")
    if len(X) != len(y) or len(X) % world_size != 0:
        raise ValueError(
            f"X and y need the same length, divisible by world_size={world_size}"
        )
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    torch.manual_seed(0)
    X = torch.randn(64, 3, dtype=torch.float64)
    y = torch.randn(64, 1, dtype=torch.float64)
    model = torch.nn.Linear(3, 1, dtype=torch.float64)
    states = train_ddp(model, X, y, lr=0.1, n_steps=20)
    print(states[0], all(torch.equal(s["weight"], states[0]["weight"]) for s in states))
