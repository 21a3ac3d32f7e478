"""Training across processes: data parallelism with ``torch.distributed``."""
