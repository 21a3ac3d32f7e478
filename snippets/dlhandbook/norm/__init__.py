"""Normalization layers with hand-written backward passes (Q33-Q34)."""
