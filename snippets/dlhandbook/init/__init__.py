"""Weight initialisation: Xavier/Glorot and He/Kaiming, in NumPy and PyTorch (Q37, Q38, Q39)."""
