"""Stubbed clients and API responses shaped like real CloudFormation / ECS answers."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import ANY, Stubber
from rich.console import Console

from scripts.deploy.aws import RETRY_CONFIG, AwsClients
from scripts.deploy.stacks import Context

REGION = "eu-west-1"
ACCOUNT = "123456789012"
T0 = datetime(2026, 1, 5, 9, 30, 0, tzinfo=UTC)


def stack_id(name: str, suffix: str = "5b1d7e40-8a4e-11ef-9c3a-0a1b2c3d4e5f") -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/{suffix}"


def change_set_id(name: str) -> str:
    suffix = "0f6a3c2e-6d1b-4c55-9d7e-2b8f1a4c9e01"
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/{name}/{suffix}"


def client(service: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return session.client(service, config=RETRY_CONFIG)


def stubbed(service: str) -> tuple[Any, Stubber]:
    c = client(service)
    stub = Stubber(c)
    stub.activate()
    return c, stub


def not_found(stub: Stubber, name: str) -> None:
    stub.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {name} does not exist",
        http_status_code=400,
        expected_params={"StackName": name},
    )


def stack(
    name: str,
    status: str,
    *,
    parameters: dict[str, str] | None = None,
    outputs: dict[str, str] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "StackId": stack_id(name),
        "StackName": name,
        "CreationTime": T0,
        "LastUpdatedTime": T0 + timedelta(minutes=5),
        "StackStatus": status,
        "DisableRollback": False,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [{"Key": "project", "Value": "todo"}],
        "EnableTerminationProtection": False,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    if parameters is not None:
        result["Parameters"] = [
            {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
        ]
    if outputs is not None:
        result["Outputs"] = [
            {"OutputKey": k, "OutputValue": v, "ExportName": f"{name}-{k}"}
            for k, v in outputs.items()
        ]
    if reason:
        result["StackStatusReason"] = reason
    return {"Stacks": [result]}


def change(
    action: str,
    logical_id: str,
    resource_type: str,
    *,
    replacement: str | None = None,
    physical_id: str | None = None,
    details: Iterable[tuple[str, str]] = (),
    policy_action: str | None = None,
) -> dict[str, Any]:
    """One ResourceChange; details are (property name, RequiresRecreation)."""
    rc: dict[str, Any] = {
        "Action": action,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "Scope": [],
        "Details": [],
    }
    if physical_id:
        rc["PhysicalResourceId"] = physical_id
    if action == "Modify":
        rc["Replacement"] = replacement or "False"
        rc["Scope"] = ["Properties"]
        rc["Details"] = [
            {
                "Target": {
                    "Attribute": "Properties",
                    "Name": name,
                    "RequiresRecreation": recreate,
                    "AttributeChangeType": "Modify",
                },
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }
            for name, recreate in details
        ]
    if policy_action:
        rc["PolicyAction"] = policy_action
    return {"Type": "Resource", "ResourceChange": rc}


def change_set_page(
    stack_name: str,
    name: str,
    changes: list[dict[str, Any]],
    *,
    status: str = "CREATE_COMPLETE",
    reason: str | None = None,
    next_token: str | None = None,
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    page: dict[str, Any] = {
        "ChangeSetName": name,
        "ChangeSetId": change_set_id(name),
        "StackId": stack_id(stack_name),
        "StackName": stack_name,
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()
        ],
        "CreationTime": T0,
        "ExecutionStatus": "UNAVAILABLE" if status == "FAILED" else "AVAILABLE",
        "Status": status,
        "NotificationARNs": [],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [],
        "Changes": changes,
        "IncludeNestedStacks": True,
    }
    if reason:
        page["StatusReason"] = reason
    if next_token:
        page["NextToken"] = next_token
    return page


def expect_change_set(
    stub: Stubber,
    stack_name: str,
    name: str,
    changes: list[dict[str, Any]],
    **expected: Any,
) -> None:
    """CreateChangeSet with what every change set sends plus `expected` (ChangeSetType,
    Parameters, the template...), then the one-page change set read by the waiter and again by
    the paginator."""
    stub.add_response(
        "create_change_set",
        {"Id": change_set_id(name), "StackId": stack_id(stack_name)},
        {
            "StackName": stack_name,
            "ChangeSetName": name,
            "ClientToken": name,
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            "IncludeNestedStacks": True,
            **expected,
        },
    )
    page = change_set_page(stack_name, name, changes)
    stub.add_response("describe_change_set", page)  # the waiter
    stub.add_response("describe_change_set", page)  # the paginator


def expect_image_change_set(
    client: Any, stub: Stubber, stack_name: str, description: Any = ANY
) -> list[list[dict[str, Any]]]:
    """The change set of an image rollout (deploy-service, promote, rollback): one task
    definition modified. Returns the Parameters each CreateChangeSet sends, as they are sent."""
    sent: list[list[dict[str, Any]]] = []
    client.meta.events.register(
        "provide-client-params.cloudformation.CreateChangeSet",
        lambda params, **_: sent.append(params["Parameters"]),
    )
    expect_change_set(
        stub,
        stack_name,
        "deploy-20260105T093000Z-abc1234def56",
        [change("Modify", "MainTaskDefinition", "AWS::ECS::TaskDefinition")],
        ChangeSetType="UPDATE",
        UsePreviousTemplate=True,
        Parameters=ANY,
        Description=description,
        Tags=ANY,
    )
    return sent


def event(
    stack_name: str,
    logical_id: str,
    resource_type: str,
    status: str,
    seconds: int,
    *,
    reason: str | None = None,
    physical_id: str = "",
    event_id: str | None = None,
    stack_arn: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "StackId": stack_arn or stack_id(stack_name),
        "EventId": event_id or f"{logical_id}-{status}-{seconds}",
        "StackName": stack_name,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceType": resource_type,
        "Timestamp": T0 + timedelta(seconds=seconds),
        "ResourceStatus": status,
    }
    if reason:
        result["ResourceStatusReason"] = reason
    return result


def resource_summary(
    logical_id: str,
    resource_type: str,
    physical_id: str,
    status: str = "CREATE_COMPLETE",
) -> dict[str, Any]:
    """One entry of ListStackResources' StackResourceSummaries."""
    return {
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceType": resource_type,
        "LastUpdatedTimestamp": T0,
        "ResourceStatus": status,
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
    }


def newest_first(*events: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda e: e["Timestamp"], reverse=True)


class FakeTime:
    """A clock that advances only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=250, color_system=None), buffer


def context(
    clients: AwsClients,
    *,
    config_dir: Path,
    templates_dir: Path,
    env: str = "dev",
    tty: bool = False,
    answer: bool = False,
    typed: str = "",
    artifact_bucket: str | None = None,
    role_arn: str | None = None,
) -> tuple[Context, io.StringIO, FakeTime]:
    out, buffer = console()
    fake = FakeTime()
    ctx = Context(
        clients=clients,
        console=out,
        env=env,
        config_dir=config_dir,
        templates_dir=templates_dir,
        artifact_bucket=artifact_bucket,
        commit="abc1234def5678",
        now=lambda: T0,
        is_tty=lambda: tty,
        ask=lambda _question: answer,
        type_in=lambda _question: typed,
        role_arn=role_arn,
        poll_seconds=5.0,
        sleep=fake.sleep,
        clock=fake.clock,
    )
    return ctx, buffer, fake
