import numpy as np
import pytest
import torch

from dlhandbook.augmentation.augment import (
    add_noise,
    crop,
    mixup,
    mixup_torch,
    random_crop,
    random_crop_torch,
    random_hflip,
    random_hflip_torch,
    tta_hflip,
    tta_hflip_torch,
)

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]


def images(N=16, C=3, H=8, W=8, seed=0):
    return np.random.default_rng(seed).standard_normal((N, C, H, W))


def windows(Xp, size):
    """Every (size, size) window of one padded image (C, Hp, Wp)."""
    _, Hp, Wp = Xp.shape
    return [Xp[:, i:i + size, j:j + size] for i in range(Hp - size + 1) for j in range(Wp - size + 1)]


class TinyCNN(torch.nn.Module):
    """A small convolutional classifier with no built-in symmetry."""

    def __init__(self, dtype=torch.float32, device="cpu"):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, dtype=dtype, device=device)
        self.head = torch.nn.Linear(4 * 6 * 6, 5, dtype=dtype, device=device)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).flatten(1))


# --- flips ---------------------------------------------------------------------------


def test_hflip_with_p_0_is_identity_and_with_p_1_mirrors_every_image():
    X = images()
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(random_hflip(X, 0.0, rng), X)
    np.testing.assert_array_equal(random_hflip(X, 1.0, rng), X[..., ::-1])


def test_hflip_flips_a_binomial_fraction_and_each_image_is_itself_or_its_mirror():
    """4000 images, p = 0.3: the flipped count has std 29; 200 is about 7 std
    (failure probability < 1e-11)."""
    X = images(N=4000, C=1, H=2, W=3)
    out = random_hflip(X, 0.3, np.random.default_rng(0))
    same = np.all(out == X, axis=(1, 2, 3))
    mirrored = np.all(out == X[..., ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored)
    assert abs(mirrored.sum() - 0.3 * 4000) < 200


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_hflip_keeps_dtype_and_device_and_is_seeded(dtype, device):
    X = torch.randn(64, 3, 5, 5, device=device).to(dtype)
    out = random_hflip_torch(X, 0.5, torch.Generator(device=device).manual_seed(0))
    again = random_hflip_torch(X, 0.5, torch.Generator(device=device).manual_seed(0))
    assert out.dtype == dtype and out.device == X.device and torch.equal(out, again)
    per_image = [torch.equal(o, x) or torch.equal(o, x.flip(-1)) for o, x in zip(out, X, strict=True)]
    assert all(per_image)
    assert not torch.equal(out, X) and not torch.equal(out, X.flip(-1))


# --- crops ---------------------------------------------------------------------------


def test_crop_of_full_size_without_padding_is_identity():
    X = images()
    zeros = np.zeros(len(X), dtype=int)
    np.testing.assert_array_equal(crop(X, zeros, zeros, 8), X)
    np.testing.assert_array_equal(random_crop(X, 8, 0, np.random.default_rng(0)), X)


def test_every_random_crop_is_a_window_of_the_padded_image():
    X = images(N=12, H=6, W=6)
    out = random_crop(X, 6, 2, np.random.default_rng(1))
    assert out.shape == (12, 3, 6, 6)
    for o, x in zip(out, X, strict=True):
        xp = np.pad(x, ((0, 0), (2, 2), (2, 2)))
        assert any(np.array_equal(o, w) for w in windows(xp, 6))


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_random_crop_is_a_window_of_the_padded_image(dtype, device):
    X = torch.randn(12, 3, 6, 6, device=device).to(dtype)
    out = random_crop_torch(X, 5, 1, torch.Generator(device=device).manual_seed(0))
    assert out.shape == (12, 3, 5, 5) and out.dtype == dtype
    for o, x in zip(out.float().cpu().numpy(), X.float().cpu().numpy(), strict=True):
        xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
        assert any(np.array_equal(o, w) for w in windows(xp, 5))


# --- noise and mixup ------------------------------------------------------------------


def test_noise_has_the_requested_standard_deviation():
    """200 000 draws: the sample std of N(0, 0.5^2) is within 0.005 (over 6 std errors)."""
    X = np.zeros(200_000)
    noise = add_noise(X, 0.5, np.random.default_rng(0)) - X
    assert abs(noise.std() - 0.5) < 0.005 and abs(noise.mean()) < 0.005
    np.testing.assert_array_equal(add_noise(X[:5], 0.0, np.random.default_rng(0)), X[:5])


def test_mixup_makes_convex_combinations_of_pairs_with_matching_labels():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 5))
    Y = np.eye(4)[rng.integers(0, 4, 32)]
    for alpha in (0.2, 1.0, 4.0):
        X_mix, Y_mix, lam = mixup(X, Y, alpha, rng)
        assert 0 <= lam <= 1
        np.testing.assert_allclose(Y_mix.sum(1), 1.0, atol=1e-12)   # still a distribution
        # each mixed row is lam * x_i + (1 - lam) * x_j, with the same j for the label
        partner = (X_mix - lam * X) / (1 - lam)
        j = [int(np.argmin(np.linalg.norm(X - row, axis=1))) for row in partner]
        np.testing.assert_allclose(partner, X[j], atol=1e-8)
        np.testing.assert_allclose(Y_mix, lam * Y + (1 - lam) * Y[j], atol=1e-8)


def test_mixup_lambda_follows_beta_alpha_alpha():
    """Beta(0.4, 0.4) has mean 1/2 and variance 1/(4 * 1.8) = 0.139. With 10 000 draws
    the bounds are over 5 standard errors of each estimate (0.02 is 5.4 for the mean, 0.01
    about 11 for the variance): failure probability below 1e-6 for a fresh seed."""
    rng = np.random.default_rng(0)
    X, Y = np.zeros((4, 2)), np.eye(4)
    lams = np.array([mixup(X, Y, 0.4, rng)[2] for _ in range(10_000)])
    assert abs(lams.mean() - 0.5) < 0.02 and abs(lams.var() - 1 / 7.2) < 0.01


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_mixup_is_a_convex_combination_in_every_dtype(dtype, device):
    torch.manual_seed(0)
    X = torch.randn(16, 3, 4, 4, device=device).to(dtype)
    Y = torch.eye(5, device=device)[torch.randint(0, 5, (16,))].to(dtype)
    X_mix, Y_mix, lam = mixup_torch(X, Y, 1.0)
    assert X_mix.dtype == dtype and 0 <= lam <= 1
    tol = {torch.float16: 5e-3, torch.bfloat16: 3e-2}.get(dtype, 1e-6)
    torch.testing.assert_close(Y_mix.float().sum(1), torch.ones(16, device=device), atol=tol, rtol=0)
    assert X_mix.float().abs().max() <= X.float().abs().max() * (1 + tol)


# --- test-time augmentation ------------------------------------------------------------


def test_numpy_tta_is_exactly_flip_invariant_while_the_model_is_not():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3 * 8 * 8, 4))

    def predict(X):
        return np.tanh(X.reshape(len(X), -1) @ W)

    X = images()
    assert np.abs(predict(X) - predict(X[..., ::-1])).max() > 0.1
    np.testing.assert_array_equal(tta_hflip(predict, X), tta_hflip(predict, X[..., ::-1]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_tta_is_exactly_flip_invariant_in_every_dtype(dtype, device):
    torch.manual_seed(0)
    model = TinyCNN(dtype, device).eval()
    X = torch.randn(8, 3, 8, 8, device=device).to(dtype)
    with torch.no_grad():
        assert not torch.equal(model(X), model(X.flip(-1)))
        torch.testing.assert_close(tta_hflip_torch(model, X), tta_hflip_torch(model, X.flip(-1)),
                                   rtol=0, atol=0)


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("call, exc, name", [
    (lambda: random_hflip(images(), 1.5, np.random.default_rng(0)), ValueError, "p"),
    (lambda: random_hflip(images(), -0.1, np.random.default_rng(0)), ValueError, "p"),
    (lambda: random_hflip(np.zeros((3, 4)), 0.5, np.random.default_rng(0)), ValueError, "X"),
    (lambda: random_hflip_torch(torch.zeros(2, 3, 4, 4), 2.0), ValueError, "p"),
    (lambda: random_crop(images(), 11, 1, np.random.default_rng(0)), ValueError, "size"),
    (lambda: random_crop(images(), 0, 1, np.random.default_rng(0)), ValueError, "size"),
    (lambda: random_crop(images(), 4, -1, np.random.default_rng(0)), ValueError, "padding"),
    (lambda: random_crop_torch(torch.zeros(2, 3, 4, 4), 7, 1), ValueError, "size"),
    (lambda: random_crop_torch(torch.zeros(2, 3, 4, 4), 3, 1.5), TypeError, "padding"),
    (lambda: add_noise(np.zeros(3), -1.0, np.random.default_rng(0)), ValueError, "std"),
    (lambda: mixup(np.zeros((3, 2)), np.zeros((3, 2)), 0.0, np.random.default_rng(0)), ValueError, "alpha"),
    (lambda: mixup(np.zeros((3, 2)), np.zeros((2, 2)), 1.0, np.random.default_rng(0)), ValueError, "length"),
    (lambda: mixup_torch(torch.zeros(3, 2), torch.zeros(3, 2), -1.0), ValueError, "alpha"),
    (lambda: tta_hflip_torch(torch.nn.Identity(), torch.zeros(3, 2)), ValueError, "X"),
])
def test_bad_input_raises_naming_the_argument(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
