"""Drop-in ``torch.optim`` optimizers (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW).

Each file holds one ``torch.optim.Optimizer`` subclass with torch's keyword names and
defaults, a readable per-tensor update loop and a multi-tensor ``torch._foreach_*``
path, and runs on its own with only PyTorch imported. SGD, Adagrad, Adam and AdamW
also take ``fused=True``: torch's single-pass kernel, called through torch's public
functional API (``torch.optim.adam.adam(..., fused=True)`` and its siblings). The tests
check every path against ``torch.optim`` in float64, float32, float16 and bfloat16,
with gradients from 1e-20 to 1e20, and check loading checkpoints of older torch.
"""
