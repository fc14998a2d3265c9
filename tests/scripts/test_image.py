"""image.py's refusals (dirty tree, `latest`, no Docker) and the build/push it would run."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from scripts.deploy import image
from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import DirtyTree, DockerMissing, InvalidImageTag
from scripts.deploy.rollout import run_deploy_service
from tests.scripts import fakes

REPOSITORY = f"{fakes.ACCOUNT}.dkr.ecr.{fakes.REGION}.amazonaws.com/todo-dev-main"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=deploy-test", "-c", "user.email=deploy@test.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "README.md").write_text("todo\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial")
    return root


def test_clean_tree_gives_the_commit(repo: Path) -> None:
    image.ensure_clean_tree(repo)
    assert image.head_commit(repo) == git(repo, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize("change", ["modified", "untracked"])
def test_dirty_tree_is_refused(repo: Path, change: str) -> None:
    if change == "modified":
        (repo / "README.md").write_text("changed\n")
    else:
        (repo / "notes.txt").write_text("new\n")
    with pytest.raises(DirtyTree, match="1 uncommitted change"):
        image.ensure_clean_tree(repo)


def test_untracked_files_count_even_when_git_is_told_to_hide_them(repo: Path) -> None:
    git(repo, "config", "status.showUntrackedFiles", "no")
    (repo / "app").mkdir()
    (repo / "app" / "new_module.py").write_text("print('not committed')\n")
    with pytest.raises(DirtyTree, match=r"\?\? app/"):
        image.ensure_clean_tree(repo)


def test_deploy_service_refuses_a_dirty_tree_before_any_aws_call(repo: Path) -> None:
    (repo / "README.md").write_text("changed\n")
    cfn, stub = fakes.stubbed("cloudformation")  # no responses: any call would fail the test
    ctx, _, _ = fakes.context(AwsClients(cloudformation=cfn), config_dir=repo, templates_dir=repo)
    with pytest.raises(DirtyTree):
        run_deploy_service(ctx, "main", auto_approve=True, repo=repo)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("tag", ["latest", "LATEST", "", "has space", "-leading-dash"])
def test_bad_tags_are_refused(tag: str) -> None:
    with pytest.raises(InvalidImageTag):
        image.validate_tag(tag)


def fake_docker(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / "docker"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_docker_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DockerMissing, match="not installed or not on PATH"):
        image.ensure_docker()


def test_docker_daemon_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What the docker CLI prints when no daemon listens (as on this machine).
    fake_docker(
        tmp_path / "bin",
        'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. '
        'Is the docker daemon running?" >&2\nexit 1\n',
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(DockerMissing, match=r"daemon is unreachable.*Cannot connect"):
        image.ensure_docker()


def test_publish_logs_in_builds_and_pushes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls.jsonl"
    # A docker stand-in that records argv and stdin, and answers `info` like a live daemon.
    fake_docker(
        tmp_path / "bin",
        f'stdin=""; [ "$1" = login ] && stdin=$(cat)\n'
        "python3 -c 'import json,sys; "
        'print(json.dumps({"argv": sys.argv[1:], "stdin": sys.argv[1]}))\' '
        f'"$stdin" "$@" >> {calls}\n'
        '[ "$1" = info ] && echo 28.2.2\nexit 0\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    ecr, stub = fakes.stubbed("ecr")
    stub.add_client_error(
        "describe_images",
        service_error_code="ImageNotFoundException",
        service_message="The image with imageId {imageDigest:'null', imageTag:'4f9c2b7'} does "
        "not exist within the repository with name 'todo-dev-main'",
        http_status_code=400,
        expected_params={"repositoryName": "todo-dev-main", "imageIds": [{"imageTag": "4f9c2b7"}]},
    )
    stub.add_response(
        "get_authorization_token",
        {
            "authorizationData": [
                {
                    "authorizationToken": base64.b64encode(b"AWS:s3cr3t-token").decode(),
                    "expiresAt": fakes.T0,
                    "proxyEndpoint": f"https://{REPOSITORY.split('/')[0]}",
                }
            ]
        },
    )
    stub.add_response(
        "describe_images",
        {
            "imageDetails": [
                {
                    "registryId": fakes.ACCOUNT,
                    "repositoryName": "todo-dev-main",
                    "imageDigest": "sha256:" + "a" * 64,
                    "imageTags": ["4f9c2b7"],
                }
            ]
        },
    )
    out, _ = fakes.console()
    image.publish_image(ecr, REPOSITORY, "4f9c2b7", service="main", repo=tmp_path, console=out)
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    commands = [r["argv"][1:] for r in recorded]
    assert [c[0] for c in commands] == ["info", "login", "build", "push"]
    login = recorded[1]
    assert login["stdin"] == "s3cr3t-token"  # the password never appears in argv
    assert "s3cr3t-token" not in " ".join(commands[1])
    assert commands[2][-3:] == ["-t", f"{REPOSITORY}:4f9c2b7", str(tmp_path / "app")]
    assert str(tmp_path / "app" / "main_service" / "Dockerfile") in commands[2]
    assert commands[3] == ["push", f"{REPOSITORY}:4f9c2b7"]
    # Tags are immutable: a second rollout of the same commit does not rebuild.
    image.publish_image(ecr, REPOSITORY, "4f9c2b7", service="main", repo=tmp_path, console=out)
    assert len(calls.read_text().splitlines()) == 4
    stub.assert_no_pending_responses()


def test_an_explicit_tag_missing_from_ecr_is_never_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--image-tag <older commit>` must not build the work tree and push it under that tag."""
    calls = tmp_path / "calls.txt"
    fake_docker(tmp_path / "bin", f'echo "$@" >> {calls}\n[ "$1" = info ] && echo 28.2.2\nexit 0\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    ecr, stub = fakes.stubbed("ecr")
    stub.add_client_error(
        "describe_images",
        service_error_code="ImageNotFoundException",
        service_message="The image with imageId {imageDigest:'null', imageTag:'0badc0de'} does "
        "not exist within the repository with name 'todo-dev-main'",
        http_status_code=400,
    )
    out, _ = fakes.console()
    with pytest.raises(InvalidImageTag, match=rf"{REPOSITORY}:0badc0de is not in ECR"):
        image.publish_image(
            ecr, REPOSITORY, "0badc0de", service="main", repo=tmp_path, console=out, build=False
        )
    stub.assert_no_pending_responses()
    assert not calls.exists()  # no docker command at all
