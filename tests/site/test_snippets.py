"""Snippets are complete: every included section exists, and every snippet file runs on its own
with only the standard library, NumPy and PyTorch available (no import of the rest of dlhandbook)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sitetools import all_pages

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "snippets" / "dlhandbook"
# Build-time code is not copied by readers: figures (matplotlib), the site hooks, benchmarks.
NOT_SNIPPETS = {"figures", "site", "bench"}
SNIPPET_FILES = sorted(
    p for p in PACKAGE.rglob("*.py")
    if p.name != "__init__.py" and p.relative_to(PACKAGE).parts[0] not in NOT_SNIPPETS
    and len(p.relative_to(PACKAGE).parts) > 1
)
INCLUDE = re.compile(r'--8<-- "(?P<file>[\w/.-]+\.py)(?::(?P<section>\w+))?"')


def _sections(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    starts = set(re.findall(r"--8<-- \[start:(\w+)\]", text))
    ends = set(re.findall(r"--8<-- \[end:(\w+)\]", text))
    assert starts == ends, f"{path}: unbalanced section markers {starts ^ ends}"
    return starts


@pytest.mark.parametrize("page", [p for p in all_pages() if INCLUDE.search(p.body)], ids=lambda p: p.uri)
def test_included_files_and_sections_exist(page):
    for m in INCLUDE.finditer(page.body):
        path = REPO / "snippets" / m["file"]
        assert path.is_file(), f"{page.uri} includes missing file {m['file']}"
        if m["section"]:
            assert m["section"] in _sections(path), f"{page.uri}: no section {m['section']} in {m['file']}"


@pytest.mark.parametrize("path", SNIPPET_FILES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_only_stdlib_numpy_torch(path):
    allowed = set(sys.stdlib_module_names) | {"numpy", "torch", "__future__"}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import in {path.name}: a copied file would not run"
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


BLOCK_DLHANDBOOK = """
import importlib.abc, runpy, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "dlhandbook" or name.startswith("dlhandbook."):
            raise ImportError("a snippet must not import dlhandbook: " + name)
sys.meta_path.insert(0, Block())
for path in sys.argv[1:]:
    runpy.run_path(path, run_name="snippet")
"""


def test_every_snippet_file_runs_standalone(tmp_path):
    """Load every snippet file as a script, outside the package, with dlhandbook unimportable."""
    proc = subprocess.run([sys.executable, "-c", BLOCK_DLHANDBOOK, *map(str, SNIPPET_FILES)],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
