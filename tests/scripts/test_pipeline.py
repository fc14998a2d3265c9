"""The release pipeline's inputs: which environments exist, in which order, and what a push
changes (scripts/pipeline/). release.yml itself is checked in tests/test_workflows.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scripts.pipeline import changes
from scripts.pipeline.environments import PipelineError, environments, previous
from tests.scripts.test_image import git

ROOT = Path(__file__).resolve().parents[2]


def config_dir(tmp_path: Path, files: list[str], order: object) -> Path:
    for name in files:
        (tmp_path / f"{name}.json").write_text("{}")
    (tmp_path / "promotion.json").write_text(json.dumps({"order": order}))
    return tmp_path


def test_the_repositorys_environments_are_dev_then_prod() -> None:
    assert environments() == ["dev", "prod"]
    assert previous("prod") == "dev"
    assert previous("dev") is None


def test_an_environment_exists_because_its_config_file_does(tmp_path: Path) -> None:
    """staging joins by its file and its place in the order, nothing else."""
    found = config_dir(tmp_path, ["dev", "staging", "prod"], ["dev", "staging", "prod"])
    assert environments(found) == ["dev", "staging", "prod"]
    assert previous("prod", found) == "staging"


@pytest.mark.parametrize(
    ("files", "order", "message"),
    [
        (["dev", "staging", "prod"], ["dev", "prod"], "config/staging.json exists but"),
        (["dev"], ["dev", "prod"], "orders prod, which has no config/<env>.json"),
        (["dev", "prod"], ["dev", "prod", "dev"], "appears twice"),
        (["dev", "prod"], [], "non-empty list"),
        (["dev", "prod"], "dev,prod", "non-empty list"),
    ],
)
def test_config_and_order_must_agree(
    tmp_path: Path, files: list[str], order: object, message: str
) -> None:
    with pytest.raises(PipelineError, match=message):
        environments(config_dir(tmp_path, files, order))


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["generator/core/services.py"], {"core", "website", "frontend"}),
        (["hooks/gate.py"], {"core", "website", "frontend"}),
        (["config/prod.json"], {"core", "website", "frontend"}),
        (["templates/website.yaml"], {"website", "frontend"}),
        (["website/app.js"], {"frontend"}),
        (["app/main_service/todos.py"], {"main"}),
        (["app/files_service/files.py"], {"files"}),
        (["app/common/auth.py"], {"main", "files"}),
        (["docs/releasing.md", "README.md", "tests/test_workflows.py"], set()),
    ],
)
def test_a_push_deploys_what_its_paths_feed(paths: list[str], expected: set[str]) -> None:
    assert changes.changed_components(paths) == expected


def test_the_range_of_a_push_is_read_from_git_and_an_unknown_one_deploys_all(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / "app" / "main_service").mkdir(parents=True)
    (repo / "README.md").write_text("base\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "app" / "main_service" / "todos.py").write_text("changed\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "change")
    head = git(repo, "rev-parse", "HEAD").strip()
    lines = changes.outputs(base, head, repo).splitlines()
    assert lines == ["core=false", "website=false", "frontend=false", "main=true", "files=false"]
    everything = [f"{name}=true" for name in changes.INPUTS]
    assert changes.outputs("", head, repo).splitlines() == everything  # run by hand
    assert changes.outputs(changes.ZERO, head, repo).splitlines() == everything  # new branch
    gone = "1" * 40  # a forced push: the old head is not in the clone
    assert changes.outputs(gone, head, repo).splitlines() == everything


def test_python_m_scripts_pipeline_check_passes_on_the_committed_workflow() -> None:
    done = subprocess.run(
        ["python3", "-m", "scripts.pipeline", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
