import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.losses.cross_entropy import (
    cross_entropy,
    cross_entropy_grad,
    cross_entropy_torch,
    softmax_then_log_cross_entropy,
)
from helpers import assert_matches_torch, central_difference, rel_error

OPTIONS = [
    {},
    {"reduction": "sum"},
    {"reduction": "none"},
    {"weight": [0.5, 2.0, 1.0, 3.0]},
    {"ignore_index": 1},
    {"label_smoothing": 0.1},
    {"weight": [0.5, 2.0, 1.0, 3.0], "ignore_index": 2, "label_smoothing": 0.2},
    {"weight": [0.5, 2.0, 1.0, 3.0], "label_smoothing": 0.3, "reduction": "none"},
    {"weight": [0.5, 2.0, 1.0, 3.0], "label_smoothing": 0.3, "reduction": "sum"},
]


def _problem(rng, n=6, k=4):
    z = rng.standard_normal((n, k)) * 3
    y = np.array([0, 1, 2, 3, 1, 2])[:n]
    return z, y


@pytest.mark.parametrize("opts", OPTIONS)
def test_matches_torch_values_and_gradients(device, rng, opts):
    z, y = _problem(rng)
    yt = torch.tensor(y, device=device)
    w = opts.get("weight")
    t_opts = dict(opts)
    if w is not None:
        t_opts["weight"] = torch.tensor(w, dtype=torch.float64, device=device)

    def np_grad(x, g):
        return cross_entropy_grad(x, y, grad_out=g, **opts)

    assert_matches_torch(lambda x: cross_entropy(x, y, **opts),
                         lambda t: F.cross_entropy(t, yt, **t_opts), [z],
                         np_grad_fn=np_grad, device=device)
    # our torch.autograd.Function gives the same values and gradients as torch
    zt = torch.tensor(z, device=device, requires_grad=True)
    ours, ref = cross_entropy_torch(zt, yt, **t_opts), F.cross_entropy(zt, yt, **t_opts)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-13)
    up = torch.randn_like(ref)
    (g1,) = torch.autograd.grad(ours, zt, up)
    (g2,) = torch.autograd.grad(ref, zt, up)
    torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("opts", OPTIONS[3:7])
def test_gradient_matches_finite_differences(rng, opts):
    z, y = _problem(rng)
    opts = {**opts, "reduction": opts.get("reduction", "mean")}
    numeric = central_difference(lambda x: float(np.sum(cross_entropy(x, y, **opts))), z)
    assert rel_error(cross_entropy_grad(z, y, **opts), numeric) < 1e-6


def test_torch_function_passes_gradcheck(device):
    z = torch.randn(5, 3, dtype=torch.float64, device=device, requires_grad=True)
    y = torch.tensor([0, 2, 1, 1, 0], device=device)
    w = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64, device=device)
    assert torch.autograd.gradcheck(
        lambda t: cross_entropy_torch(t, y, weight=w, label_smoothing=0.2), (z,))


def test_gradient_is_softmax_minus_one_hot(rng):
    z, y = _problem(rng)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = (p - np.eye(4)[y]) / len(y)
    np.testing.assert_allclose(cross_entropy_grad(z, y), expected, atol=1e-15, rtol=0)


def test_softmax_then_log_fails_where_fused_form_is_exact():
    z = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, -1e4]])
    y = np.array([0, 2])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        naive = softmax_then_log_cross_entropy(z, y)
    assert not np.isfinite(naive)                           # nan or inf
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        fused = cross_entropy(z, y)
        grad = cross_entropy_grad(z, y)
    # sample 0 is right (loss 0), sample 1 is wrong by 2e4: mean is exactly 1e4
    assert fused == 1e4
    np.testing.assert_array_equal(grad, [[0, 0, 0], [0, 0.5, -0.5]])
    ref = F.cross_entropy(torch.tensor(z), torch.tensor(y))
    assert float(ref) == fused


def test_torch_function_finite_at_logits_1e4(device):
    z = torch.tensor([[1e4, 0.0, -1e4]], dtype=torch.float64, device=device,
                     requires_grad=True)
    loss = cross_entropy_torch(z, torch.tensor([2], device=device))
    loss.backward()
    assert loss.item() == 2e4
    assert torch.isfinite(z.grad).all()


def test_label_smoothing_is_mixture_of_one_hot_and_uniform_cross_entropy(rng):
    z, y = _problem(rng)
    eps = 0.25
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    uniform_ce = -logp.mean(axis=1)                         # target 1/K for every class
    expected = (1 - eps) * cross_entropy(z, y, reduction="none") + eps * uniform_ce
    got = cross_entropy(z, y, reduction="none", label_smoothing=eps)
    np.testing.assert_allclose(got, expected, atol=1e-13, rtol=0)


def test_is_categorical_negative_log_likelihood(rng):
    z, y = _problem(rng)
    dist = torch.distributions.Categorical(logits=torch.tensor(z))
    nll = -dist.log_prob(torch.tensor(y)).mean()
    np.testing.assert_allclose(cross_entropy(z, y), float(nll), atol=1e-13, rtol=0)


def test_ignored_samples_contribute_nothing(rng):
    z, y = _problem(rng)
    y_ign = y.copy()
    y_ign[:2] = -100
    np.testing.assert_allclose(cross_entropy(z, y_ign), cross_entropy(z[2:], y[2:]),
                               atol=1e-14, rtol=0)
    assert (cross_entropy_grad(z, y_ign)[:2] == 0).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_torch_low_precision_matches_torch(device, dtype):
    g = torch.Generator().manual_seed(0)
    z = (torch.randn(8, 5, generator=g) * 3).to(device=device, dtype=dtype)
    z.requires_grad_(True)
    y = torch.randint(0, 5, (8,), generator=g).to(device)
    ours, ref = cross_entropy_torch(z, y), F.cross_entropy(z, y)
    tol = {torch.float32: 1e-5, torch.float16: 2e-2, torch.bfloat16: 5e-2}[dtype]
    torch.testing.assert_close(ours, ref, rtol=tol, atol=tol)
    (g1,) = torch.autograd.grad(ours, z)
    (g2,) = torch.autograd.grad(ref, z)
    torch.testing.assert_close(g1, g2, rtol=tol, atol=tol)


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"logits": np.zeros(3)}, "logits"),
    ({"logits": np.zeros((2, 3), dtype=int)}, "logits"),
    ({"target": np.array([0, 1, 2])}, "target"),
    ({"target": np.array([0, 3])}, "target"),
    ({"target": np.array([0.0, 1.0])}, "target"),
    ({"weight": [1.0, 2.0]}, "weight"),
    ({"reduction": "avg"}, "reduction"),
    ({"label_smoothing": -0.1}, "label_smoothing"),
])
def test_bad_input_raises_naming_the_argument(kwargs, word):
    args = {"logits": np.zeros((2, 3)), "target": np.array([0, 1]), **kwargs}
    with pytest.raises((ValueError, TypeError), match=word):
        cross_entropy(**args)


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"input": torch.zeros(3)}, "input"),
    ({"target": torch.tensor([0.0, 1.0])}, "target"),
    ({"target": torch.tensor([0, 1, 2])}, "target"),
    ({"reduction": "avg"}, "reduction"),
    ({"label_smoothing": -0.1}, "label_smoothing"),
])
def test_torch_bad_input_raises_naming_the_argument(kwargs, word):
    args = {"input": torch.zeros(2, 3), "target": torch.tensor([0, 1]), **kwargs}
    with pytest.raises((ValueError, TypeError), match=word):
        cross_entropy_torch(**args)


def test_confidently_wrong_gradient_of_ce_is_over_1000_times_that_of_mse_on_softmax():
    z = np.array([[-10.0, 10.0, 0.0]])                      # true class 0, predicted 1
    y = np.array([0])
    g_ce = cross_entropy_grad(z, y)
    zt = torch.tensor(z, requires_grad=True)
    mse = ((torch.softmax(zt, dim=1) - torch.tensor([[1.0, 0.0, 0.0]])) ** 2).sum()
    (g_mse,) = torch.autograd.grad(mse, zt)
    assert np.linalg.norm(g_ce) > 1.4                        # sqrt(2) minus 1e-8
    assert np.linalg.norm(g_ce) > 1e3 * float(g_mse.norm())


def test_sigmoid_logit_gradient_ce_stays_near_one_while_squared_error_vanishes():
    from dlhandbook.losses.binary_cross_entropy import binary_cross_entropy_with_logits_grad
    p = np.array([1e-2, 1e-4, 1e-6])                        # confidently wrong, target 1
    z = np.log(p) - np.log1p(-p)
    g_ce = np.abs(binary_cross_entropy_with_logits_grad(z, np.ones(3), reduction="none"))
    zt = torch.tensor(z, requires_grad=True)
    (g_se,) = torch.autograd.grad(((torch.sigmoid(zt) - 1) ** 2).sum(), zt)
    np.testing.assert_allclose(g_ce, 1 - p, rtol=1e-12)               # >= 0.99
    assert (g_se.abs().numpy() < 2 * p).all()              # 2 (1 - p)^2 p < 2 p


def test_cross_entropy_is_convex_in_linear_weights_and_mse_on_softmax_is_not():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(20, 3, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (20,), generator=g)
    onehot = torch.eye(3, dtype=torch.float64)[y]

    def ce(w):
        return F.cross_entropy(X @ w.reshape(3, 3), y)

    def mse(w):
        return ((torch.softmax(X @ w.reshape(3, 3), dim=1) - onehot) ** 2).sum(1).mean()

    ce_min, mse_min = [], []
    for _ in range(10):                                     # 10 random weight points
        w = torch.randn(9, generator=g, dtype=torch.float64) * 3
        ce_min.append(torch.linalg.eigvalsh(torch.autograd.functional.hessian(ce, w)).min())
        mse_min.append(torch.linalg.eigvalsh(torch.autograd.functional.hessian(mse, w)).min())
    assert min(ce_min) > -1e-12                              # positive semi-definite everywhere
    assert min(mse_min) < -1e-3                              # a direction of negative curvature


@pytest.mark.parametrize("opts", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                  {"weight": [0.5, 2.0, 1.0, 3.0], "ignore_index": 1}])
def test_nll_loss_matches_torch_and_of_log_softmax_is_cross_entropy(rng, opts):
    from dlhandbook.losses.cross_entropy import log_softmax, nll_loss
    z, y = _problem(rng)
    logp = log_softmax(z)
    t_opts = dict(opts)
    if "weight" in opts:
        t_opts["weight"] = torch.tensor(opts["weight"], dtype=torch.float64)
    ref = F.nll_loss(torch.tensor(logp), torch.tensor(y), **t_opts)
    np.testing.assert_allclose(nll_loss(logp, y, **opts), ref.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(nll_loss(logp, y, **opts), cross_entropy(z, y, **opts),
                               rtol=1e-12, atol=1e-14)


def test_nll_loss_bad_input_names_log_probs():
    from dlhandbook.losses.cross_entropy import nll_loss
    with pytest.raises(ValueError, match="log_probs"):
        nll_loss(np.zeros(3), np.array([0]))


def test_per_sample_gradient_norm_is_at_most_sqrt_two(rng):
    z = rng.standard_normal((500, 10)) * rng.uniform(0.1, 30, (500, 1))
    y = rng.integers(0, 10, 500)
    g = cross_entropy_grad(z, y, reduction="none")
    norms = np.linalg.norm(g, axis=1)
    assert norms.max() <= np.sqrt(2)
    assert norms.max() > 1.3                                # the bound is nearly reached


@pytest.mark.parametrize("eps, K", [(0.1, 5), (0.2, 10)])
def test_label_smoothing_gives_a_finite_optimal_logit_gap(eps, K):
    """Logits (d, 0, ..., 0) for true class 0: with smoothing the loss is minimal at the finite
    gap d* = log((1 - eps + eps/K) / (eps/K)), where the gradient vanishes; without smoothing
    the loss keeps falling as d grows."""
    def loss(d, smoothing):
        z = np.zeros((1, K))
        z[0, 0] = d
        return cross_entropy(z, np.array([0]), label_smoothing=smoothing)

    d_star = np.log((1 - eps + eps / K) / (eps / K))
    z_star = np.zeros((1, K))
    z_star[0, 0] = d_star
    assert np.abs(cross_entropy_grad(z_star, np.array([0]), label_smoothing=eps)).max() < 1e-12
    assert loss(d_star, eps) < min(loss(d_star - 0.5, eps), loss(d_star + 0.5, eps))
    gaps = [1.0, 5.0, 10.0, 20.0, 40.0]
    hard = [loss(d, 0.0) for d in gaps]
    assert all(a > b for a, b in zip(hard, hard[1:], strict=False))
    smooth = [loss(d, eps) for d in gaps]
    assert smooth[-1] > smooth[-2] > loss(d_star, eps)   # past d* the smoothed loss climbs
