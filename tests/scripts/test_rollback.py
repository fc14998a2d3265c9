"""`make rollback`: back to the image that last ran healthy, found in ECS, through a change set.

Stubber replays: ECS's SUCCESSFUL deployments and the revisions they ran (with their images by
digest) name the previous healthy image; a TO tag is looked up in ECR and refused when it does
not exist, before any change set; the chosen digest goes into the change set like any rollout.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import ApprovalRequired, DeployFailed, InvalidImageTag
from scripts.deploy.rollback import healthy_images, previous_healthy, run_rollback
from tests.scripts import fakes
from tests.scripts.test_rollout import CLUSTER, CORE, OUTPUTS, PARAMETERS, SERVICE

ARN = f"arn:aws:ecs:{fakes.REGION}:{fakes.ACCOUNT}"
REPO = OUTPUTS["MainRepositoryUri"]
NOW, BEFORE, OLDEST = ("sha256:" + c * 64 for c in "abc")


def revision(number: int) -> str:
    return f"{ARN}:service-revision/{CLUSTER}/{SERVICE}/{number}"


def stub_history(ecs: Stubber, digests: list[str]) -> None:
    """Successful deployments, newest first, each running one of `digests`."""
    ecs.add_response(
        "list_service_deployments",
        {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": f"{ARN}:service-deployment/{CLUSTER}/{SERVICE}/d{i}",
                    "targetServiceRevisionArn": revision(i),
                    "status": "SUCCESSFUL",
                    # Listed oldest first: the order ECS lists them in is not relied on.
                    "createdAt": fakes.T0 - timedelta(days=len(digests) - i),
                    "finishedAt": fakes.T0 - timedelta(days=len(digests) - i, minutes=-20),
                }
                for i in range(len(digests))
            ]
        },
        {"cluster": CLUSTER, "service": SERVICE, "status": ["SUCCESSFUL"]},
    )
    ecs.add_response(
        "describe_service_revisions",
        {
            "serviceRevisions": [
                {
                    "serviceRevisionArn": revision(i),
                    "containerImages": [
                        {
                            "containerName": "main",
                            "imageDigest": digest,
                            "image": f"{REPO}@{digest}",
                        }
                    ],
                }
                for i, digest in enumerate(digests)
            ],
            "failures": [],
        },
        {"serviceRevisionArns": ANY},
    )


def test_the_previous_healthy_image_is_the_newest_other_than_the_current() -> None:
    ecs, stub = fakes.stubbed("ecs")
    # Oldest first: OLDEST, BEFORE, NOW, and NOW again (a deploy that changed no image).
    stub_history(stub, [OLDEST, BEFORE, NOW, NOW])
    images = healthy_images(ecs, CLUSTER, SERVICE, "main")
    assert [i.digest for i in images] == [NOW, NOW, BEFORE, OLDEST]
    assert previous_healthy(images, NOW).digest == BEFORE
    with pytest.raises(DeployFailed, match="no earlier healthy image"):
        previous_healthy(images[:2], NOW)


def context(tmp_path: Path, **clients: Any) -> tuple[Any, Any]:
    ctx, out, _ = fakes.context(AwsClients(**clients), config_dir=tmp_path, templates_dir=tmp_path)
    return ctx, out


def live_stack(cfn: Stubber) -> None:
    cfn.add_response(
        "describe_stacks",
        fakes.stack(
            CORE,
            "UPDATE_COMPLETE",
            parameters={**PARAMETERS, "MainServiceImageDigest": NOW},
            outputs=OUTPUTS,
        ),
        {"StackName": CORE},
    )


def expect_change_set_to(cfn: Any, cfn_stub: Stubber) -> list[list[dict[str, Any]]]:
    live_stack(cfn_stub)  # deploy-service reads the stack again
    return fakes.expect_image_change_set(cfn, cfn_stub, CORE)


def describe_digest(ecr: Stubber, digest: str, tags: list[str]) -> None:
    ecr.add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": digest, "imageTags": tags}]},
        {"repositoryName": "todo-dev-main", "imageIds": [{"imageDigest": digest}]},
    )


def test_make_rollback_rolls_the_previous_healthy_image_out_through_a_change_set(
    tmp_path: Path,
) -> None:
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    ecs, ecs_stub = fakes.stubbed("ecs")
    ecr, ecr_stub = fakes.stubbed("ecr")
    live_stack(cfn_stub)
    stub_history(ecs_stub, [OLDEST, BEFORE, NOW])
    describe_digest(ecr_stub, BEFORE, ["c0ffee1"])
    sent = expect_change_set_to(cfn, cfn_stub)
    ctx, out = context(tmp_path, cloudformation=cfn, ecs=ecs, ecr=ecr)
    with pytest.raises(ApprovalRequired):  # the change set waits for approval, as any rollout
        run_rollback(ctx, "main", to=None, auto_approve=False, timeout_seconds=60)
    for stub in (cfn_stub, ecs_stub, ecr_stub):
        stub.assert_no_pending_responses()
    (parameters,) = sent
    assert {"ParameterKey": "MainServiceImageDigest", "ParameterValue": BEFORE} in parameters
    text = out.getvalue()
    assert f"back to {BEFORE}: the last image that ran healthy before {NOW}" in text


def test_a_tag_that_does_not_exist_is_refused_before_any_change(tmp_path: Path) -> None:
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    ecr, ecr_stub = fakes.stubbed("ecr")
    live_stack(cfn_stub)
    ecr_stub.add_client_error(
        "describe_images",
        service_error_code="ImageNotFoundException",
        service_message="The image with imageId {imageTag:'nope'} does not exist",
        expected_params={"repositoryName": "todo-dev-main", "imageIds": [{"imageTag": "nope"}]},
    )
    ctx, _ = context(tmp_path, cloudformation=cfn, ecr=ecr)
    with pytest.raises(InvalidImageTag, match="has no image nope: nothing was changed"):
        run_rollback(ctx, "main", to="nope", auto_approve=True, timeout_seconds=60)
    cfn_stub.assert_no_pending_responses()  # no change set was created


def test_a_tag_that_exists_is_rolled_out_by_its_digest(tmp_path: Path) -> None:
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    ecr, ecr_stub = fakes.stubbed("ecr")
    live_stack(cfn_stub)
    ecr_stub.add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": OLDEST, "imageTags": ["v1"]}]},
        {"repositoryName": "todo-dev-main", "imageIds": [{"imageTag": "v1"}]},
    )
    describe_digest(ecr_stub, OLDEST, ["v1"])
    sent = expect_change_set_to(cfn, cfn_stub)
    ctx, _ = context(tmp_path, cloudformation=cfn, ecr=ecr)
    with pytest.raises(ApprovalRequired):
        run_rollback(ctx, "main", to="v1", auto_approve=False, timeout_seconds=60)
    (parameters,) = sent
    assert {"ParameterKey": "MainServiceImageDigest", "ParameterValue": OLDEST} in parameters
