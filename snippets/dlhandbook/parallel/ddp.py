r"""Data parallelism: K workers, each with a shard of the batch, average their gradients.

With a mean loss and K equal shards of size $B/K$, the all-reduced average of the workers'
gradients is exactly the gradient of the whole batch,

$$\frac1K\sum_{k=1}^K \underbrace{\frac{K}{B}\sum_{i\in\mathcal S_k}\nabla\ell_i(\theta)}_{g_k}
= \frac1B\sum_{i=1}^B \nabla\ell_i(\theta),$$

so every replica takes the same step as one process training on the concatenated batch.
``DistributedDataParallel`` does the averaging during ``backward()`` (bucketed all-reduce,
overlapped with the backward pass) and broadcasts rank 0's parameters at start-up.

Reference: Li et al. (2020), *PyTorch Distributed: Experiences on Accelerating Data Parallel
Training*; Goyal et al. (2017), *Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour*.
"""

import copy
import os
import socket
import tempfile

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel


# --8<-- [start:numpy]
def allreduce_mean(local_grads):
    """What an all-reduce with op=SUM followed by division by K computes: the mean of K arrays."""
    local_grads = [np.asarray(g, dtype=np.float64) for g in local_grads]
    if not local_grads or any(g.shape != local_grads[0].shape for g in local_grads):
        raise ValueError("local_grads must be a non-empty list of arrays of one shape")
    return np.sum(local_grads, axis=0) / len(local_grads)


def data_parallel_step(theta, X, y, grad_fn, lr, world_size):
    """One SGD step on the batch (X, y), simulated across ``world_size`` workers.

    grad_fn(theta, X_shard, y_shard) is the *mean* gradient over a shard. The batch is split
    into equal contiguous shards, so the result equals a single-process step on (X, y).
    """
    if not (isinstance(world_size, int) and world_size >= 1):
        raise ValueError(f"world_size must be a positive int, got {world_size!r}")
    if len(X) != len(y) or len(X) % world_size != 0:
        raise ValueError(f"X and y need the same length, divisible by world_size={world_size}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    shards = zip(np.split(X, world_size), np.split(y, world_size), strict=True)
    local_grads = [grad_fn(theta, Xk, yk) for Xk, yk in shards]   # on each worker, in parallel
    return theta - lr * allreduce_mean(local_grads)               # identical on every worker
# --8<-- [end:numpy]


# --8<-- [start:torch]
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, model, X, y, lr, n_steps, out_path):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)   # gloo: CPU tensors
    try:
        # spawn passes tensors through shared memory: copy, or the replicas share one storage
        ddp_model = DistributedDataParallel(copy.deepcopy(model))  # broadcasts rank 0's weights
        optimizer = torch.optim.SGD(ddp_model.parameters(), lr=lr)
        X_local = X.chunk(world_size)[rank]               # (B / K, d): this worker's shard
        y_local = y.chunk(world_size)[rank]
        for _ in range(n_steps):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(ddp_model(X_local), y_local)  # local mean
            loss.backward()                               # all-reduce: grads averaged over K
            optimizer.step()                              # same step on every replica
        if rank == 0:
            torch.save(ddp_model.module.state_dict(), out_path)
    finally:
        dist.destroy_process_group()


def train_ddp(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, lr: float,
              n_steps: int, world_size: int = 2) -> dict[str, torch.Tensor]:
    """Full-batch SGD on (X, y) split over ``world_size`` CPU processes; returns the weights.

    Each process holds a replica of ``model`` and 1/world_size of the batch.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module")
    if not (isinstance(world_size, int) and world_size >= 1):
        raise ValueError(f"world_size must be a positive int, got {world_size!r}")
    if len(X) != len(y) or len(X) % world_size != 0:
        raise ValueError(f"X and y need the same length, divisible by world_size={world_size}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, "state.pt")
        mp.spawn(_worker, args=(world_size, _free_port(), model, X, y, lr, n_steps, out_path),
                 nprocs=world_size, join=True)
        return torch.load(out_path)
# --8<-- [end:torch]


if __name__ == "__main__":
    torch.manual_seed(0)
    X, y = torch.randn(64, 3, dtype=torch.float64), torch.randn(64, 1, dtype=torch.float64)
    model = torch.nn.Linear(3, 1, dtype=torch.float64)
    print(train_ddp(model, X, y, lr=0.1, n_steps=20))
