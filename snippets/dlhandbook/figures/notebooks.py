"""Execute the handbook's notebooks once, so that ``mkdocs serve`` renders stored outputs."""

from __future__ import annotations

from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parents[3] / "docs" / "notebooks"


def execute_notebook(src: Path, dest: Path, timeout: int = 300,
                     env: dict[str, str] | None = None) -> None:
    """Run notebook ``src`` top to bottom in a fresh kernel and write it, with outputs, to ``dest``.

    ``env`` is the kernel's whole environment (default: this process's)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(src, as_version=4)
    # record_timing=False: no execution timestamps in the cells, so a rerun writes the same bytes
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(src.parent)}}).execute(
        **({} if env is None else {"env": env}))
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
