"""Loss functions with hand-written gradients, NumPy and PyTorch (Q18-Q20)."""
