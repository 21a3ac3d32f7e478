"""Optimizers written for teaching: each one an ``init``/``update`` pair over NumPy arrays.

One algorithm per file (``gd``, ``sgd``, ``momentum``, ``nesterov``, ``adam``, ...), each file
standalone: it imports only the standard library, NumPy and PyTorch.
"""
