"""Reading BASE from git and the working tree from its generator."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scripts.diff.errors import DiffError
from scripts.diff.sources import at_commit, stale_templates, working_tree


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "config").mkdir()
    (tmp_path / "templates" / "core.yaml").write_text("Resources: {}\n")
    (tmp_path / "config" / "dev.json").write_text(json.dumps({"core": {"VpcCidr": "10.0.0.0/16"}}))
    # The release order (scripts/pipeline/): in config/, but not an environment.
    (tmp_path / "config" / "promotion.json").write_text(json.dumps({"order": ["dev"]}))
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "first")
    return tmp_path


def test_base_is_read_from_the_commit_not_the_working_tree(repo: Path) -> None:
    sha = _git(repo, "rev-parse", "HEAD")
    (repo / "templates" / "core.yaml").write_text("Resources: {Changed: {}}\n")
    (repo / "config" / "prod.json").write_text("{}")

    base = at_commit("main", repo)

    assert base.label == f"main ({sha[:10]})"
    assert base.templates == {"core": "Resources: {}\n"}
    assert base.configs == {"dev": {"core": {"VpcCidr": "10.0.0.0/16"}}}


def test_a_missing_base_says_how_to_get_it(repo: Path) -> None:
    with pytest.raises(DiffError, match=r"BASE 'origin/main' is not a commit.*git fetch origin"):
        at_commit("origin/main", repo)


def test_a_broken_config_at_base_is_named(repo: Path) -> None:
    (repo / "config" / "dev.json").write_text("{not json")
    _git(repo, "commit", "-qam", "broken")
    with pytest.raises(DiffError, match=r"HEAD:config/dev.json is not valid JSON"):
        at_commit("HEAD", repo)


def test_the_working_tree_is_its_generator_output_and_config(repo: Path) -> None:
    head = working_tree(repo, {"core.yaml": "Resources: {New: {}}\n"})
    assert head.templates == {"core": "Resources: {New: {}}\n"}
    assert set(head.configs) == {"dev"}
    assert stale_templates({"core.yaml": "Resources: {New: {}}\n"}, repo) == ["core.yaml"]
    assert stale_templates({"core.yaml": "Resources: {}\n"}, repo) == []
