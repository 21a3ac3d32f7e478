"""Helpers for the site tests: running commands in the repository and reading the Markdown pages."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONHASHSEED": "0"}


def run(*args: str, cwd: Path = REPO, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run a command in the repository with this interpreter's environment (plus ``env``)."""
    proc = subprocess.run(args, cwd=cwd, env={**ENV, **env}, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


class _ConfigLoader(yaml.SafeLoader):
    """Reads mkdocs.yml, taking the default of each ``!ENV [NAME, default]`` tag."""


_ConfigLoader.add_constructor("!ENV", lambda loader, node: loader.construct_sequence(node)[-1])


def mkdocs_config() -> dict:
    return yaml.load((REPO / "mkdocs.yml").read_text(), Loader=_ConfigLoader)


def nav_uris(nav: list | None = None) -> list[str]:
    """Every page path in the nav (of mkdocs.yml by default), in order."""
    out = []
    for entry in mkdocs_config()["nav"] if nav is None else nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        out.extend(nav_uris(value) if isinstance(value, list) else [value])
    return out


SECTIONS = [
    "Answer in 30 seconds",
    "The full answer",
    "In code",
    "See it",
    "Proven by tests",
    "Common wrong answers",
    "Follow-up questions",
    "Related questions",
    "References",
]
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
IMAGE = re.compile(r"!\[[^\]]*\]\((?P<src>[^)\s]+)\)")
TEST_LINK = re.compile(r"\]\(test:(?P<path>tests/[\w./-]+\.py)::(?P<name>\w+)\)")


@dataclass
class Page:
    path: Path
    meta: dict
    body: str

    @property
    def uri(self) -> str:
        return self.path.relative_to(DOCS).as_posix()

    @property
    def complete(self) -> bool:
        return self.meta.get("state") == "complete"

    def headings(self, level: int = 2) -> list[str]:
        text = FENCE.sub("", self.body)
        return [m.group(1).strip() for m in re.finditer(rf"^{'#' * level} (.+)$", text, re.MULTILINE)]

    def prose(self) -> str:
        """The body without code blocks and inline code spans."""
        return re.sub(r"`[^`\n]+`", "", FENCE.sub("", self.body))

    def section(self, title: str) -> str:
        """The text of level-2 section ``title`` (up to the next level-2 heading)."""
        match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", self.body, re.MULTILINE | re.DOTALL)
        return match.group(1) if match else ""

    def code_blocks(self) -> list[tuple[str, str]]:
        """(info string, body) of every fenced code block, with the fence's indent removed."""
        blocks = []
        for m in FENCE.finditer(self.body):
            indent = len(m["indent"])
            body = "\n".join(line[indent:] for line in m["body"].splitlines())
            blocks.append((m["info"].strip(), body))
        return blocks


def load(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    meta, body = {}, text
    if text.startswith("---\n"):
        _, front, body = text.split("---\n", 2)
        meta = yaml.safe_load(front) or {}
    return Page(path, meta, body)


def all_pages() -> list[Page]:
    return [load(p) for p in sorted(DOCS.rglob("*.md")) if "generated" not in p.parts]
