"""Fixtures for the site tests: figures generated once, the site built once, per session.

To iterate on the browser tests without rebuilding, build once with
``SITE_URL=http://127.0.0.1:8765/ mkdocs build --strict --site-dir /tmp/site`` and run pytest
with ``DLHANDBOOK_SITE_DIR=/tmp/site DLHANDBOOK_SITE_PORT=8765``; CI always builds afresh.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sitetools import DOCS, ENV, REPO, run

SITE_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)   # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n`` (``./dev.sh test``), every site test runs in one worker: the figures
    are drawn and the site is built once, while the other workers run the numerical tests."""
    for item in items:
        if item.path.is_relative_to(SITE_TESTS):
            item.add_marker(pytest.mark.xdist_group("site"))


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """Regenerate every figure, table and notebook into docs/generated, as the site command does.

    Then start a second, independent drawing of every figure and table into a folder of its own,
    for ``test_regenerating_gives_byte_identical_files``: it runs beside the site tests that
    follow (on the core the numerical tests leave free), not in front of them.
    """
    if os.environ.get("DLHANDBOOK_SITE_DIR"):
        yield DOCS / "generated"   # reusing a site built from figures generated before
        return
    run(sys.executable, "-m", "dlhandbook.figures")
    proc = _start_second_drawing(tmp_path_factory)
    yield DOCS / "generated"
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


_SECOND_DRAWING: dict = {}


def _start_second_drawing(tmp_path_factory) -> subprocess.Popen:
    out = tmp_path_factory.mktemp("second-drawing")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dlhandbook.figures", "--no-notebooks", "--jobs", "1", "--out", str(out)],
        cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _SECOND_DRAWING.update(proc=proc, out=out)
    return proc


@pytest.fixture(scope="session")
def second_drawing(generated, tmp_path_factory):
    """(process, output folder) of the second drawing that ``generated`` started (started now
    when the figures were drawn before this session)."""
    if not _SECOND_DRAWING:
        _start_second_drawing(tmp_path_factory)
    return _SECOND_DRAWING["proc"], _SECOND_DRAWING["out"]


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
