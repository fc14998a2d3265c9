"""Small helpers the core layers share."""

from __future__ import annotations

from typing import Any, TypeVar

from troposphere import AWSObject, Export, Output, Sub, Template

R = TypeVar("R", bound=AWSObject)


def add_output(t: Template, key: str, value: Any, description: str) -> Output:
    """An output exported as `${AWS::StackName}-<key>` (the website stack and scripts use it)."""
    return t.add_output(
        Output(
            key,
            Description=description,
            Value=value,
            Export=Export(Sub(f"${{AWS::StackName}}-{key}")),
        )
    )


def retain(resource: R) -> R:
    """Keep the resource (and its data) when it is removed from the stack or replaced."""
    resource.DeletionPolicy = "Retain"
    resource.UpdateReplacePolicy = "Retain"
    return resource


def checkov_skip(resource: R, *skips: tuple[str, str]) -> R:
    """Record a reviewed checkov exception in the resource's own Metadata."""
    resource.Metadata = {
        "checkov": {"skip": [{"id": check, "comment": reason} for check, reason in skips]}
    }
    return resource


def arn(resource_path: str) -> Sub:
    """An ARN in this stack's partition, region and account: `arn("logs", "log-group:x")`."""
    return Sub(f"arn:${{AWS::Partition}}:{resource_path}")
