"""Build and push a service image tagged with the git commit.

An image tag names exactly one commit: the tree must be clean, the tag is never `latest`
(the repositories are immutable-tag, and the template's pattern rejects it too) nor the
template's `bootstrap` placeholder. An explicit --image-tag is never built: it must already be
in ECR, since the work tree is not that commit.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console

from scripts.deploy.aws import Client
from scripts.deploy.errors import DeployFailed, DirtyTree, DockerMissing, InvalidImageTag

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# The core template's image-tag default: the service runs no task (first creation, no image yet).
BOOTSTRAP_TAG = "bootstrap"
DEFAULT_PLATFORM = "linux/amd64"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise DeployFailed("git is not installed: the image tag is the git commit") from exc


def ensure_clean_tree(repo: Path) -> None:
    # Untracked files end up in the build context too; ask for them explicitly, because a
    # user's `status.showUntrackedFiles=no` would otherwise hide them from --porcelain.
    done = _git(repo, "status", "--porcelain", "--untracked-files=normal")
    if done.returncode != 0:
        raise DeployFailed(f"{repo} is not a git work tree: {done.stderr.strip()}")
    dirty = done.stdout.splitlines()
    if dirty:
        shown = "\n  ".join(dirty[:10]) + ("\n  ..." if len(dirty) > 10 else "")
        raise DirtyTree(
            f"the work tree has {len(dirty)} uncommitted change(s); an image tagged with the "
            f"commit would not be that commit. Commit or stash them first:\n  {shown}"
        )


def head_commit(repo: Path) -> str:
    done = _git(repo, "rev-parse", "HEAD")
    if done.returncode != 0:
        raise DeployFailed(f"cannot read the commit of {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


def validate_tag(tag: str) -> None:
    if tag.lower() == "latest":
        raise InvalidImageTag(
            "refusing the image tag `latest`: tags are immutable and name one commit"
        )
    if tag == BOOTSTRAP_TAG:
        raise InvalidImageTag(
            f"refusing the image tag `{BOOTSTRAP_TAG}`: it is the core template's placeholder "
            "before the first image exists, and rolling it out scales the service to 0 tasks"
        )
    if not _TAG.match(tag):
        raise InvalidImageTag(f"{tag!r} is not a valid image tag")


def ensure_docker(
    run: Runner = subprocess.run, which: Callable[[str], str | None] = shutil.which
) -> str:
    docker = which("docker")
    if docker is None:
        raise DockerMissing(
            "`docker` is not installed or not on PATH: deploy-service builds the image with it. "
            "Install Docker, or roll out an image that is already pushed with --image-tag <commit>"
        )
    done = run(
        [docker, "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise DockerMissing(
            "the Docker daemon is unreachable (is it running, and may this user use it?): "
            + (detail[-1] if detail else f"`docker info` exited {done.returncode}")
        )
    return docker


def image_exists(ecr: Client, repository_uri: str, tag: str) -> bool:
    name = repository_uri.split("/", 1)[1]
    try:
        ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": tag}])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ImageNotFoundException":
            return False
        raise
    return True


DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


def validate_digest(digest: str) -> None:
    if not DIGEST.match(digest):
        raise InvalidImageTag(f"{digest!r} is not an image digest (sha256: and 64 hex digits)")


def describe(ecr: Client, repository_uri: str, image_id: dict[str, str]) -> dict[str, Any]:
    """The image's details in the repository (its digest, its tags); refuses an unknown one."""
    name = repository_uri.split("/", 1)[1]
    try:
        details = ecr.describe_images(repositoryName=name, imageIds=[image_id])["imageDetails"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ImageNotFoundException":
            shown = image_id.get("imageTag") or image_id.get("imageDigest")
            raise InvalidImageTag(
                f"{name} has no image {shown}: nothing was changed. Its images: "
                f"aws ecr describe-images --repository-name {name}"
            ) from exc
        raise
    found: dict[str, Any] = details[0]
    return found


def digest_of(ecr: Client, repository_uri: str, tag: str) -> str:
    """The digest a tag names (tags are immutable here, so it never changes)."""
    return str(describe(ecr, repository_uri, {"imageTag": tag})["imageDigest"])


def _checked(run: Runner, args: Sequence[str], what: str, **kwargs: Any) -> None:
    done = run(list(args), text=True, check=False, **kwargs)
    if done.returncode != 0:
        raise DeployFailed(f"{what} failed (exit {done.returncode}): {(done.stderr or '').strip()}")


def docker_login(ecr: Client, docker: str, run: Runner) -> None:
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    _checked(
        run,
        [docker, "login", "--username", user, "--password-stdin", data["proxyEndpoint"]],
        "docker login to ECR",
        input=password,
        capture_output=True,
    )


def publish_image(
    ecr: Client,
    repository_uri: str,
    tag: str,
    *,
    service: str,
    repo: Path,
    console: Console,
    run: Runner = subprocess.run,
    which: Callable[[str], str | None] = shutil.which,
    platform: str = DEFAULT_PLATFORM,
    build: bool = True,
) -> None:
    """Build app/<service>_service/Dockerfile (context app/) and push <uri>:<tag>, once.

    With build=False (an explicit --image-tag) the image must already be in ECR: building the
    work tree would push today's code under another commit's tag.
    """
    validate_tag(tag)
    reference = f"{repository_uri}:{tag}"
    if image_exists(ecr, repository_uri, tag):
        console.print(f"{reference} is already in ECR (tags are immutable): not rebuilding")
        return
    if not build:
        raise InvalidImageTag(
            f"{reference} is not in ECR: --image-tag rolls out an image pushed before and never "
            "builds one (the work tree is not that commit). Check the tag, or check out the "
            "commit and run deploy-service without --image-tag"
        )
    docker = ensure_docker(run, which)
    docker_login(ecr, docker, run)
    console.print(f"Building {reference} ({platform}) ...")
    _checked(
        run,
        [
            docker,
            "build",
            "--platform",
            platform,
            "--label",
            f"org.opencontainers.image.revision={tag}",
            "-f",
            str(repo / "app" / f"{service}_service" / "Dockerfile"),
            "-t",
            reference,
            str(repo / "app"),
        ],
        f"docker build of {reference}",
    )
    console.print(f"Pushing {reference} ...")
    _checked(run, [docker, "push", reference], f"docker push of {reference}")
