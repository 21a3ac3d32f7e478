"""Code blocks highlighted once, not on every build: Pygments' HTML for each block, kept between
builds in ``.cache/highlight.json``.

Pygments lexes Python with regular expressions, in pure Python; for the handbook's 270 code blocks
(27,000 lines) that was a third of a warm build. pymdownx.highlight calls
``pygments.highlight(code, lexer, formatter)`` through the name it imports; ``install`` points that
name at ``HighlightCache.highlight``, which returns the stored HTML when the code, the lexer and
its options, the formatter and its options and the versions of Pygments and pymdown-extensions
are those it was made with, and asks Pygments otherwise. The HTML is the same either way
(``tests/site/test_highlight_cache.py``). Where a pymdown-extensions release stops calling
Pygments through that name, ``install`` leaves it alone and says so: builds are slower, not wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

import pygments

VERSIONS = tuple(f"{lib} {metadata.version(lib)}" for lib in ("pygments", "pymdown-extensions"))
# Blocks of earlier edits are kept (a dirty rebuild highlights only the pages it redoes) up to
# this many; past it, only the blocks of the last build are kept.
MAX_ENTRIES = 5000


def _kind(obj) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


class HighlightCache:
    """Pygments' output by a hash of everything it depends on, read from and saved to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stored = self._read()
        self.used: dict[str, str] = {}
        self.misses = 0

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("versions") != list(VERSIONS):
            return {}
        return dict(data.get("html", {}))

    @staticmethod
    def key(code: str, lexer, formatter) -> str:
        described = repr((VERSIONS, _kind(lexer), sorted(lexer.options.items()),
                          _kind(formatter), sorted(formatter.options.items()), code))
        return hashlib.sha256(described.encode("utf-8")).hexdigest()

    def highlight(self, code: str, lexer, formatter, outfile=None):
        """``pygments.highlight``, from the cache where it can be."""
        if outfile is not None or lexer.filters:   # nothing pymdownx does; not worth a key
            return pygments.highlight(code, lexer, formatter, outfile)
        k = self.key(code, lexer, formatter)
        html = self.used.get(k, self.stored.get(k))
        if html is None:
            html = pygments.highlight(code, lexer, formatter)
            self.misses += 1
        self.used[k] = html
        return html

    def save(self) -> None:
        """Write the blocks used so far (and earlier ones, up to ``MAX_ENTRIES``) if they changed;
        an unchanged cache is not touched."""
        entries = {**self.stored, **self.used}
        if len(entries) > MAX_ENTRIES:
            entries = dict(self.used)
        if entries == self.stored:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".highlight-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:   # builds in parallel: replace whole
            json.dump({"versions": list(VERSIONS), "html": entries}, f)
        os.replace(tmp, self.path)
        self.stored = entries


_CACHE: HighlightCache | None = None


def install(path: Path) -> HighlightCache | None:
    """Make pymdownx.highlight use the cache at ``path`` (kept while the path stays the same,
    so that ``mkdocs serve`` reads the file once); ``None`` where it cannot."""
    global _CACHE
    import pymdownx.highlight as pymdownx_highlight

    current = getattr(pymdownx_highlight, "highlight", None)
    if current is not pygments.highlight and not getattr(current, "_dlhandbook_cache", False):
        return None
    if _CACHE is None or _CACHE.path != Path(path):
        _CACHE = HighlightCache(path)

    def highlight(code, lexer, formatter, outfile=None):
        return _CACHE.highlight(code, lexer, formatter, outfile)

    highlight._dlhandbook_cache = True
    pymdownx_highlight.highlight = highlight
    return _CACHE


def save() -> None:
    if _CACHE is not None:
        _CACHE.save()
