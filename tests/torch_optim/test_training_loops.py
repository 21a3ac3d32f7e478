"""The handbook's own training loops take torch's fused optimizer step, as Q31 advises."""

from __future__ import annotations

import ast
import importlib

import pytest

# The loops Q31 names: Q50's models, the sharpness and the dropout experiments.
LOOPS = ["dlhandbook.generative.autoregressive", "dlhandbook.generative.diffusion",
         "dlhandbook.generative.flow", "dlhandbook.generative.gan", "dlhandbook.generative.vae",
         "dlhandbook.optim.sharpness", "dlhandbook.regularization.dropout"]


def optimizer_calls(module: str) -> list[ast.Call]:
    tree = ast.parse(open(importlib.import_module(module).__file__, encoding="utf-8").read())
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and ast.unparse(node.func) in {"torch.optim.Adam", "torch.optim.SGD", "torch.optim.AdamW"}]


@pytest.mark.parametrize("module", LOOPS)
def test_every_optimizer_a_training_loop_makes_is_fused(module):
    calls = optimizer_calls(module)
    assert calls, f"{module} makes no torch.optim optimizer"
    for call in calls:
        fused = [k.value for k in call.keywords if k.arg == "fused"]
        assert fused and isinstance(fused[0], ast.Constant) and fused[0].value is True, \
            f"{module}: {ast.unparse(call)} does not pass fused=True"
