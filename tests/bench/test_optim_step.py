"""The optimizer-step benchmark runs end to end at a tiny size (timings are never asserted)."""

import pytest
import torch

from dlhandbook.bench.optim_step import OPTIMIZERS, main, make_tensors


def test_benchmark_main_runs_and_reports_every_optimizer(capsys, device):
    rows = main(["--numel", "2000", "--num-tensors", "5", "--repeats", "2", "--warmup", "1",
                 "--device", device.type, "--peak-gbps", "1000"])
    assert {row["optimizer"] for row in rows} == set(OPTIMIZERS)
    for row in rows:
        assert row["median_ms"] > 0 and row["gbps"] > 0
        if row["impl"] == "torch-foreach":
            assert row["ratio_vs_torch_foreach"] == 1.0
    out = capsys.readouterr().out
    assert "Adam" in out and "ours" in out and "torch-foreach" in out
    if device.type == "cuda":                          # fused kernels and bandwidth on GPU only
        assert {r["optimizer"] for r in rows if r["impl"] == "torch-fused"} == {
            "SGD-momentum", "Adam", "AdamW"}
        assert "GB/s" in out and all(0 < r["fraction_of_peak"] for r in rows)


def test_benchmark_tensors_have_the_requested_count_and_size():
    tensors = make_tensors(100_000, 100, "cpu")
    assert len(tensors) == 100
    assert abs(sum(t.numel() for t in tensors) - 100_000) <= 100   # rounding, at most 1 each
    assert all(t.dtype == torch.float32 for t in tensors)


def test_benchmark_rejects_bad_sizes():
    with pytest.raises(SystemExit):
        main(["--numel", "3", "--num-tensors", "5"])
