"""Activation functions with hand-written derivatives, in NumPy and PyTorch (Q6, Q7, Q8)."""
