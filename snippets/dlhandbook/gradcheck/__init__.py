"""Finite-difference gradient checking for NumPy code and custom PyTorch Functions."""
