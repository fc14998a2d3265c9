"""Promotion: the image that passed one environment, copied by digest into the next one's
repository, never rebuilt.

Each environment has its own ECR repositories, in one account or in one account each. ECR
replication copies only across Regions or accounts and keeps the repository's name ("Private
image replication in Amazon ECR", Amazon ECR User Guide), so it cannot serve repositories of
one account with per-environment names. The copy here goes through the registry API: every
layer and the config blob the target lacks is downloaded from the source
(GetDownloadUrlForLayer) and uploaded (InitiateLayerUpload, UploadLayerPart,
CompleteLayerUpload), then the manifest is put unchanged (PutImage with the same bytes and
`imageDigest`), so the digest is the same in both repositories: the image prod runs is the one
dev tested. An image index (multi-platform, or with attestations) is copied child by child.

In a layout of one account per environment the same copy runs with a client of the source
account (docs/releasing.md: the source repository's policy lets the target's deploy role pull).
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console

from generator import naming
from scripts.deploy.aws import Client, error_message
from scripts.deploy.errors import DeployFailed, InvalidImageTag
from scripts.deploy.params import describe_stack, outputs_of, parameters_of, stack_name
from scripts.deploy.rollout import run_deploy_service
from scripts.deploy.stacks import Context

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
INDEX_TYPES = MANIFEST_TYPES[2:]
PART_BYTES = 10 * 1024 * 1024  # the size of each UploadLayerPart call


@dataclass(frozen=True)
class Repository:
    name: str  # the repository's name (the URI's path)

    @classmethod
    def from_uri(cls, uri: str) -> Repository:
        return cls(uri.split("/", 1)[1])


def download(url: str) -> bytes:
    """A layer's bytes from the presigned URL GetDownloadUrlForLayer gives (S3, https)."""
    if not url.startswith("https://") and not url.startswith("http://"):
        raise DeployFailed(f"ECR gave a layer URL that is not http(s): {url[:60]}")
    with urllib.request.urlopen(url, timeout=300) as reply:  # noqa: S310 - checked above
        data: bytes = reply.read()
    return data


def _manifest(ecr: Client, repository: Repository, digest: str) -> tuple[str, str]:
    """(manifest text, media type) of an image, as the registry stores it."""
    answer = ecr.batch_get_image(
        repositoryName=repository.name,
        imageIds=[{"imageDigest": digest}],
        acceptedMediaTypes=list(MANIFEST_TYPES),
    )
    images = answer.get("images") or []
    if not images:
        failure = (answer.get("failures") or [{}])[0]
        raise InvalidImageTag(
            f"{repository.name} has no image {digest}: {failure.get('failureReason', 'not found')}"
        )
    image = images[0]
    text = str(image["imageManifest"])
    media_type = image.get("imageManifestMediaType") or json.loads(text).get("mediaType")
    return text, str(media_type)


def has_image(ecr: Client, repository: Repository, digest: str) -> bool:
    try:
        ecr.describe_images(repositoryName=repository.name, imageIds=[{"imageDigest": digest}])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ImageNotFoundException":
            return False
        raise
    return True


def _copy_blobs(
    source: Client,
    target: Client,
    src: Repository,
    dst: Repository,
    digests: list[str],
    fetch: Callable[[str], bytes],
    console: Console,
) -> int:
    """Upload the blobs `dst` lacks; returns how many were copied."""
    if not digests:
        return 0
    found = target.batch_check_layer_availability(repositoryName=dst.name, layerDigests=digests)
    missing = [
        layer["layerDigest"]
        for layer in found.get("layers", [])
        if layer.get("layerAvailability") != "AVAILABLE"
    ] + [f["layerDigest"] for f in found.get("failures", []) if f.get("layerDigest")]
    for digest in missing:
        url = source.get_download_url_for_layer(repositoryName=src.name, layerDigest=digest)
        data = fetch(url["downloadUrl"])
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise DeployFailed(f"layer {digest} of {src.name} downloaded as {actual}")
        upload = target.initiate_layer_upload(repositoryName=dst.name)["uploadId"]
        for start in range(0, len(data), PART_BYTES):
            part = data[start : start + PART_BYTES]
            target.upload_layer_part(
                repositoryName=dst.name,
                uploadId=upload,
                partFirstByte=start,
                partLastByte=start + len(part) - 1,
                layerPartBlob=part,
            )
        target.complete_layer_upload(
            repositoryName=dst.name, uploadId=upload, layerDigests=[digest]
        )
        console.print(f"  copied {digest[:19]}… ({len(data):,} bytes)")
    return len(missing)


def copy_image(
    source: Client,
    target: Client,
    src: Repository,
    dst: Repository,
    digest: str,
    console: Console,
    *,
    tag: str | None = None,
    fetch: Callable[[str], bytes] = download,
) -> None:
    """Make `digest` exist in `dst` with the same bytes as in `src` (tagged `tag` if given)."""
    if has_image(target, dst, digest):
        console.print(f"{dst.name} already holds {digest}: nothing to copy")
        return
    text, media_type = _manifest(source, src, digest)
    document: dict[str, Any] = json.loads(text)
    if media_type in INDEX_TYPES:
        for child in document.get("manifests", []):
            copy_image(source, target, src, dst, child["digest"], console, fetch=fetch)
    else:
        blobs = [document["config"]["digest"], *(layer["digest"] for layer in document["layers"])]
        copied = _copy_blobs(source, target, src, dst, blobs, fetch, console)
        console.print(f"{dst.name}: {copied} of {len(blobs)} blobs copied from {src.name}")
    put: dict[str, Any] = {
        "repositoryName": dst.name,
        "imageManifest": text,
        "imageManifestMediaType": media_type,
        "imageDigest": digest,
    }
    if tag:
        put["imageTag"] = tag
    try:
        target.put_image(**put)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "ImageTagAlreadyExistsException" and tag:
            # Tags are immutable: the tag names another image there. The digest is what runs.
            put.pop("imageTag")
            target.put_image(**put)
            console.print(f"[yellow]{dst.name} already uses tag {tag}: copied untagged[/yellow]")
        elif code == "ImageAlreadyExistsException":
            return
        else:
            raise DeployFailed(
                f"could not put {digest} into {dst.name}: {error_message(exc)}"
            ) from exc
    console.print(f"{dst.name} now holds {digest}" + (f" ({tag})" if tag else ""))


def run_promote(
    ctx: Context,
    service: str,
    source_env: str,
    *,
    digest: str | None,
    auto_approve: bool,
    timeout_seconds: float,
    fetch: Callable[[str], bytes] = download,
) -> dict[str, Any]:
    """Copy the image `source_env` runs (or `digest`) into this environment's repository and
    roll it out there, by digest, through a change set, followed like any rollout."""
    if source_env == ctx.env:
        raise DeployFailed(f"promote copies from another environment, not from {ctx.env} itself")
    cfn = ctx.clients("cloudformation")
    source_stack = describe_stack(cfn, stack_name(source_env, "core"))
    target_stack = describe_stack(cfn, stack_name(ctx.env, "core"))
    if source_stack is None or target_stack is None:
        missing = source_env if source_stack is None else ctx.env
        raise DeployFailed(f"stack {stack_name(missing, 'core')} does not exist")
    key = naming.image_digest_parameter(service)
    chosen = digest or parameters_of(source_stack).get(key, "")
    if not chosen.startswith("sha256:"):
        raise DeployFailed(
            f"{stack_name(source_env, 'core')} runs no image of {service} yet ({key} is "
            f"{chosen or 'unset'}): deploy it there first"
        )
    uri = naming.repository_uri_output(service)
    ecr = ctx.clients("ecr")
    src = Repository.from_uri(outputs_of(source_stack)[uri])
    dst = Repository.from_uri(outputs_of(target_stack)[uri])
    tags = ecr.describe_images(repositoryName=src.name, imageIds=[{"imageDigest": chosen}])
    tag_list = tags["imageDetails"][0].get("imageTags") or []
    ctx.console.print(f"Promoting {service} {chosen} from {source_env} ({src.name}) to {ctx.env}")
    tag = tag_list[0] if tag_list else None
    copy_image(ecr, ecr, src, dst, chosen, ctx.console, tag=tag, fetch=fetch)
    return run_deploy_service(
        ctx,
        service,
        auto_approve=auto_approve,
        image_digest=chosen,
        timeout_seconds=timeout_seconds,
        what=f"image promoted from {source_env}",
    )
