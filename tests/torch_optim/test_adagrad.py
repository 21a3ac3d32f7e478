"""dlhandbook.torch_optim.adagrad.Adagrad against torch.optim.Adagrad (see harness.py)."""

import pytest
import torch
from torch_optim import harness

from dlhandbook.torch_optim.adagrad import Adagrad

OURS, TORCH = Adagrad, torch.optim.Adagrad
BASE = dict(lr=1e-1)
CASES = {
    "default": dict(lr=1e-1),
    "lr_decay": dict(lr=1e-1, lr_decay=0.01),
    "initial_accumulator_value": dict(lr=1e-1, initial_accumulator_value=0.5),
    "weight_decay": dict(lr=1e-1, weight_decay=0.1),
    "eps": dict(lr=1e-1, eps=1e-3),
    "maximize": dict(lr=1e-1, maximize=True),
    "all": dict(lr=1e-1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.05,
                maximize=True),
}
# an older torch had no maximize: leave it out
OLD_CHECKPOINT_CASE = dict(lr=1e-1, lr_decay=0.01, weight_decay=0.05)
TENSOR_LR_FOREACH = "accepted"   # what torch.optim does with foreach=True
INVALID = [
    (dict(lr=-1e-3), "lr", ValueError),
    (dict(lr="0.1"), "lr", TypeError),
    (dict(lr_decay=-0.1), "lr_decay", ValueError),
    (dict(weight_decay=-0.1), "weight_decay", ValueError),
    (dict(initial_accumulator_value=-1.0), "initial_accumulator_value", ValueError),
    (dict(eps=-1e-10), "eps", ValueError),
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



def test_rejects_complex_parameters():
    p = torch.zeros(3, dtype=torch.complex128, requires_grad=True)
    p.grad = torch.ones_like(p)
    with pytest.raises(TypeError, match="real parameters"):
        OURS([p]).step()


def test_signature_matches_torch():
    harness.assert_signature_matches_torch(OURS, TORCH)


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
FUSED_SKIP_EVERY = 3


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


def test_switching_fused_on_and_off_keeps_the_step_count(device):
    harness.assert_switching_fused_on_and_off_follows_torch(OURS, TORCH, BASE, device)


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
