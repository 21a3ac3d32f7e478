"""Gradient clipping by global norm and by value, in NumPy and PyTorch (Q36, Q39)."""
