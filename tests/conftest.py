"""Shared fixtures: the ``device`` every numerical test runs on, and deterministic seeds.

``device`` is always ``cpu``, plus ``cuda`` when a GPU is present. With ``REQUIRE_CUDA=1`` (the
GPU runner) a missing GPU is an error, not a silent CPU-only run.
"""

from __future__ import annotations

import os

# One BLAS thread, set before NumPy loads: on a 2-core machine, BLAS threads fighting the other
# test processes make small linear algebra several times slower.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

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


def pytest_sessionstart(session):
    """With ``--junitxml``, write torch's version, the devices and the commit into the XML as
    suite properties: the site's provenance stamps read them (``dlhandbook.site.provenance``).
    Done here, in the process that writes the XML (under pytest-xdist, the controller), where
    the ``record_testsuite_property`` fixture, which runs in the workers, would record nothing."""
    from _pytest.junitxml import xml_key

    xml = session.config.stash.get(xml_key, None)
    if xml is not None:
        from dlhandbook.site.provenance import run_properties

        for name, value in run_properties().items():
            xml.add_global_property(name, value)
