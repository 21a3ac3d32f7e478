"""Recurrent cells small enough to show the Jacobian product over time (Q14, Q15)."""
