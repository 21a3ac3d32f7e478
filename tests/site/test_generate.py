"""The figure cache: a job is redrawn exactly when what draws it changed, in any number of processes."""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time

import nbformat
import pytest

from dlhandbook.figures import generate
from sitetools import DOCS, REPO

TINY = '''
from dlhandbook.figures import figure, table
import matplotlib.pyplot as plt


@figure("{name}")
def draw():
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, {slope}])
    return fig


@table("{name}-table")
def numbers():
    return "| a |\\n|---|\\n| {slope} |"
'''


def tiny_job(tmp_path, monkeypatch, name="tiny", slope=1, body=TINY):
    """A one-figure module outside the package, importable by the workers."""
    src = tmp_path / "mods" / f"{name.replace('-', '_')}.py"
    src.parent.mkdir(exist_ok=True)
    src.write_text(body.format(name=name, slope=slope))
    monkeypatch.syspath_prepend(str(src.parent))   # each worker is given sys.path
    return generate.Job("module", src.stem, src)


def use_jobs(monkeypatch, *jobs):
    monkeypatch.setattr(generate, "all_jobs", lambda: list(jobs))


def drawn(result):
    return [j.name for j in result["drawn"]]


def test_second_update_draws_nothing_and_edits_redraw_only_their_job(tmp_path, monkeypatch):
    a, b = tiny_job(tmp_path, monkeypatch, "tiny-a"), tiny_job(tmp_path, monkeypatch, "tiny-b")
    use_jobs(monkeypatch, a, b)
    out = tmp_path / "out"
    assert sorted(drawn(generate.update(out, jobs=2, notebooks=False))) == ["tiny_a", "tiny_b"]
    svg = out / "figures" / "tiny-a.svg"
    first = svg.read_bytes()
    assert (out / "tables" / "tiny-a-table.md").read_text().strip().endswith("| 1 |")
    written = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*")}
    assert drawn(generate.update(out, notebooks=False)) == []
    # nothing is written, the manifest included: `mkdocs serve` would see a change and rebuild
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*")} == written

    a.source.write_text(TINY.format(name="tiny-a", slope=2))         # the code changed
    assert drawn(generate.update(out, notebooks=False)) == ["tiny_a"]
    assert svg.read_bytes() != first

    svg.write_text("edited by hand")                                  # an output was edited
    assert drawn(generate.update(out, notebooks=False)) == ["tiny_a"]
    (out / "figures" / "tiny-b.dark.svg").unlink()                    # an output went missing
    assert drawn(generate.update(out, notebooks=False)) == ["tiny_b"]

    use_jobs(monkeypatch, a)                                          # a module was removed
    generate.update(out, notebooks=False)
    assert not (out / "figures" / "tiny-b.svg").exists()
    assert not (out / "tables" / "tiny-b-table.md").exists()
    assert set(json.loads((out / generate.MANIFEST).read_text())) == {a.id}


def test_stale_jobs_are_what_update_would_draw(tmp_path, monkeypatch):
    a, b = tiny_job(tmp_path, monkeypatch, "tiny-a"), tiny_job(tmp_path, monkeypatch, "tiny-b")
    use_jobs(monkeypatch, a, b)
    out = tmp_path / "out"
    assert generate.stale_jobs(out) == [a, b]   # nothing drawn yet
    generate.update(out, notebooks=False)
    assert generate.stale_jobs(out) == []
    (out / "figures" / "tiny-b.svg").write_text("edited by hand")
    assert generate.stale_jobs(out) == [b] == generate.update(out, notebooks=False)["drawn"]


def test_force_redraws_everything(tmp_path, monkeypatch):
    a = tiny_job(tmp_path, monkeypatch, "tiny-f")
    use_jobs(monkeypatch, a)
    generate.update(tmp_path / "out", notebooks=False)
    assert drawn(generate.update(tmp_path / "out", notebooks=False, force=True)) == ["tiny_f"]


def test_bytes_do_not_depend_on_the_number_of_processes(tmp_path, monkeypatch):
    jobs = [tiny_job(tmp_path, monkeypatch, f"tiny-{i}", slope=i) for i in range(3)]
    use_jobs(monkeypatch, *jobs)
    generate.update(tmp_path / "one", jobs=1, notebooks=False)
    generate.update(tmp_path / "three", jobs=3, notebooks=False)
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.*")
                   if p.name != generate.MANIFEST)
    assert len(files) == 3 * 3   # light, dark, table
    for rel in files:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "three" / rel).read_bytes(), rel


def test_a_failing_job_is_named_and_the_others_are_kept(tmp_path, monkeypatch):
    good = tiny_job(tmp_path, monkeypatch, "tiny-good")
    bad = tiny_job(tmp_path, monkeypatch, "tiny-bad",
                   body=TINY.replace("ax.plot(", "raise ArithmeticError('no plot'); ax.plot("))
    use_jobs(monkeypatch, good, bad)
    with pytest.raises(RuntimeError, match=r"module:tiny_bad: ArithmeticError: no plot"):
        generate.update(tmp_path / "out", jobs=2, notebooks=False)
    manifest = json.loads((tmp_path / "out" / generate.MANIFEST).read_text())
    assert good.id in manifest and bad.id not in manifest


HELD = '''
import time
from pathlib import Path

import matplotlib.pyplot as plt

from dlhandbook.figures import figure

SIGNALS = Path({signals!r})


@figure("{name}")
def draw():
    (SIGNALS / "{name}.started").touch()
    deadline = time.monotonic() + 120
    while not (SIGNALS / "{name}.go").exists():   # held until the test lets it end
        if time.monotonic() > deadline:
            raise TimeoutError("{name} was never let go")
        time.sleep(0.02)
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    return fig
'''


def wait_for(path, seconds=120):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def test_pages_render_while_the_last_figures_draw_on_one_worker_fewer(tmp_path, monkeypatch):
    """``wait_for_pages`` returns once the tables are written, figures still drawing; from then
    on one worker fewer runs (the build renders on that core) until ``finish``."""
    signals = tmp_path / "signals"
    signals.mkdir()
    table = tiny_job(tmp_path, monkeypatch, "tiny-table")
    held = [tiny_job(tmp_path, monkeypatch, f"held-{i}",
                     body=HELD.replace("{signals!r}", repr(str(signals)))) for i in (1, 2, 3)]
    use_jobs(monkeypatch, *held, table)
    out = tmp_path / "out"
    drawing = generate.start(out, jobs=2, notebooks=False)
    assert [j.name for j in drawing.stale] == ["tiny_table", "held_1", "held_2", "held_3"]
    try:
        drawing.wait_for_pages()
        assert (out / "tables" / "tiny-table-table.md").is_file()
        assert not list((out / "figures").glob("held-*"))   # no figure had to end first
        wait_for(signals / "held-1.started")
        (signals / "held-1.go").touch()
        wait_for(out / "figures" / "held-1.dark.svg")
        wait_for(signals / "held-2.started")   # the freed worker goes on drawing
        time.sleep(1)
        assert not (signals / "held-3.started").exists(), "two workers ran beside the pages"
        (signals / "held-2.go").touch()
        wait_for(signals / "held-3.started")
    finally:
        for i in (1, 2, 3):
            (signals / f"held-{i}.go").touch()
    assert drawn(drawing.finish()) == ["tiny_table", "held_1", "held_2", "held_3"]
    assert (out / "figures" / "held-3.svg").is_file()


def held_notebook(tmp_path, signals):
    """A notebook job whose one cell records its kernel's environment and parent process, then
    waits for a signal."""
    cell = textwrap.dedent(f"""\
        import os, time
        from pathlib import Path
        signals = Path({str(signals)!r})
        (signals / "notebook.started").write_text(
            os.environ.get("OMP_NUM_THREADS", "-") + " " + os.environ.get("PYTHONHASHSEED", "-")
            + " " + str(os.getppid()))
        deadline = time.monotonic() + 120
        while not (signals / "notebook.go").exists():
            assert time.monotonic() < deadline, "the notebook was never let go"
            time.sleep(0.02)
        print("let go")""")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    src = tmp_path / "held.ipynb"
    nbformat.write(nb, src)
    return generate.Job("notebook", src.name, src)


def test_a_notebook_runs_first_in_a_thread_counted_as_a_worker(tmp_path, monkeypatch):
    """A notebook's kernel is its own process: it starts at once, before any worker, and takes
    one worker's place; its kernel gets the workers' environment (one thread, a fixed hash seed)."""
    signals = tmp_path / "signals"
    signals.mkdir()
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")   # what a reader's shell might have
    notebook = held_notebook(tmp_path, signals)
    held = [tiny_job(tmp_path, monkeypatch, f"held-{i}",
                     body=HELD.replace("{signals!r}", repr(str(signals)))) for i in (1, 2)]
    use_jobs(monkeypatch, *held, notebook)
    out = tmp_path / "out"
    drawing = generate.start(out, jobs=2)
    assert [j.name for j in drawing.stale] == ["held.ipynb", "held_1", "held_2"]
    try:
        wait_for(signals / "notebook.started")
        # launched by this process (a thread of it), not by a worker
        assert (signals / "notebook.started").read_text() == f"1 0 {os.getpid()}"
        wait_for(signals / "held-1.started")
        time.sleep(1)
        assert not (signals / "held-2.started").exists(), "the notebook did not count as a worker"
        (signals / "notebook.go").touch()
        # finish lets every worker run: the notebook's place goes to the next job, held-1 held
        finished = []
        finisher = threading.Thread(target=lambda: finished.append(drawing.finish()), daemon=True)
        finisher.start()
        wait_for(signals / "held-2.started", seconds=60)
    finally:
        for name in ("notebook", "held-1", "held-2"):
            (signals / f"{name}.go").touch()
    finisher.join(120)
    assert finished and drawn(finished[0]) == ["held.ipynb", "held_1", "held_2"]
    cell = nbformat.read(out / "notebooks" / "held.ipynb", as_version=4).cells[0]
    assert [o.get("text") for o in cell.outputs] == ["let go\n"]


def test_a_fresh_clone_hands_out_jobs_by_their_stored_durations(tmp_path, monkeypatch):
    a, b = tiny_job(tmp_path, monkeypatch, "tiny-a"), tiny_job(tmp_path, monkeypatch, "tiny-b")
    use_jobs(monkeypatch, a, b)
    monkeypatch.setattr(generate, "DEFAULT_OUT", tmp_path / "none")
    stored = tmp_path / "durations.json"
    stored.write_text(json.dumps({a.id: 1.0, b.id: 7.0, "module:gone": 3.0}))
    monkeypatch.setattr(generate, "DURATIONS", stored)
    drawing = generate.start(tmp_path / "out", jobs=1, notebooks=False)
    assert [j.name for j in drawing.stale] == ["tiny_b", "tiny_a"]   # the slower first
    drawing.finish()
    # --store-durations: the times just measured replace the stored ones; unknown jobs go
    measured = json.loads((tmp_path / "out" / generate.MANIFEST).read_text())
    assert generate.store_durations(tmp_path / "out", stored) == {
        j.id: round(measured[j.id]["seconds"], 1) for j in (a, b)}


def test_every_job_has_a_stored_duration():
    """So that a fresh clone's first build hands out the slowest jobs first."""
    missing = sorted({j.id for j in generate.all_jobs()} - set(generate._read_durations()))
    assert not missing, (f"no stored duration for {missing}: run python -m dlhandbook.figures "
                         "--force --store-durations and commit snippets/dlhandbook/figures/durations.json")


def test_a_worker_that_dies_fails_the_drawing_instead_of_hanging_it(tmp_path, monkeypatch):
    dead = tiny_job(tmp_path, monkeypatch, "tiny-dead",
                    body=TINY.replace("ax.plot(", "__import__('os')._exit(3); ax.plot("))
    rest = [tiny_job(tmp_path, monkeypatch, f"tiny-after-{i}") for i in range(3)]
    use_jobs(monkeypatch, dead, *rest)
    outcome = []

    def draw():
        try:
            generate.update(tmp_path / "out", jobs=2, notebooks=False)
        except RuntimeError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the drawing hung after a worker died"
    assert outcome and "module:tiny_dead" in outcome[0], outcome


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_update_rejects_a_bad_number_of_jobs(tmp_path, jobs):
    with pytest.raises(ValueError, match="jobs"):
        generate.update(tmp_path, jobs=jobs)


def test_every_figure_module_and_notebook_is_a_job():
    names = {j.name for j in generate.all_jobs()}
    modules = {f"dlhandbook.figures.{p.stem}" for p in (REPO / "snippets/dlhandbook/figures").glob("*.py")
               if p.stem not in generate.NOT_JOBS}
    notebooks = {p.name for p in (DOCS / "notebooks").glob("*.ipynb")}
    assert names == modules | notebooks and modules and notebooks


def test_a_job_depends_on_the_package_code_it_imports_transitively(tmp_path):
    src = tmp_path / "uses_descent.py"
    src.write_text("from dlhandbook.figures import descent\n")
    deps = {p.relative_to(REPO).as_posix() for p in generate.dependencies(generate.Job("module", "x", src))
            if p.is_relative_to(REPO)}
    # descent.py imports dlhandbook.optim.nesterov; every figure depends on the style.
    assert {"snippets/dlhandbook/figures/descent.py", "snippets/dlhandbook/optim/nesterov.py",
            "snippets/dlhandbook/figures/style.py", "snippets/dlhandbook/figures/__init__.py"} <= deps
    assert "snippets/dlhandbook/optim/lbfgs.py" not in deps   # descent.py does not import it


def test_a_notebook_depends_on_the_modules_its_cells_import(tmp_path):
    nb = tmp_path / "n.ipynb"
    cell = {"cell_type": "code", "source": ["%matplotlib inline\n", "from dlhandbook.optim import sgd\n"]}
    nb.write_text(json.dumps({"cells": [cell, {"cell_type": "markdown", "source": ["import os"]}]}))
    deps = {p.name for p in generate.dependencies(generate.Job("notebook", nb.name, nb))}
    assert {"n.ipynb", "sgd.py", "__init__.py", "notebooks.py"} <= deps   # and what executes it


def test_the_key_changes_with_any_dependency(tmp_path, monkeypatch):
    dep = tmp_path / "dep.py"
    dep.write_text("x = 1\n")
    job = generate.Job("module", "x", tmp_path / "x.py")
    job.source.write_text("y = 1\n")
    monkeypatch.setattr(generate, "dependencies", lambda j: [j.source, dep])
    before = generate.key(job)
    dep.write_text("x = 2\n")
    assert generate.key(job) != before
    monkeypatch.setattr(generate, "_versions", lambda: ["matplotlib 0.0"])
    assert generate.key(job) != before


def test_registered_names_are_read_from_the_source(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(textwrap.dedent('''
        @figure("one-fig")
        def a(): ...
        @table('a-table')
        def b(): ...
    '''))
    assert generate.registered_names(generate.Job("module", "m", src)) == ["one-fig", "a-table"]


def test_jobs_are_ordered_by_their_last_run_else_by_their_size(tmp_path, monkeypatch):
    small, big = tmp_path / "small.py", tmp_path / "big.py"
    small.write_text("x = 1\n")
    big.write_text("x = 1\n" * 2000)
    a, b = generate.Job("module", "small", small), generate.Job("module", "big", big)
    monkeypatch.setattr(generate, "DEFAULT_OUT", tmp_path / "none")
    assert generate.expected_seconds(b, {}) > generate.expected_seconds(a, {})
    assert generate.expected_seconds(a, {a.id: {"seconds": 99.0}}) == 99.0
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / generate.MANIFEST).write_text(json.dumps({b.id: {"seconds": 0.5}}))
    assert generate.expected_seconds(b, {}) == 0.5
