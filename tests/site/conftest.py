"""Fixtures for the site tests: figures generated once per run, the site built once per worker.

To iterate on the browser tests without rebuilding, build once with
``SITE_URL=http://127.0.0.1:8765/ mkdocs build --strict --site-dir /tmp/site`` and run pytest
with ``DLHANDBOOK_SITE_DIR=/tmp/site DLHANDBOOK_SITE_PORT=8765``; CI always builds afresh.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from dlhandbook.figures import generate
from sitetools import DOCS, REPO, run


@pytest.fixture(scope="session")
def shared(tmp_path_factory) -> Path:
    """A folder that every pytest-xdist worker of this run shares: the parent of the workers'
    own temporary folders (the run's own folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


DRAWN = ("figures", "tables", "notebooks", ".manifest.json")   # what a build's hook draws


@pytest.fixture(scope="session")
def fresh_build(shared) -> tuple[Path, Path]:
    """``mkdocs build --strict`` in a copy of the repository (tracked and new files) without
    ``docs/generated``, as in a fresh clone: the build's hook draws every figure, table and
    notebook itself. Returns the copy and its site.

    The one drawing of the run: the first worker to get here builds while the others wait on a
    lock, and ``generated`` takes its outputs."""
    root = shared / "fresh"
    copy, site = root / "repo", root / "site"
    with FileLock(shared / "fresh.lock"):
        if not (root / "built").is_file():
            shutil.rmtree(root, ignore_errors=True)
            listed = run("git", "ls-files", "--cached", "--others", "--exclude-standard").stdout
            for rel in listed.split():
                if (REPO / rel).is_file():   # a file deleted but not yet committed is listed too
                    (copy / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(REPO / rel, copy / rel)
            assert not (copy / "docs" / "generated").exists()
            run(sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site),
                cwd=copy, PYTHONPATH=str(copy / "snippets"))   # the copy's package
            (root / "built").touch()
    return copy, site


@pytest.fixture(scope="session")
def generated(shared, request):
    """Every figure, table and notebook in docs/generated, up to date, as the site command leaves it.

    Where any is stale (always, in a fresh clone), they are those the fresh copy's build drew
    (``fresh_build``), copied in once. Then the figure command runs, as ``./dev.sh`` would, and
    must find every output fresh in the cache (``dlhandbook.figures.generate``): the build's hook
    and the command share one cache, so nothing is drawn twice. Under ``pytest -n`` the site tests
    run on every worker; each runs the command in turn, under a lock, so docs/generated is
    written by one process at a time.
    """
    if os.environ.get("DLHANDBOOK_SITE_DIR"):
        return DOCS / "generated"   # reusing a site built from figures generated before
    with FileLock(shared / "generated.lock"):
        if not (shared / "generated.copied").is_file() and generate.stale_jobs(DOCS / "generated"):
            copy, _ = request.getfixturevalue("fresh_build")
            for name in DRAWN:
                dest = DOCS / "generated" / name
                if dest.is_dir():
                    shutil.rmtree(dest)
                dest.parent.mkdir(parents=True, exist_ok=True)
                src = copy / "docs" / "generated" / name
                (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest)
            (shared / "generated.copied").touch()
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
