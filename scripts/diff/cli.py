"""`python -m scripts.diff`: what the working tree's templates change against BASE, offline."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from scripts.diff.errors import DiffError
from scripts.diff.render import layout, to_console, to_markdown
from scripts.diff.report import build_report
from scripts.diff.sources import ROOT, at_commit, stale_templates, working_tree

EXIT_CODES = """exit codes: 0 the diff was printed (with or without changes); 1 the differ failed;
2 bad input (BASE is not a commit, a template or config cannot be read, Node.js or the differ
missing: run `make venv`)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.diff",
        description="Compare the templates generated at BASE with the working tree's: resources, "
        "replacements, security and data changes, per stack and environment. No AWS access.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--base", default="origin/main", help="git revision to compare with")
    parser.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="text: tables for the terminal; markdown: for a pull request's job summary",
    )
    parser.add_argument(
        "--output", type=Path, help="write the diff to this file instead of standard output"
    )
    parser.add_argument("--stack", action="append", default=[], help="only this stack (repeat)")
    parser.add_argument("--env", action="append", default=[], help="only this environment")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    err = Console(stderr=True)
    try:
        with err.status(f"reading the templates at {args.base}") as status:
            base = at_commit(args.base)
            status.update("rendering the working tree's templates")
            from generator import render_all

            rendered = render_all()
            notes = []
            stale = stale_templates(rendered)
            if stale:
                notes.append(
                    f"templates/ is not the generator's output ({', '.join(stale)}): this diff "
                    "shows the generator's; run `make templates` and commit the result."
                )
            head = working_tree(ROOT, rendered)
            report = build_report(
                base,
                head,
                stacks=args.stack,
                envs=args.env,
                notes=notes,
                progress=lambda text: status.update(text),
            )
    except DiffError as error:
        err.print(f"make diff: {error}", style="red", markup=False, highlight=False)
        return error.exit_code
    except KeyboardInterrupt:
        err.print("make diff: interrupted", style="red")
        return 130
    blocks = layout(report)
    if args.output is not None:
        try:
            with args.output.open("w", encoding="utf-8") as file:
                if args.format == "markdown":
                    file.write(to_markdown(blocks))
                else:
                    to_console(blocks, Console(file=file, width=160))
        except OSError as error:
            message = f"make diff: cannot write {args.output}: {error.strerror}"
            err.print(message, style="red", markup=False, highlight=False)
            return DiffError.exit_code
    elif args.format == "markdown":
        sys.stdout.write(to_markdown(blocks))
    else:
        to_console(blocks, Console())
    return 0
