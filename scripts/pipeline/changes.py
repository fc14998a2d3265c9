"""Which components a range of commits changes: what the release pipeline deploys.

Each component's inputs are listed once, here. A component is deployed when a commit of the
range changes one of its inputs, or one of the components it reads changes (the website stack
reads the core stack's outputs; config.js is written from them too). An unknown range (no full
release yet, a forced push, a manual run) deploys everything: the deploy commands change nothing
that is already in place.
"""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

APP_SHARED = (
    "app/common/**",
    "app/requirements.txt",
    "app/constraints.txt",
    "app/gunicorn.conf.py",
)
# component -> its inputs (glob patterns; `**` crosses directories)
INPUTS: Mapping[str, tuple[str, ...]] = {
    "core": ("generator/**", "templates/core.yaml", "config/**", "hooks/**"),
    "website": ("templates/website.yaml", "config/**"),
    "frontend": ("website/**",),
    "main": ("app/main_service/**", *APP_SHARED),
    "files": ("app/files_service/**", *APP_SHARED),
}
# component -> the components whose change it must follow
FOLLOWS: Mapping[str, tuple[str, ...]] = {"website": ("core",), "frontend": ("core", "website")}
ZERO = "0" * 40


def _matches(path: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(path, pattern.replace("**", "*"))


def changed_components(paths: Iterable[str]) -> set[str]:
    paths = list(paths)
    changed = {
        name
        for name, patterns in INPUTS.items()
        if any(_matches(p, pattern) for p in paths for pattern in patterns)
    }
    for name, followed in FOLLOWS.items():
        if changed & set(followed):
            changed.add(name)
    return changed


def changed_paths(base: str, head: str, repo: Path) -> list[str] | None:
    """The files changed from `base` to `head`, or None when the range is unknown."""
    if not base or base == ZERO:
        return None
    done = subprocess.run(
        ["git", "diff", "--name-only", base, head],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return None  # the base commit is not in the clone (a forced push)
    return [line for line in done.stdout.splitlines() if line]


def outputs(base: str, head: str, repo: Path) -> str:
    """`component=true|false` lines for $GITHUB_OUTPUT."""
    paths = changed_paths(base, head, repo)
    changed = set(INPUTS) if paths is None else changed_components(paths)
    return "".join(f"{name}={'true' if name in changed else 'false'}\n" for name in INPUTS)
