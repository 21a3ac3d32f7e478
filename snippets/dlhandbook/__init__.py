"""dlhandbook: the tested code behind the deep-learning interview handbook.

The package is organised by concept (``activations``, ``autograd``, ``optim``, ...), one
algorithm per file. Each file runs on its own with only NumPy and PyTorch imported, so a
reader can copy it whole. ``dlhandbook.figures`` draws the handbook's figures and needs
matplotlib; nothing else does.
"""

__version__ = "0.1.0"
