import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlhandbook.losses.classification_race import (
    confidently_wrong_init,
    logit_gradient,
    make_blobs,
    steps_to_reach,
    train,
)

LRS = [0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000]
STEPS, TARGET, SCALE = 300, 0.95, 2.0


@pytest.mark.parametrize("loss", ["ce", "se"])
def test_logit_gradient_matches_autograd(rng, loss):
    z, y = rng.standard_normal((7, 3)) * 3, rng.integers(0, 3, 7)
    zt = torch.tensor(z, requires_grad=True)
    if loss == "ce":
        value = F.cross_entropy(zt, torch.tensor(y))
    else:
        value = ((torch.softmax(zt, 1) - torch.eye(3, dtype=zt.dtype)[y]) ** 2).sum(1).mean()
    (expected,) = torch.autograd.grad(value, zt)
    np.testing.assert_allclose(logit_gradient(z, y, loss), expected.numpy(), atol=1e-15, rtol=1e-12)


def test_steps_to_reach_counts_the_step_after_which_it_stays_above():
    assert steps_to_reach(np.array([0.2, 0.96, 0.5, 0.97, 0.99]), 0.95) == 4
    assert steps_to_reach(np.array([0.96, 0.97]), 0.95) == 1
    assert steps_to_reach(np.array([0.96, 0.5]), 0.95) is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_entropy_beats_squared_error_at_every_learning_rate(seed):
    X, y, C = make_blobs(seed=seed)
    W0 = confidently_wrong_init(C, SCALE)
    assert np.mean((np.hstack([X, np.ones((len(X), 1))]) @ W0.T).argmax(1) == y) < 0.05
    for lr in LRS:
        ce = steps_to_reach(train(X, y, W0, "ce", lr, STEPS), TARGET)
        se = steps_to_reach(train(X, y, W0, "se", lr, STEPS), TARGET)
        assert ce is not None and (se is None or ce < se), (lr, ce, se)
        if lr <= 1:
            assert se is None and ce <= 40, (lr, ce, se)   # SE: not within 300 steps
