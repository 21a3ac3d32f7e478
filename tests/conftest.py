"""Shared fixtures: the ``device`` every numerical test runs on, and deterministic seeds.

``device`` is always ``cpu``, plus ``cuda`` when a GPU is present. With ``REQUIRE_CUDA=1`` (the
GPU runner) a missing GPU is an error, not a silent CPU-only run.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

REQUIRE_CUDA = os.environ.get("REQUIRE_CUDA") == "1"

torch.set_num_threads(1)  # deterministic reductions, and fair to a 2-core machine


def _device_params():
    params = [pytest.param("cpu", id="cpu")]
    if torch.cuda.is_available() or REQUIRE_CUDA:
        params.append(pytest.param("cuda", id="cuda", marks=pytest.mark.gpu))
    return params


@pytest.fixture(params=_device_params())
def device(request) -> torch.device:
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.fail("REQUIRE_CUDA=1 but torch.cuda.is_available() is False")
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
