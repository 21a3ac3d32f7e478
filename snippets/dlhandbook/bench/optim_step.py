"""Benchmark: one optimizer step of ``dlhandbook.torch_optim`` against ``torch.optim``.

Run ``python -m dlhandbook.bench.optim_step`` (``--help`` for options). For SGD with momentum,
Adam, AdamW, RMSprop and Adagrad it times our three paths (``loop``: one tensor at a time,
``foreach``: ``torch._foreach_*`` over lists, ``fused``: torch's single-pass kernel) against
torch's ``foreach`` and ``fused`` paths, on about 100 float32 tensors holding 10 million
values, with 1 and then 2 CPU threads, and on CUDA too when a GPU is present. Every
contender gets its own copy of the same parameters and gradients, and all of an optimizer's
contenders step in every round, in an order shuffled anew each round, so drifts in machine
load hit them alike and none always follows the same one (a step that follows a multi-tensor
step starts with the cache full of that step's written lines). RMSprop has no fused kernel
in torch, so it has no fused columns.

It prints, computed from the code rather than typed:

- the bytes a step must move per parameter value: read the parameter, its gradient and each
  state tensor once, write the parameter and each state tensor once (the state tensors are
  counted in the optimizer's own state after a step);
- for each path, the torch operations a step runs and the bytes they would stream if no
  tensor stayed in cache between them (counted by intercepting every ATen call);
- each contender's median time, its ratio to torch's foreach and fused steps (the median, over
  the rounds, of its time over torch's time in the same round: a drift in machine load slows
  both sides of a ratio alike), and its effective bandwidth (bytes it must move / time) as a
  fraction of a streaming bandwidth measured in the same rounds with the same threads:
  ``a.add_(b)`` over as many values, which reads two arrays and writes one in place, as an
  optimizer step does (CPU); on CUDA, as a fraction of the device's peak (the measured
  stream is printed too);
- the noise floor: a second copy of torch's fastest path, timed in the same rounds, over
  the first. Identical code on identical tensors is seldom exactly 1.000; a ratio within
  that distance of 1 is a tie.

A benchmark, not a test: timings on a shared machine are noisy, so nothing asserts on them.
"""

from __future__ import annotations

import argparse
import inspect
import random
import statistics
import time

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from dlhandbook.torch_optim.adagrad import Adagrad
from dlhandbook.torch_optim.adam import Adam
from dlhandbook.torch_optim.adamw import AdamW
from dlhandbook.torch_optim.rmsprop import RMSprop
from dlhandbook.torch_optim.sgd import SGD

# name: (our class, torch's class, keyword arguments)
OPTIMIZERS = {
    "SGD-momentum": (SGD, torch.optim.SGD, dict(lr=1e-3, momentum=0.9)),
    "Adam": (Adam, torch.optim.Adam, dict(lr=1e-3)),
    "AdamW": (AdamW, torch.optim.AdamW, dict(lr=1e-3, weight_decay=1e-2)),
    "RMSprop": (RMSprop, torch.optim.RMSprop, dict(lr=1e-3)),
    "Adagrad": (Adagrad, torch.optim.Adagrad, dict(lr=1e-3)),
}
PATHS = {"loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}
CONTENDERS = [("ours", "loop"), ("ours", "foreach"), ("ours", "fused"), ("torch", "foreach"),
              ("torch", "fused")]


def has_fused(cls: type) -> bool:
    """Whether the optimizer class takes ``fused=True`` (torch's RMSprop does not)."""
    return "fused" in inspect.signature(cls.__init__).parameters


def contenders(name: str) -> list[tuple[str, str]]:
    """(owner, path) pairs benchmarked for one optimizer: fused only where torch has it."""
    ours_cls, torch_cls, _ = OPTIMIZERS[name]
    fused = has_fused(ours_cls) and has_fused(torch_cls)
    return [(owner, path) for owner, path in CONTENDERS if path != "fused" or fused]


def make_optimizer(name: str, owner: str, path: str, params: list[torch.Tensor]):
    ours_cls, torch_cls, kwargs = OPTIMIZERS[name]
    cls = ours_cls if owner == "ours" else torch_cls
    return cls(params, **PATHS[path], **kwargs)


def make_tensors(numel: int, num_tensors: int, device: str, seed: int = 0) -> list[torch.Tensor]:
    """``num_tensors`` float32 tensors of varied sizes (log-uniform) adding up to about ``numel``."""
    rng = np.random.default_rng(seed)
    weights = np.exp(rng.uniform(0.0, np.log(1000.0), size=num_tensors))
    sizes = np.maximum(2, np.round(weights / weights.sum() * numel)).astype(int)
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(int(n), generator=gen).to(device) for n in sizes]


def _with_grads(values: list[torch.Tensor]) -> list[torch.Tensor]:
    params = [v.clone().requires_grad_(True) for v in values]
    for p, v in zip(params, values, strict=True):
        p.grad = v.mul(1e-3)                              # the same fixed gradients for everyone
    return params


# ---- bytes, computed from the code -----------------------------------------------------------
def state_tensors_per_param(name: str) -> int:
    """How many tensors of the parameter's size our optimizer keeps per parameter (after a step)."""
    p = torch.zeros(8, requires_grad=True)
    p.grad = torch.ones(8)
    optimizer = make_optimizer(name, "ours", "loop", [p])
    optimizer.step()
    return sum(torch.is_tensor(v) and v.shape == p.shape for v in optimizer.state[p].values())


def minimum_bytes_per_value(name: str, itemsize: int = 4) -> int:
    """Bytes a step must move per parameter value: read theta, g and each state tensor, write
    theta and each state tensor, once each."""
    n_state = state_tensors_per_param(name)
    return ((2 + n_state) + (1 + n_state)) * itemsize


_NO_READ = {"aten::zeros_like", "aten::empty_like", "aten::full_like", "aten::ones_like",
            "aten::zero_", "aten::fill_", "aten::copy_"}   # these write self without reading it


def _tensors(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


class TrafficCounter(TorchDispatchMode):
    """Counts the ATen calls that touch tensors of ``min_numel`` values or more, and the bytes
    they read and write, as if every call streamed its operands from memory (nothing cached).

    Reads: every distinct input tensor (an in-place target too, except for ops that only
    overwrite it). Writes: in-place targets, ``out=`` tensors and new outputs. A fused
    kernel's ``grads`` are only read unless it is given a ``grad_scale`` to unscale them.
    """

    def __init__(self, min_numel: int = 2):
        super().__init__()
        self.min_numel, self.calls, self.bytes_read, self.bytes_written = min_numel, 0, 0, 0

    def _big(self, value) -> list[torch.Tensor]:
        return [t for t in _tensors(value) if t.numel() >= self.min_numel]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        schema = func._schema
        if any(r.alias_info is not None and not r.alias_info.is_write for r in schema.returns):
            return out                                    # a view: no data moves
        read, written = {}, {}
        for i, arg in enumerate(schema.arguments):
            value = args[i] if i < len(args) else kwargs.get(arg.name)
            tensors = self._big(value)
            mutated = arg.alias_info is not None and arg.alias_info.is_write
            if (schema.name.startswith("aten::_fused_") and arg.name == "grads"
                    and kwargs.get("grad_scale") is None):
                mutated = False
            for t in tensors:
                if arg.is_out:
                    written[t.data_ptr()] = t
                elif mutated:
                    written[t.data_ptr()] = t
                    if not (i == 0 and schema.name in _NO_READ):
                        read[t.data_ptr()] = t
                elif not (schema.name in _NO_READ and i == 0):
                    read[t.data_ptr()] = t
        for t in self._big(out):
            written.setdefault(t.data_ptr(), t)
        if read or written:
            self.calls += 1
            self.bytes_read += sum(t.numel() * t.element_size() for t in read.values())
            self.bytes_written += sum(t.numel() * t.element_size() for t in written.values())
        return out


def traffic(name: str, owner: str, path: str, num_tensors: int = 100,
            numel: int = 100_000) -> dict:
    """Count one step (the second: the first creates the state) of one path on CPU float32."""
    params = _with_grads(make_tensors(numel, num_tensors, "cpu"))
    optimizer = make_optimizer(name, owner, path, params)
    optimizer.step()
    with TrafficCounter() as counter:
        optimizer.step()
    values = sum(p.numel() for p in params)
    return dict(calls=counter.calls, tensors=len(params),
                bytes_per_value=(counter.bytes_read + counter.bytes_written) / values,
                read_per_value=counter.bytes_read / values,
                written_per_value=counter.bytes_written / values)


# ---- timing ----------------------------------------------------------------------------------
def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_bandwidth(device: str) -> float | None:
    """The CUDA device's peak memory bandwidth in GB/s from its properties (double data rate)."""
    props = torch.cuda.get_device_properties(torch.device(device))
    clock_khz = getattr(props, "memory_clock_rate", 0)
    bus_bits = getattr(props, "memory_bus_width", 0)
    if not clock_khz or not bus_bits:
        return None
    return 2 * clock_khz * 1e3 * bus_bits / 8 / 1e9


# The reference racer: a.add_(b) over as many float32 values as the model, which reads two
# arrays and writes one of them in place, as optimizer steps do. (A plain dst.copy_(src) moves
# more than the 8 bytes per value it counts: a CPU cache must first read each line of dst
# that it then overwrites, so in-place updates would beat "100% of copy".)
STREAM = ("stream", "")
# The noise floor: torch's fastest path once more, on its own copy of the tensors.
CONTROL = ("torch-again", "")


def fastest_torch_path(name: str) -> str:
    return "fused" if ("torch", "fused") in contenders(name) else "foreach"


def time_steps(name: str, device: str, values: list[torch.Tensor], repeats: int,
               warmup: int) -> dict[tuple[str, str], list[float]]:
    """Seconds per step, round by round, of every contender of one optimizer and of
    ``STREAM`` over as many values as the model, all interleaved in each round."""
    racers = [(key, make_optimizer(name, *key, _with_grads(values)).step)
              for key in contenders(name)]
    a = torch.randn(sum(v.numel() for v in values), device=device)
    b = torch.zeros_like(a)                                # a stays as it is, step after step
    racers.append((STREAM, lambda: a.add_(b)))
    control = make_optimizer(name, "torch", fastest_torch_path(name), _with_grads(values))
    racers.append((CONTROL, control.step))
    times = {key: [] for key, _ in racers}
    rng = random.Random(0)
    for i in range(warmup + repeats):
        order = rng.sample(racers, len(racers))           # a new order every round
        for key, run_once in order:
            _sync(device)
            start = time.perf_counter()
            run_once()
            _sync(device)
            if i >= warmup:
                times[key].append(time.perf_counter() - start)
    return times


def paired_ratio(times: list[float], reference: list[float]) -> float:
    """The median over rounds of ``times[i] / reference[i]`` (both timed in round ``i``)."""
    if len(times) != len(reference) or not times:
        raise ValueError(f"need equally many rounds, got {len(times)} and {len(reference)}")
    return statistics.median(t / r for t, r in zip(times, reference, strict=True))


def _print_traffic(names: list[str], num_tensors: int) -> list[dict]:
    print(f"\nBytes per parameter value (float32), counted from the code on {num_tensors} tensors:"
          "\n'must move' reads theta, g and the state once and writes theta and the state once;"
          "\n'streamed' adds up every ATen call's operands as if nothing stayed in cache.")
    print(f"{'optimizer':<14}{'impl':<15}{'ATen calls':>11}{'streamed':>10}{'must move':>11}")
    rows = []
    for name in names:
        must = minimum_bytes_per_value(name)
        for owner, path in contenders(name):
            t = traffic(name, owner, path, num_tensors=num_tensors)
            rows.append(dict(optimizer=name, impl=f"{owner}-{path}", must_move=must, **t))
            print(f"{name:<14}{owner + '-' + path:<15}{t['calls']:>11}"
                  f"{t['bytes_per_value']:>10.0f}{must:>11}")
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    """Parse ``argv``, run the benchmark, print its tables and return the timing rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", nargs="*", default=None,
                        help="cpu and/or cuda (default: cpu, and cuda when available)")
    parser.add_argument("--numel", type=int, default=10_000_000, help="total parameter values")
    parser.add_argument("--num-tensors", type=int, default=100, help="number of parameter tensors")
    parser.add_argument("--repeats", type=int, default=25, help="timed steps per contender")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per contender")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="torch CPU thread counts to run (default 1 2)")
    parser.add_argument("--peak-gbps", type=float, default=None,
                        help="the CUDA device's peak bandwidth (default: from its properties)")
    parser.add_argument("--only", nargs="*", choices=list(OPTIMIZERS), default=list(OPTIMIZERS),
                        help="benchmark only these optimizers")
    parser.add_argument("--no-traffic", action="store_true", help="skip the byte-counting table")
    args = parser.parse_args(argv)
    if args.numel < 2 * args.num_tensors or args.num_tensors < 1:
        parser.error("need --numel >= 2 * --num-tensors and --num-tensors >= 1")
    if args.repeats < 1 or args.warmup < 0 or min(args.threads) < 1:
        parser.error("need --repeats >= 1, --warmup >= 0 and --threads >= 1")
    devices = args.device or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    for device in devices:
        if device not in ("cpu", "cuda"):
            parser.error(f"--device must be cpu or cuda, got {device!r}")
        if device == "cuda" and not torch.cuda.is_available():
            parser.error("--device cuda but torch.cuda.is_available() is False")

    threads_before = torch.get_num_threads()
    rows = []
    try:
        for device in devices:
            for threads in args.threads if device == "cpu" else [threads_before]:
                torch.set_num_threads(threads)
                rows += _run(args, device, threads)
    finally:
        torch.set_num_threads(threads_before)
    print("\nTargets: ours-fused <= 1.1 x torch-fused, ours-foreach <= 1.05 x torch-foreach.")
    for (device, threads) in dict.fromkeys((r["device"], r["threads"]) for r in rows):
        mine = [r for r in rows if r["device"] == device and r["threads"] == threads]
        for path, target in (("fused", 1.1), ("foreach", 1.05)):
            ratios = [r[f"vs_torch_{path}"] for r in mine if r["impl"] == f"ours-{path}"]
            if ratios:
                print(f"  {device} threads={threads}: ours-{path} / torch-{path} worst "
                      f"{max(ratios):.3f} (target {target})")
        noise = [r["noise_floor"] for r in mine]
        print(f"  {device} threads={threads}: noise floor, torch / a second copy of itself, "
              f"{min(noise):.3f} to {max(noise):.3f}")
    if not args.no_traffic:
        _print_traffic(args.only, args.num_tensors)
    return rows


def _run(args, device: str, threads: int) -> list[dict]:
    values = make_tensors(args.numel, args.num_tensors, device)
    numel = sum(v.numel() for v in values)
    peak = None if device == "cpu" else args.peak_gbps or peak_bandwidth(device)
    ref_label = "stream" if peak is None else "peak"
    print(f"\ndevice={device} tensors={len(values)} numel={numel:,} float32 threads={threads} "
          f"repeats={args.repeats} torch={torch.__version__}"
          + (f"; peak bandwidth {peak:.0f} GB/s" if peak else ""))
    print(f"{'optimizer':<14}{'impl':<15}{'median ms':>10}{'/ torch-foreach':>16}"
          f"{'/ torch-fused':>14}{'GB/s':>8}{'of ' + ref_label:>11}")
    rows = []
    for name in args.only:
        must = minimum_bytes_per_value(name) * numel
        times = time_steps(name, device, values, args.repeats, args.warmup)
        stream_gbps = 3 * numel * 4 / statistics.median(times.pop(STREAM)) / 1e9
        fastest = fastest_torch_path(name)
        noise = paired_ratio(times.pop(CONTROL), times["torch", fastest])
        reference = peak or stream_gbps
        for (owner, path), ts in times.items():
            median = statistics.median(ts)
            row = dict(device=device, threads=threads, optimizer=name, impl=f"{owner}-{path}",
                       median_ms=median * 1e3, bytes_per_step=must,
                       vs_torch_foreach=paired_ratio(ts, times["torch", "foreach"]),
                       vs_torch_fused=(paired_ratio(ts, times["torch", "fused"])
                                       if ("torch", "fused") in times else None),
                       gbps=must / median / 1e9, stream_gbps=stream_gbps)
            row["fraction_of_reference"] = row["gbps"] / reference
            row["noise_floor"] = noise
            rows.append(row)
            fused = f"{row['vs_torch_fused']:>14.3f}" if row["vs_torch_fused"] else f"{'-':>14}"
            print(f"{name:<14}{row['impl']:<15}{row['median_ms']:>10.2f}"
                  f"{row['vs_torch_foreach']:>16.3f}{fused}{row['gbps']:>8.1f}"
                  f"{row['fraction_of_reference']:>11.0%}")
        print(f"{'':<14}(each step must move {must / 1e6:,.0f} MB; a.add_(b) on {numel:,} "
              f"values, timed in the same rounds, streamed {stream_gbps:.1f} GB/s;\n"
              f"{'':<15}noise floor: a second torch-{fastest} / torch-{fastest} = {noise:.3f})")
    return rows


if __name__ == "__main__":
    main()
