"""Diagnostics for gradient pathologies: backward signal, activation statistics, dead units."""
