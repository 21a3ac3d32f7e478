"""The code is lint-clean (ruff, configured in pyproject.toml), so the test command is the whole gate."""

import subprocess
import sys
from pathlib import Path


def test_ruff_check_passes():
    root = Path(__file__).resolve().parents[1]
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run([str(ruff), "check", "snippets", "tests"], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
