"""The GitHub Actions workflows pass zizmor's audit and keep the properties the project relies on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def _load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_zizmor_finds_nothing():
    zizmor = Path(sys.executable).with_name("zizmor")
    proc = subprocess.run([str(zizmor), "--offline", str(WORKFLOWS)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment():
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            match = re.search(r"uses:\s*([^\s#]+)(.*)", line)
            if match and not match[1].startswith(("./", "$/")):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", match[1]), line
                assert re.search(r"#\s*v\d", match[2]), f"no version comment: {line}"


def test_gpu_workflow_never_runs_for_pull_requests_and_is_gated():
    gpu = _load("gpu.yml")
    assert set(gpu["on"]) == {"push", "schedule", "workflow_dispatch"}
    job = gpu["jobs"]["cuda"]
    assert job["runs-on"] == ["self-hosted", "linux", "x64", "gpu"]
    assert "vars." in job["if"]
    assert job["env"]["REQUIRE_CUDA"] == "1"


def test_pages_deploy_only_from_main_after_the_cpu_job():
    ci = _load("ci.yml")
    pages = ci["jobs"]["pages"]
    assert pages["needs"] == "test"
    assert "refs/heads/main" in pages["if"] and "push" in pages["if"]
    assert _load("pages.yml")["on"] == {"workflow_call": None}


def test_every_job_declares_least_privilege_permissions():
    for path in WORKFLOWS.glob("*.yml"):
        data = _load(path.name)
        assert data["permissions"] == {}, f"{path.name}: top-level permissions must be empty"
        for name, job in data["jobs"].items():
            assert "permissions" in job, f"{path.name}:{name} has no permissions block"
            assert "concurrency" in data, path.name


def test_readme_test_command_is_what_ci_runs():
    root = WORKFLOWS.parents[1]
    assert "./dev.sh test" in (root / ".ci" / "run").read_text()
    assert "./dev.sh test" in (root / "README.md").read_text()
