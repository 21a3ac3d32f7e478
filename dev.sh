#!/usr/bin/env bash
# One small script for the two things people do with this repository.
#
#   ./dev.sh serve   set up .venv, build strictly, serve on http://127.0.0.1:8000 (live reload)
#   ./dev.sh test    set up .venv and run the whole test suite
#   ./dev.sh build   set up .venv and build the site into site/
#
# The build itself (a hook in mkdocs.yml) redraws the figures, tables and notebooks whose code
# changed, on every core, so plain `mkdocs serve` and `mkdocs build` give the same site.
#
# Needs only Python 3.11+ with venv. Everything else is installed into .venv from
# requirements.lock (exact versions). The browser test also needs Chromium and ChromeDriver
# (Debian/Ubuntu: apt-get install chromium chromium-driver); without them it is skipped, saying so.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv
export NO_MKDOCS_2_WARNING=1 PYTHONHASHSEED=0
# Bytecode lives in .venv/pycache, not beside the sources, and is compiled on first import, for
# what is imported: pip compiling all 10,000 files of the venv took a third of the set-up. Since
# nothing is written into the checkout, it is written even where PYTHONDONTWRITEBYTECODE is set
# (without it, every process would compile torch again).
export PYTHONPYCACHEPREFIX="$PWD/$VENV/pycache"
unset PYTHONDONTWRITEBYTECODE

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    # Reinstall only when the pins or the package metadata changed.
    local stamp="$VENV/.installed" want
    want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
            -c requirements.lock -e ".[test]"
        echo "$want" > "$stamp"
    fi
}

case "${1:-}" in
    serve)
        setup
        # site_url's path (/dlhandbook/) would move the local site off the root: serve at the root.
        # --dirty: a save rebuilds only the pages it touched (the hooks add the pages that include
        # a changed snippet); restart for a full rebuild.
        # No print page here: a dirty rebuild would leave it holding only the pages it redid.
        SITE_URL=http://127.0.0.1:8000/ DLHANDBOOK_PRINT_PAGE=false \
            exec "$VENV/bin/mkdocs" serve --strict --dirty --dev-addr 127.0.0.1:8000 ;;
    build)
        setup
        "$VENV/bin/mkdocs" build --strict --site-dir site ;;
    test)
        setup
        shift
        # One worker per core (pytest-xdist; PYTEST_WORKERS=0 for none). worksteal: each starts
        # on its share of the tests and takes pending ones from the other when it runs out. (With
        # --dist load, a worker holds the chunk it was sent: one sat idle for the last 235 s of a
        # 506 s run while the other worked through the browser tests.) The site tests run on
        # every worker: the first draws the figures while the others wait, then each builds and
        # serves its own copy of the site (tests/site/conftest.py).
        exec "$VENV/bin/python" -m pytest -n "${PYTEST_WORKERS:-auto}" --dist worksteal "$@" ;;
    *)
        awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 2 ;;
esac
