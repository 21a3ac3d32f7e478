"""Provenance stamps: the build turns a real pytest JUnit run into each answer page's stamp.

Fast unit tests of ``dlhandbook.site.provenance`` (no site build): one real pytest run of a
tiny file in a subprocess, the suite's own ``tests/conftest.py`` hook that records torch's
version, the devices and the commit, then stamps computed from real and hand-written XML.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import markdown as md
import pytest
import torch
from _pytest.junitxml import LogXML, xml_key
from mkdocs.utils import yaml_load
from mkdocs.utils.meta import get_data

from dlhandbook.site import mdext, provenance
from dlhandbook.site.provenance import (
    ENV_VAR,
    ProvenanceError,
    Run,
    colab_url,
    linked_outcome,
    page_stamp,
    parse_junit,
    read_results,
    results_from_env,
)

ROOT = Path(__file__).resolve().parents[2]
REPO = "https://github.com/owner/handbook"
SHA = "0123456789abcdef0123456789abcdef01234567"
DEMO = "tests/demo/test_demo.py"

DEMO_TESTS = '''
import pytest


def test_claim_holds():
    assert 2 + 2 == 4


def test_claim_broken():          # the same claim, but false: this is what a regression looks like
    assert 2 + 2 == 5


@pytest.mark.parametrize("n", [1, 2, 3])
def test_all_cases_pass(n):
    assert n > 0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_one_case_fails(n):
    assert n < 3


@pytest.mark.skip(reason="demo")
def test_skipped():
    pass


@pytest.fixture
def broken_fixture():
    raise RuntimeError("set-up fails")


def test_setup_error(broken_fixture):
    pass


class TestInAClass:
    def test_method(self):
        pass
'''


@pytest.fixture(scope="module")
def junit(tmp_path_factory) -> Path:
    """A real ``pytest --junitxml`` run of a tiny test file (no conftest: a second or so)."""
    root = tmp_path_factory.mktemp("demo")
    (root / "pytest.ini").write_text("[pytest]\n")   # rootdir here: ids start with tests/
    (root / "tests" / "demo").mkdir(parents=True)
    (root / DEMO).write_text(DEMO_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", ENV_VAR))}
    out = root / "results.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:xdist", f"--junitxml={out}", "tests"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr   # the demo has failing tests
    return out


def test_the_suite_conftest_records_torch_devices_and_commit(tmp_path):
    """tests/conftest.py's hook, in the process that writes the XML (under xdist, the controller:
    there the record_testsuite_property fixture would record nothing)."""
    spec = importlib.util.spec_from_file_location("suite_conftest", ROOT / "tests" / "conftest.py")
    suite_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite_conftest)
    out = tmp_path / "run.xml"
    xml = LogXML(str(out), None)
    stash = pytest.Stash()
    stash[xml_key] = xml
    xml.pytest_sessionstart()
    suite_conftest.pytest_sessionstart(SimpleNamespace(config=SimpleNamespace(stash=stash)))
    xml.pytest_sessionfinish()
    run = parse_junit(out.read_text(), source=str(out))
    assert run.properties["torch"] == torch.__version__
    assert run.properties["devices"] == ("cpu,cuda" if torch.cuda.is_available() else "cpu")
    assert run.properties.get("commit", "main") == mdext.build_commit()
    # Without --junitxml the hook does nothing.
    suite_conftest.pytest_sessionstart(SimpleNamespace(config=SimpleNamespace(stash=pytest.Stash())))


def _page(*names: str) -> str:
    links = "\n".join(f"- A claim. [test](test:{DEMO}::{n})" for n in names)
    return f"---\nstate: complete\n---\n\n# Q1. A question\n\n{links}\n"


def _xml(cases: str, devices: str = "cpu", gpu: str = "", commit: str = SHA) -> str:
    props = f'<property name="torch" value="2.13.0" /><property name="devices" value="{devices}" />'
    if gpu:
        props += f'<property name="cuda_device" value="{gpu}" />'
    props += f'<property name="commit" value="{commit}" />'
    return (f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
            f"<properties>{props}</properties>{cases}</testsuite></testsuites>")


def _case(name: str, outcome: str = "passed", module: str = "tests.demo.test_demo") -> str:
    inner = {"passed": "", "failed": '<failure message="x">x</failure>',
             "skipped": '<skipped message="x">x</skipped>', "error": '<error message="x">x</error>'}
    return f'<testcase classname="{module}" name="{name}" time="0.1">{inner[outcome]}</testcase>'


def test_parses_real_pytest_junit_output(junit):
    run = parse_junit(junit.read_text(), source=str(junit))
    assert run.outcomes == {
        f"{DEMO}::test_claim_holds": "passed",
        f"{DEMO}::test_claim_broken": "failed",
        **{f"{DEMO}::test_all_cases_pass[{n}]": "passed" for n in (1, 2, 3)},
        f"{DEMO}::test_one_case_fails[1]": "passed",
        f"{DEMO}::test_one_case_fails[2]": "passed",
        f"{DEMO}::test_one_case_fails[3]": "failed",
        f"{DEMO}::test_skipped": "skipped",
        f"{DEMO}::test_setup_error": "error",
        f"{DEMO}::test_method": "passed",        # a method: pages link path::name
    }
    assert run.properties == {}   # no conftest here: the stamp then says so
    assert "torch version not recorded" in page_stamp(_page("test_method"), [run], SHA, REPO)


def test_a_failing_linked_test_changes_the_stamp(junit):
    runs = read_results(str(junit))
    commit = SHA
    good = page_stamp(_page("test_claim_holds", "test_method"), runs, commit, REPO)
    bad = page_stamp(_page("test_claim_broken", "test_method"), runs, commit, REPO)
    assert "dl-provenance--passed" in good and "2 of 2 linked tests passed ·" in good
    assert "dl-provenance--failed" in bad and "1 of 2 linked tests passed (1 failed)" in bad
    assert f"failed: {DEMO}::test_claim_broken" in bad   # the tooltip names it
    for stamp in (good, bad):
        assert "CPU" in stamp and "CUDA" not in stamp
        assert f'href="{REPO}/commit/{commit}"' in stamp and f"<code>{commit[:7]}</code>" in stamp


def test_a_parametrized_test_passes_only_if_every_case_passed(junit):
    runs = read_results(str(junit))
    assert linked_outcome(f"{DEMO}::test_all_cases_pass", runs) == "passed"
    assert linked_outcome(f"{DEMO}::test_one_case_fails", runs) == "failed"
    assert linked_outcome(f"{DEMO}::test_setup_error", runs) == "failed"
    assert linked_outcome(f"{DEMO}::test_skipped", runs) == "skipped"
    stamp = page_stamp(_page("test_all_cases_pass", "test_one_case_fails", "test_skipped"), runs,
                       SHA, REPO)
    assert "1 of 3 linked tests passed (1 failed, 1 skipped)" in stamp


def test_a_linked_test_missing_from_the_results_says_not_run(junit):
    runs = read_results(str(junit))
    commit = SHA
    none_ran = page_stamp(_page("test_not_in_this_run"), runs, commit, REPO)
    assert "Linked tests not run in this build" in none_ran and "passed" not in none_ran
    some_ran = page_stamp(_page("test_claim_holds", "test_not_in_this_run"), runs, commit, REPO)
    assert "1 of 2 linked tests passed (1 not run in this build)" in some_ran
    assert "dl-provenance--partial" in some_ran
    assert page_stamp(_page("test_claim_holds"), None, commit, REPO).startswith(
        '<span class="dl-provenance dl-provenance--none" data-search-exclude')
    assert "This build ran no tests" in page_stamp(_page("test_claim_holds"), None, commit, REPO)


def test_cpu_and_cuda_results_are_merged(tmp_path):
    cpu = tmp_path / "cpu.xml"
    cpu.write_text(_xml(_case("test_a[cpu]") + _case("test_b")))
    cuda = tmp_path / "cuda.xml"
    cuda.write_text(_xml(_case("test_a[cpu]") + _case("test_a[cuda]") + _case("test_b"),
                         devices="cpu,cuda", gpu="NVIDIA H200"))
    env = {ENV_VAR: os.pathsep.join([str(cpu), str(cuda)])}
    runs = results_from_env(env)
    stamp = page_stamp(_page("test_a", "test_b"), runs, SHA, REPO)
    assert "2 of 2 linked tests passed" in stamp and "CPU and CUDA (NVIDIA H200)" in stamp
    # CUDA is claimed only for a page whose tests ran there: test_b has no cuda case.
    assert "CUDA" not in page_stamp(_page("test_b"), runs, SHA, REPO)
    # A failure on the GPU alone fails the page, though the CPU file says passed.
    cuda.write_text(_xml(_case("test_a[cpu]") + _case("test_a[cuda]", "failed"),
                         devices="cpu,cuda", gpu="NVIDIA H200"))
    os.utime(cuda, ns=(1, 1))   # results_from_env rereads a file that changed
    assert "(1 failed)" in page_stamp(_page("test_a", "test_b"), results_from_env(env), SHA, REPO)
    # Tests run at another commit than the page's: the stamp says both.
    other = page_stamp(_page("test_b"), [parse_junit(_xml(_case("test_b"), commit="f" * 40))],
                       SHA, REPO)
    assert "tests at commit" in other and "page built from commit" in other


def test_a_bad_results_path_is_a_clear_error(tmp_path):
    missing = tmp_path / "nowhere.xml"
    with pytest.raises(ProvenanceError, match=f"{ENV_VAR} names .*nowhere.xml"):
        results_from_env({ENV_VAR: str(missing)})
    garbage = tmp_path / "garbage.xml"
    garbage.write_text("not xml")
    with pytest.raises(ProvenanceError, match=f"{ENV_VAR}: .*garbage.xml is not JUnit XML"):
        read_results(str(garbage))
    assert results_from_env({}) is None and read_results(os.pathsep) is None


def _render(uri: str, monkeypatch, results: str | None) -> str:
    """A page through the handbook's Markdown extension, as either builder renders it."""
    body, _ = get_data((ROOT / "docs" / uri).read_text(encoding="utf-8"))
    if results is None:
        monkeypatch.delenv(ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(ENV_VAR, results)
    ext = mdext.makeExtension(repository=REPO, docs_dir=str(ROOT / "docs"))
    return md.markdown(body, extensions=["attr_list", "md_in_html", ext])


def test_answer_pages_are_stamped_next_to_the_difficulty_tag(monkeypatch, tmp_path):
    uri = "part-7-adaptive-optimizers/q31-adam.md"
    links = provenance.linked_tests((ROOT / "docs" / uri).read_text(encoding="utf-8"))
    cases = "".join(_case(t.split("::")[1], module=t.split("::")[0][:-3].replace("/", "."))
                    for t in links)
    results = tmp_path / "cpu.xml"
    results.write_text(_xml(cases, commit=mdext.commit()))
    html = _render(uri, monkeypatch, str(results))
    stamp = re.search(r'<p><span [^>]*class="dl-difficulty[^"]*"[^>]*>\w+</span>\s*'
                      r'<span class="dl-provenance dl-provenance--passed" data-search-exclude>'
                      r"(.*?)</span></p>", html)
    assert stamp, html[:2000]
    assert f"{len(links)} of {len(links)} linked tests passed" in stamp[1]
    assert "This build ran no tests" in _render(uri, monkeypatch, None)
    # Pages that are not answers get no stamp.
    for other in ("index.md", "figures.md", "about.md", "contributing.md"):
        assert not provenance.is_answer(other, {"state": "complete"})


def test_colab_link_is_built_from_the_repository_in_mkdocs_yml():
    with open(ROOT / "mkdocs.yml", encoding="utf-8") as f:
        config = yaml_load(f)
    repo = config["extra"]["repository"]
    owner, name = repo.rstrip("/").split("/")[-2:]
    notebooks = [p for p in _nav_values(config["nav"]) if p.endswith(".ipynb")]
    assert notebooks
    for uri in notebooks:
        nb = uri.rsplit("/", 1)[-1]
        assert (ROOT / "docs" / "notebooks" / nb).is_file()   # what Colab opens exists
        url = colab_url(repo, nb)
        assert url == (f"https://colab.research.google.com/github/{owner}/{name}/blob/main/"
                       f"docs/notebooks/{nb}")
        html = provenance.notebook_page('<h1 id="t">Title</h1><p>x</p>', uri, repo)
        assert html.startswith('<h1 id="t">Title</h1><p class="dl-notebook-links"')
        assert f'<a href="{nb}" download>' in html and f'href="{url}"' in html
    assert provenance.notebook_page("<h1>x</h1>", "q01.md", repo) == "<h1>x</h1>"
    with pytest.raises(ValueError, match="extra.repository"):
        colab_url("https://gitlab.com/a/b", "x.ipynb")


def _nav_values(nav):
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        yield from (_nav_values(value) if isinstance(value, list) else [value])


def test_run_records_empty_results_without_claims():
    run = Run(source="empty.xml")
    assert "Linked tests not run" in page_stamp(_page("test_claim_holds"), [run], SHA, REPO)
    assert "This page links to no tests" in page_stamp("# Q1. No links\n", [run], SHA, REPO)


def test_ci_passes_its_test_results_to_the_build_that_publishes():
    def load(name):
        data = yaml_load((ROOT / ".github" / "workflows" / name).read_text())
        return data["jobs"]

    cpu_steps = load("ci.yml")["test"]["steps"]
    test_step = next(s for s in cpu_steps if "./dev.sh test" in s.get("run", "")
                     and "--collect-only" not in s["run"])
    xml = re.search(r"--junitxml=(\S+)", test_step["run"])[1]
    upload = next(s for s in cpu_steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == xml
    pages = load("pages.yml")["build"]["steps"]
    download = next(s for s in pages if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"]["name"] == upload["with"]["name"]
    build = next(s for s in pages if s.get("run", "").startswith("./dev.sh build"))
    assert build["env"][ENV_VAR] == f"{download['with']['path']}/{Path(xml).name}"
    assert pages.index(download) < pages.index(build)
    gpu = load("gpu.yml")["cuda"]["steps"]
    assert any("--junitxml=" in s.get("run", "") for s in gpu)
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in gpu)


def _git(repo, *args, date=None):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_each_page_shows_the_date_its_file_last_changed_and_a_shallow_clone_shows_none(tmp_path):
    repo = tmp_path / "repo"
    (repo / "docs" / "part").mkdir(parents=True)
    _git(repo, "init", "-q")
    for name in ("a.md", "b.md"):
        (repo / "docs" / "part" / name).write_text("# one\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first", date="2026-01-02T10:00:00+00:00")
    (repo / "docs" / "part" / "b.md").write_text("# two\n")
    _git(repo, "commit", "-qam", "second", date="2026-03-04T10:00:00+00:00")
    assert provenance.last_changed(repo) == {"part/a.md": "2026-01-02", "part/b.md": "2026-03-04"}
    stamp = provenance.page_stamp("# Q\n", None, "0" * 40, "https://example.org/r", "2026-03-04")
    assert "page changed 2026-03-04" in stamp
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    assert provenance.last_changed(shallow) == {}
