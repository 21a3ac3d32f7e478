r"""Dropout: multiply each unit by a random keep-mask in training, use the mean at test.

With drop probability $p$ (PyTorch's and Keras's $p$; Srivastava et al. 2014 write
$p$ for the *keep* probability $1-p$), each unit $h_j$ gets an independent mask
$r_j \sim \mathrm{Bernoulli}(1-p)$. Inverted dropout (what frameworks implement)
rescales the survivors in training and does nothing at test:

$$\tilde h_j = \frac{r_j\,h_j}{1-p}\ \text{(training)},\qquad
\tilde h_j = h_j\ \text{(test)},\qquad \mathbb E[\tilde h_j] = h_j .$$

Classic dropout (the 2014 paper) keeps $\tilde h_j = r_j h_j$ in training and scales by
$1-p$ at test (equivalently $W_{\text{test}} = (1-p)W$ for the next layer). Either way
the next linear layer's pre-activation $z = W\tilde h$ has the same mean in training as
at test; after a non-linearity the test-time network is only an approximation of the
average over masks. The backward pass multiplies by the same mask:
$\partial L/\partial h_j = r_j\,(\partial L/\partial \tilde h_j)/(1-p)$.

For a single sigmoid unit the normalised geometric mean of the $2^n$ sub-networks'
outputs equals the weight-scaled network's output exactly (Baldi & Sadowski 2013):

$$\frac{\prod_r \sigma(z_r)^{P(r)}}{\prod_r \sigma(z_r)^{P(r)} + \prod_r
(1-\sigma(z_r))^{P(r)}} = \sigma\bigl(\mathbb E_r[z_r]\bigr).$$

Reference: Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov (2014), *Dropout:
A Simple Way to Prevent Neural Networks from Overfitting*, JMLR 15.
"""

# --8<-- [start:imports_numpy]
import numpy as np

# --8<-- [end:imports_numpy]

# isort: split
# --8<-- [start:imports_torch]
import torch

# --8<-- [end:imports_torch]


# --8<-- [start:numpy]
def dropout_forward(x, p=0.5, training=True, inverted=True, rng=None, mask=None):
    """Dropout with drop probability p. Returns (y, mask); mask is None at test.

    inverted=True divides the survivors by 1 - p in training (PyTorch, Keras);
    inverted=False is the 2014 paper's form, which multiplies by 1 - p at test.
    Pass a boolean keep-mask to reuse one, or a numpy Generator as rng.
    """
    x = _check_dropout_args(x, p, training, inverted)
    if not training:
        return (x if inverted else (1.0 - p) * x), None
    if mask is None:
        rng = np.random.default_rng() if rng is None else rng
        mask = rng.random(x.shape) >= p              # keep with probability 1 - p
    mask = _check_mask(mask, x.shape)
    y = x * mask                                      # zero the dropped units
    return (y / (1.0 - p) if inverted else y), mask


def dropout_backward(dy, mask, p=0.5, inverted=True):
    """dL/dx given dy = dL/dy: the gradient flows only through kept units."""
    dy = np.asarray(dy)
    _check_p(p)
    mask = _check_mask(mask, dy.shape)
    dx = dy * mask
    return dx / (1.0 - p) if inverted else dx
# --8<-- [end:numpy]


# --8<-- [start:checks_numpy]
def _check_p(p):
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)):
        raise TypeError(f"p must be a float in [0, 1), got {type(p).__name__}")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p (the drop probability) must be in [0, 1), got {p}")


def _check_dropout_args(x, p, training, inverted):
    _check_p(p)
    for name, flag in (("training", training), ("inverted", inverted)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def _check_mask(mask, shape):
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"mask must have shape {shape}, got {mask.shape}")
    if mask.dtype != bool:
        raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
    return mask
# --8<-- [end:checks_numpy]


# --8<-- [start:ensemble]
def enumerate_masks(n, p):
    """All 2**n keep-masks of n units, shape (2**n, n), and their probabilities."""
    if not isinstance(n, int) or not 1 <= n <= 20:
        raise ValueError(f"n must be an int in [1, 20], got {n!r}")
    _check_p(p)
    masks = (np.arange(2**n)[:, None] >> np.arange(n)) & 1 == 1  # (2**n, n)
    kept = masks.sum(axis=1)
    return masks, (1.0 - p) ** kept * p ** (n - kept)


def subnetwork_outputs(w, x, b, p):
    """A sigmoid unit's output sigma(w . dropout(x) + b) for every mask of x.

    Inverted dropout on the inputs x. Returns (outputs, probabilities), each (2**n,).
    """
    w, x = np.asarray(w, dtype=np.float64), np.asarray(x, dtype=np.float64)
    if w.ndim != 1 or w.shape != x.shape:
        raise ValueError(f"w and x must be 1-D of one shape, got {w.shape}, {x.shape}")
    masks, probs = enumerate_masks(w.size, p)
    z = masks @ (w * x) / (1.0 - p) + b            # one pre-activation per mask
    return 1.0 / (1.0 + np.exp(-z)), probs


def normalized_geometric_mean(outputs, probs):
    """prod o**P / (prod o**P + prod (1-o)**P), the rule weight scaling gives."""
    outputs, probs = np.asarray(outputs), np.asarray(probs)
    log_g = np.sum(probs * np.log(outputs))         # log of the geometric mean
    log_g_not = np.sum(probs * np.log1p(-outputs))  # ... of the other class
    return 1.0 / (1.0 + np.exp(log_g_not - log_g))
# --8<-- [end:ensemble]


# --8<-- [start:linear]
def dropout_linear_loss(X, y, w, p):
    """Expected squared loss of y ~ X w with inverted dropout on the inputs X.

    Equals the plain loss plus a ridge penalty scaled by each feature's energy.
    """
    X, y, w = _check_linear_args(X, y, w, p)
    residual = y - X @ w
    feature_energy = np.sum(X**2, axis=0)            # ||X[:, j]||^2, shape (d,)
    return residual @ residual + p / (1 - p) * np.sum(feature_energy * w**2)


def dropout_ridge_solution(X, y, p):
    """The w that minimises dropout_linear_loss: ridge with a diagonal penalty."""
    X, y, _ = _check_linear_args(X, y, np.zeros(np.shape(X)[-1]), p)
    gram = X.T @ X                                    # (d, d)
    penalty = p / (1 - p) * np.diag(np.diag(gram))
    return np.linalg.solve(gram + penalty, X.T @ y)


def _check_linear_args(X, y, w, p):
    _check_p(p)
    X, y, w = (np.asarray(a, dtype=np.float64) for a in (X, y, w))
    if X.ndim != 2 or y.shape != (X.shape[0],) or w.shape != (X.shape[1],):
        raise ValueError(f"need X (n, d), y (n,), w (d,); got X {X.shape}, "
                         f"y {y.shape}, w {w.shape}")
    return X, y, w
# --8<-- [end:linear]


# --8<-- [start:torch]
def dropout_torch(x, p=0.5, training=True, generator=None, mask=None):
    """Inverted dropout, like torch.nn.functional.dropout(x, p, training).

    The keep-mask is drawn with bernoulli_(1 - p) from generator (or the global
    one), as PyTorch does on CPU; or pass a boolean mask to reuse one.
    """
    _check_dropout_torch(x, p, training)
    if not training or p == 0.0:
        return x                                     # the identity at test time
    if mask is None:
        mask = torch.empty_like(x).bernoulli_(1.0 - p, generator=generator)
    elif (not isinstance(mask, torch.Tensor) or mask.shape != x.shape
          or mask.dtype != torch.bool):
        raise ValueError(f"mask must be a bool tensor of shape {tuple(x.shape)}")
    scale = mask.to(x.dtype) / (1.0 - p)            # 0 or 1 / (1 - p)
    return x * scale


class Dropout(torch.nn.Module):
    """Drop-in for torch.nn.Dropout(p): active in train(), the identity in eval()."""

    def __init__(self, p=0.5, generator=None):
        super().__init__()
        _check_p_torch(p)
        self.p, self.generator = float(p), generator

    def forward(self, x):
        return dropout_torch(x, self.p, self.training, self.generator)

    def extra_repr(self):
        return f"p={self.p}"


def mc_dropout_predict(model, x, T=100):
    """Mean and std of T stochastic passes with only the dropout layers on.

    MC dropout (Gal & Ghahramani 2016); every other layer (e.g. BatchNorm) runs in
    eval mode. Restores every module's mode afterwards.
    """
    if not isinstance(T, int) or isinstance(T, bool) or T < 2:
        raise ValueError(f"T must be an int >= 2, got {T!r}")
    modes = {m: m.training for m in model.modules()}
    for m in modes:                      # dropout layers on, everything else off
        m.training = isinstance(m, (Dropout, torch.nn.modules.dropout._DropoutNd))
    try:
        with torch.no_grad():
            samples = torch.stack([model(x) for _ in range(T)])  # (T, *out)
    finally:
        for m, mode in modes.items():
            m.training = mode
    return samples.mean(dim=0), samples.std(dim=0)
# --8<-- [end:torch]


# --8<-- [start:checks_torch]
def _check_p_torch(p):
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"p must be a float in [0, 1), got {type(p).__name__}")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p (the drop probability) must be in [0, 1), got {p}")


def _check_dropout_torch(x, p, training):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    _check_p_torch(p)
    if not isinstance(training, bool):
        raise TypeError(f"training must be a bool, got {type(training).__name__}")
# --8<-- [end:checks_torch]


# --8<-- [start:experiment]
def train_noisy_xor(p, seed=0, steps=400, n_train=64, width=64, lr=1e-2, every=20):
    """Train a 2-width-width-2 ReLU MLP with dropout p on noisy XOR labels.

    Inputs are 2-D Gaussian; the label is 1 where x1 * x2 > 0, flipped for 20% of
    the points. Full-batch Adam on n_train points, 1000 test points. Every `every`
    steps, records eval-mode (no dropout) train and test cross-entropy and accuracy.
    Returns an array (steps // every, 4): train_ce, test_ce, train_acc, test_acc.
    """
    _check_p_torch(p)
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n_train + 1000, 2, generator=g)
    y = (X[:, 0] * X[:, 1] > 0).long()
    flip = torch.rand(len(y), generator=g) < 0.2          # label noise to memorise
    y = torch.where(flip, 1 - y, y)
    X_tr, y_tr, X_te, y_te = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, width), torch.nn.ReLU(), Dropout(p, g),
        torch.nn.Linear(width, width), torch.nn.ReLU(), Dropout(p, g),
        torch.nn.Linear(width, 2))
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    ce = torch.nn.functional.cross_entropy
    history = []
    for t in range(1, steps + 1):
        model.train()
        loss = ce(model(X_tr), y_tr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if t % every == 0:
            model.eval()
            with torch.no_grad():
                out_tr, out_te = model(X_tr), model(X_te)
            history.append([ce(out_tr, y_tr).item(), ce(out_te, y_te).item(),
                            (out_tr.argmax(1) == y_tr).float().mean().item(),
                            (out_te.argmax(1) == y_te).float().mean().item()])
    return np.array(history)
# --8<-- [end:experiment]


if __name__ == "__main__":
    y, mask = dropout_forward(np.ones(10), p=0.2, rng=np.random.default_rng(0))
    print("kept", mask.sum(), "of 10; survivors are", y.max(), "= 1 / 0.8")
    print("eval is the identity:", dropout_forward(np.ones(3), 0.2, training=False)[0])
    print(Dropout(0.2).eval()(torch.ones(3)))
