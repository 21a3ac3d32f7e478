"""Fixtures for the site tests: figures generated once, the site built once, per session."""

from __future__ import annotations

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
def built_site(generated, tmp_path_factory) -> Path:
    """The site, built with ``mkdocs build --strict`` from freshly generated figures."""
    site = tmp_path_factory.mktemp("site")
    run(sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site))
    return site
