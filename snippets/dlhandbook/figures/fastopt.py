"""Tables for the fast-optimizer-step section of Q31: memory traffic of loop, foreach and fused.

Counted, not timed: every number comes from running one step of each path under
``dlhandbook.bench.optim_step.TrafficCounter``, so the table is the same on every machine.
"""

from __future__ import annotations

from dlhandbook.bench.optim_step import (
    OPTIMIZERS,
    contenders,
    minimum_bytes_per_value,
    state_tensors_per_param,
    traffic,
)
from dlhandbook.figures import table

TENSORS = 100          # parameter tensors in the counted model (float32)


@table("fastopt-traffic")
def fastopt_traffic() -> str:
    """Per optimizer: ATen calls per step and bytes streamed per parameter value, per path."""
    rows = ["| optimizer | state tensors | bytes per value a step must move | our loop: calls, bytes "
            "| our foreach: calls, bytes | fused: calls, bytes |",
            "|---|---:|---:|---:|---:|---:|"]
    for name in OPTIMIZERS:
        cells = []
        for path in ("loop", "foreach", "fused"):
            if ("ours", path) not in contenders(name):
                cells.append("no fused kernel in torch")
                continue
            t = traffic(name, "ours", path, num_tensors=TENSORS)
            cells.append(f"{t['calls']}, {t['bytes_per_value']:.0f}")
        rows.append(f"| {name} | {state_tensors_per_param(name)} | "
                    f"{minimum_bytes_per_value(name)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)
