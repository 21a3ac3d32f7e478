import copy

import numpy as np
import pytest
import torch

from dlhandbook.transfer.fine_tune import (
    SmallNet,
    accuracy,
    make_tasks,
    prepare_transfer,
    train,
)


def as_torch(X, y, dtype=torch.float32, device="cpu"):
    return torch.tensor(X, dtype=dtype, device=device), torch.tensor(y, device=device)


@pytest.fixture(scope="module")
def pretrained():
    """A SmallNet pre-trained on 2000 labelled source examples (32 classes)."""
    sample = make_tasks(seed=0)
    X_src, y_src = as_torch(*sample("source", 2000, np.random.default_rng(1)))
    torch.manual_seed(0)
    net = SmallNet(30, 32)
    train(net, torch.optim.Adam(net.parameters(), lr=1e-2), X_src, y_src, steps=200)
    return sample, net


def small_target(sample, n=30, seed=100):
    return as_torch(*sample("target", n, np.random.default_rng(seed)))


def test_tasks_are_seeded_and_labels_cover_every_class():
    sample = make_tasks(seed=0)
    X, y = sample("target", 500, np.random.default_rng(0))
    X2, y2 = make_tasks(seed=0)("target", 500, np.random.default_rng(0))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.shape == (500, 30) and set(np.unique(y)) == {0, 1, 2, 3}
    _, y_src = sample("source", 2000, np.random.default_rng(0))
    assert y_src.min() >= 0 and y_src.max() < 32


def test_pretraining_fits_the_source_task(pretrained):
    sample, net = pretrained
    X, y = as_torch(*sample("source", 1000, np.random.default_rng(5)))
    assert accuracy(net, X, y) > 0.6            # held-out source data, 32 classes


def test_linear_probe_trains_only_the_new_head(pretrained):
    sample, net = pretrained
    model = copy.deepcopy(net)
    opt = prepare_transfer(model, 4, "linear_probe")
    head_before = copy.deepcopy(model.fc.state_dict())
    train(model, opt, *small_target(sample), steps=20)
    for (name, p), q in zip(model.body.named_parameters(), net.body.parameters(), strict=True):
        assert not p.requires_grad and torch.equal(p, q), name       # body untouched
    assert model.fc.out_features == 4
    assert not torch.equal(model.fc.weight, head_before["weight"])  # head learned
    assert len(opt.param_groups) == 1


def test_fine_tune_uses_two_parameter_groups_with_a_smaller_body_lr(pretrained):
    sample, net = pretrained
    model = copy.deepcopy(net)
    opt = prepare_transfer(model, 4, "fine_tune", lr=1e-2, body_lr_scale=0.1)
    body, head = opt.param_groups
    assert body["lr"] == pytest.approx(1e-3) and head["lr"] == pytest.approx(1e-2)
    grouped = [id(p) for g in opt.param_groups for p in g["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())   # each once
    assert {id(p) for p in head["params"]} == {id(p) for p in model.fc.parameters()}
    train(model, opt, *small_target(sample), steps=5)
    assert not torch.equal(model.body[0].weight, net.body[0].weight)      # body moves


def test_scratch_reinitialises_every_pretrained_weight(pretrained):
    _, net = pretrained
    model = copy.deepcopy(net)
    prepare_transfer(model, 4, "scratch")
    for p, q in zip(model.body.parameters(), net.body.parameters(), strict=True):
        assert not torch.equal(p, q)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_any_head_name_dtype_and_device(dtype, device):
    """Like torchvision models whose head is `classifier` or `heads`, not `fc`."""
    model = torch.nn.Module()
    model.features = torch.nn.Linear(5, 7, dtype=dtype, device=device)
    model.classifier = torch.nn.Linear(7, 3, dtype=dtype, device=device)
    opt = prepare_transfer(model, 2, "fine_tune", head="classifier")
    assert model.classifier.out_features == 2
    assert model.classifier.weight.dtype == dtype
    assert model.classifier.weight.device.type == device.type
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]


def test_a_frozen_batch_norm_keeps_its_running_statistics_during_training():
    class BNNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU())
            self.fc = torch.nn.Linear(8, 3)

        def forward(self, x):
            return self.fc(self.body(x))

    torch.manual_seed(0)
    model = BNNet()
    model.body[1].running_mean.fill_(0.5)
    stats = copy.deepcopy(model.body[1].state_dict())
    opt = prepare_transfer(model, 2, "linear_probe")
    X, y = torch.randn(16, 5) * 3 + 1, torch.randint(0, 2, (16,))
    train(model, opt, X, y, steps=5)
    for k, v in model.body[1].state_dict().items():
        assert torch.equal(v, stats[k]), k
    ft = copy.deepcopy(model)
    opt = prepare_transfer(ft, 2, "fine_tune")
    train(ft, opt, X, y, steps=5)
    assert not torch.equal(ft.body[1].running_mean, stats["running_mean"])   # not frozen


def _accuracies(net, X_tr, y_tr, X_te, y_te, seed: int) -> dict[str, float]:
    """Test accuracy of each strategy trained from ``net`` (100 steps, the same seed for each)."""
    acc = {}
    for strategy in ("scratch", "linear_probe", "fine_tune"):
        torch.manual_seed(seed)
        model = copy.deepcopy(net)
        opt = prepare_transfer(model, 4, strategy)
        train(model, opt, X_tr, y_tr, steps=100)
        acc[strategy] = accuracy(model, X_te, y_te)
    return acc


@pytest.mark.slow
def test_frozen_and_fine_tuned_beat_scratch_with_30_labels_over_five_seeds(pretrained):
    """Seeds change the 30 target labels and the initialisations; 1000 test points."""
    sample, net = pretrained
    X_te, y_te = as_torch(*sample("target", 1000, np.random.default_rng(1)))
    gaps = {"linear_probe": [], "fine_tune": []}
    for seed in range(5):
        acc = _accuracies(net, *small_target(sample, 30, 100 + seed), X_te, y_te, seed)
        for strategy in gaps:
            gaps[strategy].append(acc[strategy] - acc["scratch"])
    for strategy, g in gaps.items():
        assert min(g) > 0.05, strategy          # every seed, by 5 points at least
        assert np.mean(g) > 0.1, strategy       # and by 10 points on average


@pytest.mark.slow
def test_the_gain_over_scratch_shrinks_as_target_labels_grow_from_30_to_300(pretrained):
    """The figure's setting (100 Adam steps, lr 0.01, 1000 test points) on five seeds: for
    the linear probe and for fine-tuning, the accuracy gain over scratch with 300 target
    labels is less than half the gain with 30 labels, on every seed."""
    sample, net = pretrained
    X_te, y_te = as_torch(*sample("target", 1000, np.random.default_rng(1)))
    for seed in range(5):
        gain = {}
        for n in (30, 300):
            acc = _accuracies(net, *small_target(sample, n, 100 + seed), X_te, y_te, seed)
            gain[n] = {s: acc[s] - acc["scratch"] for s in ("linear_probe", "fine_tune")}
        for strategy in ("linear_probe", "fine_tune"):
            assert gain[30][strategy] > 0.05, (seed, strategy)
            assert gain[300][strategy] < 0.5 * gain[30][strategy], (seed, strategy)


@pytest.mark.parametrize("call, exc, name", [
    (lambda: prepare_transfer(SmallNet(3, 2), 2, "frozen"), ValueError, "strategy"),
    (lambda: prepare_transfer(SmallNet(3, 2), 2, "fine_tune", body_lr_scale=0.0), ValueError,
     "body_lr_scale"),
    (lambda: prepare_transfer(SmallNet(3, 2), 2, "fine_tune", body_lr_scale=2.0), ValueError,
     "body_lr_scale"),
    (lambda: make_tasks(d=0), ValueError, "d"),
    (lambda: make_tasks()("validation", 5, np.random.default_rng(0)), ValueError, "task"),
    (lambda: make_tasks()("target", 0, np.random.default_rng(0)), ValueError, "n"),
])
def test_bad_input_raises_naming_the_argument(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
