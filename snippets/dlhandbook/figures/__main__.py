"""Regenerate every figure and execute every notebook: ``python -m dlhandbook.figures``.

Options: ``--out DIR`` (default ``docs/generated``), ``--only NAME`` (repeatable), ``--no-notebooks``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from dlhandbook.figures import REPO_ROOT, build, load_all
from dlhandbook.figures.notebooks import NOTEBOOK_DIR, execute_notebook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dlhandbook.figures", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "generated")
    parser.add_argument("--only", action="append", metavar="NAME", help="build only these figures")
    parser.add_argument("--no-notebooks", action="store_true")
    args = parser.parse_args(argv)

    names = sorted(load_all())
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"unknown figure(s): {', '.join(unknown)}")
        names = sorted(args.only)
    notebooks = [] if args.no_notebooks or args.only else sorted(NOTEBOOK_DIR.glob("*.ipynb"))

    jobs = [("figure", n) for n in names] + [("notebook", nb) for nb in notebooks]
    with tqdm(jobs, unit="item", desc="figures") as bar:
        for kind, item in bar:
            bar.set_postfix_str(item if kind == "figure" else item.name)
            if kind == "figure":
                build(item, args.out / "figures")
            else:
                execute_notebook(item, args.out / "notebooks" / item.name)


if __name__ == "__main__":
    main()
