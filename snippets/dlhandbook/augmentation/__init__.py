"""Data augmentation and test-time augmentation."""
