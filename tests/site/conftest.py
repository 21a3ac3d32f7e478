"""Fixtures for the site tests: figures generated once per run, the site built once per worker.

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
from filelock import FileLock

from sitetools import DOCS, run


@pytest.fixture(scope="session")
def shared(tmp_path_factory) -> Path:
    """A folder that every pytest-xdist worker of this run shares: the parent of the workers'
    own temporary folders (the run's own folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def generated(shared):
    """Regenerate every figure, table and notebook into docs/generated, as the site command does.

    Under ``pytest -n`` the site tests run on every worker. The first worker to get here draws
    (in one process per core) while the others wait on a lock; they then find every output fresh
    in the cache (``dlhandbook.figures.generate``) and draw nothing, so docs/generated is written
    by one process at a time and only once.
    """
    if os.environ.get("DLHANDBOOK_SITE_DIR"):
        return DOCS / "generated"   # reusing a site built from figures generated before
    with FileLock(shared / "generated.lock"):
        summary = run(sys.executable, "-m", "dlhandbook.figures").stdout.strip().splitlines()[-1]
        with open(shared / "generated.log", "a", encoding="utf-8") as log:   # see test_build.py
            log.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}: {summary}\n")
    return DOCS / "generated"


@pytest.fixture(scope="session")
def site_port():
    """A loopback port for serving the built site, held for the session (bound, not listening) so
    that nothing else takes it before the browser test's server binds it too (both set
    SO_REUSEADDR, as ``http.server`` does)."""
    if os.environ.get("DLHANDBOOK_SITE_PORT"):
        yield int(os.environ["DLHANDBOOK_SITE_PORT"])
        return
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.fixture(scope="session")
def built_site(generated, site_port, tmp_path_factory) -> Path:
    """The site, built with ``mkdocs build --strict`` from freshly generated figures (in each
    worker: every worker serves its own copy on its own port).

    ``site_url`` is the address the browser test serves it on: Material's instant navigation
    only intercepts links under ``site_url``.
    """
    if os.environ.get("DLHANDBOOK_SITE_DIR"):
        return Path(os.environ["DLHANDBOOK_SITE_DIR"])
    site = tmp_path_factory.mktemp("site")
    run(sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site),
        SITE_URL=f"http://127.0.0.1:{site_port}/")
    return site
