"""Code blocks highlighted from the cache are the HTML Pygments makes, and only new code is lexed."""

from __future__ import annotations

import json

import markdown
import pygments
import pymdownx.highlight
import pytest

from dlhandbook.site import highlight_cache

PAGE = '''
Some `#!python x = [1, 2]` inline code.

```python title="adam.py" linenums="1" hl_lines="2"
def step(theta, grad, lr=1e-3):
    return theta - lr * grad  # (1)!
```

=== "NumPy"

    ```python
    import numpy as np
    print(np.zeros(3))
    ```

```text
plain text
```
'''
EXTENSIONS = ["pymdownx.highlight", "pymdownx.inlinehilite", "pymdownx.superfences",
              "pymdownx.tabbed"]
CONFIGS = {"pymdownx.highlight": {"pygments_lang_class": True},
           "pymdownx.tabbed": {"alternate_style": True}}


def render(text=PAGE):
    return markdown.markdown(text, extensions=EXTENSIONS, extension_configs=CONFIGS)


@pytest.fixture
def fresh(monkeypatch):
    """pymdownx.highlight as installed, and no cache yet; both restored afterwards."""
    monkeypatch.setattr(pymdownx.highlight, "highlight", pygments.highlight)
    monkeypatch.setattr(highlight_cache, "_CACHE", None)


def test_cached_html_is_pygments_html_and_a_second_build_lexes_nothing(tmp_path, fresh):
    plain = render()
    path = tmp_path / "highlight.json"
    first = highlight_cache.install(path)
    assert render() == plain
    assert first.misses == 4   # the inline snippet and three blocks
    highlight_cache.save()

    highlight_cache._CACHE = None   # a new process: the cache is read from the file
    second = highlight_cache.install(path)
    assert render() == plain
    assert second.misses == 0


def test_a_changed_option_or_line_is_highlighted_again(tmp_path, fresh):
    cache = highlight_cache.install(tmp_path / "highlight.json")
    render()
    before = cache.misses
    edited = render(PAGE.replace('hl_lines="2"', 'hl_lines="1"'))
    assert cache.misses == before + 1
    assert '<span class="hll"><span class="k">def</span>' in edited   # line 1 is marked now
    render(PAGE.replace("np.zeros(3)", "np.ones(3)"))
    assert cache.misses == before + 2


def test_saving_an_unchanged_cache_writes_nothing(tmp_path, fresh):
    """`mkdocs serve` would see a written file and rebuild (were .cache watched), and builds
    that run in parallel would rewrite it for nothing."""
    path = tmp_path / "highlight.json"
    highlight_cache.install(path)
    render()
    highlight_cache.save()
    stamp = (path.stat().st_ino, path.stat().st_mtime_ns)
    highlight_cache._CACHE = None
    highlight_cache.install(path)
    render()
    highlight_cache.save()
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp


def test_a_cache_from_other_library_versions_is_not_used(tmp_path, fresh):
    path = tmp_path / "highlight.json"
    highlight_cache.install(path)
    render()
    highlight_cache.save()
    data = json.loads(path.read_text())
    data["versions"] = ["pygments 0.1", "pymdown-extensions 0.1"]
    data["html"] = {k: "<pre>stale</pre>" for k in data["html"]}
    path.write_text(json.dumps(data))
    highlight_cache._CACHE = None
    cache = highlight_cache.install(path)
    assert "stale" not in render() and cache.misses == 4


def test_old_blocks_are_kept_up_to_a_limit(tmp_path, fresh, monkeypatch):
    path = tmp_path / "highlight.json"
    cache = highlight_cache.install(path)
    render()
    highlight_cache.save()
    highlight_cache._CACHE = None
    cache = highlight_cache.install(path)
    render("```python\ny = 2\n```")        # a dirty rebuild of one page keeps the others
    highlight_cache.save()
    assert len(json.loads(path.read_text())["html"]) == 5
    monkeypatch.setattr(highlight_cache, "MAX_ENTRIES", 5)
    highlight_cache._CACHE = None
    cache = highlight_cache.install(path)
    render("```python\nz = 3\n```")        # past the limit: only what this build used
    highlight_cache.save()
    assert len(json.loads(path.read_text())["html"]) == 1 == cache.misses


def test_install_leaves_a_pymdownx_that_no_longer_calls_pygments_by_that_name(tmp_path, fresh,
                                                                              monkeypatch):
    def their_own(code, lexer, formatter):
        return pygments.highlight(code, lexer, formatter)

    monkeypatch.setattr(pymdownx.highlight, "highlight", their_own)
    assert highlight_cache.install(tmp_path / "highlight.json") is None
    assert pymdownx.highlight.highlight is their_own
