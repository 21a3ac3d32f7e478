"""Bring ``docs/generated`` up to date: draw only what changed, on every core.

The unit of work is a *job*: one figure module (all its figures and tables, so that the
experiments it caches with ``functools.cache`` are run once) or one notebook. A job's key
is a hash of every file it depends on (its own source, the package modules it imports,
followed transitively through ``import`` statements, the figure machinery and style) and
of the library versions that draw it. ``docs/generated/.manifest.json`` stores, for each
job, its key, the hashes of the files it wrote and how long it took. A job is redrawn when
its key changed or one of its outputs is missing or was edited; files no job wrote any
more are deleted.

Stale jobs run in separate processes (``workers_parent``), each with one thread for torch and BLAS:
the bytes written do not depend on how many run at once, or on the machine's core count.
The jobs that write tables and notebooks go first, then the figures, each group slowest
first (by the last run, else by ``durations.json``). ``python -m dlhandbook.figures`` calls
``update``; the site's hooks call ``start`` and render the pages once the tables and
notebooks are written, while the last figures are drawn (see ``Drawing``).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]        # snippets/dlhandbook
SOURCE_ROOT = PACKAGE_ROOT.parent                          # snippets
REPO_ROOT = SOURCE_ROOT.parent
DEFAULT_OUT = REPO_ROOT / "docs" / "generated"
NOTEBOOK_DIR = REPO_ROOT / "docs" / "notebooks"
FIGURES_DIR = PACKAGE_ROOT / "figures"
NOT_JOBS = {"__init__", "__main__", "style", "notebooks", "generate"}
MANIFEST = ".manifest.json"
FORMAT = 1   # bump to invalidate every cached output
LIBRARIES = ("matplotlib", "numpy", "torch", "nbclient", "ipykernel")
ONE_THREAD = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
REGISTERED_KIND = re.compile(r"@(figure|table)\(\s*[\"']([\w.-]+)[\"']")


@dataclass(frozen=True)
class Job:
    """One unit of drawing: ``kind`` is ``"module"`` or ``"notebook"``."""

    kind: str
    name: str      # dotted module name, or the notebook's file name
    source: Path

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"


def all_jobs() -> list[Job]:
    """Every figure module and every notebook, in a fixed order."""
    modules = [Job("module", f"dlhandbook.figures.{p.stem}", p)
               for p in sorted(FIGURES_DIR.glob("*.py")) if p.stem not in NOT_JOBS]
    notebooks = [Job("notebook", p.name, p) for p in sorted(NOTEBOOK_DIR.glob("*.ipynb"))]
    return modules + notebooks


def registered_names(job: Job) -> list[str]:
    """The figure and table names a module registers, read from its source."""
    if job.kind != "module":
        return []
    return [name for _, name in REGISTERED_KIND.findall(job.source.read_text(encoding="utf-8"))]


# --- Dependencies -------------------------------------------------------------------------


def _module_files(dotted: str) -> list[Path]:
    """The source files that importing ``dotted`` (a dlhandbook module) executes."""
    parts = dotted.split(".")
    if parts[0] != "dlhandbook":
        return []
    files = []
    for i in range(1, len(parts) + 1):
        base = SOURCE_ROOT.joinpath(*parts[:i])
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                files.append(candidate)
    return files


def _imports(tree: ast.AST, package: str) -> Iterator[str]:
    """Dotted names of the modules an AST imports; ``from a import b`` yields a and a.b."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and package:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def _stat_key(path: Path) -> tuple:
    st = path.stat()
    return (path, st.st_mtime_ns, st.st_size)


# A long-running `mkdocs serve` checks the cache on every save: parse and hash a file again
# only when its modification time or size changed.
_IMPORTS: dict[tuple, list[str]] = {}
_DIGESTS: dict[tuple, str] = {}


def _file_imports(path: Path) -> list[str]:
    k = _stat_key(path)
    if k not in _IMPORTS:
        _IMPORTS[k] = list(_imports(ast.parse(path.read_text(encoding="utf-8")), _package_of(path)))
    return _IMPORTS[k]


def _package_of(path: Path) -> str:
    """The package a file's relative imports start from: its folder, as a dotted name."""
    if not path.is_relative_to(SOURCE_ROOT):
        return ""
    return ".".join(path.relative_to(SOURCE_ROOT).parent.parts)


def _label(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path)


def dependencies(job: Job) -> list[Path]:
    """The job's own file and every package file it imports, transitively, sorted."""
    if job.kind == "module":
        todo = [job.source, *_module_files("dlhandbook.figures.style"),
                *_module_files("dlhandbook.figures")]
    else:
        cells = json.loads(job.source.read_text(encoding="utf-8"))["cells"]
        code = "\n".join(
            "".join(c["source"]) for c in cells if c.get("cell_type") == "code")
        code = "\n".join(line for line in code.splitlines()
                         if not line.lstrip().startswith(("%", "!")))
        todo = [*_module_files("dlhandbook.figures.notebooks"),   # what executes it
                *(m for name in _imports(ast.parse(code), "dlhandbook") for m in _module_files(name))]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(m for name in _file_imports(path) for m in _module_files(name))
    return sorted(seen | {job.source})


def _versions() -> list[str]:
    out = [f"python {platform.python_version()}", f"format {FORMAT}"]
    for lib in LIBRARIES:
        try:
            out.append(f"{lib} {metadata.version(lib)}")
        except metadata.PackageNotFoundError:
            out.append(f"{lib} absent")
    return out


def key(job: Job) -> str:
    """A hash of what draws the job's outputs: its dependencies' bytes and the versions."""
    h = hashlib.sha256()
    for line in _versions():
        h.update(line.encode() + b"\n")
    for path in dependencies(job):
        h.update(_label(path).encode() + b"\0")
        h.update(_digest(path).encode())
    return h.hexdigest()


def _digest(path: Path) -> str:
    k = _stat_key(path)
    if k not in _DIGESTS:
        _DIGESTS[k] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _DIGESTS[k]


# --- Running jobs -------------------------------------------------------------------------


def run_job(job: Job, out_dir: str, names: tuple[str, ...] = ()) -> dict:
    """Draw one job into ``out_dir`` (in this process); return its outputs and duration.

    ``names``, if given, limits a module job to those figures and tables.
    """
    start = time.perf_counter()
    out = Path(out_dir)
    written: list[Path] = []
    if job.kind == "module":
        import importlib

        from dlhandbook import figures

        importlib.import_module(job.name)
        if "torch" in sys.modules:   # OMP_NUM_THREADS=1 already; this makes it certain
            sys.modules["torch"].set_num_threads(1)
        for name, fn in sorted(figures.FIGURES.items()):
            if fn.__module__ == job.name and (not names or name in names):
                written += figures.build(name, out / "figures")
        for name, fn in sorted(figures.TABLES.items()):
            if fn.__module__ == job.name and (not names or name in names):
                written.append(figures.build_table(name, out / "tables"))
    else:
        from dlhandbook.figures.notebooks import execute_notebook

        dest = out / "notebooks" / job.source.name
        # in a worker this is its own environment; in the caller's thread (Drawing), the kernel's
        execute_notebook(job.source, dest, env={**os.environ, **_worker_environment()})
        written.append(dest)
    return {"outputs": {str(p.relative_to(out)): _digest(p) for p in written},
            "seconds": round(time.perf_counter() - start, 2)}


@contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _read_manifest(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_manifest(out_dir: Path, manifest: dict) -> None:
    """Write the manifest if it changed. (``mkdocs serve`` watches ``docs/``: rewriting it
    unchanged after every build started the next build, every second or so, forever.)"""
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    path = out_dir / MANIFEST
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    tmp = out_dir / f"{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _fresh(entry: dict | None, want: str, out_dir: Path) -> bool:
    if not entry or entry.get("key") != want or not entry.get("outputs"):
        return False
    return all((out_dir / rel).is_file() and _digest(out_dir / rel) == digest
               for rel, digest in entry["outputs"].items())


def expected_seconds(job: Job, manifest: dict, stored: tuple[dict, dict] | None = None) -> float:
    """How long ``job`` should take: its last run here, else its last run in ``docs/generated``
    (a fresh output folder, as in the tests), else its time in ``DURATIONS`` (a clone's first
    build), else a guess from its source's size, about a second per kilobyte.

    ``stored``: those two files as read by ``_stored_seconds``, to read them once for many jobs."""
    default_manifest, durations = _stored_seconds() if stored is None else stored
    for entries in (manifest, default_manifest):
        if "seconds" in entries.get(job.id, {}):
            return float(entries[job.id]["seconds"])
    if job.id in durations:
        return durations[job.id]
    return job.source.stat().st_size / 1000


def _stored_seconds() -> tuple[dict, dict]:
    return _read_manifest(DEFAULT_OUT), _read_durations()


# How long each job took in a full drawing, kept in the repository so that a fresh clone's first
# build hands out the slowest jobs first too: ``python -m dlhandbook.figures --store-durations``.
DURATIONS = FIGURES_DIR / "durations.json"


def _read_durations(path: Path | None = None) -> dict[str, float]:
    try:
        text = (DURATIONS if path is None else path).read_text(encoding="utf-8")
        return {k: float(v) for k, v in json.loads(text).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def store_durations(out_dir: Path = DEFAULT_OUT, path: Path | None = None) -> dict[str, float]:
    """Write each job's time in ``out_dir``'s manifest to ``DURATIONS``; return what was written.

    Only jobs drawn since the manifest was made have a time; the others keep their stored one.
    """
    path = DURATIONS if path is None else Path(path)
    ids = {j.id for j in all_jobs()}
    durations = _read_durations(path)
    durations.update({k: float(v["seconds"]) for k, v in _read_manifest(Path(out_dir)).items()
                      if "seconds" in v})
    durations = {k: round(v, 1) for k, v in sorted(durations.items()) if k in ids}
    path.write_text(json.dumps(durations, indent=1) + "\n", encoding="utf-8")
    return durations


def _worker_environment() -> dict[str, str]:
    """One thread each, a fixed hash seed, and no ``__pycache__`` written into ``snippets/``
    (``mkdocs serve`` watches it) unless bytecode goes elsewhere (``PYTHONPYCACHEPREFIX``, as
    ``./dev.sh`` sets it)."""
    env = {**ONE_THREAD, "PYTHONHASHSEED": "0"}
    if not sys.pycache_prefix:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# What every worker imports, imported once by the process that forks the workers
# (multiprocessing's "forkserver"), so that none imports it again: about 5 s each, 2.5 s of it
# torch._dynamo, which the first ``add_param_group`` of any torch.optim optimizer imports. Only
# third-party libraries, which do not change while ``mkdocs serve`` runs: each worker imports the
# package's own modules afresh, so every edit is drawn.
PRELOAD = ("numpy", "torch", "torch._dynamo", "matplotlib.pyplot")


def workers_parent():
    """The multiprocessing context whose process forks the workers, started with ``PRELOAD``
    imported and the workers' environment (``_worker_environment``) if it is not running yet.

    It imports in the background, while this process goes on, and stays up for the next
    drawing (``mkdocs serve``). A worker forked from it exits without tearing torch down."""
    import multiprocessing
    import multiprocessing.forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    with _environment(_worker_environment()):   # what the workers start with
        multiprocessing.forkserver.ensure_running()
    return context


def _check_jobs(value: int | None) -> int:
    if value is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"jobs must be a positive integer, got {value!r}")
    return value


def update(out_dir: Path = DEFAULT_OUT, *, jobs: int | None = None, force: bool = False,
           notebooks: bool = True,
           progress: Callable[[str, Job, dict | None], None] | None = None) -> dict[str, list[Job]]:
    """Redraw the stale jobs into ``out_dir``; return ``{"drawn": [...], "fresh": [...]}``.

    ``jobs`` worker processes run at once (default: one per core); ``force`` ignores the
    cache; ``notebooks=False`` leaves notebooks alone. ``progress(event, job, result)`` is
    called with ``"start"`` and ``"done"``. A failing job raises after the others finish;
    the outputs of those that succeeded are kept in the manifest.
    """
    return start(out_dir, jobs=jobs, force=force, notebooks=notebooks, progress=progress).finish()


def _todo(notebooks: bool) -> tuple[list[Job], dict[str, str]]:
    """The jobs to consider, and their keys."""
    todo = [j for j in all_jobs() if notebooks or j.kind != "notebook"]
    return todo, {j.id: key(j) for j in todo}


def _stale(todo: list[Job], keys: dict[str, str], manifest: dict, out_dir: Path) -> list[Job]:
    return [j for j in todo if not _fresh(manifest.get(j.id), keys[j.id], out_dir)]


def stale_jobs(out_dir: Path = DEFAULT_OUT, *, notebooks: bool = True) -> list[Job]:
    """The jobs that ``update`` would draw: outputs in ``out_dir`` missing, edited, or drawn
    by code or library versions other than the current ones."""
    out_dir = Path(out_dir)
    return _stale(*_todo(notebooks), _read_manifest(out_dir), out_dir)


def start(out_dir: Path = DEFAULT_OUT, *, jobs: int | None = None, force: bool = False,
          notebooks: bool = True,
          progress: Callable[[str, Job, dict | None], None] | None = None) -> Drawing:
    """Start redrawing the stale jobs into ``out_dir`` and return at once; see ``Drawing``.

    The arguments are ``update``'s. The jobs that write what pages read as they are rendered
    (tables and notebooks: ``PAGE_INPUTS``) go first, then the figures, each group slowest
    first, so that a build can render its pages while the last figures are drawn. Notebooks
    go first of all: they need no worker (see ``Drawing``), so on a first build one runs on the
    core that the workers' parent leaves free while it imports.
    """
    workers = _check_jobs(jobs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out_dir)
    if not manifest:   # a first build draws everything: the workers' imports start at once
        workers_parent()
    todo, keys = _todo(notebooks)
    stale = list(todo) if force else _stale(todo, keys, manifest, out_dir)
    fresh = [j for j in todo if j not in stale]
    outputs = {job: expected_outputs(job) for job in stale}   # each source read once
    pages, stored = _page_jobs(outputs), _stored_seconds()
    stale.sort(key=lambda j: (j not in pages, j.kind != "notebook",
                              -expected_seconds(j, manifest, stored)))
    for job in stale:
        manifest.pop(job.id, None)
    return Drawing(out_dir, stale, fresh, keys, manifest, notebooks, workers, progress, outputs)


PAGE_INPUTS = ("tables/", "notebooks/")   # read as pages are rendered; figures are only copied


def expected_outputs(job: Job) -> list[str]:
    """The files ``job`` writes, relative to the output folder, read from its source."""
    if job.kind == "notebook":
        return [f"notebooks/{job.source.name}"]
    from dlhandbook import figures

    out = []
    for kind, name in REGISTERED_KIND.findall(job.source.read_text(encoding="utf-8")):
        if kind == "figure":
            out += [f"figures/{p.name}" for p in figures.paths(name, Path()).values()]
        else:
            out.append(f"tables/{name}.md")
    return out


def _page_jobs(outputs: dict[Job, list[str]]) -> set[Job]:
    """The jobs that write a file pages include (a table, a notebook), given each one's outputs."""
    return {job for job, rels in outputs.items() if any(r.startswith(PAGE_INPUTS) for r in rels)}


class Drawing:
    """The stale jobs of one ``start``, drawn in worker processes while the caller goes on.

    A module job runs in a worker process, forked by ``workers_parent``. A notebook runs in a
    thread of this process, which only waits for the notebook's kernel; it counts as a worker.
    Workers are handed one job at a time, as each frees up, so that a build can have a core
    for itself: once every table and notebook is written (``wait_for_pages`` returns then),
    one worker fewer runs, while the caller renders the pages on that core, until ``finish``.
    ``finish`` waits for every job, writes the manifest, deletes the files no job wrote and
    raises if a job failed; ``close`` stops early (a failed build). (Rendering the pages beside
    two drawing workers on two cores was slower than rendering them after.) ``outputs`` maps
    each file the jobs will write to its job.
    """

    def __init__(self, out_dir: Path, stale: list[Job], fresh: list[Job], keys: dict[str, str],
                 manifest: dict, notebooks: bool, workers: int,
                 progress: Callable[[str, Job, dict | None], None] | None,
                 outputs: dict[Job, list[str]]) -> None:
        self.out_dir, self.stale, self.fresh = out_dir, stale, fresh
        self.outputs = {rel: job for job, rels in outputs.items() for rel in rels}
        self._page_jobs = _page_jobs(outputs)
        self._keys, self._manifest, self._notebooks = keys, manifest, notebooks
        self._workers, self._progress = workers, progress
        self._pending = list(stale)
        self._results: dict[Job, dict] = {}
        self._errors: dict[Job, str] = {}
        self._running = 0
        self._finishing = self._closed = False
        self._changed = threading.Condition()
        self._pool: ProcessPoolExecutor | None = None
        self._threads: ThreadPoolExecutor | None = None
        modules = [job for job in stale if job.kind == "module"]
        if modules:
            self._pool = ProcessPoolExecutor(max_workers=min(workers, len(modules)),
                                             mp_context=workers_parent())
        if len(modules) < len(stale):
            self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notebook")
        self._hand_out()

    def _allowed(self) -> int:
        """How many jobs may run now: as many as workers until the pages' inputs are written
        and from ``finish`` on; one fewer in between, while the caller renders."""
        if self._finishing or not self._ended_all(self._page_jobs):
            return self._workers
        return max(1, self._workers - 1)

    def _hand_out(self) -> None:
        """Give pending jobs to idle workers, as many as are allowed to run."""
        with self._changed:
            while self._pending and self._running < self._allowed() and not self._closed:
                job = self._pending.pop(0)
                # A notebook runs in its own kernel process: this process only waits for it, in
                # a thread, so it needs no worker and can start before the workers' parent is up.
                executor = self._pool if job.kind == "module" else self._threads
                try:
                    future = executor.submit(run_job, job, str(self.out_dir))
                except Exception as exc:   # a broken pool (a worker died): the job fails too
                    self._errors[job] = f"{type(exc).__name__}: {exc}"
                    self._changed.notify_all()
                    continue
                self._running += 1
                if self._progress:
                    self._progress("start", job, None)
                future.add_done_callback(lambda f, job=job: self._ended(job, f))

    def _ended(self, job: Job, future: Future) -> None:
        """A job ended (called in the pool's thread): record it, hand out the next one."""
        with self._changed:
            self._running -= 1
            if future.cancelled():
                self._errors[job] = "cancelled"
            elif future.exception() is not None:
                exc = future.exception()
                self._errors[job] = f"{type(exc).__name__}: {exc}"
            else:
                self._results[job] = future.result()
            self._changed.notify_all()
        if job in self._results and self._progress:
            self._progress("done", job, self._results[job])
        self._hand_out()

    def _ended_all(self, jobs: set[Job]) -> bool:
        return all(j in self._results or j in self._errors for j in jobs)

    def wait_for_pages(self) -> None:
        """Return when the tables and notebooks are written (raise, as ``finish``, if one failed)."""
        with self._changed:
            self._changed.wait_for(lambda: self._ended_all(self._page_jobs))
        if any(j in self._errors for j in self._page_jobs):
            self.finish()   # raises, naming the failed jobs

    def finish(self) -> dict[str, list[Job]]:
        """Wait for every job; see ``update``."""
        with self._changed:
            self._finishing = True
        self._hand_out()
        with self._changed:
            self._changed.wait_for(lambda: self._ended_all(set(self.stale)))
        errors = [f"{job.id}: {self._errors[job]}" for job in self.stale if job in self._errors]
        for job, result in self._results.items():
            missing = sorted({rel for rel, j in self.outputs.items() if j == job}
                             - set(result["outputs"]))
            if missing:
                errors.append(f"{job.id}: registered but did not write {', '.join(missing)}")
        self.close()
        if errors:
            raise RuntimeError("drawing failed:\n" + "\n".join(errors))
        return {"drawn": self.stale, "fresh": self.fresh}

    def close(self) -> None:
        """Hand out no more jobs; keep what the ended ones drew in the manifest. The running
        jobs finish in their workers, which then exit, while the caller goes on."""
        with self._changed:
            if self._closed:
                return
            self._closed = True
        for executor in (self._pool, self._threads):
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
        for job, result in self._results.items():
            self._manifest[job.id] = {"key": self._keys[job.id], **result}
        ids = {j.id for j in all_jobs()}
        manifest = {k: v for k, v in self._manifest.items() if k in ids}
        _write_manifest(self.out_dir, manifest)
        _remove_orphans(self.out_dir, manifest, self._notebooks)


def _remove_orphans(out_dir: Path, manifest: dict, notebooks: bool) -> None:
    """Delete generated files that no current job wrote (a renamed or removed figure)."""
    owned = {rel for entry in manifest.values() for rel in entry.get("outputs", {})}
    patterns = [("figures", "*.svg"), ("tables", "*.md")] + ([("notebooks", "*.ipynb")] if notebooks else [])
    for sub, pattern in patterns:
        for path in (out_dir / sub).glob(pattern):
            if str(path.relative_to(out_dir)) not in owned:
                path.unlink()


def draw_only(names: list[str], out_dir: Path = DEFAULT_OUT) -> list[Job]:
    """Draw just the named figures or tables in this process, leaving the manifest alone."""
    by_name = {n: j for j in all_jobs() for n in registered_names(j)}
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise KeyError(", ".join(unknown))
    chosen = sorted({by_name[n] for n in names}, key=lambda j: j.name)
    with _environment(ONE_THREAD):
        for job in chosen:
            run_job(job, str(out_dir), tuple(names))
    return chosen


if __name__ == "__main__":   # pragma: no cover - use python -m dlhandbook.figures
    sys.exit("run: python -m dlhandbook.figures")
