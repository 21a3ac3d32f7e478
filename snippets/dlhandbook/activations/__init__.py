"""Activation functions with hand-written derivatives, NumPy and PyTorch (Q6-Q8)."""
