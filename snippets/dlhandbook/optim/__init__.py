"""Optimizers written for teaching: an ``init``/``update`` pair over NumPy arrays each.

One algorithm per file (``gd``, ``sgd``, ``momentum``, ``nesterov``, ``adam``, ...),
each file standalone: it imports only the standard library, NumPy and PyTorch.
"""
