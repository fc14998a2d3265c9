"""Promotion copies the image by digest, never rebuilds it: Stubber replays of ECR's registry API.

The copy downloads only the blobs the target repository lacks, checks each against its digest,
uploads it, and puts the manifest's exact bytes with its digest, so the image prod runs has the
digest dev tested. An image index is copied child by child. `make promote` then rolls the digest
out through a change set like any deploy-service.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import ApprovalRequired, DeployFailed
from scripts.deploy.promote import Repository, copy_image, run_promote
from tests.scripts import fakes
from tests.scripts.test_rollout import OUTPUTS, PARAMETERS

SRC = Repository("todo-dev-core-mainrepository-0a1b")
DST = Repository("todo-prod-core-mainrepository-2c3d")
CONFIG = b'{"architecture":"amd64","os":"linux"}'
LAYERS = (b"layer one: the python base", b"layer two: the app")


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(CONFIG),
            "digest": sha(CONFIG),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(layer),
                "digest": sha(layer),
            }
            for layer in LAYERS
        ],
    },
    separators=(",", ":"),
)
DIGEST = sha(MANIFEST.encode())
BLOBS = {sha(blob): blob for blob in (CONFIG, *LAYERS)}
MEDIA = "application/vnd.docker.distribution.manifest.v2+json"


def not_there(ecr: Stubber, repository: Repository, digest: str) -> None:
    ecr.add_client_error(
        "describe_images",
        service_error_code="ImageNotFoundException",
        service_message=f"The image with imageId {{imageDigest:'{digest}'}} does not exist",
        expected_params={"repositoryName": repository.name, "imageIds": [{"imageDigest": digest}]},
    )


def manifest(ecr: Stubber, digest: str, text: str, media: str) -> None:
    ecr.add_response(
        "batch_get_image",
        {
            "images": [
                {
                    "repositoryName": SRC.name,
                    "imageId": {"imageDigest": digest},
                    "imageManifest": text,
                    "imageManifestMediaType": media,
                }
            ],
            "failures": [],
        },
        {
            "repositoryName": SRC.name,
            "imageIds": [{"imageDigest": digest}],
            "acceptedMediaTypes": ANY,
        },
    )


def blobs(ecr: Stubber, available: set[str], digests: list[str]) -> None:
    """The target's availability check, then a download and an upload of each missing blob."""
    ecr.add_response(
        "batch_check_layer_availability",
        {
            "layers": [
                {
                    "layerDigest": d,
                    "layerAvailability": "AVAILABLE" if d in available else "UNAVAILABLE",
                }
                for d in digests
            ],
            "failures": [],
        },
        {"repositoryName": DST.name, "layerDigests": digests},
    )
    for index, digest in enumerate(d for d in digests if d not in available):
        ecr.add_response(
            "get_download_url_for_layer",
            {"downloadUrl": f"https://layers.example/{digest}", "layerDigest": digest},
            {"repositoryName": SRC.name, "layerDigest": digest},
        )
        upload = f"upload-{index}"
        ecr.add_response(
            "initiate_layer_upload",
            {"uploadId": upload, "partSize": 10485760},
            {"repositoryName": DST.name},
        )
        ecr.add_response(
            "upload_layer_part",
            {"uploadId": upload, "lastByteReceived": len(BLOBS[digest]) - 1},
            {
                "repositoryName": DST.name,
                "uploadId": upload,
                "partFirstByte": 0,
                "partLastByte": len(BLOBS[digest]) - 1,
                "layerPartBlob": BLOBS[digest],
            },
        )
        ecr.add_response(
            "complete_layer_upload",
            {"uploadId": upload, "layerDigest": digest},
            {"repositoryName": DST.name, "uploadId": upload, "layerDigests": [digest]},
        )


def put(ecr: Stubber, digest: str, text: str, media: str, tag: str | None) -> None:
    expected: dict[str, Any] = {
        "repositoryName": DST.name,
        "imageManifest": text,
        "imageManifestMediaType": media,
        "imageDigest": digest,
    }
    if tag:
        expected["imageTag"] = tag
    ecr.add_response("put_image", {"image": {"imageId": {"imageDigest": digest}}}, expected)


class Downloads:
    """The presigned layer URLs, served from BLOBS (a tampered blob for `tamper`)."""

    def __init__(self, tamper: str | None = None) -> None:
        self.fetched: list[str] = []
        self.tamper = tamper

    def __call__(self, url: str) -> bytes:
        digest = url.rsplit("/", 1)[1]
        self.fetched.append(digest)
        return b"tampered" if digest == self.tamper else BLOBS[digest]


def test_only_the_missing_blobs_are_copied_and_the_digest_is_kept() -> None:
    ecr, stub = fakes.stubbed("ecr")
    not_there(stub, DST, DIGEST)
    manifest(stub, DIGEST, MANIFEST, MEDIA)
    order = [sha(CONFIG), *(sha(layer) for layer in LAYERS)]
    blobs(stub, {sha(LAYERS[0])}, order)  # the base layer is there already
    put(stub, DIGEST, MANIFEST, MEDIA, "4f9c2b7e")
    downloads = Downloads()
    out, buffer = fakes.console()
    copy_image(ecr, ecr, SRC, DST, DIGEST, out, tag="4f9c2b7e", fetch=downloads)
    stub.assert_no_pending_responses()
    assert downloads.fetched == [sha(CONFIG), sha(LAYERS[1])]
    assert "2 of 3 blobs copied" in buffer.getvalue()


def test_an_image_already_there_is_left_alone() -> None:
    ecr, stub = fakes.stubbed("ecr")
    stub.add_response(
        "describe_images",
        {"imageDetails": [{"repositoryName": DST.name, "imageDigest": DIGEST}]},
        {"repositoryName": DST.name, "imageIds": [{"imageDigest": DIGEST}]},
    )
    out, buffer = fakes.console()
    copy_image(ecr, ecr, SRC, DST, DIGEST, out, fetch=Downloads())
    stub.assert_no_pending_responses()
    assert "nothing to copy" in buffer.getvalue()


def test_an_index_is_copied_child_by_child() -> None:
    index_media = "application/vnd.oci.image.index.v1+json"
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": index_media,
            "manifests": [{"mediaType": MEDIA, "digest": DIGEST, "size": len(MANIFEST)}],
        },
        separators=(",", ":"),
    )
    index_digest = sha(index.encode())
    ecr, stub = fakes.stubbed("ecr")
    not_there(stub, DST, index_digest)
    manifest(stub, index_digest, index, index_media)
    not_there(stub, DST, DIGEST)
    manifest(stub, DIGEST, MANIFEST, MEDIA)
    blobs(stub, set(), [sha(CONFIG), *(sha(layer) for layer in LAYERS)])
    put(stub, DIGEST, MANIFEST, MEDIA, None)  # the child untagged ...
    put(stub, index_digest, index, index_media, "v1")  # ... the index with the tag
    copy_image(ecr, ecr, SRC, DST, index_digest, fakes.console()[0], tag="v1", fetch=Downloads())
    stub.assert_no_pending_responses()


def test_a_blob_that_does_not_match_its_digest_stops_the_copy() -> None:
    ecr, stub = fakes.stubbed("ecr")
    not_there(stub, DST, DIGEST)
    manifest(stub, DIGEST, MANIFEST, MEDIA)
    stub.add_response(
        "batch_check_layer_availability",
        {"layers": [{"layerDigest": sha(CONFIG), "layerAvailability": "UNAVAILABLE"}]},
    )
    stub.add_response(
        "get_download_url_for_layer",
        {"downloadUrl": f"https://layers.example/{sha(CONFIG)}", "layerDigest": sha(CONFIG)},
    )
    with pytest.raises(DeployFailed, match="downloaded as sha256:"):
        copy_image(
            ecr, ecr, SRC, DST, DIGEST, fakes.console()[0], fetch=Downloads(tamper=sha(CONFIG))
        )


def test_make_promote_rolls_out_the_digest_the_source_runs(tmp_path: Path) -> None:
    """dev's stack names the digest; prod's repository gets it (here: already there), and the
    change set on prod's stack names the same digest."""
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    ecr, ecr_stub = fakes.stubbed("ecr")
    dev_uri = f"{fakes.ACCOUNT}.dkr.ecr.{fakes.REGION}.amazonaws.com/{SRC.name}"
    prod_uri = f"{fakes.ACCOUNT}.dkr.ecr.{fakes.REGION}.amazonaws.com/{DST.name}"
    dev = fakes.stack(
        "todo-dev-core",
        "UPDATE_COMPLETE",
        parameters={**PARAMETERS, "MainServiceImageDigest": DIGEST},
        outputs={**OUTPUTS, "MainRepositoryUri": dev_uri},
    )
    prod_outputs = {**OUTPUTS, "MainRepositoryUri": prod_uri}
    prod = fakes.stack(
        "todo-prod-core", "UPDATE_COMPLETE", parameters=PARAMETERS, outputs=prod_outputs
    )
    cfn_stub.add_response("describe_stacks", dev, {"StackName": "todo-dev-core"})
    cfn_stub.add_response("describe_stacks", prod, {"StackName": "todo-prod-core"})
    ecr_stub.add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": DIGEST, "imageTags": ["4f9c2b7e"]}]},
        {"repositoryName": SRC.name, "imageIds": [{"imageDigest": DIGEST}]},
    )
    for _ in range(2):  # copy: already there; deploy-service: its tags, for people
        ecr_stub.add_response(
            "describe_images",
            {"imageDetails": [{"imageDigest": DIGEST, "imageTags": ["4f9c2b7e"]}]},
            {"repositoryName": DST.name, "imageIds": [{"imageDigest": DIGEST}]},
        )
    cfn_stub.add_response("describe_stacks", prod, {"StackName": "todo-prod-core"})
    sent = fakes.expect_image_change_set(
        cfn,
        cfn_stub,
        "todo-prod-core",
        f"main service image promoted from dev 4f9c2b7e ({DIGEST}) from commit abc1234def5678",
    )
    ctx, out, _ = fakes.context(
        AwsClients(cloudformation=cfn, ecr=ecr),
        config_dir=tmp_path,
        templates_dir=tmp_path,
        env="prod",
    )
    with pytest.raises(ApprovalRequired):  # no terminal, no --auto-approve: it stops there
        run_promote(ctx, "main", "dev", digest=None, auto_approve=False, timeout_seconds=60)
    cfn_stub.assert_no_pending_responses()
    ecr_stub.assert_no_pending_responses()
    (parameters,) = sent
    assert {"ParameterKey": "MainServiceImageDigest", "ParameterValue": DIGEST} in parameters
    assert f"Promoting main {DIGEST} from dev" in out.getvalue()


def test_promote_refuses_a_source_that_runs_nothing_yet(tmp_path: Path) -> None:
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    for env in ("dev", "prod"):
        cfn_stub.add_response(
            "describe_stacks",
            fakes.stack(
                f"todo-{env}-core",
                "UPDATE_COMPLETE",
                parameters={**PARAMETERS, "MainServiceImageDigest": "bootstrap"},
                outputs=OUTPUTS,
            ),
        )
    ctx, _, _ = fakes.context(
        AwsClients(cloudformation=cfn), config_dir=tmp_path, templates_dir=tmp_path, env="prod"
    )
    with pytest.raises(DeployFailed, match="runs no image of main yet"):
        run_promote(ctx, "main", "dev", digest=None, auto_approve=True, timeout_seconds=60)
