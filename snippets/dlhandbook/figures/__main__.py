"""Regenerate every figure and execute every notebook: ``python -m dlhandbook.figures``.

Options: ``--out DIR`` (default ``docs/generated``), ``--only NAME`` (repeatable),
``--no-notebooks``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from dlhandbook.figures import REPO_ROOT, TABLES, build, build_table, load_all
from dlhandbook.figures.notebooks import NOTEBOOK_DIR, execute_notebook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dlhandbook.figures",
                                     description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "generated")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="build only these figures or tables")
    parser.add_argument("--no-notebooks", action="store_true")
    args = parser.parse_args(argv)

    names, tables = sorted(load_all()), sorted(TABLES)
    if args.only:
        unknown = sorted(set(args.only) - set(names) - set(tables))
        if unknown:
            parser.error(f"unknown figure(s) or table(s): {', '.join(unknown)}")
        names = [n for n in names if n in args.only]
        tables = [t for t in tables if t in args.only]
    notebooks = ([] if args.no_notebooks or args.only
                 else sorted(NOTEBOOK_DIR.glob("*.ipynb")))

    jobs = ([("figure", n) for n in names] + [("table", t) for t in tables]
            + [("notebook", nb) for nb in notebooks])
    with tqdm(jobs, unit="item", desc="figures") as bar:
        for kind, item in bar:
            bar.set_postfix_str(item.name if kind == "notebook" else item)
            if kind == "figure":
                build(item, args.out / "figures")
            elif kind == "table":
                build_table(item, args.out / "tables")
            else:
                execute_notebook(item, args.out / "notebooks" / item.name)


if __name__ == "__main__":
    main()
