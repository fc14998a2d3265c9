"""Write templates/*.yaml. The only place in the generator that touches the file system."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator import render_all

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__)
    parser.add_argument("--out", type=Path, default=TEMPLATES_DIR, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        path = args.out / name
        changed = not path.exists() or path.read_text() != text
        if changed:
            path.write_text(text)
        print(f"{'wrote' if changed else 'unchanged':9} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
