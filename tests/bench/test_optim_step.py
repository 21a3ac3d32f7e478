"""The optimizer-step benchmark runs end to end at a tiny size (timings are never asserted),
and its byte counts are the ones the page states."""

import pytest
import torch

from dlhandbook.bench.optim_step import (
    OPTIMIZERS,
    TrafficCounter,
    contenders,
    main,
    make_tensors,
    minimum_bytes_per_value,
    paired_ratio,
    traffic,
)

FUSED = {"SGD-momentum", "Adam", "AdamW", "Adagrad"}     # torch.optim classes with fused=True


def test_benchmark_main_runs_and_reports_every_optimizer_and_path(capsys, device):
    rows = main(["--numel", "2000", "--num-tensors", "5", "--repeats", "1", "--warmup", "0",
                 "--device", device.type, "--threads", "1", "2", "--peak-gbps", "1000",
                 "--no-traffic"])
    threads = {1, 2} if device.type == "cpu" else {torch.get_num_threads()}
    assert {(r["threads"], r["optimizer"]) for r in rows} == {
        (t, name) for t in threads for name in OPTIMIZERS}
    for name in OPTIMIZERS:
        impls = {r["impl"] for r in rows if r["optimizer"] == name}
        expected = {"ours-loop", "ours-foreach", "torch-foreach"}
        assert impls == (expected | {"ours-fused", "torch-fused"} if name in FUSED else expected)
    for row in rows:
        assert row["median_ms"] > 0 and row["gbps"] > 0 and row["fraction_of_reference"] > 0
        assert row["bytes_per_step"] > 0 and row["stream_gbps"] > 0 and row["noise_floor"] > 0
        if row["impl"] == "torch-foreach":
            assert row["vs_torch_foreach"] == 1.0
        if row["impl"] == "torch-fused":
            assert row["vs_torch_fused"] == 1.0
    out = capsys.readouterr().out
    assert "ours-fused" in out and "torch-fused" in out and "GB/s" in out
    assert ("of stream" in out) if device.type == "cpu" else ("of peak" in out)
    assert "target 1.1" in out and "target 1.05" in out
    assert "noise floor: a second torch-fused / torch-fused" in out      # SGD, Adam, ...
    assert "noise floor: a second torch-foreach / torch-foreach" in out  # RMSprop
    assert torch.get_num_threads() == 1                    # restored (conftest sets 1)


def test_every_optimizer_has_fused_exactly_where_torch_has_it():
    for name in OPTIMIZERS:
        assert (("torch", "fused") in contenders(name)) == (name in FUSED)
        assert (("ours", "fused") in contenders(name)) == (name in FUSED)


# float32 bytes a step must move per parameter value: read theta, g and k state tensors,
# write theta and the k state tensors; k = 1 (momentum buffer, v, sum) or 2 (m and v).
MUST_MOVE = {"SGD-momentum": 20, "Adam": 28, "AdamW": 28, "RMSprop": 20, "Adagrad": 20}


def test_bytes_a_step_must_move_count_the_state_tensors():
    assert {name: minimum_bytes_per_value(name) for name in OPTIMIZERS} == MUST_MOVE


@pytest.mark.parametrize("name", sorted(FUSED))
def test_fused_streams_only_what_a_step_must_move_in_one_call(name):
    """One ATen call per step for all tensors, reading and writing each byte once."""
    for owner in ("ours", "torch"):
        t = traffic(name, owner, "fused", num_tensors=20, numel=4000)
        assert t["calls"] == 1
        assert t["bytes_per_value"] == pytest.approx(MUST_MOVE[name], rel=1e-9)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_loop_and_foreach_stream_more_bytes_and_the_loop_makes_calls_per_tensor(name):
    """The loop and foreach paths each stream over 1.5 times the bytes a step must move; the
    loop's ATen calls grow with the number of tensors, the foreach path's do not, and ours
    streams no more than torch's foreach path."""
    loop = [traffic(name, "ours", "loop", num_tensors=n, numel=4000) for n in (10, 20)]
    foreach = [traffic(name, "ours", "foreach", num_tensors=n, numel=4000) for n in (10, 20)]
    torch_foreach = traffic(name, "torch", "foreach", num_tensors=20, numel=4000)
    assert loop[1]["calls"] == 2 * loop[0]["calls"] >= 2 * 3 * 10
    assert foreach[1]["calls"] == foreach[0]["calls"] <= 8
    for t in loop + foreach:
        assert t["bytes_per_value"] > 1.5 * MUST_MOVE[name]
    assert foreach[1]["bytes_per_value"] <= torch_foreach["bytes_per_value"] + 1e-9


def test_traffic_counter_counts_reads_and_writes_of_one_add():
    x, y = torch.ones(100), torch.ones(100)
    with TrafficCounter() as counter:
        x.add_(y)                                          # reads x and y, writes x
        z = x.view(10, 10)                                 # a view: nothing moves
    assert z.shape == (10, 10)
    assert (counter.calls, counter.bytes_read, counter.bytes_written) == (1, 800, 400)


def test_benchmark_tensors_have_the_requested_count_and_size():
    tensors = make_tensors(100_000, 100, "cpu")
    assert len(tensors) == 100
    assert abs(sum(t.numel() for t in tensors) - 100_000) <= 100   # rounding, at most 1 each
    assert all(t.dtype == torch.float32 and t.numel() >= 2 for t in tensors)


def test_benchmark_rejects_bad_sizes():
    with pytest.raises(SystemExit):
        main(["--numel", "3", "--num-tensors", "5"])
    with pytest.raises(SystemExit):
        main(["--threads", "0"])


def test_ratios_pair_each_round_so_a_drift_in_load_cancels():
    """Ours takes 1.05 x torch's time in every round while the machine's load swings by 3x
    between rounds: the ratio is 1.05; with the rounds' pairs broken it is not."""
    torch_times = [1e-3 * f for f in (1.0, 3.0, 1.2, 2.5, 1.1)]
    ours = [1.05 * t for t in torch_times]
    assert paired_ratio(ours, torch_times) == pytest.approx(1.05)
    broken = [ours[1], ours[3], ours[0], ours[2], ours[4]]
    assert paired_ratio(broken, torch_times) == pytest.approx(1.05 * 2.5 / 3.0)   # round 4's over round 2's


def test_paired_ratio_rejects_rounds_that_do_not_match():
    with pytest.raises(ValueError, match="equally many rounds"):
        paired_ratio([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="equally many rounds"):
        paired_ratio([], [])
