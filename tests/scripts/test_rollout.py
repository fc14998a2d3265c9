"""deploy-service after the push: one parameter changes, ECS is watched, failures are diagnosed.

CloudFormation is a Stubber replay (the exact change set request matters); ECS, ELB and Logs are
the small stateful fakes of tests/scripts/fake_ecs.py, whose service moves on at each poll.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scripts.deploy.aws import AwsClients
from scripts.deploy.changeset import classify
from scripts.deploy.errors import Interrupted, InvalidImageTag, NoChanges, RolloutFailed
from scripts.deploy.params import stack_tags
from scripts.deploy.rollout import assess, run_deploy_service, unexpected_changes
from tests.scripts import fakes
from tests.scripts.fake_ecs import FakeEcs, FakeLogs, FakeTargetHealth

CORE = "todo-dev-core"
NAME = "deploy-20260105T093000Z-abc1234def56"
CLUSTER = "todo-dev-cluster"
SERVICE = "todo-dev-main"
TD_OLD = f"arn:aws:ecs:{fakes.REGION}:{fakes.ACCOUNT}:task-definition/todo-dev-main:7"
TD_NEW = f"arn:aws:ecs:{fakes.REGION}:{fakes.ACCOUNT}:task-definition/todo-dev-main:8"
TG = (
    f"arn:aws:elasticloadbalancing:{fakes.REGION}:{fakes.ACCOUNT}:"
    "targetgroup/todo-dev-main/6d0ecf831eec9f09"
)
NEW_TAG = "4f9c2b7e1d3a5c6b8e0f2a4c6e8b0d1f3a5c7e9b"
# What ECR answers for the pushed tag: the stack names the image by this digest.
NEW_DIGEST = "sha256:" + "4f9c2b7e" * 8
OLD_TAG = "0123abc"
OLD_DIGEST = "sha256:" + "0123abcd" * 8
PARAMETERS = {
    "FilesServiceImageDigest": OLD_DIGEST,
    "LaunchType": "FARGATE",
    "MainServiceImageDigest": OLD_DIGEST,
    "WebsiteOrigin": "https://d111111abcdef8.cloudfront.net",
}
OUTPUTS = {
    "ClusterName": CLUSTER,
    "MainServiceName": SERVICE,
    "FilesServiceName": "todo-dev-files",
    "MainRepositoryUri": f"{fakes.ACCOUNT}.dkr.ecr.{fakes.REGION}.amazonaws.com/todo-dev-main",
    "MainTargetGroupArn": TG,
    "MainLogGroupName": "/todo/dev/main",
}
ARN = f"arn:aws:ecs:{fakes.REGION}:{fakes.ACCOUNT}"
TASK_ID = "0d3c8a5f2b4e4c1f9a7b6c5d4e3f2a1b"
TASK_ARN = f"arn:aws:ecs:{fakes.REGION}:{fakes.ACCOUNT}:task/{CLUSTER}/{TASK_ID}"
SERVICE_ARN = f"{ARN}:service/{CLUSTER}/{SERVICE}"


def deployment(
    status: str,
    task_definition: str,
    rollout: str,
    *,
    running: int,
    failed: int = 0,
    reason: str = "",
    ident: str = "ecs-svc/1111111111111111111",
) -> dict[str, Any]:
    return {
        "id": ident,
        "status": status,
        "taskDefinition": task_definition,
        "desiredCount": 2,
        "pendingCount": 0,
        "runningCount": running,
        "failedTasks": failed,
        "createdAt": fakes.T0,
        "updatedAt": fakes.T0,
        "launchType": "EC2",
        "rolloutState": rollout,
        "rolloutStateReason": reason,
    }


def service(*deployments: dict[str, Any], events: tuple[str, ...] = ()) -> dict[str, Any]:
    """The service as DescribeServices shows it at one moment."""
    return {
        "serviceArn": SERVICE_ARN,
        "serviceName": SERVICE,
        "clusterArn": f"arn:aws:ecs:{fakes.REGION}:{fakes.ACCOUNT}:cluster/{CLUSTER}",
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": 2,
        "pendingCount": 0,
        "taskDefinition": deployments[0]["taskDefinition"],
        "deployments": list(deployments),
        "events": [
            {"id": f"e{i}", "createdAt": fakes.T0 + timedelta(seconds=-i), "message": m}
            for i, m in enumerate(events)
        ],
    }


def ecs_service(*states: dict[str, Any], **details: Any) -> FakeEcs:
    return FakeEcs(CLUSTER, SERVICE_ARN, states, **details)


def stub_stack_update(
    cfn_stub: Any,
    extra: tuple[dict[str, Any], ...] = (),
    current: dict[str, str] = PARAMETERS,
    *,
    task_definition_readable: bool = True,
) -> None:
    """Everything CloudFormation does: only MainServiceImageDigest changes, UPDATE_COMPLETE."""
    stub_plan(cfn_stub, extra, current)
    stub_execution(cfn_stub, current, task_definition_readable=task_definition_readable)


def stub_plan(
    cfn_stub: Any,
    extra: tuple[dict[str, Any], ...] = (),
    current: dict[str, str] = PARAMETERS,
    outputs: dict[str, str] = OUTPUTS,
) -> None:
    """The change set that changes only MainServiceImageDigest, created and described."""
    cfn_stub.add_response(
        "describe_stacks",
        fakes.stack(CORE, "UPDATE_COMPLETE", parameters=current, outputs=outputs),
        {"StackName": CORE},
    )
    changes = [
        fakes.change(
            "Modify",
            "MainTaskDefinition",
            "AWS::ECS::TaskDefinition",
            replacement="True",
            physical_id=TD_OLD,
            details=[("ContainerDefinitions", "Always")],
        ),
        fakes.change(
            "Modify",
            "MainService",
            "AWS::ECS::Service",
            replacement="False",
            details=[("TaskDefinition", "Never")],
        ),
        *extra,
    ]
    fakes.expect_change_set(
        cfn_stub,
        CORE,
        NAME,
        changes,
        ChangeSetType="UPDATE",
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": "FilesServiceImageDigest", "UsePreviousValue": True},
            {"ParameterKey": "LaunchType", "UsePreviousValue": True},
            {"ParameterKey": "MainServiceImageDigest", "ParameterValue": NEW_DIGEST},
            {"ParameterKey": "WebsiteOrigin", "UsePreviousValue": True},
        ],
        Description=f"main service image {NEW_TAG} ({NEW_DIGEST}) from commit abc1234def5678",
        Tags=stack_tags("dev"),
    )


STACK_TYPE = "AWS::CloudFormation::Stack"


def stub_execute(cfn_stub: Any) -> list[dict[str, Any]]:
    """The stack's last event, then ExecuteChangeSet; returns the events of the update's start
    (up to the task definition replaced), newest first as DescribeStackEvents lists them."""
    before = fakes.event(CORE, CORE, STACK_TYPE, "UPDATE_COMPLETE", -3600)
    cfn_stub.add_response("describe_stack_events", {"StackEvents": [before]})
    cfn_stub.add_response(
        "execute_change_set",
        {},
        {"StackName": CORE, "ChangeSetName": fakes.change_set_id(NAME), "ClientRequestToken": NAME},
    )
    return fakes.newest_first(
        before,
        fakes.event(CORE, CORE, STACK_TYPE, "UPDATE_IN_PROGRESS", 1, reason="User Initiated"),
        fakes.event(
            CORE,
            "MainTaskDefinition",
            "AWS::ECS::TaskDefinition",
            "UPDATE_COMPLETE",
            3,
            physical_id=TD_NEW,
        ),
    )


def stub_execution(
    cfn_stub: Any, current: dict[str, str] = PARAMETERS, *, task_definition_readable: bool = True
) -> None:
    """The change set executed; the stack reaches UPDATE_COMPLETE at the first look."""
    events = fakes.newest_first(
        *stub_execute(cfn_stub),
        fakes.event(CORE, "MainService", "AWS::ECS::Service", "UPDATE_COMPLETE", 200),
        fakes.event(CORE, CORE, STACK_TYPE, "UPDATE_COMPLETE", 210),
    )
    cfn_stub.add_response("describe_stack_events", {"StackEvents": events})
    updated = {**current, "MainServiceImageDigest": NEW_DIGEST}
    cfn_stub.add_response(
        "describe_stacks", fakes.stack(CORE, "UPDATE_COMPLETE", parameters=updated, outputs=OUTPUTS)
    )
    cfn_stub.add_response("describe_stack_events", {"StackEvents": events})
    if not task_definition_readable:
        cfn_stub.add_client_error(
            "describe_stack_resource",
            service_error_code="AccessDenied",
            service_message="User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not "
            "authorized to perform: cloudformation:DescribeStackResource",
            http_status_code=403,
        )
        return
    stub_task_definition_resource(cfn_stub)


def stub_task_definition_resource(cfn_stub: Any) -> None:
    """DescribeStackResource: the task definition the stack names after the update."""
    cfn_stub.add_response(
        "describe_stack_resource",
        {
            "StackResourceDetail": {
                "StackName": CORE,
                "StackId": fakes.stack_id(CORE),
                "LogicalResourceId": "MainTaskDefinition",
                "PhysicalResourceId": TD_NEW,
                "ResourceType": "AWS::ECS::TaskDefinition",
                "LastUpdatedTimestamp": fakes.T0,
                "ResourceStatus": "UPDATE_COMPLETE",
            }
        },
        {"StackName": CORE, "LogicalResourceId": "MainTaskDefinition"},
    )


class Pushed:
    """Stands in for the docker build/push (no Docker here); records what was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.builds: list[bool] = []

    def __call__(self, ecr: Any, uri: str, tag: str, **kwargs: Any) -> None:
        self.calls.append((uri, tag))
        self.builds.append(kwargs.get("build", True))


def stub_digest(ecr_stub: Any, tag: str = NEW_TAG, digest: str = NEW_DIGEST) -> None:
    """ECR's answer for the image the tag names (after the push, or for --image-tag)."""
    ecr_stub.add_response(
        "describe_images",
        {
            "imageDetails": [
                {"repositoryName": "todo-dev-main", "imageDigest": digest, "imageTags": [tag]}
            ]
        },
        {"repositoryName": "todo-dev-main", "imageIds": [{"imageTag": tag}]},
    )


def clients(
    ecs: FakeEcs,
    elbv2: FakeTargetHealth | None = None,
    logs: FakeLogs | None = None,
    digest_of: tuple[str, str] | None = (NEW_TAG, NEW_DIGEST),
) -> tuple[AwsClients, dict[str, Any]]:
    """Stubbed CloudFormation and ECR (which answers only the digest of `digest_of`'s tag),
    and the ECS-side fakes."""
    made = {name: fakes.stubbed(name) for name in ("cloudformation", "ecr")}
    if digest_of is not None:
        stub_digest(made["ecr"][1], *digest_of)
    fakes_by_name = {
        "ecs": ecs,
        "elbv2": elbv2 or FakeTargetHealth({}),
        "logs": logs or FakeLogs({}),
    }
    all_clients = AwsClients(**{k: v[0] for k, v in made.items()}, **fakes_by_name)
    return all_clients, {k: v[1] for k, v in made.items()}


def test_circuit_breaker_rollback_after_update_complete_fails_with_a_diagnosis(
    tmp_path: Path,
) -> None:
    circuit = "ECS deployment circuit breaker: tasks failed to start."
    ecs = ecs_service(
        # First look: the new deployment is starting and tasks are failing.
        service(
            deployment(
                "PRIMARY",
                TD_NEW,
                "IN_PROGRESS",
                running=0,
                failed=2,
                ident="ecs-svc/2222222222222222222",
            ),
            deployment("ACTIVE", TD_OLD, "COMPLETED", running=2),
        ),
        # Then the circuit breaker has rolled back to the old task definition.
        service(
            deployment(
                "PRIMARY",
                TD_OLD,
                "IN_PROGRESS",
                running=2,
                ident="ecs-svc/3333333333333333333",
                reason="ECS deployment ecs-svc/3333333333333333333 in progress.",
            ),
            deployment(
                "ACTIVE",
                TD_NEW,
                "FAILED",
                running=0,
                failed=4,
                ident="ecs-svc/2222222222222222222",
                reason=circuit,
            ),
            events=(
                f"(service {SERVICE}) rolling back to deployment ecs-svc/1111111111111111111.",
                f"(service {SERVICE}) deployment ecs-svc/2222222222222222222 deployment failed: "
                "tasks failed to start.",
            ),
        ),
        tasks=[
            {
                "taskArn": TASK_ARN,
                "taskDefinitionArn": TD_NEW,
                "lastStatus": "STOPPED",
                "desiredStatus": "STOPPED",
                "stopCode": "EssentialContainerExited",
                "stoppedReason": "Essential container in task exited",
                "stoppedAt": fakes.T0 + timedelta(seconds=90),
                "createdAt": fakes.T0 + timedelta(seconds=60),
                "containers": [
                    {
                        "name": "main",
                        "lastStatus": "STOPPED",
                        "exitCode": 3,
                        "reason": "",
                        "taskArn": TASK_ARN,
                    }
                ],
            }
        ],
        task_definitions={
            TD_NEW: {
                "taskDefinitionArn": TD_NEW,
                "family": "todo-dev-main",
                "containerDefinitions": [
                    {
                        "name": "main",
                        "image": f"{OUTPUTS['MainRepositoryUri']}:{NEW_TAG}",
                        "logConfiguration": {
                            "logDriver": "awslogs",
                            "options": {
                                "awslogs-group": "/todo/dev/main",
                                "awslogs-region": fakes.REGION,
                                "awslogs-stream-prefix": "ecs",
                            },
                        },
                    }
                ],
            }
        },
    )
    targets = FakeTargetHealth(
        {
            TG: [
                {
                    "Target": {"Id": "i-0a1b2c3d4e5f67890", "Port": 32768},
                    "HealthCheckPort": "32768",
                    "TargetHealth": {
                        "State": "unhealthy",
                        "Reason": "Target.ResponseCodeMismatch",
                        "Description": "Health checks failed with these codes: [502]",
                    },
                }
            ]
        }
    )
    logs = FakeLogs(
        {
            ("/todo/dev/main", f"ecs/main/{TASK_ID}"): [
                {
                    "timestamp": 1767605470000,
                    "message": "[INFO] Starting gunicorn 27.0.1",
                    "ingestionTime": 1767605471000,
                },
                {
                    "timestamp": 1767605471000,
                    "message": "RuntimeError: TODOS_TABLE is not set",
                    "ingestionTime": 1767605472000,
                },
            ]
        }
    )
    all_clients, stubs = clients(ecs, targets, logs)
    stub_stack_update(stubs["cloudformation"])
    ctx, out, time = fakes.context(all_clients, config_dir=tmp_path, templates_dir=tmp_path)
    pushed = Pushed()
    with pytest.raises(RolloutFailed) as raised:
        run_deploy_service(ctx, "main", auto_approve=True, image_tag=NEW_TAG, publish=pushed)
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    # the deployment found and read twice (it rolls back), then the diagnosis reads events,
    # stopped tasks, their definition and its logs
    assert ecs.calls == [
        "list_service_deployments",
        "describe_service_deployments",
        "describe_service_deployments",
        "describe_services",
        "list_tasks",
        "describe_tasks",
        "describe_task_definition",
    ]
    assert logs.asked == [("/todo/dev/main", f"ecs/main/{TASK_ID}")]
    assert pushed.calls == [(OUTPUTS["MainRepositoryUri"], NEW_TAG)]
    assert circuit in str(raised.value)
    text = out.getvalue()
    assert "UPDATE_COMPLETE" in text  # CloudFormation was satisfied ...
    assert "Essential container in task exited" in text  # ... ECS was not, and says why
    assert "main: STOPPED exit 3" in text
    assert "Target.ResponseCodeMismatch" in text
    assert "RuntimeError: TODOS_TABLE is not set" in text
    assert "rolling back to deployment" in text
    assert "also changes" not in text  # only the main service's resources changed
    assert time.sleeps == [5.0]


def test_rollout_succeeds_when_the_new_deployment_completes(tmp_path: Path) -> None:
    ecs = ecs_service(
        service(
            deployment("PRIMARY", TD_NEW, "IN_PROGRESS", running=1),
            deployment("ACTIVE", TD_OLD, "COMPLETED", running=2),
        ),
        service(deployment("PRIMARY", TD_NEW, "COMPLETED", running=2)),
    )
    all_clients, stubs = clients(ecs)
    # A newer ECS-optimized AMI published since the last update rides along: it is pointed out.
    launch_template = fakes.change(
        "Modify",
        "ContainerInstanceLaunchTemplate",
        "AWS::EC2::LaunchTemplate",
        replacement="False",
        details=[("LaunchTemplateData", "Never")],
    )
    stub_stack_update(stubs["cloudformation"], (launch_template,))
    ctx, out, _ = fakes.context(all_clients, config_dir=tmp_path, templates_dir=tmp_path)
    pushed = Pushed()
    result = run_deploy_service(ctx, "main", auto_approve=True, image_tag=NEW_TAG, publish=pushed)
    assert pushed.builds == [False]  # an explicit --image-tag is looked up, never built
    assert result["deployments"][0]["taskDefinition"] == TD_NEW
    assert f"runs {NEW_TAG} ({NEW_DIGEST}): 2/2 tasks" in out.getvalue()
    assert "also changes ContainerInstanceLaunchTemplate" in out.getvalue()
    # The deployment followed to SUCCESSFUL, then the service's steady state: no diagnosis.
    assert ecs.calls == [
        "list_service_deployments",
        "describe_service_deployments",
        "describe_service_deployments",
        "describe_services",
    ]


def test_same_tag_is_nothing_to_roll_out(tmp_path: Path) -> None:
    ecs = ecs_service(service(deployment("PRIMARY", TD_OLD, "COMPLETED", running=2)))
    all_clients, stubs = clients(ecs, digest_of=(OLD_TAG, OLD_DIGEST))
    stubs["cloudformation"].add_response(
        "describe_stacks",
        fakes.stack(CORE, "UPDATE_COMPLETE", parameters=PARAMETERS, outputs=OUTPUTS),
    )
    ctx, _, _ = fakes.context(all_clients, config_dir=tmp_path, templates_dir=tmp_path)
    with pytest.raises(NoChanges, match=f"already {OLD_TAG} .{OLD_DIGEST}."):
        run_deploy_service(ctx, "main", auto_approve=True, image_tag=OLD_TAG, publish=Pushed())
    assert ecs.calls == []


def test_latest_is_refused_before_any_call(tmp_path: Path) -> None:
    ecs = ecs_service(service(deployment("PRIMARY", TD_OLD, "COMPLETED", running=2)))
    all_clients, _ = clients(ecs)
    ctx, _, _ = fakes.context(all_clients, config_dir=tmp_path, templates_dir=tmp_path)
    with pytest.raises(InvalidImageTag, match="latest"):
        run_deploy_service(ctx, "main", auto_approve=True, image_tag="latest", publish=Pushed())
    assert ecs.calls == []


@pytest.mark.parametrize(
    ("deployments", "state"),
    [
        ([deployment("PRIMARY", TD_NEW, "IN_PROGRESS", running=1)], "wait"),
        ([deployment("PRIMARY", TD_NEW, "COMPLETED", running=2)], "done"),
        ([deployment("PRIMARY", TD_NEW, "FAILED", running=0, reason="circuit breaker")], "failed"),
        # Only the old task definition is left: the rollback already finished.
        ([deployment("PRIMARY", TD_OLD, "COMPLETED", running=2)], "failed"),
    ],
)
def test_assess(deployments: list[dict[str, Any]], state: str) -> None:
    assert assess(service(*deployments), TD_NEW).state == state


def test_ctrl_c_while_watching_ecs_says_the_rollout_goes_on(tmp_path: Path) -> None:
    ecs = ecs_service(
        service(
            deployment("PRIMARY", TD_NEW, "IN_PROGRESS", running=0),
            deployment("ACTIVE", TD_OLD, "COMPLETED", running=2),
        )
    )
    all_clients, stubs = clients(ecs)
    stub_stack_update(stubs["cloudformation"])
    ctx, _, _ = fakes.context(all_clients, config_dir=tmp_path, templates_dir=tmp_path)

    def ctrl_c(_seconds: float) -> None:
        raise KeyboardInterrupt

    ctx.sleep = ctrl_c
    with pytest.raises(Interrupted) as raised:
        run_deploy_service(ctx, "main", auto_approve=True, image_tag=NEW_TAG, publish=Pushed())
    message = str(raised.value)
    assert f"stopped watching ECS service {SERVICE} in {CLUSTER}" in message
    assert f"its deployment of {NEW_TAG} ({NEW_DIGEST}) goes on" in message
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    # no diagnosis: nothing has failed
    assert ecs.calls == ["list_service_deployments", "describe_service_deployments"]


def test_only_the_services_rollout_resources_go_unremarked() -> None:
    """`FilesBucket`, `FilesTable`, `MainRepository` share the service's prefix but are no part
    of an image rollout: a change to them is pointed out like any other."""
    rows = classify(
        [
            fakes.change(
                "Modify", "FilesTaskDefinition", "AWS::ECS::TaskDefinition", replacement="True"
            ),
            fakes.change("Modify", "FilesService", "AWS::ECS::Service"),
            fakes.change(
                "Modify", "FilesScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget"
            ),
            fakes.change(
                "Modify", "FilesBucket", "AWS::S3::Bucket", details=[("CorsConfiguration", "Never")]
            ),
            fakes.change("Modify", "FilesBucketPolicy", "AWS::S3::BucketPolicy"),
            fakes.change("Modify", "MainService", "AWS::ECS::Service"),
        ]
    )
    assert unexpected_changes(rows, "files") == ["FilesBucket", "FilesBucketPolicy", "MainService"]
    assert unexpected_changes(rows[:3], "files") == []


def test_a_rollout_is_never_judged_without_the_new_task_definition(tmp_path: Path) -> None:
    """If the stack's task definition cannot be read, the PRIMARY deployment must not be taken
    as the target: after a circuit-breaker rollback it runs the old task definition."""
    # The rollback has already finished: only the old task definition runs.
    ecs = ecs_service(service(deployment("PRIMARY", TD_OLD, "COMPLETED", running=2)))
    all_clients, stubs = clients(ecs, FakeTargetHealth({TG: []}))
    stub_stack_update(stubs["cloudformation"], task_definition_readable=False)
    ctx, _, _ = fakes.context(all_clients, config_dir=tmp_path, templates_dir=tmp_path)
    with pytest.raises(RolloutFailed, match="cannot read MainTaskDefinition"):
        run_deploy_service(ctx, "main", auto_approve=True, image_tag=NEW_TAG, publish=Pushed())
    # judged by nothing: the diagnosis ran, no deployment was taken for the target
    assert ecs.calls == ["describe_services", "list_tasks"]
