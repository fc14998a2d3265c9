"""The first deployment into an empty account, against stubbed AWS.

The real templates/core.yaml and config/dev.json: on CREATE the image tags (not in the config)
are left out, so CloudFormation uses their `bootstrap` default (UsePreviousValue is invalid on a
CREATE); on a later UPDATE they keep whatever deploy-service rolled out. The first deploy-service
after `bootstrap` waits for Application Auto Scaling to raise the count from 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY

from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import InvalidImageTag
from scripts.deploy.params import CONFIG_DIR, TEMPLATES_DIR, load_config, template_parameters
from scripts.deploy.rollout import assess, run_deploy_service
from scripts.deploy.stacks import run_changeset
from tests.scripts import fakes
from tests.scripts.test_rollout import (
    NEW_TAG,
    PARAMETERS,
    TD_NEW,
    Pushed,
    clients,
    deployment,
    ecs_service,
    service,
    stub_stack_update,
)

CORE = "todo-dev-core"
NAME = "deploy-20260105T093000Z-abc1234def56"
BUCKET = "todo-deploy-artifacts-123456789012-eu-west-1"
IMAGE_TAGS = ("MainServiceImageDigest", "FilesServiceImageDigest")


def declared() -> dict[str, dict[str, Any]]:
    return template_parameters((TEMPLATES_DIR / "core.yaml").read_text())


def plan_core(describe: dict[str, Any] | None, change_type: str) -> list[dict[str, Any]]:
    """Create the core change set from the committed files; return the Parameters sent."""
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    s3, s3_stub = fakes.stubbed("s3")
    if describe is None:
        fakes.not_found(cfn_stub, CORE)
    else:
        cfn_stub.add_response("describe_stacks", describe, {"StackName": CORE})
    # The functions' code goes to the artifact bucket first (scripts/deploy/package.py) ...
    s3_stub.add_response(
        "put_object",
        {"ETag": '"1"'},
        {"Bucket": BUCKET, "Key": ANY, "Body": ANY, "ContentType": "application/zip"},
    )
    # ... and templates/core.yaml is over the TemplateBody limit: it goes there too.
    s3_stub.add_response(
        "put_object",
        {"ETag": '"0"'},
        {"Bucket": BUCKET, "Key": ANY, "Body": ANY, "ContentType": "application/x-yaml"},
    )
    sent: list[list[dict[str, Any]]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        sent.append(params["Parameters"])

    cfn.meta.events.register("provide-client-params.cloudformation.CreateChangeSet", capture)
    fakes.expect_change_set(
        cfn_stub,
        CORE,
        NAME,
        [fakes.change("Add", "MainService", "AWS::ECS::Service")],
        ChangeSetType=change_type,
        Parameters=ANY,
        Description=ANY,
        Tags=ANY,
        TemplateURL=ANY,
    )
    ctx, _, _ = fakes.context(
        AwsClients(cloudformation=cfn, s3=s3),
        config_dir=CONFIG_DIR,
        templates_dir=TEMPLATES_DIR,
        artifact_bucket=BUCKET,
    )
    run_changeset(ctx, "core", allow_data_loss=False)
    cfn_stub.assert_no_pending_responses()
    s3_stub.assert_no_pending_responses()
    (parameters,) = sent
    return parameters


def test_the_committed_template_defaults_both_image_tags_to_bootstrap() -> None:
    parameters = declared()
    for key in IMAGE_TAGS:
        assert parameters[key]["Default"] == "bootstrap"
        assert key not in load_config("dev", CONFIG_DIR)["core"]


def test_first_creation_leaves_the_image_tags_to_their_default() -> None:
    parameters = plan_core(None, "CREATE")
    keys = [p["ParameterKey"] for p in parameters]
    assert not [p for p in parameters if "UsePreviousValue" in p]
    assert not set(IMAGE_TAGS) & set(keys)
    # Exactly the config's values; every other parameter takes its template default.
    assert keys == sorted(load_config("dev", CONFIG_DIR)["core"])


def test_a_stack_left_in_review_is_still_created_without_previous_values() -> None:
    # A change set that was never executed leaves the stack in REVIEW_IN_PROGRESS, and its
    # description already lists parameters: none of them is a value to keep.
    pending = fakes.stack(
        CORE, "REVIEW_IN_PROGRESS", parameters=dict.fromkeys(IMAGE_TAGS, "bootstrap")
    )
    parameters = plan_core(pending, "CREATE")
    assert not [p for p in parameters if "UsePreviousValue" in p]
    assert not set(IMAGE_TAGS) & {p["ParameterKey"] for p in parameters}


def test_a_later_core_deploy_keeps_the_rolled_out_tags() -> None:
    current = {key: str(spec.get("Default", "x")) for key, spec in declared().items()}
    current |= {"MainServiceImageDigest": NEW_TAG, "FilesServiceImageDigest": "bootstrap"}
    current |= {"LaunchType": load_config("dev", CONFIG_DIR)["core"]["LaunchType"]}
    parameters = plan_core(fakes.stack(CORE, "UPDATE_COMPLETE", parameters=current), "UPDATE")
    by_key = {p["ParameterKey"]: p for p in parameters}
    for key in IMAGE_TAGS:
        assert by_key[key] == {"ParameterKey": key, "UsePreviousValue": True}
    assert set(by_key) == set(declared())


def test_bootstrap_is_never_rolled_out_as_an_image(tmp_path: Path) -> None:
    ecs = ecs_service(service(at(0, 0)))
    # no CloudFormation or ECR responses: a call would fail
    all_clients, stubs = clients(ecs, digest_of=None)
    ctx, _, _ = fakes.context(all_clients, config_dir=tmp_path, templates_dir=tmp_path)
    with pytest.raises(InvalidImageTag, match="0 tasks"):
        run_deploy_service(ctx, "main", auto_approve=True, image_tag="bootstrap", publish=Pushed())
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    assert ecs.calls == []


def at(desired: int, running: int, rollout: str = "COMPLETED") -> dict[str, Any]:
    d = deployment("PRIMARY", TD_NEW, rollout, running=running)
    return {**d, "desiredCount": desired}


@pytest.mark.parametrize(
    ("deployments", "state"),
    [
        # The service update is done at 0 tasks; Auto Scaling has not raised the count yet.
        ([at(0, 0)], "wait"),
        ([at(0, 0, "IN_PROGRESS")], "wait"),
        ([at(2, 0)], "wait"),
        ([at(2, 2)], "done"),
    ],
)
def test_assess_a_rollout_out_of_bootstrap(deployments: list[dict[str, Any]], state: str) -> None:
    assert assess(service(*deployments), TD_NEW).state == state


def test_first_rollout_waits_until_auto_scaling_has_started_the_tasks(tmp_path: Path) -> None:
    # ECS's deployment ends SUCCESSFUL at 0 tasks (first look); the service then waits for
    # Application Auto Scaling to raise the count (the next four).
    counts = ((0, 0), (0, 0), (2, 0), (2, 1), (2, 2))
    ecs = ecs_service(*(service(at(desired, running)) for desired, running in counts))
    all_clients, stubs = clients(ecs)
    stub_stack_update(
        stubs["cloudformation"],
        current={**PARAMETERS, "MainServiceImageDigest": "bootstrap"},
    )
    ctx, out, _ = fakes.context(all_clients, config_dir=tmp_path, templates_dir=tmp_path)
    pushed = Pushed()
    result = run_deploy_service(ctx, "main", auto_approve=True, image_tag=NEW_TAG, publish=pushed)
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    assert (
        ecs.calls
        == ["list_service_deployments", "describe_service_deployments"] + ["describe_services"] * 4
    )
    assert [tag for _, tag in pushed.calls] == [NEW_TAG]
    # Every snapshot was read: a COMPLETED deployment of 0 tasks did not end the watch.
    assert result["deployments"][0]["runningCount"] == 2
    text = out.getvalue()
    assert "COMPLETED with 0 desired tasks: waiting for Application Auto Scaling" in text
    assert "2/2 running" in text
