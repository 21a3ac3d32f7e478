import math

import numpy as np
import pytest
import torch

from dlhandbook.autograd.value import Value, autograd_graph, topological_sort

# Each op is applied to our Value and to a float64 tensor alike; domains are kept safe
# (denominators >= 1, log and fractional powers of positive numbers).
UNARY = {
    "exp": (lambda v: v.tanh().exp(), lambda t: torch.exp(torch.tanh(t))),
    "log": (lambda v: (v * v + 1).log(), lambda t: torch.log(t * t + 1)),
    "tanh": (lambda v: v.tanh(), torch.tanh),
    "relu": (lambda v: v.relu(), torch.relu),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
    "pow": (lambda v: (v * v + 0.5) ** 1.5, lambda t: (t * t + 0.5) ** 1.5),
    "neg": (lambda v: -v, lambda t: -t),
    "square": (lambda v: v**2, lambda t: t**2),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (1 + b * b), lambda a, b: a / (1 + b * b)),
    "rdiv": (lambda a, b: 2.0 / (1 + a * a) - b, lambda a, b: 2.0 / (1 + a * a) - b),
}


def random_expression(rng, n_inputs=3, n_ops=25):
    """A random DAG of ops over n_inputs leaves, built twice: from Values and from tensors."""
    xs = rng.uniform(-2, 2, n_inputs)
    leaves_v = [Value(float(x)) for x in xs]
    leaves_t = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]
    pool_v, pool_t = list(leaves_v), list(leaves_t)
    for _ in range(n_ops):
        if rng.random() < 0.5:
            op_v, op_t = UNARY[rng.choice(sorted(UNARY))]
            i = rng.integers(len(pool_v))
            pool_v.append(op_v(pool_v[i]))
            pool_t.append(op_t(pool_t[i]))
        else:
            op_v, op_t = BINARY[rng.choice(sorted(BINARY))]
            i, j = rng.integers(len(pool_v), size=2)      # i == j allowed: fan-out
            pool_v.append(op_v(pool_v[i], pool_v[j]))
            pool_t.append(op_t(pool_t[i], pool_t[j]))
    out_v = pool_v[-1] + pool_v[-2] * pool_v[-3]
    out_t = pool_t[-1] + pool_t[-2] * pool_t[-3]
    return leaves_v, leaves_t, out_v, out_t


def test_random_expressions_match_torch_autograd():
    rng = np.random.default_rng(0)
    for _ in range(40):
        leaves_v, leaves_t, out_v, out_t = random_expression(rng)
        out_v.backward()
        grads_t = torch.autograd.grad(out_t, leaves_t, allow_unused=True)
        assert out_v.data == pytest.approx(out_t.item(), rel=1e-12, abs=1e-12)
        for v, g in zip(leaves_v, grads_t, strict=True):
            expected = 0.0 if g is None else g.item()
            assert v.grad == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_worked_example_matches_torch():
    a, b, c = Value(2.0), Value(-3.0), Value(0.5)
    f = ((a * b + c).tanh() * a + a**2 / b).exp() * c + a
    f.backward()
    at, bt, ct = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2.0, -3.0, 0.5))
    ft = torch.exp(torch.tanh(at * bt + ct) * at + at**2 / bt) * ct + at
    ft.backward()
    assert f.data == pytest.approx(ft.item(), rel=1e-14)
    for v, t in ((a, at), (b, bt), (c, ct)):
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-12)


def value_mlp(x, weights, biases):
    """A tanh MLP with a linear output, built from Values: x is a list, weights lists of rows."""
    h = x
    for layer, (W, b) in enumerate(zip(weights, biases, strict=True)):
        z = [sum((w * hi for w, hi in zip(row, h, strict=True)), bj) for row, bj in zip(W, b, strict=True)]
        h = z if layer == len(weights) - 1 else [zi.tanh() for zi in z]
    return h


def test_mlp_built_from_values_matches_torch():
    rng = np.random.default_rng(1)
    sizes = [3, 4, 4, 1]
    Ws = [rng.standard_normal((o, i)) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.standard_normal(o) for o in sizes[1:]]
    X, y = rng.standard_normal((5, 3)), rng.standard_normal(5)

    Wv = [[[Value(w) for w in row] for row in W] for W in Ws]
    bv = [[Value(b) for b in bb] for bb in bs]
    outputs = [value_mlp([Value(x) for x in xi], Wv, bv)[0] for xi in X]
    loss_v = sum(((o - yi) ** 2 for o, yi in zip(outputs, y, strict=True)), Value(0.0)) / len(y)
    loss_v.backward()

    Wt = [torch.tensor(W, requires_grad=True) for W in Ws]
    bt = [torch.tensor(b, requires_grad=True) for b in bs]
    h = torch.tensor(X)
    for layer, (W, b) in enumerate(zip(Wt, bt, strict=True)):
        h = h @ W.T + b
        h = h if layer == len(Wt) - 1 else torch.tanh(h)
    loss_t = torch.mean((h[:, 0] - torch.tensor(y)) ** 2)
    loss_t.backward()

    assert loss_v.data == pytest.approx(loss_t.item(), rel=1e-12)
    for W, Wtt in zip(Wv, Wt, strict=True):
        got = np.array([[w.grad for w in row] for row in W])
        np.testing.assert_allclose(got, Wtt.grad.numpy(), rtol=1e-10, atol=1e-13)
    for b, btt in zip(bv, bt, strict=True):
        np.testing.assert_allclose([v.grad for v in b], btt.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_gradients_add_up_over_paths_when_a_value_is_reused():
    x = Value(3.0)
    g = x * x + x                              # x reaches g along three edges
    g.backward()
    assert x.grad == 7.0                       # d(x^2 + x)/dx = 2x + 1


def test_backward_visits_each_node_once_in_reverse_topological_order():
    a, b = Value(1.5), Value(-0.5)
    c = a * b
    out = (c + a).tanh() * c
    order = topological_sort(out)
    assert order[-1] is out
    position = {id(n): i for i, n in enumerate(order)}
    assert len(position) == len(order)         # no node twice
    for node in order:
        assert all(position[id(child)] < position[id(node)] for child in node._prev)


def test_topological_sort_handles_deep_graphs_without_recursion():
    x = Value(0.5)
    y = x
    for _ in range(5000):                      # deeper than Python's default recursion limit
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_sigmoid_is_stable_and_relu_gradient_is_zero_at_zero():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    z = Value(0.0)
    z.relu().backward()
    assert z.grad == 0.0                       # PyTorch's convention at the kink
    assert Value(0.3).sigmoid().data == pytest.approx(1 / (1 + math.exp(-0.3)), rel=1e-15)


def test_pytorch_records_a_new_graph_on_every_run():
    def f(x):
        y = x
        while y.abs() < 10:                    # data-dependent control flow
            y = y * 2
        return y

    small = f(torch.tensor(0.1, requires_grad=True))
    large = f(torch.tensor(3.0, requires_grad=True))
    assert autograd_graph(small).count("MulBackward0") == 7   # 0.1 * 2^7 = 12.8
    assert autograd_graph(large).count("MulBackward0") == 2   # 3 * 2^2 = 12
    assert autograd_graph(small)[0] == "AccumulateGrad"       # the leaf comes first


def test_rejects_bad_arguments():
    with pytest.raises(TypeError, match="data must be"):
        Value("1.0")
    with pytest.raises(TypeError, match="data must be"):
        Value(True)
    with pytest.raises(TypeError, match="exponent must be"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="data >= 0"):
        Value(-2.0) ** 0.5
    with pytest.raises(ValueError, match="data > 0"):
        Value(0.0).log()
    with pytest.raises(TypeError, match="root must be"):
        topological_sort(1.0)
    with pytest.raises(TypeError, match="output must be"):
        autograd_graph(1.0)
    with pytest.raises(ValueError, match="output must be computed"):
        autograd_graph(torch.tensor(1.0))


def test_autodiff_of_a_composition_can_leave_the_subdifferential():
    """relu(x) - relu(-x) is x itself, with derivative 1 everywhere; with ReLU'(0) = 0 per
    primitive, reverse mode returns 0 at x = 0, outside the function's subdifferential {1}."""
    x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (torch.relu(x) - torch.relu(-x)).backward()
    assert x.grad.item() == 0.0
    v = Value(0.0)
    (v.relu() - (-v).relu()).backward()
    assert v.grad == 0.0
    for x0 in (-0.5, 0.5):                              # away from the kink: exactly 1
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        (torch.relu(x) - torch.relu(-x)).backward()
        assert x.grad.item() == 1.0
