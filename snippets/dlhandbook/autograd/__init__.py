"""A scalar reverse-mode autodiff engine and PyTorch's graph side by side (Q12, Q17)."""
