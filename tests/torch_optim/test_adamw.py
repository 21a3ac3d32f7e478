"""dlhandbook.torch_optim.adamw.AdamW against torch.optim.AdamW (see harness.py)."""

import pytest
import torch
from torch_optim import harness

from dlhandbook.torch_optim.adamw import AdamW

OURS, TORCH = AdamW, torch.optim.AdamW
BASE = dict(lr=1e-2)
CASES = {
    "default": dict(lr=1e-2),
    "no_weight_decay": dict(lr=1e-2, weight_decay=0),
    "weight_decay": dict(lr=1e-2, weight_decay=0.5),
    "betas": dict(lr=1e-2, betas=(0.5, 0.9)),
    "amsgrad": dict(lr=1e-2, amsgrad=True),
    "maximize": dict(lr=1e-2, maximize=True),
    "all": dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True, maximize=True),
}
# an older torch had no maximize: leave it out
OLD_CHECKPOINT_CASE = dict(lr=1e-2, weight_decay=0.1, amsgrad=True)
TENSOR_LR_FOREACH = "rejected"   # what torch.optim does with foreach=True
INVALID = [
    (dict(lr=-1e-3), "lr", ValueError),
    (dict(lr="0.1"), "lr", TypeError),
    (dict(betas=(1.0, 0.999)), r"betas\[0\]", ValueError),
    (dict(betas=(0.9, 1.5)), r"betas\[1\]", ValueError),
    (dict(betas=(0.9, 0.99, 0.9)), "betas", ValueError),
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


def test_signature_matches_torch():
    harness.assert_signature_matches_torch(OURS, TORCH)


def test_without_weight_decay_equals_adam(device):
    from dlhandbook.torch_optim.adam import Adam

    params, params_adam = harness.make_params(device), harness.make_params(device)
    harness.run(OURS(params, lr=1e-2, weight_decay=0), params, 50)
    harness.run(Adam(params_adam, lr=1e-2), params_adam, 50)
    for p, q in zip(params, params_adam, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_equals_adam_with_decoupled_weight_decay(device):
    from dlhandbook.torch_optim.adam import Adam

    params, params_adam = harness.make_params(device), harness.make_params(device)
    harness.run(OURS(params, lr=1e-2, weight_decay=0.1), params, 50)
    harness.run(Adam(params_adam, lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True),
                params_adam, 50)
    for p, q in zip(params, params_adam, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def _decay_effect(optimizer_cls, device, steps=100, **kwargs):
    """What weight decay alone does to two equal weights whose gradient noise differs in scale
    by 10^5: theta after ``steps`` noisy steps with decay minus theta after the same without."""
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(steps, 1, generator=gen, dtype=torch.float64).to(device)
    scale = torch.tensor([1e-3, 1e2], dtype=torch.float64, device=device)
    after = []
    for weight_decay in (0.0, 0.1):
        p = torch.ones(2, dtype=torch.float64, device=device, requires_grad=True)
        optimizer = optimizer_cls([p], lr=1e-2, weight_decay=weight_decay, **kwargs)
        for n in noise:
            p.grad = n * scale                               # same draws, scaled per weight
            optimizer.step()
        after.append(p.detach())
    return after[1] - after[0]


def test_decay_shrinks_every_weight_alike_whatever_its_gradient(device):
    from dlhandbook.torch_optim.adam import Adam

    decoupled = _decay_effect(OURS, device)                  # AdamW: the same for both weights
    assert decoupled[0] < -0.05
    torch.testing.assert_close(decoupled[1], decoupled[0], rtol=1e-4, atol=0)
    coupled = _decay_effect(Adam, device)                    # L2 inside Adam: divided by sqrt(v)
    assert coupled[0] < -0.05
    assert coupled[1].abs() < coupled[0].abs() / 100         # large-gradient weight barely decays


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
