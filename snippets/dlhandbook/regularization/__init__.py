"""Regularization: dropout, weight penalties, early stopping."""
