"""The curse of dimensionality and how structure escapes it (Q48-Q49)."""
