"""What is compared: the templates and config of a git revision and of the working tree.

At BASE the committed `templates/` are read, not re-rendered: CI fails every pull request whose
templates differ from the generator's output, so at any merged commit they *are* the generator's
output, and reading them needs neither a second checkout nor BASE's pinned dependencies. The
working tree is rendered from its generator in memory, so a generator change counts even before
`make templates` has been run.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.deploy.errors import ConfigError
from scripts.deploy.params import load_config
from scripts.diff.errors import DiffError
from scripts.pipeline.environments import PROMOTION

ROOT = Path(__file__).resolve().parents[2]

Config = Mapping[str, Mapping[str, Any]]  # {"core": {...}, "website": {...}}


@dataclass(frozen=True)
class Revision:
    """One side of the comparison."""

    label: str
    templates: Mapping[str, str]  # stack name ("core") -> template text
    configs: Mapping[str, Config]  # environment ("dev") -> its config/<env>.json


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise DiffError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _configs(config_dir: Path, envs: list[str]) -> dict[str, Config]:
    try:
        return {env: load_config(env, config_dir) for env in envs}
    except ConfigError as err:
        raise DiffError(str(err)) from err


def at_commit(revision: str, repo: Path = ROOT) -> Revision:
    """The committed templates/*.yaml and config/*.json of `revision` (a branch, tag or SHA)."""
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if check.returncode != 0:
        raise DiffError(
            f"BASE {revision!r} is not a commit in this repository: fetch it first "
            f"(git fetch origin main) or pass another one (make diff BASE=main)"
        )
    sha = check.stdout.strip()
    names = _git(repo, "ls-tree", "--name-only", sha, "templates/", "config/").split()
    templates = {
        Path(name).stem: _git(repo, "show", f"{sha}:{name}")
        for name in names
        if name.startswith("templates/") and name.endswith(".yaml")
    }
    envs = sorted(
        Path(n).stem
        for n in names
        if n.startswith("config/") and n.endswith(".json") and Path(n).name != PROMOTION
    )
    with tempfile.TemporaryDirectory(prefix="diff-config-") as tmp:
        for env in envs:
            (Path(tmp) / f"{env}.json").write_text(_git(repo, "show", f"{sha}:config/{env}.json"))
        try:
            configs = _configs(Path(tmp), envs)
        except DiffError as err:  # name the file as git does, not the temporary copy
            raise DiffError(str(err).replace(tmp, f"{revision}:config")) from err
    return Revision(label=f"{revision} ({sha[:10]})", templates=templates, configs=configs)


def working_tree(repo: Path = ROOT, rendered: Mapping[str, str] | None = None) -> Revision:
    """The working tree: its generator's templates (rendered in memory) and its config/."""
    if rendered is None:
        from generator import render_all  # troposphere is only needed on this side

        rendered = render_all()
    templates = {Path(name).stem: text for name, text in rendered.items()}
    envs = sorted(p.stem for p in (repo / "config").glob("*.json") if p.name != PROMOTION)
    return Revision(
        label="working tree", templates=templates, configs=_configs(repo / "config", envs)
    )


def stale_templates(rendered: Mapping[str, str], repo: Path = ROOT) -> list[str]:
    """Committed templates that differ from the generator's output (`make templates` not run)."""
    stale = []
    for name, text in rendered.items():
        path = repo / "templates" / name
        if not path.exists() or path.read_text() != text:
            stale.append(name)
    return stale
