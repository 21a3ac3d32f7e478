import pytest
import torch
import torch.nn.functional as F

from dlhandbook.generative.gan import GAN, discriminator_loss, fit_gan, generator_loss


def test_discriminator_loss_is_binary_cross_entropy(rng):
    real = torch.tensor(rng.standard_normal(20) * 3)
    fake = torch.tensor(rng.standard_normal(30) * 3)
    expected = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    torch.testing.assert_close(discriminator_loss(real, fake), expected, rtol=1e-12,
                               atol=1e-12)


def test_generator_losses_are_minus_log_d_and_log_one_minus_d(rng):
    fake = torch.tensor(rng.standard_normal(30) * 3)
    D = torch.sigmoid(fake)
    torch.testing.assert_close(generator_loss(fake), -torch.log(D).mean())
    torch.testing.assert_close(generator_loss(fake, non_saturating=False),
                               torch.log(1 - D).mean())


def test_minimax_loss_saturates_where_the_discriminator_rejects_samples():
    """At logit -10 (D = 4.5e-5) the minimax gradient per sample is -sigma(l) < 5e-5 in size,
    the non-saturating one -(1 - sigma(l)), within 5e-5 of -1; at l = 0 both are -1/2."""
    logits = torch.tensor([-10.0, 0.0], dtype=torch.float64, requires_grad=True)
    ns = torch.autograd.grad(generator_loss(logits) * 2, logits)[0]
    mm = torch.autograd.grad(generator_loss(logits, non_saturating=False) * 2, logits)[0]
    torch.testing.assert_close(mm, -torch.sigmoid(logits.detach()), rtol=1e-12, atol=0)
    torch.testing.assert_close(ns, -(1 - torch.sigmoid(logits.detach())), rtol=1e-12, atol=0)
    assert abs(mm[0]) < 5e-5 and abs(ns[0] + 1) < 5e-5
    torch.testing.assert_close(mm[1], ns[1])


@pytest.mark.parametrize("seed", [0, 1])
def test_non_saturating_gan_moves_its_samples_to_a_gaussian_target(seed):
    """Target N((2, -1), 0.2^2 I); 250 alternating steps, batch 128: the sample mean ends
    within 0.3 of (2, -1) from a start near the origin."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(2000, 2, generator=g) * 0.2 + torch.tensor([2.0, -1.0])
    torch.manual_seed(seed)
    gan = GAN(hidden=32)
    with torch.no_grad():
        start = gan.sample(2000).mean(0)
    fit_gan(gan, X, steps=250, batch_size=128, seed=seed)
    with torch.no_grad():
        end = gan.sample(2000).mean(0)
    target = torch.tensor([2.0, -1.0])
    assert (start - target).norm() > 1.5
    assert (end - target).norm() < 0.3


@pytest.mark.parametrize("call, error, match", [
    (lambda: GAN(noise_dim=0), ValueError, "noise_dim must be positive"),
    (lambda: GAN(hidden=1.5), TypeError, "hidden"),
    (lambda: GAN().sample(0), ValueError, "n must be positive"),
    (lambda: generator_loss([0.0]), TypeError, "fake_logits"),
    (lambda: discriminator_loss(torch.zeros(3, dtype=torch.long), torch.zeros(3)), TypeError,
     "real_logits"),
    (lambda: fit_gan(GAN(), torch.zeros(5, 3)), ValueError, r"X must have shape \(n, 2\)"),
    (lambda: fit_gan(GAN(), torch.zeros(5, 2), steps=0), ValueError, "steps"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
