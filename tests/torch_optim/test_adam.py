"""dlhandbook.torch_optim.adam.Adam against torch.optim.Adam (see harness.py)."""

import pytest
import torch
from torch_optim import harness

from dlhandbook.torch_optim.adam import Adam, _use_foreach

OURS, TORCH = Adam, torch.optim.Adam
BASE = dict(lr=1e-2)
CASES = {
    "default": dict(lr=1e-2),
    "betas": dict(lr=1e-2, betas=(0.5, 0.9)),
    "weight_decay": dict(lr=1e-2, weight_decay=0.1),
    "decoupled_weight_decay": dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True),
    "amsgrad": dict(lr=1e-2, amsgrad=True),
    "eps": dict(lr=1e-2, eps=1e-3),
    "maximize": dict(lr=1e-2, maximize=True),
    "all": dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.05, amsgrad=True, maximize=True),
}
# an older torch had no maximize: leave it out
OLD_CHECKPOINT_CASE = dict(lr=1e-2, weight_decay=0.1, amsgrad=True)
TENSOR_LR_FOREACH = "rejected"   # what torch.optim does with foreach=True
INVALID = [
    (dict(lr=-1e-3), "lr", ValueError),
    (dict(lr=float("nan")), "lr", ValueError),
    (dict(lr="0.1"), "lr", TypeError),
    (dict(betas=(1.0, 0.999)), r"betas\[0\]", ValueError),
    (dict(betas=(-0.1, 0.999)), r"betas\[0\]", ValueError),
    (dict(betas=(0.9, 1.0)), r"betas\[1\]", ValueError),
    (dict(betas=(0.9,)), "betas", ValueError),
    (dict(eps=-1e-8), "eps", ValueError),
    (dict(weight_decay=-0.1), "weight_decay", ValueError),
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


def test_foreach_none_picks_multi_tensor_for_many_tensors():
    assert _use_foreach(None, [torch.zeros(1)] * 16)
    assert not _use_foreach(None, [torch.zeros(1)] * 3)
    assert not _use_foreach(False, [torch.zeros(1)] * 100)
    assert _use_foreach(True, [torch.zeros(1)])


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


@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
def test_float16_gradients_above_256_still_step_by_lr(foreach, device):
    """v_hat = v / (1 - beta2) = g^2 overflows float16 for |g| > 256; sqrt(v) first does not."""
    p = torch.zeros(4, dtype=torch.float16, device=device, requires_grad=True)
    optimizer = OURS([p], lr=1e-2, foreach=foreach)
    p.grad = torch.full_like(p, 1e3)
    optimizer.step()                                         # Adam's first step is -lr sign(g)
    torch.testing.assert_close(p.detach().float(), torch.full((4,), -1e-2, device=device),
                               rtol=1e-3, atol=0)


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
