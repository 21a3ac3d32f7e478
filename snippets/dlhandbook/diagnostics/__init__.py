"""Diagnostics of gradient pathologies: backward signal, activations, dead units."""
