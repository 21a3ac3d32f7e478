r"""Transfer learning without downloads: pre-train on a source task, reuse on a target.

Both tasks label the same inputs through shared hidden features
$z = \tanh(A x)$: the source by $\arg\max_c (B_s z)_c$, the target by
$\arg\max_c (B_t z)_c$ with a different $B_t$. A body pre-trained on many source labels
learns features that span $z$, so with few target labels three strategies compare:
training from scratch; a linear probe (frozen body, new head); fine-tuning everything,
with the body's learning rate scaled down (parameter groups),
$$\theta_{\text{body}} \leftarrow \theta_{\text{body}} - \rho\,\eta\,g_{\text{body}},
\qquad \theta_{\text{head}} \leftarrow \theta_{\text{head}} - \eta\,g_{\text{head}},
\qquad 0 < \rho \le 1$$
(written for SGD; the code uses Adam with the same two learning rates).

Reference: Yosinski, Clune, Bengio & Lipson (2014), *How transferable are features in
deep neural networks?*, NeurIPS; Kumar et al. (2022), *Fine-tuning can distort
pretrained features and underperform out-of-distribution*, ICLR.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def make_tasks(seed=0, d=30, k=6, n_source_classes=32, n_target_classes=4):
    """Two classification tasks on N(0, I) inputs that share the features
    tanh(A x). Returns sample(task, n, rng) -> (X, y) with task 'source' or
    'target'."""
    _check_count("d", d)
    _check_count("k", k)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((k, d)) * 2 / np.sqrt(d)     # shared feature map
    heads = {"source": rng.standard_normal((n_source_classes, k)),
             "target": rng.standard_normal((n_target_classes, k))}

    def sample(task, n, rng):
        if task not in heads:
            raise ValueError(f"task must be 'source' or 'target', got {task!r}")
        _check_count("n", n)
        X = rng.standard_normal((n, d))
        z = np.tanh(X @ A.T)                             # (n, k) hidden features
        return X, np.argmax(z @ heads[task].T, axis=1)   # labels (n,)

    return sample
# --8<-- [end:numpy]


# --8<-- [start:torch]
class SmallNet(torch.nn.Module):
    """A body (two ReLU layers) and a linear head named `fc`, like a ResNet."""

    def __init__(self, d, n_classes, width=64, features=32):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(d, width), torch.nn.ReLU(),
            torch.nn.Linear(width, features), torch.nn.ReLU())
        self.fc = torch.nn.Linear(features, n_classes)

    def forward(self, x):
        return self.fc(self.body(x))


def prepare_transfer(model, n_classes, strategy, lr=1e-2, body_lr_scale=0.1,
                     head="fc"):
    """Give `model` a new linear head (attribute `head`) for n_classes and return
    an Adam optimizer for the strategy: 'scratch' (every weight re-initialised),
    'linear_probe' (body frozen) or 'fine_tune' (body at lr * body_lr_scale).
    Changes model in place: pass a copy of a pre-trained model."""
    _check_strategy(strategy, body_lr_scale)
    old = getattr(model, head)
    new = torch.nn.Linear(old.in_features, n_classes,
                          device=old.weight.device, dtype=old.weight.dtype)
    setattr(model, head, new)
    head_params = list(new.parameters())
    body_params = [p for n, p in model.named_parameters()
                   if not n.startswith(head + ".")]
    if strategy == "scratch":                     # same architecture, fresh weights
        for m in model.modules():
            if m is not new and hasattr(m, "reset_parameters"):
                m.reset_parameters()
    for p in body_params:                         # frozen only for a linear probe
        p.requires_grad_(strategy != "linear_probe")
    if strategy == "linear_probe":
        groups = [{"params": head_params, "lr": lr}]
    elif strategy == "fine_tune":                 # two parameter groups
        groups = [{"params": body_params, "lr": lr * body_lr_scale},
                  {"params": head_params, "lr": lr}]
    else:
        groups = [{"params": body_params + head_params, "lr": lr}]
    return torch.optim.Adam(groups)


def train(model, opt, X, y, steps=100):
    """Full-batch training with cross-entropy; returns the model. Layers whose
    weights are all frozen stay in eval mode (batch norm keeps its statistics)."""
    model.train()
    for m in model.modules():
        own = list(m.parameters(recurse=False))
        if own and not any(p.requires_grad for p in own):
            m.eval()
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model


def accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()
# --8<-- [end:torch]


# --8<-- [start:checks_numpy]
def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
# --8<-- [end:checks_numpy]


# --8<-- [start:checks_torch]
def _check_strategy(strategy, body_lr_scale):
    strategies = ("scratch", "linear_probe", "fine_tune")
    if strategy not in strategies:
        raise ValueError(f"strategy must be one of {strategies}, got {strategy!r}")
    if not 0 < body_lr_scale <= 1:
        raise ValueError(f"body_lr_scale must be in (0, 1], got {body_lr_scale}")
# --8<-- [end:checks_torch]


if __name__ == "__main__":
    import copy

    sample = make_tasks(seed=0)
    rng = np.random.default_rng(1)
    as_torch = lambda X, y: (torch.tensor(X, dtype=torch.float32), torch.tensor(y))  # noqa: E731
    X_src, y_src = as_torch(*sample("source", 2000, rng))
    X_tr, y_tr = as_torch(*sample("target", 30, rng))
    X_te, y_te = as_torch(*sample("target", 1000, rng))
    torch.manual_seed(0)
    pretrained = SmallNet(30, 32)
    opt = torch.optim.Adam(pretrained.parameters(), lr=1e-2)
    train(pretrained, opt, X_src, y_src, steps=200)
    print("source accuracy", accuracy(pretrained, X_src, y_src))
    for strategy in ("scratch", "linear_probe", "fine_tune"):
        model = copy.deepcopy(pretrained)
        opt = prepare_transfer(model, 4, strategy)
        train(model, opt, X_tr, y_tr)
        print(strategy, accuracy(model, X_te, y_te))
