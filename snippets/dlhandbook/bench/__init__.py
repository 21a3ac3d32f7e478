"""Benchmarks of the handbook's code against PyTorch (run as scripts, never as timed tests)."""
