"""Notebooks are executed by the figure command (and so by this suite), never by `mkdocs serve`."""

from __future__ import annotations

import nbformat
import pytest

from sitetools import DOCS, mkdocs_config

SOURCES = sorted((DOCS / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook():
    assert SOURCES


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_sources_are_stored_without_outputs(source):
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "strip outputs before committing"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_executes_top_to_bottom_without_errors(generated, source):
    nb = nbformat.read(generated / "notebooks" / source.name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    timed = [c.source[:40] for c in code if "execution" in c.metadata]
    assert not timed, f"execution timestamps make every run's bytes differ: {timed}"


def test_mkdocs_renders_notebooks_without_executing_them():
    config = mkdocs_config()
    plugins = [p for p in config["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p]
    plugin = plugins[0]["mkdocs-jupyter"]
    assert plugin["execute"] is False
