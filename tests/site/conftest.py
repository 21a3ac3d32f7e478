"""Fixtures for the site tests: figures generated once, the site built once, per session.

To iterate on the browser tests without rebuilding, build once with
``SITE_URL=http://127.0.0.1:8765/ mkdocs build --strict --site-dir /tmp/site`` and run pytest
with ``DLHANDBOOK_SITE_DIR=/tmp/site DLHANDBOOK_SITE_PORT=8765``; CI always builds afresh.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from sitetools import DOCS, run

SITE_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)   # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n`` (``./dev.sh test``), every site test runs in one worker: the figures
    are drawn and the site is built once, while the other workers run the numerical tests."""
    for item in items:
        if item.path.is_relative_to(SITE_TESTS):
            item.add_marker(pytest.mark.xdist_group("site"))


@pytest.fixture(scope="session")
def generated() -> Path:
    """Regenerate every figure, table and notebook into docs/generated, as the site command does."""
    if os.environ.get("DLHANDBOOK_SITE_DIR"):
        return DOCS / "generated"   # reusing a site built from figures generated before
    run(sys.executable, "-m", "dlhandbook.figures")
    return DOCS / "generated"


@pytest.fixture(scope="session")
def site_port() -> int:
    """A free loopback port for serving the built site."""
    if os.environ.get("DLHANDBOOK_SITE_PORT"):
        return int(os.environ["DLHANDBOOK_SITE_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def built_site(generated, site_port, tmp_path_factory) -> Path:
    """The site, built with ``mkdocs build --strict`` from freshly generated figures.

    ``site_url`` is the address the browser test serves it on: Material's instant navigation
    only intercepts links under ``site_url``.
    """
    if os.environ.get("DLHANDBOOK_SITE_DIR"):
        return Path(os.environ["DLHANDBOOK_SITE_DIR"])
    site = tmp_path_factory.mktemp("site")
    run(sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site),
        SITE_URL=f"http://127.0.0.1:{site_port}/")
    return site
