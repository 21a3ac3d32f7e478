"""Provenance stamps: what a test run proved about each answer page.

The build reads pytest JUnit XML files (``pytest --junitxml=...``) named by the environment
variable ``DLHANDBOOK_TEST_RESULTS`` (several files, one per job or device, separated by
``os.pathsep``). ``tests/conftest.py`` writes the torch version, the devices and the commit of
the run into each file as suite properties (:func:`run_properties`). Each answer page then shows
under its title how many of the tests it links to (``test:`` links) passed, on which torch
version and devices, at which commit; a page whose tests were not in the results says so.

Everything here is a pure function of its arguments except :func:`results_from_env` (reads the
files the environment names) and :func:`run_properties` (asks torch and git).
"""

from __future__ import annotations

import functools
import html
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from mkdocs.exceptions import PluginError

REPO_ROOT = Path(__file__).resolve().parents[3]

ENV_VAR = "DLHANDBOOK_TEST_RESULTS"
# Pages that are not answers: they get no stamp even if they say ``state: complete``.
NOT_ANSWERS = frozenset({"index.md", "figures.md", "about.md", "contributing.md", "cheat-sheet.md"})
TEST_LINK = re.compile(r"\]\(test:(?P<path>tests/[\w./-]+\.py)::(?P<name>\w+)\)")
DIFFICULTY_TAG = re.compile(r'^<span class="dl-difficulty [^"]*">[^<]*</span>$', re.MULTILINE)
H1 = re.compile(r"^# .+$", re.MULTILINE)
XDIST_GROUP = re.compile(r"@[^\[\]@]*$")   # pytest-xdist's --dist loadgroup appends "@group"
# One case seen twice (a teardown error after a pass; the GPU job reruns the CPU cases too): a
# failure anywhere wins, and a pass in one run outweighs a skip in another.
_RANK = {"skipped": 0, "passed": 1, "failed": 2, "error": 2}


class ProvenanceError(PluginError):
    """A results file named by DLHANDBOOK_TEST_RESULTS is missing or is not JUnit XML."""


@dataclass(frozen=True)
class Run:
    """One JUnit XML file: its suite properties and ``{test id: outcome}``."""

    source: str
    properties: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- writing (tests/conftest.py)


def run_properties() -> dict[str, str]:
    """What a test run records about itself: torch version, devices, GPU name, commit."""
    import torch

    props = {"torch": torch.__version__, "devices": "cpu"}
    if torch.cuda.is_available():
        props["devices"] = "cpu,cuda"
        props["cuda_device"] = torch.cuda.get_device_name(0)
        props["cuda"] = str(torch.version.cuda)
    commit = _git_head(Path(__file__).resolve().parents[3]) or os.environ.get("GITHUB_SHA", "")
    if commit:
        props["commit"] = commit
    return props


def _git_head(root: Path) -> str | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "--verify", "HEAD"], cwd=root,
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = proc.stdout.strip()
    return sha if proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", sha) else None


# ---------------------------------------------------------------- reading


def case_id(classname: str, name: str) -> str:
    """JUnit's ``classname`` and ``name`` -> ``tests/x/test_y.py::test_name[params]``.

    pytest writes ``tests.x.test_y`` (``tests.x.test_y.TestClass`` for a method); a page links to
    ``tests/x/test_y.py::test_name`` whether or not the test is in a class, so classes are dropped.
    """
    parts = classname.split(".")
    module = max((i for i, p in enumerate(parts) if p.startswith("test") or p.endswith("_test")),
                 default=len(parts) - 1)
    path = "/".join(parts[: module + 1]) + ".py"
    return f"{path}::{XDIST_GROUP.sub('', name)}"


def parse_junit(text: str, source: str = "<junit>") -> Run:
    """Parse pytest's JUnit XML into a :class:`Run` (outcomes: passed, failed, error, skipped)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ProvenanceError(f"{ENV_VAR}: {source} is not JUnit XML ({exc})") from None
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if root.tag not in ("testsuite", "testsuites"):
        raise ProvenanceError(f"{ENV_VAR}: {source} is not JUnit XML (root <{root.tag}>)")
    props, outcomes = {}, {}
    for suite in suites:
        for prop in suite.iterfind("properties/property"):
            props[prop.get("name", "")] = prop.get("value", "")
        for case in suite.iter("testcase"):
            key = case_id(case.get("classname", ""), case.get("name", ""))
            if case.find("failure") is not None:
                outcome = "failed"
            elif case.find("error") is not None:
                outcome = "error"
            elif case.find("skipped") is not None:
                outcome = "skipped"
            else:
                outcome = "passed"
            if key not in outcomes or _RANK[outcome] > _RANK[outcomes[key]]:
                outcomes[key] = outcome
    return Run(source=source, properties=props, outcomes=outcomes)


def read_results(value: str | None) -> list[Run] | None:
    """The runs in the files ``value`` names (``os.pathsep``-separated); None if it names none."""
    paths = [p for p in (value or "").split(os.pathsep) if p.strip()]
    if not paths:
        return None
    runs = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.is_file():
            raise ProvenanceError(f"{ENV_VAR} names {p!r}, which is not a file (run "
                                  f"./dev.sh test --junitxml={p} first, or unset {ENV_VAR})")
        runs.append(parse_junit(path.read_text(encoding="utf-8"), source=p))
    return runs


_CACHE: dict[tuple, list[Run] | None] = {}


def results_from_env(environ=os.environ) -> list[Run] | None:
    """:func:`read_results` of ``$DLHANDBOOK_TEST_RESULTS``, read again only when a file changed."""
    value = environ.get(ENV_VAR, "")
    stamps = tuple((p, os.stat(p).st_mtime_ns if os.path.isfile(p) else None)
                   for p in value.split(os.pathsep) if p.strip())
    key = (value, stamps)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = read_results(value)
    return _CACHE[key]


# ---------------------------------------------------------------- the stamp


def linked_tests(markdown: str) -> list[str]:
    """The ``tests/x.py::test_name`` ids a page links to, once each, in order."""
    return list(dict.fromkeys(f"{m['path']}::{m['name']}" for m in TEST_LINK.finditer(markdown)))


def _cases(test: str, outcomes: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in outcomes.items() if k == test or k.startswith(test + "[")}


def linked_outcome(test: str, runs: list[Run]) -> str:
    """One linked test over all runs: ``passed`` only if every parametrization that ran passed.

    ``failed`` if any case failed or errored in any run; ``skipped`` if some case only skipped;
    ``not run`` if no run has it.
    """
    merged: dict[str, str] = {}
    for run in runs:
        for key, outcome in _cases(test, run.outcomes).items():
            old = merged.get(key)
            if old is None or _RANK[outcome] > _RANK[old]:
                merged[key] = outcome
    if not merged:
        return "not run"
    if any(o in ("failed", "error") for o in merged.values()):
        return "failed"
    return "passed" if all(o == "passed" for o in merged.values()) else "skipped"


def _param_ids(key: str) -> list[str]:
    match = re.search(r"\[(.*)\]$", key)
    return match[1].split("-") if match else []


def _devices(tests: list[str], runs: list[Run]) -> list[str]:
    """CPU always; CUDA only if a passed case of these tests ran on ``cuda`` in a CUDA run."""
    out = ["CPU"]
    gpus = []
    for run in runs:
        if "cuda" not in run.properties.get("devices", "").split(","):
            continue
        for test in tests:
            if any("cuda" in _param_ids(k) and o == "passed"
                   for k, o in _cases(test, run.outcomes).items()):
                gpus.append(run.properties.get("cuda_device", ""))
                break
    if gpus:
        names = sorted({g for g in gpus if g})
        out.append("CUDA" + (f" ({', '.join(names)})" if names else ""))
    return out


def _commit_html(sha: str, repo_url: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{40}", sha or ""):
        return "a build outside git"
    href = f"{repo_url.rstrip('/')}/commit/{sha}"
    return f'commit <a href="{html.escape(href)}"><code>{sha[:7]}</code></a>'


def page_stamp(markdown: str, runs: list[Run] | None, commit: str, repo_url: str,
               changed: str | None = None) -> str:
    """The stamp (inline HTML) for a page's Markdown, given the runs (None: no results at all)
    and the date the page last changed (None: unknown, e.g. in a shallow clone)."""
    tests = linked_tests(markdown)
    built = _commit_html(commit, repo_url)
    if runs is None:
        return _span(changed, "none", "This build ran no tests", f"page built from {built}",
                     f"Built without {ENV_VAR}: no test results were supplied")
    outcomes = {t: linked_outcome(t, runs) for t in tests}
    ran = [t for t in tests if outcomes[t] != "not run"]
    if not tests:
        return _span(changed, "none", "This page links to no tests", built, "")
    if not ran:
        return _span(changed, "none", "Linked tests not run in this build", built,
                     f"None of the {len(tests)} linked tests is in the supplied results")
    relevant = [r for r in runs if any(_cases(t, r.outcomes) for t in ran)]
    counts = {k: sum(o == k for o in outcomes.values())
              for k in ("passed", "failed", "skipped", "not run")}
    text = f"{counts['passed']} of {len(tests)} linked tests passed"
    extra = [f"{counts[k]} {k}" for k in ("failed", "skipped") if counts[k]]
    if counts["not run"]:
        extra.append(f"{counts['not run']} not run in this build")
    if extra:
        text += " (" + ", ".join(extra) + ")"
    torches = sorted({r.properties["torch"] for r in relevant if r.properties.get("torch")})
    details = [f"torch {' and '.join(torches)}" if torches else "torch version not recorded",
               " and ".join(_devices(ran, relevant))]
    run_commits = {r.properties.get("commit", "") for r in relevant}
    if run_commits == {commit}:
        details.append(built)
    else:
        tested = ", ".join(_commit_html(c, repo_url) if c else "an unrecorded commit"
                           for c in sorted(run_commits))
        details.append(f"tests at {tested}, page built from {built}")
    state = ("failed" if counts["failed"] else
             "passed" if counts["passed"] == len(tests) else "partial")
    title = "; ".join(f"{k}: {', '.join(t for t in tests if outcomes[t] == k)}"
                      for k in ("failed", "skipped", "not run") if counts[k])
    return _span(changed, state, text, " · ".join(details), title)


def _span(changed: str | None, state: str, text: str, details: str, title: str) -> str:
    title_attr = f' title="{html.escape(title)}"' if title else ""
    if changed:
        details += f" · page changed {html.escape(changed)}"
    return (f'<span class="dl-provenance dl-provenance--{state}" data-search-exclude'
            f'{title_attr}>{html.escape(text)} · {details}</span>')


def is_answer(uri: str, meta: dict) -> bool:
    """Answer pages (``state: complete``, not the home, figures, about pages...) get a stamp."""
    return meta.get("state") == "complete" and uri not in NOT_ANSWERS


def stamp_markdown(markdown: str, uri: str, meta: dict, commit: str, repo_url: str) -> str:
    """The hooks' entry point: an answer page's stamp from ``$DLHANDBOOK_TEST_RESULTS``, else ""."""
    if not is_answer(uri, meta):
        return ""
    return page_stamp(markdown, results_from_env(), commit, repo_url, last_changed().get(uri))


@functools.cache
def last_changed(root: Path = REPO_ROOT) -> dict[str, str]:
    """Each page's last commit date (``docs``-relative path -> YYYY-MM-DD), from one ``git log``.

    Empty outside git and in a shallow clone, where every page would seem changed at the clone's
    one commit (CI checks out with ``fetch-depth: 0``).
    """
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout if proc.returncode == 0 else None

    if (git("rev-parse", "--is-shallow-repository") or "true").strip() != "false":
        return {}
    out: dict[str, str] = {}
    date = ""
    for line in (git("log", "--format=%x00%cs", "--name-only", "--", "docs") or "").splitlines():
        if line.startswith("\0"):
            date = line[1:]
        elif line.startswith("docs/") and line.endswith(".md"):
            out.setdefault(line[len("docs/"):], date)
    return out


def insert_stamp(markdown: str, stamp: str) -> str:
    """Put the stamp next to the difficulty tag (same paragraph), else under the title."""
    if not stamp:
        return markdown
    tag = DIFFICULTY_TAG.search(markdown)
    if tag:
        return markdown[: tag.end()] + "\n" + stamp + markdown[tag.end():]
    title = H1.search(markdown)
    if title:
        return markdown[: title.end()] + "\n\n" + stamp + "\n" + markdown[title.end():]
    return stamp + "\n\n" + markdown


# ---------------------------------------------------------------- notebook pages


def colab_url(repo_url: str, notebook: str, branch: str = "main") -> str:
    """Colab's address for ``docs/notebooks/<notebook>`` of the GitHub repository ``repo_url``."""
    match = re.fullmatch(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?",
                         repo_url or "")
    if not match:
        raise ValueError(f"extra.repository must be https://github.com/<owner>/<repo>, "
                         f"got {repo_url!r}")
    if not re.fullmatch(r"[\w.-]+\.ipynb", notebook):
        raise ValueError(f"notebook must be a file name ending in .ipynb, got {notebook!r}")
    return (f"https://colab.research.google.com/github/{match['owner']}/{match['repo']}"
            f"/blob/{quote(branch)}/docs/notebooks/{notebook}")


def notebook_page(html_text: str, uri: str, repo_url: str) -> str:
    """The hooks' entry point: a notebook page gets its links; any other page is unchanged."""
    if not uri.endswith(".ipynb"):
        return html_text
    return notebook_links(html_text, uri.rsplit("/", 1)[-1], repo_url)


def notebook_links(html_text: str, notebook: str, repo_url: str) -> str:
    """Add "Download the notebook" and "Open in Colab" links under a notebook page's title.

    The download is the executed copy mkdocs-jupyter puts next to the page (``include_source``).
    """
    links = (f'<p class="dl-notebook-links" data-search-exclude>'
             f'<a href="{html.escape(notebook)}" download>Download the notebook (.ipynb)</a> · '
             f'<a href="{html.escape(colab_url(repo_url, notebook))}" '
             f'title="Opens a copy on Google Colab; its first code cell says what to pip install">'
             f"Open in Colab</a></p>")
    end = html_text.find("</h1>")
    if end == -1:
        return links + html_text
    end += len("</h1>")
    return html_text[:end] + links + html_text[end:]
