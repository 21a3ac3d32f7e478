import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from dlhandbook.gradcheck.gradcheck import gradient_check, relative_error
from dlhandbook.nn.mlp import (
    LOSS_FNS,
    MLP,
    backward_with_layerwise_updates,
    cross_entropy_loss,
    grads_from_torch,
    init_mlp,
    loss_and_grads,
    mlp_backward,
    mlp_forward,
    mlp_from_numpy,
    mse_loss,
)

SIZES = {"no-hidden": [3, 4], "two-hidden": [3, 6, 5, 4], "four-hidden": [3, 5, 5, 5, 5, 4]}


def problem(loss, n=7, d_in=3, d_out=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d_in))
    y = rng.standard_normal((n, d_out)) if loss == "mse" else rng.integers(0, d_out, size=n)
    return X, y


def torch_target(y, device):
    t = torch.from_numpy(y).to(device)
    return t if t.is_floating_point() else t.long()


@pytest.mark.parametrize("sizes", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_backward_matches_torch_autograd(activation, loss, sizes, device):
    X, y = problem(loss)
    params = init_mlp(sizes, seed=1)
    J, grads = loss_and_grads(params, X, y, activation, loss)

    model = mlp_from_numpy(params, activation, device)
    J_t = LOSS_FNS[loss](model(torch.from_numpy(X).to(device)), torch_target(y, device))
    J_t.backward()
    assert J == pytest.approx(J_t.item(), rel=1e-12)
    expected = grads_from_torch(model)
    assert grads.keys() == expected.keys()
    for name in grads:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-10, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_backward_passes_finite_difference_check(activation, loss):
    X, y = problem(loss)
    params = init_mlp(SIZES["two-hidden"], seed=2)
    _, grads = loss_and_grads(params, X, y, activation, loss)
    for name, p in params.items():
        # f reads the parameter array that numerical_gradient perturbs in place
        err = gradient_check(lambda _: loss_and_grads(params, X, y, activation, loss)[0],
                             lambda _, name=name: grads[name], p)
        assert err < 1e-6, f"{name}: relative error {err:.2e}"


def test_loss_gradients_are_the_textbook_formulas():
    rng = np.random.default_rng(3)
    logits, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    _, dlogits = cross_entropy_loss(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(dlogits, (p - np.eye(4)[labels]) / 6, atol=1e-15)  # (p - y) / N
    y_hat, y = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    np.testing.assert_allclose(mse_loss(y_hat, y)[1], 2 * (y_hat - y) / 12, atol=1e-15)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0], [0.0, -1000.0]])
    J, d = cross_entropy_loss(logits, np.array([1, 0]))
    assert J == pytest.approx(500.0)
    assert np.isfinite(d).all()


def test_backward_computes_gradients_and_changes_no_parameter(device):
    X, y = problem("cross_entropy")
    params = init_mlp(SIZES["two-hidden"], seed=4)
    before = {k: v.copy() for k, v in params.items()}
    y_hat, cache = mlp_forward(params, X)
    mlp_backward(params, cache, cross_entropy_loss(y_hat, y)[1])
    assert all(np.array_equal(params[k], before[k]) for k in params)

    # PyTorch draws the same line: backward() fills .grad only; optimizer.step() updates.
    model = mlp_from_numpy(params, "tanh", device)
    weights = [p.detach().clone() for p in model.parameters()]
    LOSS_FNS["cross_entropy"](model(torch.from_numpy(X).to(device)), torch_target(y, device)).backward()
    assert all(torch.equal(p, w) for p, w in zip(model.parameters(), weights, strict=True))
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    assert all(not torch.equal(p, w) for p, w in zip(model.parameters(), weights, strict=True))


def test_updating_each_layer_during_the_backward_pass_gives_wrong_gradients():
    X, y = problem("cross_entropy", n=50)
    params = init_mlp(SIZES["two-hidden"], seed=5)
    y_hat, cache = mlp_forward(params, X)
    d_out = cross_entropy_loss(y_hat, y)[1]
    correct = mlp_backward(params, cache, d_out)

    wrong = backward_with_layerwise_updates({k: v.copy() for k, v in params.items()}, cache, d_out,
                                            lr=0.1)
    assert relative_error(wrong["W3"], correct["W3"]) == 0.0    # the top layer is still right
    for name in ("W2", "b2", "W1", "b1"):                        # everything below it is not
        assert relative_error(wrong[name], correct[name]) > 1e-2, name


def test_pytorch_refuses_to_backpropagate_through_weights_updated_after_the_forward_pass(device):
    model = MLP([3, 4, 2]).double().to(device)
    X = torch.randn(5, 3, dtype=torch.float64, device=device)
    loss = LOSS_FNS["cross_entropy"](model(X), torch.randint(0, 2, (5,), device=device))
    with torch.no_grad():
        model.layers[1].weight -= 0.1           # an "update" before the gradient is complete
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def _true_grads(model, X, y):
    model.zero_grad()
    LOSS_FNS["cross_entropy"](model(X), y).backward()
    return [p.grad.clone() for p in model.parameters()]


def test_pytorch_does_not_detect_updates_through_data_or_to_unsaved_weights(device):
    torch.manual_seed(0)
    X = torch.randn(5, 3, dtype=torch.float64, device=device)
    y = torch.randint(0, 2, (5,), device=device)
    # An update through .data bypasses the version counter: no error, wrong gradients below.
    model = MLP([3, 4, 2]).double().to(device)
    true_W0_grad = _true_grads(model, X, y)[0]
    model.zero_grad()
    loss = LOSS_FNS["cross_entropy"](model(X), y)
    model.layers[1].weight.data.mul_(2.0)
    loss.backward()                                     # raises nothing
    assert rel_err(model.layers[0].weight.grad, true_W0_grad) > 0.5
    # The first layer's weight is not saved for backward when X needs no grad (only X is
    # needed for dW0), so updating it in place between forward and backward goes unnoticed.
    model = MLP([3, 4, 2]).double().to(device)
    loss = LOSS_FNS["cross_entropy"](model(X), y)
    with torch.no_grad():
        model.layers[0].weight -= 0.1
    loss.backward()                                     # raises nothing


def rel_err(a, b):
    return ((a - b).norm() / b.norm()).item()


def test_updating_each_parameter_right_after_its_gradient_is_accumulated_is_exact(device):
    """The fused optimizer-in-backward pattern: each node has used the pre-update weight to
    pass its error down before the weight's post-accumulate-grad hook fires."""
    torch.manual_seed(0)
    X = torch.randn(16, 3, dtype=torch.float64, device=device)
    y = torch.randint(0, 4, (16,), device=device)
    lr = 0.1
    model = MLP([3, 8, 8, 4]).double().to(device)
    fused = MLP([3, 8, 8, 4]).double().to(device)
    fused.load_state_dict(model.state_dict())
    grads = _true_grads(model, X, y)                    # standard: backward, then step
    with torch.no_grad():
        for p in model.parameters():
            p.add_(p.grad, alpha=-lr)
    seen = {}

    def step_in_backward(p):
        seen[p] = p.grad.clone()
        with torch.no_grad():
            p.add_(p.grad, alpha=-lr)

    handles = [p.register_post_accumulate_grad_hook(step_in_backward)
               for p in fused.parameters()]
    LOSS_FNS["cross_entropy"](fused(X), y).backward()
    for h in handles:
        h.remove()
    assert len(seen) == len(grads)
    for p, g in zip(fused.parameters(), grads, strict=True):
        assert torch.equal(seen[p], g)                  # bit-identical gradients
    for p, q in zip(fused.parameters(), model.parameters(), strict=True):
        assert torch.equal(p, q)                        # and bit-identical updated weights


def test_backward_costs_at_most_twice_the_forward_flops():
    model = MLP([64, 256, 256, 10]).double()
    X, y = torch.randn(128, 64, dtype=torch.float64), torch.randint(0, 10, (128,))
    with FlopCounterMode(display=False) as forward:
        loss = LOSS_FNS["cross_entropy"](model(X), y)
    with FlopCounterMode(display=False) as backward:
        loss.backward()
    ratio = backward.get_total_flops() / forward.get_total_flops()
    assert 1.0 <= ratio <= 2.0                 # one pass for dW, one for dA (none needed for dX)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params > 10_000                   # finite differences would need 2 * n_params passes


def test_rejects_bad_arguments():
    params = init_mlp([3, 4, 2])
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match="sizes must be"):
        init_mlp([3])
    with pytest.raises(ValueError, match="activation must be"):
        mlp_forward(params, X, "gelu")
    with pytest.raises(ValueError, match="X must be"):
        mlp_forward(params, np.zeros(3))
    with pytest.raises(ValueError, match="X has 2 features"):
        mlp_forward(params, np.zeros((5, 2)))
    with pytest.raises(TypeError, match="params must be"):
        mlp_forward([], X)
    with pytest.raises(ValueError, match="loss must be"):
        loss_and_grads(params, X, np.zeros((5, 2)), loss="hinge")
    with pytest.raises(ValueError, match="y must have"):
        mse_loss(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="y must be"):
        cross_entropy_loss(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="y must lie"):
        cross_entropy_loss(np.zeros((5, 2)), np.full(5, 2))
    with pytest.raises(ValueError, match="d_out must have"):
        y_hat, cache = mlp_forward(params, X)
        mlp_backward(params, cache, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="sizes must be"):
        MLP([3, 0])
    with pytest.raises(ValueError, match="activation must be"):
        MLP([3, 2], "gelu")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_all_zero_weights_give_exactly_zero_hidden_weight_gradients(activation):
    params = {k: np.zeros_like(v) for k, v in init_mlp([3, 5, 5, 4]).items()}
    X, y = problem("cross_entropy")
    _, grads = loss_and_grads(params, X, y, activation, loss="cross_entropy")
    assert not grads["W1"].any() and not grads["W2"].any()    # W_{l+1}^T delta = 0
    assert grads["b3"].any()                                   # the output bias still learns
