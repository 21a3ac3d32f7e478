"""Transfer learning: pre-training, linear probes and fine-tuning."""
