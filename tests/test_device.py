"""The GPU runner must really have a GPU: with REQUIRE_CUDA=1 this fails instead of skipping."""

import pytest
import torch

from conftest import REQUIRE_CUDA


@pytest.mark.gpu
def test_cuda_is_available_when_required():
    if not REQUIRE_CUDA and not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine; the GPU workflow sets REQUIRE_CUDA=1")
    assert torch.cuda.is_available(), "REQUIRE_CUDA=1 but torch.cuda.is_available() is False"
    x = torch.arange(4.0, device="cuda")
    assert (x * 2).sum().item() == 12.0
