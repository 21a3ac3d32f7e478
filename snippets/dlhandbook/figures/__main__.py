"""Bring every figure, table and notebook up to date: ``python -m dlhandbook.figures``.

Also writes what the pages include from each other (the home index, the figure gallery, the
cheat sheet) and MathJax, so that any builder (``mkdocs``, ``zensical``) can build the site.

Draws only what changed since the last run (see ``dlhandbook.figures.generate``), in one
process per core. Options: ``--out DIR`` (default ``docs/generated``), ``--jobs N``
(processes at once), ``--force`` (redraw everything), ``--no-notebooks``, ``--only NAME``
(repeatable: draw just these figures or tables, now, ignoring the cache), ``--store-durations``
(then keep each job's time in ``figures/durations.json``, which a fresh clone schedules by).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dlhandbook.figures import generate
from dlhandbook.site import pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dlhandbook.figures",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=generate.DEFAULT_OUT)
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="worker processes (default: one per core)")
    parser.add_argument("--force", action="store_true", help="redraw everything")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="draw only these figures or tables")
    parser.add_argument("--no-notebooks", action="store_true")
    parser.add_argument("--store-durations", action="store_true",
                        help="keep each job's time in figures/durations.json (commit it)")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")

    if args.only:
        try:
            generate.draw_only(args.only, args.out)
        except KeyError as exc:
            parser.error(f"unknown figure(s) or table(s): {exc.args[0]}")
        return

    start = time.perf_counter()

    def progress(event: str, job: generate.Job, result: dict | None) -> None:
        if event == "done":
            print(f"  drew {job.name} in {result['seconds']:.1f} s", flush=True)

    done = generate.update(args.out, jobs=args.jobs, force=args.force,
                           notebooks=not args.no_notebooks, progress=progress)
    pages.write_generated(generate.REPO_ROOT / "docs", pages.load_nav(), args.out)
    print(f"figures: {len(done['drawn'])} drawn, {len(done['fresh'])} up to date, "
          f"{time.perf_counter() - start:.1f} s")
    if args.store_durations:
        stored = generate.store_durations(args.out)
        print(f"stored {len(stored)} durations in {generate.DURATIONS.relative_to(generate.REPO_ROOT)}")


if __name__ == "__main__":
    main()
