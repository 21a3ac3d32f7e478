"""Benchmark: one optimizer step of ``dlhandbook.torch_optim`` against ``torch.optim``.

Run ``python -m dlhandbook.bench.optim_step`` (``--help`` for options). It builds about 100
float32 tensors holding about 10 million values, gives each optimizer its own copy of the same
parameters and gradients, and times single ``step()`` calls, ours and torch's interleaved in
every round (so drifts in machine load hit both alike). It prints the median step time of each
and the ratio ours / torch. Torch runs with ``foreach=True`` (its multi-tensor path) and, on
CUDA, also with ``fused=True``; ours runs with ``foreach=True``.

On CUDA it also prints the achieved memory bandwidth: the bytes a step must move at least
(read parameter, gradient and state, write parameter and state, once each) divided by the
median time, and its fraction of ``--peak-gbps`` when given.

A benchmark, not a test: timings on a shared machine are noisy, so nothing asserts on them.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from dlhandbook.torch_optim.adam import Adam
from dlhandbook.torch_optim.adamw import AdamW
from dlhandbook.torch_optim.rmsprop import RMSprop
from dlhandbook.torch_optim.sgd import SGD

# name: (our class, torch's class, keyword arguments, tensors of numel touched per step:
# reads + writes of parameter, gradient and state, e.g. Adam reads p, g, m, v, writes p, m, v)
OPTIMIZERS = {
    "SGD-momentum": (SGD, torch.optim.SGD, dict(lr=1e-3, momentum=0.9), 5),
    "Adam": (Adam, torch.optim.Adam, dict(lr=1e-3), 7),
    "AdamW": (AdamW, torch.optim.AdamW, dict(lr=1e-3, weight_decay=1e-2), 7),
    "RMSprop": (RMSprop, torch.optim.RMSprop, dict(lr=1e-3), 5),
}
FUSED = {"SGD-momentum", "Adam", "AdamW"}        # torch.optim classes with a fused=True kernel


def make_tensors(numel: int, num_tensors: int, device: str, seed: int = 0) -> list[torch.Tensor]:
    """``num_tensors`` float32 tensors of varied sizes (log-uniform) adding up to about ``numel``."""
    rng = np.random.default_rng(seed)
    weights = np.exp(rng.uniform(0.0, np.log(1000.0), size=num_tensors))
    sizes = np.maximum(1, np.round(weights / weights.sum() * numel)).astype(int)
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(int(n), generator=gen).to(device) for n in sizes]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _contenders(name: str, device: str, values: list[torch.Tensor]):
    """(label, optimizer) pairs for one algorithm, each over its own copy of the parameters."""
    ours_cls, torch_cls, kwargs, _ = OPTIMIZERS[name]
    makers = [("ours", lambda ps: ours_cls(ps, foreach=True, **kwargs)),
              ("torch-foreach", lambda ps: torch_cls(ps, foreach=True, **kwargs))]
    if device.startswith("cuda") and name in FUSED:
        makers.append(("torch-fused", lambda ps: torch_cls(ps, fused=True, **kwargs)))
    contenders = []
    for label, make in makers:
        params = [v.clone().requires_grad_(True) for v in values]
        for p, v in zip(params, values, strict=True):
            p.grad = v.mul(1e-3)                          # the same fixed gradients for everyone
        contenders.append((label, make(params)))
    return contenders


def main(argv: list[str] | None = None) -> list[dict]:
    """Parse ``argv``, run the benchmark, print a table and return its rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--numel", type=int, default=10_000_000, help="total parameter values")
    parser.add_argument("--num-tensors", type=int, default=100, help="number of parameter tensors")
    parser.add_argument("--repeats", type=int, default=30, help="timed steps per contender")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per contender")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: steadier on a shared machine)")
    parser.add_argument("--peak-gbps", type=float, default=None,
                        help="the device's peak memory bandwidth, for the fraction column")
    parser.add_argument("--only", nargs="*", choices=list(OPTIMIZERS), default=list(OPTIMIZERS),
                        help="benchmark only these optimizers")
    args = parser.parse_args(argv)
    if args.numel < args.num_tensors or args.num_tensors < 1:
        parser.error("need --numel >= --num-tensors >= 1")
    if args.repeats < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("need --repeats >= 1, --warmup >= 0 and --threads >= 1")
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda but torch.cuda.is_available() is False")

    torch.set_num_threads(args.threads)
    values = make_tensors(args.numel, args.num_tensors, device)
    numel = sum(v.numel() for v in values)
    print(f"device={device} tensors={len(values)} numel={numel:,} float32 "
          f"threads={torch.get_num_threads()} repeats={args.repeats} torch={torch.__version__}")
    rows = []
    for name in args.only:
        contenders = _contenders(name, device, values)
        times = {label: [] for label, _ in contenders}
        for i in range(args.warmup + args.repeats):
            order = contenders if i % 2 == 0 else contenders[::-1]   # alternate who goes first
            for label, optimizer in order:
                _sync(device)
                start = time.perf_counter()
                optimizer.step()
                _sync(device)
                if i >= args.warmup:
                    times[label].append(time.perf_counter() - start)
        medians = {label: statistics.median(ts) for label, ts in times.items()}
        bytes_per_step = OPTIMIZERS[name][3] * numel * 4
        for label, median in medians.items():
            row = dict(optimizer=name, impl=label, median_ms=median * 1e3,
                       ratio_vs_torch_foreach=median / medians["torch-foreach"],
                       gbps=bytes_per_step / median / 1e9)
            if args.peak_gbps:
                row["fraction_of_peak"] = row["gbps"] / args.peak_gbps
            rows.append(row)

    header = f"{'optimizer':<14}{'impl':<15}{'median ms':>10}{'time / torch-foreach':>24}"
    if device.startswith("cuda"):
        header += f"{'GB/s':>9}" + (f"{'of peak':>9}" if args.peak_gbps else "")
    print(header)
    for row in rows:
        line = (f"{row['optimizer']:<14}{row['impl']:<15}{row['median_ms']:>10.3f}"
                f"{row['ratio_vs_torch_foreach']:>24.3f}")
        if device.startswith("cuda"):
            line += f"{row['gbps']:>9.1f}"
            if args.peak_gbps:
                line += f"{row['fraction_of_peak']:>9.1%}"
        print(line)
    return rows


if __name__ == "__main__":
    main()
