"""Fixtures for the site tests: figures generated once, the site built once, per session."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from sitetools import DOCS, run


@pytest.fixture(scope="session")
def generated() -> Path:
    """Regenerate every figure, table and notebook into docs/generated, as the site command does."""
    run(sys.executable, "-m", "dlhandbook.figures")
    return DOCS / "generated"


@pytest.fixture(scope="session")
def site_port() -> int:
    """A free loopback port for serving the built site."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def built_site(generated, site_port, tmp_path_factory) -> Path:
    """The site, built with ``mkdocs build --strict`` from freshly generated figures.

    ``site_url`` is the address the browser test serves it on: Material's instant navigation
    only intercepts links under ``site_url``.
    """
    site = tmp_path_factory.mktemp("site")
    run(sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site),
        SITE_URL=f"http://127.0.0.1:{site_port}/")
    return site
