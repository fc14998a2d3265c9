"""Small helpers every stack shares: outputs, retention, checkov exceptions, ARNs, `Sub`, trust."""

from __future__ import annotations

from typing import Any, TypeVar

from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    Condition,
    ConditionElement,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from awacs.sts import AssumeRole
from troposphere import (
    AWSObject,
    BaseAWSObject,
    Equals,
    Export,
    GetAtt,
    Output,
    Parameter,
    Ref,
    Sub,
    Template,
)

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


def _add_metadata(resource: R, key: str, value: Any) -> R:
    metadata = dict(getattr(resource, "Metadata", None) or {})
    metadata[key] = value
    resource.Metadata = metadata
    return resource


def checkov_skip(resource: R, *skips: tuple[str, str]) -> R:
    """Record reviewed checkov exceptions, (check, reason), in the resource's own Metadata."""
    return _add_metadata(
        resource,
        "checkov",
        {"skip": [{"id": check, "comment": reason} for check, reason in skips]},
    )


def advisor_notes(resource: R, *notes: tuple[str, str, str]) -> R:
    """Record why a finding of an IAM advisor on this resource's policy stands, as
    (tool, issue, reason): parliament's and cloudsplaining's findings are advisory, and each
    one that stays is explained here (tests/aws/test_advisors_on_templates.py)."""
    return _add_metadata(
        resource,
        "iam-advisors",
        [{"tool": tool, "issue": issue, "reason": reason} for tool, issue, reason in notes],
    )


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


def assumed_by(service: str, *, this_account_only: bool) -> PolicyDocument:
    """A role's trust policy: the AWS service may assume it.

    With `this_account_only` the service must say it acts for this account (aws:SourceAccount),
    so another account cannot use it against this one's resources (no confused deputy).
    """
    statement = Statement(
        Effect=Allow, Principal=Principal("Service", service), Action=[AssumeRole]
    )
    if this_account_only:
        statement.Condition = Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId")))
    return PolicyDocument(Version="2012-10-17", Statement=[statement])


def all_of(*elements: ConditionElement) -> Condition:
    """A Condition that requires every element.

    awacs renders a Condition as one mapping per operator, so two elements with the same
    operator (two StringEquals) would silently keep only the last: merge them into one, and
    refuse a key given twice.
    """
    merged: dict[type[ConditionElement], dict[str, Any]] = {}
    for element in elements:
        keys = merged.setdefault(type(element), {})
        for key, value in element.get_dict().items():
            if key in keys:
                raise ValueError(f"condition key {key} given twice")
            keys[key] = value
    return Condition([kind(keys) for kind, keys in merged.items()])


def add_switch(
    t: Template, title: str, *, default: bool, description: str, condition: str | None = None
) -> Parameter:
    """A "true"/"false" parameter; with `condition`, the condition that it is "true"."""
    parameter = t.add_parameter(
        Parameter(
            title,
            Type="String",
            Default="true" if default else "false",
            AllowedValues=["true", "false"],
            Description=description,
        )
    )
    if condition:
        t.add_condition(condition, Equals(Ref(parameter), "true"))
    return parameter


def key_administered_through_iam() -> Statement:
    """A key policy's delegation to IAM: roles of this account get the key only through their
    own policies ("Default key policy", KMS Developer Guide)."""
    return Statement(
        Sid="AccountAdministersKeyThroughIam",
        Effect=Allow,
        Principal=Principal("AWS", arn("iam::${AWS::AccountId}:root")),
        Action=[Action("kms", "*")],
        Resource=["*"],
    )


def service_publishes_to_encrypted_topics(sid: str, service: str) -> Statement:
    """A key policy's statement for a service that publishes to SNS topics encrypted with the key
    (CloudWatch alarms, EventBridge rules: "Amazon SNS topic permissions", EventBridge User
    Guide)."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("Service", service),
        Action=[Action("kms", "Decrypt"), Action("kms", "GenerateDataKey")],
        Resource=["*"],
    )


def rules_publish_to_topic(sid: str, topic: AWSObject, rules: list[AWSObject]) -> Statement:
    """A topic policy's statement: EventBridge may publish to the topic for these rules only."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("Service", "events.amazonaws.com"),
        Action=[Action("sns", "Publish")],
        Resource=[Ref(topic)],
        Condition=Condition(ArnEquals("aws:SourceArn", [GetAtt(r, "Arn") for r in rules])),
    )
