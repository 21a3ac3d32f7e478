"""dlhandbook.torch_optim.sgd.SGD against torch.optim.SGD (see harness.py)."""

import pytest
import torch
from torch_optim import harness

from dlhandbook.torch_optim.sgd import SGD

OURS, TORCH = SGD, torch.optim.SGD
BASE = dict(lr=1e-2)
CASES = {
    "default": dict(lr=1e-2),
    "momentum": dict(lr=1e-2, momentum=0.9),
    "dampening": dict(lr=1e-2, momentum=0.9, dampening=0.5),
    "nesterov": dict(lr=1e-2, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=1e-2, weight_decay=0.1),
    "maximize": dict(lr=1e-2, maximize=True),
    "all": dict(lr=1e-2, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True),
}
# an older torch had no maximize: leave it out
OLD_CHECKPOINT_CASE = dict(lr=1e-2, momentum=0.8, nesterov=True, weight_decay=0.05)
TENSOR_LR_FOREACH = "accepted"   # what torch.optim does with foreach=True
INVALID = [
    (dict(lr=-1e-3), "lr", ValueError),
    (dict(lr=float("nan")), "lr", ValueError),
    (dict(lr="0.1"), "lr", TypeError),
    (dict(momentum=-0.1), "momentum", ValueError),
    (dict(weight_decay=-0.1), "weight_decay", ValueError),
    (dict(nesterov=True), "nesterov", ValueError),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov", ValueError),
]


@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("case", list(CASES))
def test_follows_torch_trajectory(case, foreach, device):
    harness.assert_follows_torch(OURS, TORCH, CASES[case], device, foreach)


@pytest.mark.parametrize("case", list(CASES))
def test_loop_and_foreach_agree(case, device):
    harness.assert_loop_equals_foreach(OURS, CASES[case], device)


@pytest.mark.parametrize(("kwargs", "name", "error"), INVALID)
def test_rejects_invalid_arguments(kwargs, name, error):
    harness.assert_rejects(OURS, kwargs, name, error)


def test_state_dict_round_trip(device):
    harness.assert_state_dict_round_trip(OURS, CASES["all"], device)


def test_loads_torch_optim_state_dict(device):
    harness.assert_loads_torch_state_dict(OURS, TORCH, CASES["all"], device)


def test_torch_optim_loads_our_state_dict(device):
    harness.assert_torch_loads_our_state_dict(OURS, TORCH, CASES["all"], device)


def test_param_groups_with_different_lr(device):
    harness.assert_param_groups_match_torch(OURS, TORCH, BASE, device)


def test_rejects_sparse_gradients():
    harness.assert_rejects_sparse_gradients(OURS, BASE)


def test_skips_params_without_grad(device):
    harness.assert_skips_params_without_grad(OURS, BASE, device)


def test_step_with_closure(device):
    harness.assert_closure_matches_torch(OURS, TORCH, BASE, device)



def test_signature_matches_torch():
    harness.assert_signature_matches_torch(OURS, TORCH)


def test_works_with_torch_lr_scheduler(device):
    params, params_ref = harness.make_params(device), harness.make_params(device)
    ours = OURS(params, lr=0.1, momentum=0.9)
    ref = TORCH(params_ref, lr=0.1, momentum=0.9, foreach=False)
    schedules = [torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5) for o in (ours, ref)]
    for t in range(30):
        for optimizer, ps, schedule in zip((ours, ref), (params, params_ref), schedules,
                                           strict=True):
            harness.run(optimizer, ps, 1, start=t)
            schedule.step()
    assert ours.param_groups[0]["lr"] == ref.param_groups[0]["lr"] == 0.1 * 0.5**3
    for p, q in zip(params, params_ref, strict=True):
        torch.testing.assert_close(p, q, **harness.TOL)


@pytest.mark.parametrize("dtype", harness.LOW_PRECISION, ids=str)
@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("case", ["default", "all"])
def test_matches_torch_in_low_precision(case, foreach, dtype, device):
    harness.assert_matches_torch_in_low_precision(OURS, TORCH, CASES[case], device, foreach,
                                                  dtype)


def test_resumes_checkpoint_of_older_torch(device):
    harness.assert_resumes_old_checkpoint(OURS, TORCH, OLD_CHECKPOINT_CASE, device)


def test_tensor_lr_like_torch(device):
    outcomes = harness.assert_tensor_lr_like_torch(OURS, TORCH, BASE, device)
    assert outcomes == {False: "accepted", True: TENSOR_LR_FOREACH}


def test_rejects_options_it_does_not_offer():
    harness.assert_rejects_unoffered_options(OURS, TORCH, offered=("fused",))


def test_mixed_precision_with_grad_scaler_like_torch(device):
    harness.assert_grad_scaler_matches_torch(OURS, TORCH, BASE, device)


# --- fused=True: torch's single-pass kernel (see harness.py) ---

FUSED = {**CASES["all"], "fused": True}
# torch's fused SGD fails when a tensor gets its first gradient after the others
# (see test_fused_starts_late_buffers_where_torch_fused_fails): compare without
# missing gradients there.
FUSED_SKIP_EVERY = 0


@pytest.mark.parametrize("dtype", harness.ALL_DTYPES, ids=str)
@pytest.mark.parametrize("case", list(CASES))
def test_fused_is_torch_fused_bit_for_bit(case, dtype, device):
    harness.assert_fused_is_torch_fused(OURS, TORCH, CASES[case], device, dtype,
                                        skip_every=FUSED_SKIP_EVERY)


@pytest.mark.parametrize("dtype", harness.ALL_DTYPES, ids=str)
@pytest.mark.parametrize("case", list(CASES))
def test_fused_agrees_with_loop(case, dtype, device):
    harness.assert_fused_equals_loop(OURS, CASES[case], device, dtype)


@pytest.mark.parametrize("case", list(CASES))
def test_fused_follows_torch_trajectory(case, device):
    harness.assert_fused_follows_torch(OURS, TORCH, CASES[case], device)


def test_fused_with_tensor_lr_is_torch_fused(device):
    harness.assert_fused_tensor_lr_is_torch_fused(OURS, TORCH, BASE, device)


def test_fused_rejects_what_torch_fused_rejects():
    harness.assert_fused_rejects_like_torch(OURS, TORCH, BASE)


def test_fused_state_dict_round_trip(device):
    harness.assert_state_dict_round_trip(OURS, FUSED, device)


def test_fused_loads_torch_optim_state_dict(device):
    harness.assert_loads_torch_state_dict(OURS, TORCH, FUSED, device)


def test_torch_optim_fused_loads_our_fused_state_dict(device):
    harness.assert_torch_loads_our_state_dict(OURS, TORCH, FUSED, device)


def test_fused_resumes_checkpoint_saved_without_fused(device):
    harness.assert_resumes_old_checkpoint(OURS, TORCH, {**OLD_CHECKPOINT_CASE, "fused": True},
                                          device)


def test_fused_mixed_precision_with_grad_scaler_like_torch(device):
    harness.assert_grad_scaler_matches_torch(OURS, TORCH, {**BASE, "fused": True}, device)


def test_fused_starts_late_buffers_where_torch_fused_fails(device):
    """A tensor whose first gradient comes after the others have momentum buffers: torch's
    fused SGD (2.13) raises a TypeError, ours creates that buffer as b_1 = g_1, like the loop."""
    kwargs = dict(lr=1e-2, momentum=0.9)
    params = harness.make_params(device)
    params_loop, params_ref = harness.clone_params(params), harness.clone_params(params)
    fused = OURS(params, fused=True, **kwargs)
    loop = OURS(params_loop, foreach=False, **kwargs)
    ref = TORCH(params_ref, fused=True, **kwargs)
    for optimizer, ps in ((fused, params), (loop, params_loop), (ref, params_ref)):
        harness.set_grads(ps, 0, skip=(1,))                # tensor 1 has no gradient yet
        optimizer.step()
        harness.set_grads(ps, 1)
        if optimizer is ref:
            with pytest.raises(TypeError):
                optimizer.step()
        else:
            optimizer.step()
    for p, q in zip(params, params_loop, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)
    assert all(fused.state[p]["momentum_buffer"] is not None for p in params)
