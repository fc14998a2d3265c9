"""Benchmarks (not tests): `python -m scripts.bench [name ...]` prints their figures."""

import sys

from rich.console import Console


def console() -> Console:
    """A console whose tables stay whole when the output goes to a file or a CI log (where rich
    would otherwise assume 80 columns and cut the figures)."""
    return Console() if sys.stdout.isatty() else Console(width=120)
