"""Weight initialisation: Xavier/Glorot and He/Kaiming, NumPy and PyTorch (Q37-Q39)."""
