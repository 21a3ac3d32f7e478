"""Checks shared by the tests of ``dlhandbook.torch_optim``: one function per property.

Import as ``from torch_optim.harness import ...`` (``tests/`` is on the path). Every check
builds its own small float64 problem, so each optimizer's test file is a list of one-liners.

The problem: a few small tensors ``theta`` and, at step t, the gradient
``g = sign * theta + n_t`` of ``sign/2 |theta|^2 + n_t . theta`` with fixed noise ``n_t``
(seeded by t). Both optimizers under comparison get the same noise; ``sign`` is -1 when
``maximize=True`` so that ascent also converges and long runs stay well conditioned.

The checks at the end cover what a drop-in meets in real training: float32, float16 and
bfloat16 with gradients from 1e-20 to 1e20 (each of our paths against the same torch
path), checkpoints of an older torch whose groups lack newer keys, a tensor learning
rate, and the torch options we deliberately leave out. The last block checks ``fused=True``
(torch's single-pass kernel behind our classes): bit for bit torch's fused optimizer, equal
to our loop, and the errors torch raises for what its fused kernels do not support.
"""

from __future__ import annotations

import copy
import inspect

import pytest
import torch

SHAPES = [(3, 4), (5,), (2, 3, 2)]
TOL = dict(rtol=1e-10, atol=1e-10)


def make_params(device, seed=0, shapes=SHAPES, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype)
            .requires_grad_(True) for s in shapes]


def clone_params(params):
    return [p.detach().clone().requires_grad_(True) for p in params]


def set_grads(params, t, maximize=False, skip=()):
    """Gradient of step ``t``: ``sign * theta + n_t``; ``skip`` lists indices left without grad."""
    gen = torch.Generator().manual_seed(1000 + t)
    sign = -1.0 if maximize else 1.0
    for i, p in enumerate(params):
        noise = torch.randn(p.shape, generator=gen, dtype=torch.float64)
        if i in skip:
            p.grad = None
        else:
            p.grad = (sign * p.detach() + noise.to(device=p.device, dtype=p.dtype))


def run(optimizer, params, steps, start=0, maximize=False, skip_every=0):
    for t in range(start, start + steps):
        skip = (t % len(params),) if skip_every and t % skip_every == 0 else ()
        set_grads(params, t, maximize=maximize, skip=skip)
        optimizer.step()


def assert_state_close(ours, ref, params_ours, params_ref, **tol):
    """Every tensor in torch's state has an equal tensor under the same key in ours."""
    for p, q in zip(params_ours, params_ref, strict=True):
        ref_state = ref.state[q]
        for key, value in ref_state.items():
            if key == "step":
                assert int(ours.state[p]["step"]) == int(value)
            elif torch.is_tensor(value):
                torch.testing.assert_close(ours.state[p][key], value, **tol)


def assert_follows_torch(ours_cls, torch_cls, kwargs, device, foreach, steps=200):
    """From the same start and noise, ours stays within 1e-10 of torch.optim for ``steps`` steps."""
    maximize = kwargs.get("maximize", False)
    params = make_params(device)
    params_ref = clone_params(params)
    ours = ours_cls(params, foreach=foreach, **kwargs)
    ref = torch_cls(params_ref, foreach=False, **kwargs)
    for start in range(0, steps, 20):                     # compare every 20 steps
        run(ours, params, 20, start=start, maximize=maximize)
        run(ref, params_ref, 20, start=start, maximize=maximize)
        for p, q in zip(params, params_ref, strict=True):
            torch.testing.assert_close(p, q, **TOL, msg=lambda m, t=start: f"step {t + 20}: {m}")
    assert_state_close(ours, ref, params, params_ref, **TOL)
    initial = make_params(device)
    moved = max((p - q).abs().max().item() for p, q in zip(params, initial, strict=True))
    assert moved > 1e-3, "the trajectory must actually move"


def assert_loop_equals_foreach(ours_cls, kwargs, device, steps=60):
    """Both paths agree, with mixed dtypes (foreach buckets) and some gradients missing."""
    maximize = kwargs.get("maximize", False)
    shapes = SHAPES + [(7,), (4, 4)]
    params = make_params(device, shapes=shapes)
    params[-1] = params[-1].detach().float().requires_grad_(True)   # a float32 bucket
    params_fe = clone_params(params)
    loop = ours_cls(params, foreach=False, **kwargs)
    fast = ours_cls(params_fe, foreach=True, **kwargs)
    run(loop, params, steps, maximize=maximize, skip_every=3)
    run(fast, params_fe, steps, maximize=maximize, skip_every=3)
    for p, q in zip(params, params_fe, strict=True):
        tol = dict(rtol=1e-12, atol=1e-12) if p.dtype == torch.float64 else dict(rtol=1e-5,
                                                                                 atol=1e-6)
        torch.testing.assert_close(p, q, **tol)
    for p, q in zip(params, params_fe, strict=True):
        for key, value in fast.state[q].items():
            if torch.is_tensor(value):
                tol = dict(rtol=1e-12, atol=1e-12) if value.dtype == torch.float64 else dict(
                    rtol=1e-5, atol=1e-6)
                torch.testing.assert_close(loop.state[p][key], value, **tol)
            else:
                assert loop.state[p][key] == value


def assert_rejects(ours_cls, kwargs, name, error=ValueError):
    params = make_params("cpu")
    with pytest.raises(error, match=name):
        ours_cls(params, **kwargs)


def assert_state_dict_round_trip(ours_cls, kwargs, device, k=7):
    """Train k steps, save, load into a fresh optimizer, train k more == 2k uninterrupted."""
    maximize = kwargs.get("maximize", False)
    params = make_params(device)
    straight = ours_cls(params, **kwargs)
    run(straight, params, 2 * k, maximize=maximize)

    first = make_params(device)
    opt = ours_cls(first, **kwargs)
    run(opt, first, k, maximize=maximize)
    saved = copy.deepcopy(opt.state_dict())
    second = clone_params(first)
    resumed = ours_cls(second, **kwargs)
    resumed.load_state_dict(saved)
    run(resumed, second, k, start=k, maximize=maximize)
    for p, q in zip(params, second, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def assert_loads_torch_state_dict(ours_cls, torch_cls, kwargs, device, k=7):
    """A state_dict saved by torch.optim resumes in ours exactly as it resumes in torch."""
    maximize = kwargs.get("maximize", False)
    params_ref = make_params(device)
    ref = torch_cls(params_ref, foreach=False, **kwargs)
    run(ref, params_ref, k, maximize=maximize)
    params = clone_params(params_ref)
    ours = ours_cls(params, **kwargs)
    ours.load_state_dict(copy.deepcopy(ref.state_dict()))
    run(ref, params_ref, k, start=k, maximize=maximize)
    run(ours, params, k, start=k, maximize=maximize)
    for p, q in zip(params, params_ref, strict=True):
        torch.testing.assert_close(p, q, **TOL)


def assert_torch_loads_our_state_dict(ours_cls, torch_cls, kwargs, device, k=7):
    """A state_dict saved by ours resumes in torch.optim exactly as it resumes in ours."""
    maximize = kwargs.get("maximize", False)
    params = make_params(device)
    ours = ours_cls(params, **kwargs)
    run(ours, params, k, maximize=maximize)
    params_ref = clone_params(params)
    ref = torch_cls(params_ref, foreach=False, **kwargs)
    ref.load_state_dict(copy.deepcopy(ours.state_dict()))
    run(ours, params, k, start=k, maximize=maximize)
    run(ref, params_ref, k, start=k, maximize=maximize)
    for p, q in zip(params, params_ref, strict=True):
        torch.testing.assert_close(p, q, **TOL)


def assert_param_groups_match_torch(ours_cls, torch_cls, kwargs, device, steps=50):
    """Two groups with different lr (and the second with its own weight decay) match torch."""
    lr = kwargs.get("lr", 1e-2)

    def groups(params):
        return [{"params": params[:2]},
                {"params": params[2:], "lr": lr / 10, "weight_decay": 0.05}]

    params = make_params(device)
    params_ref = clone_params(params)
    ours = ours_cls(groups(params), **kwargs)
    ref = torch_cls(groups(params_ref), foreach=False, **kwargs)
    run(ours, params, steps)
    run(ref, params_ref, steps)
    for p, q in zip(params, params_ref, strict=True):
        torch.testing.assert_close(p, q, **TOL)
    assert ours.param_groups[1]["lr"] == lr / 10


def assert_rejects_sparse_gradients(ours_cls, kwargs):
    emb = torch.nn.Embedding(6, 3, sparse=True)
    opt = ours_cls(emb.parameters(), **kwargs)
    emb(torch.tensor([1, 2])).sum().backward()
    assert emb.weight.grad.is_sparse
    before = emb.weight.detach().clone()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()
    torch.testing.assert_close(emb.weight.detach(), before, rtol=0, atol=0)


def assert_skips_params_without_grad(ours_cls, kwargs, device):
    for foreach in (False, True):
        params = make_params(device)
        frozen = params[1].detach().clone()
        opt = ours_cls(params, foreach=foreach, **kwargs)
        for t in range(3):
            set_grads(params, t, maximize=kwargs.get("maximize", False), skip=(1,))
            opt.step()
        torch.testing.assert_close(params[1].detach(), frozen, rtol=0, atol=0)
        assert params[1] not in opt.state or not opt.state[params[1]]
        assert not torch.equal(params[0].detach(), make_params(device)[0].detach())


def assert_closure_matches_torch(ours_cls, torch_cls, kwargs, device, steps=20):
    """step(closure) evaluates the closure with grad enabled and returns its loss, like torch."""
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(32, 4, generator=gen, dtype=torch.float64).to(device)
    y = torch.randn(32, 1, generator=gen, dtype=torch.float64).to(device)

    def train(optimizer_cls, model, **extra):
        optimizer = optimizer_cls(model.parameters(), **kwargs, **extra)

        def closure():
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(X), y)
            loss.backward()
            return loss

        return [optimizer.step(closure).item() for _ in range(steps)]

    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1).double().to(device)
    model_ref = copy.deepcopy(model)
    losses = train(ours_cls, model)
    losses_ref = train(torch_cls, model_ref, foreach=False)
    assert losses == pytest.approx(losses_ref, rel=1e-10, abs=1e-12)
    for p, q in zip(model.parameters(), model_ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, **TOL)


def assert_signature_matches_torch(ours_cls, torch_cls):
    """Every keyword of ours exists in torch with the same default; positional order agrees."""
    ours = inspect.signature(ours_cls.__init__).parameters
    ref = inspect.signature(torch_cls.__init__).parameters
    for name, param in ours.items():
        assert name in ref, f"{name} is not a torch.optim keyword"
        assert param.default == ref[name].default, name
    positional = [n for n, p in ours.items() if p.kind == p.POSITIONAL_OR_KEYWORD]
    ref_positional = [n for n, p in ref.items() if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert positional == ref_positional[: len(positional)]


# --- real-world conditions: low precision, extreme magnitudes, old checkpoints, tensor lr ---

LOW_PRECISION = [torch.float32, torch.float16, torch.bfloat16]
MAGNITUDES = [10.0**k for k in range(-20, 21, 4)]           # gradient scales 1e-20 ... 1e20
OLD_CHECKPOINT_KEYS = ("maximize", "foreach", "differentiable", "capturable", "fused",
                       "decoupled_weight_decay")            # group keys newer torch added


def ulps(dtype, n=2):
    """``n`` units in the last place of ``dtype`` (its machine epsilon times n)."""
    return n * torch.finfo(dtype).eps


def assert_matches_torch_in_low_precision(ours_cls, torch_cls, kwargs, device, foreach, dtype,
                                          steps=5):
    """Our path against the same torch path in ``dtype``, gradients scaled 1e-20 ... 1e20.

    For every scale at which torch's parameters stay finite, ours are finite too and within
    2 ulps of torch's (relative to |theta| + 1e-3). Torch must stay finite at two scales
    or more (float16 spans only about 6e-8 to 65504) and move its parameters by over 1e-3
    at one or more, so the comparison is not vacuous.
    """
    compared = moved_at = 0
    for scale in MAGNITUDES:
        gen = torch.Generator().manual_seed(0)
        start = [torch.randn(6, generator=gen, dtype=torch.float64).to(device, dtype)
                 for _ in range(2)]
        params = [x.clone().requires_grad_(True) for x in start]
        params_ref = [x.clone().requires_grad_(True) for x in start]
        ours = ours_cls(params, foreach=foreach, **kwargs)
        ref = torch_cls(params_ref, foreach=foreach, **kwargs)
        for t in range(steps):
            noise = torch.Generator().manual_seed(100 + t)
            for p, q in zip(params, params_ref, strict=True):
                g = torch.randn(6, generator=noise, dtype=torch.float64) * scale
                p.grad = g.to(device, dtype)
                q.grad = g.to(device, dtype)
            ours.step()
            ref.step()
        got = torch.cat([p.detach().double() for p in params])
        want = torch.cat([q.detach().double() for q in params_ref])
        if not torch.isfinite(want).all():
            continue                                         # torch itself over/underflows
        compared += 1
        moved = (want - torch.cat([x.double() for x in start])).abs().max().item()
        moved_at += moved > 1e-3
        assert torch.isfinite(got).all(), f"ours is not finite at gradient scale {scale:g}"
        tol = ulps(dtype)
        torch.testing.assert_close(got, want, rtol=tol, atol=tol * 1e-3,
                                   msg=lambda m, s=scale: f"gradient scale {s:g}: {m}")
    assert compared >= 2, f"torch was finite at only {compared} gradient scales"
    assert moved_at >= 1, "torch never moved the parameters by over 1e-3"


def assert_resumes_old_checkpoint(ours_cls, torch_cls, kwargs, device, k=7):
    """A torch.optim state_dict as an older torch saved it (groups without the keys newer
    torch added, ``step`` a Python int) loads and resumes in ours exactly as it does in
    torch, and both fill in the same defaults."""
    params_ref = make_params(device)
    ref = torch_cls(params_ref, foreach=False, **kwargs)
    run(ref, params_ref, k)
    saved = copy.deepcopy(ref.state_dict())
    removed = set()
    for group in saved["param_groups"]:
        for key in OLD_CHECKPOINT_KEYS:
            if group.pop(key, "absent") != "absent":
                removed.add(key)
    assert {"maximize", "foreach"} <= removed
    for state in saved["state"].values():                   # torch < 1.12 saved an int step
        if "step" in state:
            state["step"] = int(state["step"])
    params, params_again = clone_params(params_ref), clone_params(params_ref)
    ours = ours_cls(params, **kwargs)
    ours.load_state_dict(copy.deepcopy(saved))
    again = torch_cls(params_again, **kwargs)
    again.load_state_dict(copy.deepcopy(saved))
    for key in removed:
        assert ours.param_groups[0][key] == again.param_groups[0][key], key
    run(ours, params, k, start=k)
    run(again, params_again, k, start=k)
    for p, q in zip(params, params_again, strict=True):
        torch.testing.assert_close(p, q, **TOL)
    assert not torch.equal(params[0], params_ref[0]), "the resumed run must move"


def assert_tensor_lr_like_torch(ours_cls, torch_cls, kwargs, device, steps=10):
    """A tensor lr, written into ``param_groups`` or given to the constructor, on each path
    (foreach False, True and, for the constructor, None): where torch accepts it ours
    follows the same trajectory; where torch rejects it ours raises an error naming ``lr``.
    A tensor lr with two elements raises a ValueError naming ``lr``."""
    lr = kwargs.get("lr", 1e-2)
    outcomes = {}
    for foreach in (False, True):
        params = make_params(device)
        params_ref = clone_params(params)
        ours = ours_cls(params, foreach=foreach, **kwargs)
        ref = torch_cls(params_ref, foreach=foreach, **kwargs)
        for optimizer in (ours, ref):
            optimizer.param_groups[0]["lr"] = torch.tensor(lr)
        try:
            run(ref, params_ref, steps)
        except (RuntimeError, ValueError) as error:
            assert "lr" in str(error)
            with pytest.raises((RuntimeError, ValueError), match="lr"):
                run(ours, params, 1)
            outcomes[foreach] = "rejected"
            continue
        run(ours, params, steps)
        for p, q in zip(params, params_ref, strict=True):
            torch.testing.assert_close(p, q, **TOL)
        outcomes[foreach] = "accepted"
    assert outcomes[False] == "accepted"                     # every torch loop accepts it
    for foreach in (None, False, True):                      # a tensor lr in the constructor
        params = make_params(device)
        params_ref = clone_params(params)
        try:
            ref = torch_cls(params_ref, foreach=foreach, **{**kwargs, "lr": torch.tensor(lr)})
        except (RuntimeError, ValueError) as error:
            assert "lr" in str(error)
            with pytest.raises((RuntimeError, ValueError), match="lr"):
                ours_cls(params, foreach=foreach, **{**kwargs, "lr": torch.tensor(lr)})
            continue
        ours = ours_cls(params, foreach=foreach, **{**kwargs, "lr": torch.tensor(lr)})
        many = make_params(device, shapes=[(2,)] * 16)
        many_ref = clone_params(many)
        ours.add_param_group({"params": many})               # 19 tensors: foreach=None
        ref.add_param_group({"params": many_ref})            # would pick multi-tensor
        run(ours, params + many, steps)
        run(ref, params_ref + many_ref, steps)
        for p, q in zip(params + many, params_ref + many_ref, strict=True):
            torch.testing.assert_close(p, q, **TOL)
    params = make_params(device)
    bad = ours_cls(params, foreach=False, **kwargs)
    bad.param_groups[0]["lr"] = torch.tensor([lr, lr])
    with pytest.raises(ValueError, match="lr"):
        run(bad, params, 1)
    return outcomes


def assert_rejects_unoffered_options(ours_cls, torch_cls, offered=()):
    """Options torch has and ours lacks (all but ``offered``) are accepted at torch's default
    and raise an error naming them when set; torch accepts every keyword ours has and vice
    versa."""
    ours = inspect.signature(ours_cls.__init__).parameters
    ref = inspect.signature(torch_cls.__init__).parameters
    assert set(ours) == set(ref)
    unoffered = [n for n in ("fused", "capturable", "differentiable")
                 if n in ref and n not in offered]
    assert unoffered
    for name in unoffered:
        ours_cls(make_params("cpu"), **{name: ref[name].default})
        with pytest.raises(ValueError, match=name):
            ours_cls(make_params("cpu"), **{name: True})


def assert_grad_scaler_matches_torch(ours_cls, torch_cls, kwargs, device, steps=8):
    """Mixed precision with ``torch.amp.GradScaler``: autocast (bfloat16 on CPU, float16 on
    CUDA), one batch with an inf so that the scaler skips that step and halves its scale;
    ours ends where torch.optim ends (float32 weights) with the same scale."""
    device = torch.device(device)
    low = torch.float16 if device.type == "cuda" else torch.bfloat16

    def train(optimizer_cls, model, **extra):
        optimizer = optimizer_cls(model.parameters(), **kwargs, **extra)
        scaler = torch.amp.GradScaler(device.type, init_scale=2.0**16)
        gen = torch.Generator().manual_seed(0)
        for t in range(steps):
            X = torch.randn(16, 4, generator=gen).to(device)
            y = torch.randn(16, 1, generator=gen).to(device)
            if t == 3:
                X[0, 0] = float("inf")                       # an overflowing batch
            optimizer.zero_grad()
            with torch.autocast(device.type, dtype=low):
                loss = torch.nn.functional.mse_loss(model(X), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        return scaler.get_scale()

    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1).to(device)
    model_ref = copy.deepcopy(model)
    start = [p.detach().clone() for p in model.parameters()]
    scale = train(ours_cls, model)
    scale_ref = train(torch_cls, model_ref, foreach=False)
    assert scale == scale_ref < 2.0**16                      # the inf step was skipped
    for p, q, s in zip(model.parameters(), model_ref.parameters(), start, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)
        assert not torch.equal(p, s)


# --- fused=True: torch's single-pass kernel behind our class ---------------------------------

ALL_DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16]


def _fused_problem(device, dtype):
    """Five tensors in ``dtype`` plus one float32 tensor (a second dtype bucket)."""
    params = make_params(device, shapes=SHAPES + [(7,), (4, 4)], dtype=dtype)
    params[-1] = params[-1].detach().float().requires_grad_(True)
    return params


def _assert_same_state(ours, other, params, params_other, **tol):
    for p, q in zip(params, params_other, strict=True):
        assert set(ours.state[p]) == set(other.state[q])
        for key, value in other.state[q].items():
            if key == "step":
                assert float(ours.state[p][key]) == float(value)
            elif torch.is_tensor(value):
                torch.testing.assert_close(ours.state[p][key], value, **tol)


def assert_fused_is_torch_fused(ours_cls, torch_cls, kwargs, device, dtype, steps=30,
                                skip_every=3):
    """Ours with fused=True and torch.optim with fused=True, from the same start and noise
    (two dtype buckets, some gradients missing unless ``skip_every=0``), end bit for bit
    equal, state included."""
    maximize = kwargs.get("maximize", False)
    params = _fused_problem(device, dtype)
    params_ref = clone_params(params)
    ours = ours_cls(params, fused=True, **kwargs)
    ref = torch_cls(params_ref, fused=True, **kwargs)
    run(ours, params, steps, maximize=maximize, skip_every=skip_every)
    run(ref, params_ref, steps, maximize=maximize, skip_every=skip_every)
    for p, q in zip(params, params_ref, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    _assert_same_state(ours, ref, params, params_ref, rtol=0, atol=0)
    start = _fused_problem(device, dtype)
    assert any(not torch.equal(p, s) for p, s in zip(params, start, strict=True))


# Fused against our loop: equal to 1e-12 in float64; in lower precision the kernel keeps its
# intermediates in float32 while the loop rounds each one to ``dtype``, so they may differ by
# a few units in the last place of |theta| + 1 after FUSED_LOOP_STEPS steps.
FUSED_LOOP_STEPS = 10
FUSED_LOOP_ULPS = 8


def assert_fused_equals_loop(ours_cls, kwargs, device, dtype, steps=FUSED_LOOP_STEPS):
    """Our fused path and our per-tensor loop agree (two dtype buckets, gradients missing):
    to 1e-12 in float64 (and the float32 bucket to 1e-6), to FUSED_LOOP_ULPS ulps of
    ``dtype`` (relative to |theta| + 1) in float32, float16 and bfloat16."""
    maximize = kwargs.get("maximize", False)
    params = _fused_problem(device, dtype)
    params_loop = clone_params(params)
    fused = ours_cls(params, fused=True, **kwargs)
    loop = ours_cls(params_loop, foreach=False, **kwargs)
    run(fused, params, steps, maximize=maximize, skip_every=3)
    run(loop, params_loop, steps, maximize=maximize, skip_every=3)

    def tol(t):
        if t.dtype == torch.float64:
            return dict(rtol=1e-12, atol=1e-12)
        if dtype == torch.float64:                      # the float32 bucket
            return dict(rtol=1e-6, atol=1e-6)
        eps = ulps(t.dtype, FUSED_LOOP_ULPS)
        return dict(rtol=eps, atol=eps)

    for p, q in zip(params, params_loop, strict=True):
        torch.testing.assert_close(p, q, **tol(p))
        for key, value in loop.state[q].items():
            if key == "step":
                assert float(fused.state[p][key]) == float(value)
            elif torch.is_tensor(value):
                scale = value.abs().max().item() + 1
                torch.testing.assert_close(fused.state[p][key] / scale, value / scale,
                                           **tol(value))
    start = _fused_problem(device, dtype)
    assert any(not torch.equal(p, s) for p, s in zip(params, start, strict=True))


def assert_fused_rejects_like_torch(ours_cls, torch_cls, kwargs):
    """fused=True with foreach=True, or with an integer or meta-device parameter: torch
    raises a RuntimeError, and so do we, naming ``fused``; fused must be None or a bool."""
    with pytest.raises(RuntimeError):
        torch_cls(make_params("cpu"), fused=True, foreach=True, **kwargs)
    with pytest.raises(RuntimeError, match="fused"):
        ours_cls(make_params("cpu"), fused=True, foreach=True, **kwargs)
    with pytest.raises(TypeError, match="fused"):
        ours_cls(make_params("cpu"), fused="yes", **kwargs)
    for p, g in ((torch.zeros(3, dtype=torch.int64), torch.ones(3, dtype=torch.int64)),
                 (torch.zeros(3, device="meta"), torch.ones(3, device="meta"))):
        for cls in (torch_cls, ours_cls):
            param = p.clone()
            param.grad = g.clone()
            with pytest.raises(RuntimeError, match="fused"):
                cls([param], fused=True, **kwargs).step()


def assert_fused_follows_torch(ours_cls, torch_cls, kwargs, device, steps=100):
    """In float64, ours with fused=True stays within 1e-10 of torch.optim's loop."""
    params = make_params(device)
    params_ref = clone_params(params)
    maximize = kwargs.get("maximize", False)
    ours = ours_cls(params, fused=True, **kwargs)
    ref = torch_cls(params_ref, foreach=False, **kwargs)
    run(ours, params, steps, maximize=maximize)
    run(ref, params_ref, steps, maximize=maximize)
    for p, q in zip(params, params_ref, strict=True):
        torch.testing.assert_close(p, q, **TOL)


def assert_switching_fused_on_and_off_follows_torch(ours_cls, torch_cls, kwargs, device, k=5):
    """``group["fused"]`` switched on and off between steps: each path takes over the step
    count the other kept (an int on the loops, a tensor on the fused path), and the run
    stays on torch.optim's loop."""
    params = make_params(device)
    params_ref = clone_params(params)
    ours = ours_cls(params, **kwargs)
    ref = torch_cls(params_ref, foreach=False, **kwargs)
    for i, fused in enumerate((False, True, False, True)):
        for group in ours.param_groups:
            group["fused"] = fused
        run(ours, params, k, start=i * k)
        steps = [ours.state[p]["step"] for p in params]
        if fused:
            assert all(torch.is_tensor(s) and s.dtype == torch.float32 for s in steps)
        else:
            assert all(type(s) is int for s in steps)
        assert {float(s) for s in steps} == {float((i + 1) * k)}
    run(ref, params_ref, 4 * k)
    for p, q in zip(params, params_ref, strict=True):
        torch.testing.assert_close(p, q, **TOL)


def assert_fused_tensor_lr_is_torch_fused(ours_cls, torch_cls, kwargs, device, steps=10):
    """A one-element tensor lr with fused=True, as torch's fused path accepts it: bit for bit
    torch's trajectory, and the parameters move."""
    lr = torch.tensor(kwargs.get("lr", 1e-2))
    params = make_params(device)
    params_ref = clone_params(params)
    ours = ours_cls(params, fused=True, **{**kwargs, "lr": lr})
    ref = torch_cls(params_ref, fused=True, **{**kwargs, "lr": lr.clone()})
    run(ours, params, steps)
    run(ref, params_ref, steps)
    for p, q in zip(params, params_ref, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert not torch.equal(params[0], make_params(device)[0])
