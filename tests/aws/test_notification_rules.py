"""The EventBridge rules match what they should and nothing else, and their messages fill in.

Each rule's pattern, as it deploys (ARNs resolved for a sample account), is matched by the
emulator's EventBridge pattern matcher against events shaped as AWS documents them ("Amazon ECS
events", ECS Developer Guide; "CloudFormation stack status change events", CloudFormation User
Guide). The input transformers' paths must find a value in the events they format, and their
templates may name only those paths: otherwise a message would arrive with a hole or not at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from moto.events.models import EventPattern

from generator import render_all
from scripts.cfn.template import parse_template
from scripts.iam.sample import generated_name
from scripts.iam.stack_roles import resolved_property
from tests.aws.conftest import ACCOUNT, GITHUB_REPOSITORY, REGION, core_parameters, deployment

CORE = "todo-dev-core"
CLUSTER = generated_name(CORE, "Cluster", "AWS::ECS::Cluster")
OTHER_CLUSTER = generated_name("todo-prod-core", "Cluster", "AWS::ECS::Cluster")
ECS = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack"


def rule(layer: str, logical_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(event pattern, input transformer) of a rule, resolved for the dev environment."""
    template = parse_template(render_all()[f"{layer}.yaml"])
    parameters = (
        core_parameters("dev")
        if layer == "core"
        else {"Environment": "dev", "GitHubRepository": GITHUB_REPOSITORY}
    )
    where = deployment("dev")
    pattern = resolved_property(template, layer, where, parameters, logical_id, "EventPattern")
    (target,) = resolved_property(template, layer, where, parameters, logical_id, "Targets")
    return pattern, target["InputTransformer"]


def event(detail_type: str, source: str, detail: dict[str, Any], resources: list[str]) -> Any:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2026-01-05T09:30:00Z",
        "region": REGION,
        "resources": resources,
        "detail": detail,
    }


def deployment_event(cluster: str, name: str) -> Any:
    service = f"{ECS}:service/{cluster}/{CORE}-MainService-0A1B2C"
    detail = {
        "eventType": "ERROR" if name.endswith("FAILED") else "INFO",
        "eventName": name,
        "deploymentId": "ecs-svc/1234567890123456789",
        "updatedAt": "2026-01-05T09:29:58Z",
        "reason": "ECS deployment circuit breaker: tasks failed to start.",
    }
    return event("ECS Deployment State Change", "aws.ecs", detail, [service])


def task_event(cluster: str, last: str, stop_code: str, reason: str) -> Any:
    task = f"{ECS}:task/{cluster}/0d3c8a5f2b4e4c1f9a7b6c5d4e3f2a1b"
    detail = {
        "clusterArn": f"{ECS}:cluster/{cluster}",
        "taskArn": task,
        "group": f"service:{CORE}-MainService-0A1B2C",
        "lastStatus": last,
        "desiredStatus": "STOPPED",
        "stopCode": stop_code,
        "stoppedReason": reason,
        "containers": [{"name": "main", "exitCode": 1, "lastStatus": "STOPPED"}],
    }
    return event("ECS Task State Change", "aws.ecs", detail, [task])


def stack_event(stack: str, status: str) -> Any:
    stack_id = f"{STACK}/{stack}/5b1d7e40-8a4e-11ef-9c3a-0a1b2c3d4e5f"
    detail = {
        "stack-id": stack_id,
        "status-details": {
            "status": status,
            "detailed-status": "",
            "status-reason": 'The following resource(s) failed to update: [MainService]. "quoted"',
        },
    }
    return event("CloudFormation Stack Status Change", "aws.cloudformation", detail, [stack_id])


@pytest.fixture(scope="module")
def matches() -> Any:
    """EventBridge's matching as the emulator implements it (moto's EventPattern; its
    TestEventPattern API is not implemented)."""

    def test(pattern: Mapping[str, Any], sample: Any) -> bool:
        return bool(EventPattern.load(json.dumps(pattern)).matches_event(sample))

    return test


CRASHED = ("STOPPED", "EssentialContainerExited", "Essential container in task exited")
NOT_STARTED = ("STOPPED", "TaskFailedToStart", "CannotPullContainerError: pull access denied")
ELB = ("STOPPED", "ServiceSchedulerInitiated", "Task failed ELB health checks in (target-group x)")
HEALTH = ("STOPPED", "ServiceSchedulerInitiated", "Task failed container health checks")
REPLACED = ("STOPPED", "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment x)")
RUNNING = ("RUNNING", "EssentialContainerExited", "")


@pytest.mark.parametrize(
    ("rule_id", "sample", "expected"),
    [
        ("DeploymentFailedRule", deployment_event(CLUSTER, "SERVICE_DEPLOYMENT_FAILED"), True),
        ("DeploymentFailedRule", deployment_event(CLUSTER, "SERVICE_DEPLOYMENT_COMPLETED"), False),
        (
            "DeploymentFailedRule",
            deployment_event(OTHER_CLUSTER, "SERVICE_DEPLOYMENT_FAILED"),
            False,
        ),
        ("TaskStoppedRule", task_event(CLUSTER, *CRASHED), True),
        ("TaskStoppedRule", task_event(CLUSTER, *NOT_STARTED), True),
        ("TaskStoppedRule", task_event(CLUSTER, *ELB), True),
        ("TaskStoppedRule", task_event(CLUSTER, *HEALTH), True),
        ("TaskStoppedRule", task_event(CLUSTER, *REPLACED), False),
        ("TaskStoppedRule", task_event(CLUSTER, *RUNNING), False),
        ("TaskStoppedRule", task_event(OTHER_CLUSTER, *CRASHED), False),
    ],
)
def test_core_rules_catch_failures_of_this_stack_only(
    matches: Any, rule_id: str, sample: Any, expected: bool
) -> None:
    pattern, _ = rule("core", rule_id)
    assert matches(pattern, sample) is expected


@pytest.mark.parametrize(
    ("stack", "status", "expected"),
    [
        ("todo-dev-core", "UPDATE_ROLLBACK_IN_PROGRESS", True),
        ("todo-dev-core", "ROLLBACK_IN_PROGRESS", True),  # a failed creation
        ("todo-dev-core", "DELETE_FAILED", True),
        ("todo-dev-website", "UPDATE_ROLLBACK_FAILED", True),
        ("todo-dev-core", "UPDATE_COMPLETE", False),
        ("todo-dev-core", "UPDATE_ROLLBACK_COMPLETE", False),  # told once, when it started
        ("todo-prod-core", "UPDATE_ROLLBACK_IN_PROGRESS", False),  # prod's CI stack tells prod
        ("todo-dev-ci", "UPDATE_ROLLBACK_IN_PROGRESS", False),  # an administrator's own deploy
        ("todo-dev-core-extra", "ROLLBACK_IN_PROGRESS", False),
    ],
)
def test_the_ci_stacks_rule_catches_failed_operations_of_the_environments_stacks(
    matches: Any, stack: str, status: str, expected: bool
) -> None:
    pattern, _ = rule("ci", "StackFailureRule")
    assert matches(pattern, stack_event(stack, status)) is expected


def _value(document: Any, path: str) -> Any:
    """`$.detail.containers[0].name` in `document` (the syntax EventBridge's input paths use)."""
    current = document
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.removeprefix("$.")):
        current = current[int(part[1:-1])] if part.startswith("[") else current[part]
    return current


@pytest.mark.parametrize(
    ("layer", "rule_id", "sample"),
    [
        ("core", "DeploymentFailedRule", deployment_event(CLUSTER, "SERVICE_DEPLOYMENT_FAILED")),
        ("core", "TaskStoppedRule", task_event(CLUSTER, *CRASHED)),
        ("ci", "StackFailureRule", stack_event("todo-dev-core", "UPDATE_ROLLBACK_IN_PROGRESS")),
    ],
)
def test_each_message_is_filled_from_the_event_it_reports(
    layer: str, rule_id: str, sample: Any
) -> None:
    _, transformer = rule(layer, rule_id)
    paths: dict[str, str] = transformer["InputPathsMap"]
    template: str = transformer["InputTemplate"]
    assert set(re.findall(r"<([^<>]+)>", template)) == set(paths), template
    message = template
    for name, path in paths.items():
        value = _value(sample, path)
        assert isinstance(value, str), (name, path)
        assert value, (name, path)
        message = message.replace(f"<{name}>", value)
    assert not template.startswith(('"', "{"))  # plain text: SNS sends it as written
    assert "FAILED" in message or "ROLLBACK" in message or "STOPPED" in message
    assert "ENV=dev" in message  # the command to look closer names the environment


def test_a_rule_that_matched_everything_would_be_caught(matches: Any) -> None:
    pattern, _ = rule("core", "TaskStoppedRule")
    del pattern["detail"]["$or"]
    assert matches(pattern, task_event(CLUSTER, *REPLACED))
