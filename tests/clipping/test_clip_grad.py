import math

import numpy as np
import pytest
import torch

from dlhandbook.clipping.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value,
    clip_grad_value_,
    global_grad_norm,
)

SHAPES = [(5, 3), (7,), (2, 2, 2)]
NORM_TYPES = [1.0, 2.0, math.inf, 3.0]


def make_params(device, scale=10.0, seed=0, none_at=None):
    """Parameters with float64 gradients; parameter ``none_at`` has no gradient (grad is None)."""
    gen = torch.Generator().manual_seed(seed)
    params = []
    for i, shape in enumerate(SHAPES):
        p = torch.nn.Parameter(torch.randn(shape, dtype=torch.float64, generator=gen).to(device))
        p.grad = None if i == none_at else (scale * torch.randn(shape, dtype=torch.float64,
                                                                generator=gen)).to(device)
        params.append(p)
    return params


def copy_params(params):
    out = []
    for p in params:
        q = torch.nn.Parameter(p.detach().clone())
        q.grad = None if p.grad is None else p.grad.clone()
        out.append(q)
    return out


def grads_np(params):
    return [None if p.grad is None else p.grad.cpu().numpy().copy() for p in params]


@pytest.mark.parametrize("norm_type", NORM_TYPES)
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
@pytest.mark.parametrize("none_at", [None, 1])
def test_torch_version_is_bit_identical_to_clip_grad_norm_(device, norm_type, max_norm, none_at):
    ours = make_params(device, none_at=none_at)
    theirs = copy_params(ours)
    t_ours = clip_grad_norm_(ours, max_norm, norm_type)
    t_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert torch.equal(t_ours, t_theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert (a.grad is None and b.grad is None) or torch.equal(a.grad, b.grad)


@pytest.mark.parametrize("norm_type", NORM_TYPES)
@pytest.mark.parametrize("none_at", [None, 0])
def test_numpy_version_matches_clip_grad_norm_(device, norm_type, none_at):
    params = make_params(device, none_at=none_at)
    grads = grads_np(params)
    total = clip_grad_norm(grads, 1.0, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(params, 1.0, norm_type)
    assert total == pytest.approx(expected.item(), rel=1e-12)
    for g, p in zip(grads, params, strict=True):
        if p.grad is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, p.grad.cpu().numpy(), rtol=1e-12, atol=0)


def test_clip_by_value_matches_clip_grad_value_(device):
    ours = make_params(device, none_at=2)
    theirs = copy_params(ours)
    grads = grads_np(ours)
    clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    clip_grad_value(grads, 0.5)
    for a, b, g in zip(ours, theirs, grads, strict=True):
        if b.grad is None:
            assert a.grad is None and g is None
            continue
        assert torch.equal(a.grad, b.grad)
        np.testing.assert_array_equal(g, b.grad.cpu().numpy())


def test_zero_gradients_are_left_untouched(device):
    params = make_params(device, scale=0.0)
    grads = grads_np(params)
    assert clip_grad_norm_(params, 1.0).item() == 0.0
    assert clip_grad_norm(grads, 1.0) == 0.0
    assert all(torch.equal(p.grad, torch.zeros_like(p)) for p in params)
    assert all(not g.any() for g in grads)


def test_gradients_below_the_threshold_are_bit_identical(device):
    params = make_params(device, scale=0.01)
    before = [p.grad.clone() for p in params]
    total = clip_grad_norm_(params, 1.0)
    assert total.item() < 1.0
    assert all(torch.equal(p.grad, b) for p, b in zip(params, before, strict=True))


def test_no_gradients_at_all_gives_total_norm_zero():
    params = make_params("cpu", none_at=None)
    for p in params:
        p.grad = None
    assert torch.equal(clip_grad_norm_(params, 1.0), torch.nn.utils.clip_grad_norm_(params, 1.0))
    assert clip_grad_norm([None, None], 1.0) == 0.0


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_non_finite_norm_raises_only_when_asked_and_otherwise_scales_like_torch(device, bad):
    ours = make_params(device)
    ours[0].grad[0, 0] = bad
    theirs = copy_params(ours)
    grads = grads_np(ours)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(copy_params(ours), 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="cannot be clipped"):
        clip_grad_norm_(copy_params(ours), 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="cannot be clipped"):
        clip_grad_norm([g.copy() for g in grads], 1.0, error_if_nonfinite=True)
    t_ours = clip_grad_norm_(ours, 1.0)
    t_theirs = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    t_np = clip_grad_norm(grads, 1.0)
    torch.testing.assert_close(t_ours, t_theirs, equal_nan=True, rtol=0, atol=0)
    assert (math.isnan(t_np) and math.isnan(bad)) or t_np == bad
    for a, b, g in zip(ours, theirs, grads, strict=True):
        torch.testing.assert_close(a.grad, b.grad, equal_nan=True, rtol=0, atol=0)
        np.testing.assert_array_equal(g, b.grad.cpu().numpy())   # NaNs compare equal here


def test_clip_by_norm_keeps_the_direction_clip_by_value_does_not():
    rng = np.random.default_rng(0)
    g = rng.standard_normal(100) * np.linspace(0.1, 10, 100)          # uneven scales
    by_norm, by_value = g.copy(), g.copy()
    clip_grad_norm([by_norm], 1.0)
    clip_grad_value([by_value], 0.05)
    cos = lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b))  # noqa: E731
    assert cos(by_norm, g) == pytest.approx(1.0, abs=1e-12)
    assert np.linalg.norm(by_norm) == pytest.approx(1.0, rel=1e-5)   # 1 - O(1e-6 / ||g||)
    assert cos(by_value, g) < 0.99


def test_global_norm_is_the_norm_of_the_concatenation():
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) for s in SHAPES]
    flat = np.concatenate([g.ravel() for g in grads])
    for p in NORM_TYPES:
        assert global_grad_norm(grads, p) == pytest.approx(np.linalg.norm(flat, ord=p), rel=1e-12)


def quartic_descent(w0, lr, steps, max_norm=None):
    """Gradient descent on f(w) = w^4 (gradient 4 w^3), optionally clipped by norm."""
    w = np.array([w0])
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g = 4 * w**3
            if max_norm is not None:
                clip_grad_norm([g], max_norm)
            w = w - lr * g
    return float(w[0])


def test_descent_on_a_steep_function_diverges_unclipped_and_converges_clipped():
    assert not math.isfinite(quartic_descent(3.0, lr=0.1, steps=300))
    assert abs(quartic_descent(3.0, lr=0.1, steps=300, max_norm=1.0)) < 0.1


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm([np.ones(3)], 1.0, norm_type=0)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm([np.ones(3)], -1.0)
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value([np.ones(3)], math.nan)
    with pytest.raises(TypeError, match="grads"):
        clip_grad_norm([[1.0, 2.0]], 1.0)
    with pytest.raises(TypeError, match="grads"):
        clip_grad_norm([np.array([1, 2])], 1.0)
    with pytest.raises(TypeError, match="parameters"):
        clip_grad_norm_([np.ones(3)], 1.0)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm_(make_params("cpu"), 1.0, norm_type="fro")


def test_mixed_dtypes_match_clip_grad_norm_():
    ours = make_params("cpu")
    with torch.no_grad():
        ours[1].data = ours[1].data.float()
        ours[1].grad = ours[1].grad.float()
    theirs = copy_params(ours)
    t_ours = clip_grad_norm_(ours, 1.0)
    t_theirs = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    torch.testing.assert_close(t_ours, t_theirs, rtol=1e-6, atol=0)
    for a, b in zip(ours, theirs, strict=True):
        assert a.grad.dtype == b.grad.dtype
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-6, atol=0)
