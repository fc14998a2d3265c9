"""Small helpers every stack shares: outputs, retention, checkov exceptions, ARNs, `Sub`."""

from __future__ import annotations

from typing import Any, TypeVar

from troposphere import AWSObject, BaseAWSObject, Export, Output, Sub, Template

R = TypeVar("R", bound=AWSObject)


def add_output(
    t: Template, key: str, value: Any, description: str, *, condition: str | None = None
) -> Output:
    """An output exported as `${AWS::StackName}-<key>` (other stacks and the scripts read it)."""
    output = Output(
        key,
        Description=description,
        Value=value,
        Export=Export(Sub(f"${{AWS::StackName}}-{key}")),
    )
    if condition:
        output.Condition = condition
    return t.add_output(output)


def retain(resource: R) -> R:
    """Keep the resource (and its data) when it is removed from the stack or replaced."""
    resource.DeletionPolicy = "Retain"
    resource.UpdateReplacePolicy = "Retain"
    return resource


def checkov_skip(resource: R, *skips: tuple[str, str]) -> R:
    """Record reviewed checkov exceptions, (check, reason), in the resource's own Metadata."""
    resource.Metadata = {
        "checkov": {"skip": [{"id": check, "comment": reason} for check, reason in skips]}
    }
    return resource


def arn(resource_path: str) -> Sub:
    """An ARN in this stack's partition: `arn("iam::${AWS::AccountId}:role/x")`."""
    return Sub(f"arn:${{AWS::Partition}}:{resource_path}")


def sub(text: str, **objects: BaseAWSObject) -> Sub:
    """`Sub` whose `<name>` placeholders become the logical IDs of the given objects.

    Keeps every logical ID in one place: `sub("${<site>.Arn}/*", site=bucket)`.
    """
    for name, obj in objects.items():
        text = text.replace(f"<{name}>", obj.title)
    if "<" in text:
        raise ValueError(f"unfilled placeholder in {text!r}")
    return Sub(text)
