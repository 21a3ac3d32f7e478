"""Build-time helpers for the MkDocs site (not part of the numerical package)."""
