"""`python -m scripts.pipeline write|check|changes`.

- `write`: render .github/workflows/release.yml from config/ (`make workflows`);
- `check`: exit 1 when the committed file differs from what `write` would write;
- `changes --base SHA --head SHA`: `component=true|false` lines, for $GITHUB_OUTPUT.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.pipeline.changes import outputs
from scripts.pipeline.environments import ROOT, PipelineError, environments
from scripts.pipeline.workflow import render

RELEASE = ROOT / ".github" / "workflows" / "release.yml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.pipeline")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("write", help="render .github/workflows/release.yml from config/")
    verbs.add_parser("check", help="fail when release.yml differs from config/'s order")
    changes = verbs.add_parser("changes", help="components changed between two commits")
    changes.add_argument("--base", default="", help="the last released commit (empty: all)")
    changes.add_argument("--head", required=True)
    args = parser.parse_args(argv)
    if args.verb == "changes":
        sys.stdout.write(outputs(args.base, args.head, Path.cwd()))
        return 0
    try:
        text = render(environments())
    except PipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.verb == "write":
        RELEASE.write_text(text)
        print(f"wrote {RELEASE.relative_to(ROOT)}")
        return 0
    if RELEASE.read_text() != text:
        print(
            f"{RELEASE.relative_to(ROOT)} differs from config/promotion.json: run `make workflows`"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
