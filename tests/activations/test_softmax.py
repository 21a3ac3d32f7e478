import numpy as np
import pytest
import torch

from dlhandbook.activations.softmax import softmax, softmax_grad, softmax_jacobian, softmax_torch
from helpers import assert_matches_torch, central_difference, rel_error


def assert_same_gradients(ours, reference, z):
    """Our autograd.Function's input gradient equals PyTorch's, for a random upstream gradient."""
    upstream = torch.randn_like(z)
    (got,) = torch.autograd.grad(ours(z), z, grad_outputs=upstream)
    (expected,) = torch.autograd.grad(reference(z), z, grad_outputs=upstream)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_matches_torch_values_and_gradients(device, rng, axis):
    z = rng.standard_normal((4, 5, 6)) * 3
    assert_matches_torch(lambda x: softmax(x, axis), lambda x: torch.softmax(x, dim=axis), [z],
                         np_grad_fn=lambda x, g: softmax_grad(x, g, axis), device=device)


def test_sums_to_one_and_is_shift_invariant(rng):
    z = rng.standard_normal((8, 10)) * 5
    s = softmax(z, axis=1)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, atol=1e-15, rtol=0)
    np.testing.assert_allclose(softmax(z + 123.4, axis=1), s, atol=1e-13, rtol=0)   # rounding of z + c only
    np.testing.assert_allclose(softmax(z - z.max(axis=1, keepdims=True), axis=1), s, atol=1e-13, rtol=0)


def test_stable_at_plus_minus_1000_without_overflow():
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        s = softmax(z, axis=1)
        g = softmax_grad(z, np.ones_like(z), axis=1)
    np.testing.assert_array_equal(s, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    assert np.all(np.isfinite(g))


def test_backward_matches_finite_differences_and_full_jacobian(rng):
    z, g = rng.standard_normal(7), rng.standard_normal(7)
    numeric = central_difference(lambda x: float(np.sum(g * softmax(x))), z)
    assert rel_error(softmax_grad(z, g), numeric) < 1e-6
    np.testing.assert_allclose(softmax_jacobian(z) @ g, softmax_grad(z, g), atol=1e-15, rtol=0)
    jac = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, 0), torch.tensor(z))
    np.testing.assert_allclose(softmax_jacobian(z), jac.numpy(), atol=1e-15, rtol=0)
    off_diagonal = softmax_jacobian(z)[~np.eye(7, dtype=bool)]
    assert (off_diagonal < 0).all()                    # -s_i s_j: not an elementwise map


@pytest.mark.parametrize("dim", [0, 1])
def test_torch_backward_passes_gradcheck(device, dim):
    z = torch.randn(3, 4, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: softmax_torch(t, dim=dim), (z,))
    torch.testing.assert_close(softmax_torch(z, dim), torch.softmax(z, dim), rtol=1e-12, atol=1e-15)
    assert_same_gradients(lambda t: softmax_torch(t, dim), lambda t: torch.softmax(t, dim), z)


def test_torch_stable_at_plus_minus_1000(device):
    z = torch.tensor([[1000.0, 0.0, -1000.0]], dtype=torch.float64, device=device, requires_grad=True)
    s = softmax_torch(z)
    (g,) = torch.autograd.grad(s[0, 0], z)
    assert s.tolist() == [[1.0, 0.0, 0.0]] and torch.isfinite(g).all()


def test_validates_arguments():
    with pytest.raises(ValueError, match="axis"):
        softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match="axis"):
        softmax(np.zeros(3), axis=1.0)
    with pytest.raises(ValueError, match="z must have"):
        softmax(1.0)
    with pytest.raises(ValueError, match="grad_out"):
        softmax_grad(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="z must be one-dimensional"):
        softmax_jacobian(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="z must be"):
        softmax(np.array(["a"]))
    with pytest.raises(ValueError, match="dim"):
        softmax_torch(torch.zeros(2, 3), dim=-3)
    with pytest.raises(TypeError, match="z must be"):
        softmax_torch(torch.tensor([1, 2]))


def test_jacobian_has_rank_k_minus_one_with_the_ones_vector_in_its_null_space(rng):
    z = rng.standard_normal(6)
    J = softmax_jacobian(z)
    assert np.linalg.matrix_rank(J) == 5
    np.testing.assert_allclose(J @ np.ones(6), 0.0, atol=1e-15)     # shift invariance
