"""Create a change set, read every page of it (and of its nested stacks' change sets),
classify and print the changes.

The shape follows aws-cli's and SAM CLI's deployers: an injected CloudFormation client, a
waiter instead of a sleep loop, a paginator for the details (a change set has pages), and
named exceptions for "no changes" and "failed" whose messages name the stack, the change set
and the status reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError, WaiterError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scripts.deploy.aws import Client, error_message
from scripts.deploy.errors import (
    ArtifactBucketRequired,
    DataLossRefused,
    DeployFailed,
    NoChanges,
    StackBlocked,
)

# CreateChangeSet accepts a TemplateBody of at most 51,200 bytes; larger templates go by S3 URL.
TEMPLATE_BODY_LIMIT = 51_200
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
WAITER_CONFIG = {"Delay": 5, "MaxAttempts": 120}

# Replacing or removing one of these loses data (or, for a KMS key, the ability to read it).
STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::S3::Bucket",
        "AWS::Cognito::UserPool",
        "AWS::Logs::LogGroup",
        "AWS::ECR::Repository",
        "AWS::EFS::FileSystem",
        "AWS::EC2::Volume",
        "AWS::KMS::Key",
        "AWS::SecretsManager::Secret",
        "AWS::SQS::Queue",
        "AWS::Kinesis::Stream",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
        "AWS::OpenSearchService::Domain",
        "AWS::Elasticsearch::Domain",
        "AWS::Backup::BackupVault",
        "AWS::Serverless::SimpleTable",
    }
)
STATEFUL_PREFIXES = ("AWS::RDS::DB", "AWS::Neptune::DB", "AWS::DocDB::DB")

SECURITY_TYPES = frozenset(
    {
        "AWS::Lambda::Permission",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::ECR::RepositoryPolicy",
        "AWS::Logs::ResourcePolicy",
        "AWS::KMS::Key",
        "AWS::ApiGatewayV2::Authorizer",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::CloudFrontOriginAccessIdentity",
        "AWS::CloudFront::ResponseHeadersPolicy",
        "AWS::Cognito::UserPoolClient",
    }
)
SECURITY_PREFIXES = (
    "AWS::IAM::",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::NetworkAcl",
    "AWS::WAFv2::",
)
# Property changes that touch access control on any resource type.
SECURITY_PROPERTIES = frozenset(
    {
        "PolicyDocument",
        "Policies",
        "AssumeRolePolicyDocument",
        "ManagedPolicyArns",
        "KeyPolicy",
        "PublicAccessBlockConfiguration",
        "BucketEncryption",
        "SecurityGroups",
        "SecurityGroupIds",
        "SecurityGroupIngress",
        "SecurityGroupEgress",
        "AuthorizationType",
        "AuthorizerId",
        "Scheme",
    }
)

_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


def is_no_changes(reason: str) -> bool:
    return any(marker in reason for marker in _NO_CHANGES)


def change_set_name(now: datetime, commit: str | None, verb: str = "deploy") -> str:
    """`deploy-20260101T120000Z-abc1234`: sortable, traceable, valid ([a-zA-Z][-a-zA-Z0-9]*),
    also as a ClientRequestToken (`destroy-...` for a DeleteStack)."""
    name = f"{verb}-{now.strftime('%Y%m%dT%H%M%SZ')}"
    if commit:
        name += "-" + re.sub(r"[^a-zA-Z0-9]", "", commit)[:12]
    return name


@dataclass(frozen=True)
class TemplateSource:
    """How CreateChangeSet receives the template: a body, a URL, or the stack's current one."""

    body: str | None = None
    url: str | None = None
    use_previous: bool = False

    def as_arguments(self) -> dict[str, Any]:
        if self.use_previous:
            return {"UsePreviousTemplate": True}
        if self.url:
            return {"TemplateURL": self.url}
        return {"TemplateBody": self.body}


def prepare_template(
    body: str, stack: str, s3: Client | None, bucket: str | None, region: str
) -> TemplateSource:
    """TemplateBody when it fits, otherwise upload to the artifact bucket and pass its URL."""
    size = len(body.encode())
    if size <= TEMPLATE_BODY_LIMIT:
        return TemplateSource(body=body)
    if not bucket or s3 is None:
        raise ArtifactBucketRequired(
            f"the template for {stack} is {size:,} bytes, over CloudFormation's "
            f"{TEMPLATE_BODY_LIMIT:,}-byte TemplateBody limit: it must be uploaded to S3. Give a "
            "deploy-artifacts bucket with --artifact-bucket or DEPLOY_ARTIFACT_BUCKET"
        )
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    key = f"{stack}/{digest}.yaml"
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/x-yaml")
    return TemplateSource(url=f"https://{bucket}.s3.{region}.amazonaws.com/{key}")


def change_set_type(stack: dict[str, Any] | None) -> str:
    """CREATE for a new stack (or one that only ever had change sets), UPDATE otherwise."""
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return "CREATE"
    status = stack["StackStatus"]
    name = stack["StackName"]
    if status == "ROLLBACK_COMPLETE":
        raise StackBlocked(rollback_complete_advice(name))
    if status.endswith("_IN_PROGRESS"):
        raise StackBlocked(
            f"stack {name} is {status}: wait for that operation to finish, then retry"
        )
    if status in _BLOCKED:
        raise StackBlocked(
            f"stack {name} is {status} ({stack.get('StackStatusReason', 'no reason given')}): "
            f"it cannot be updated. {_BLOCKED[status].format(stack=name)}"
        )
    return "UPDATE"


# States in which CreateChangeSet/UpdateStack are refused, and the way out of each.
_BLOCKED = {
    "ROLLBACK_FAILED": (
        "Its creation failed and so did the cleanup: delete it (aws cloudformation delete-stack "
        "--stack-name {stack}, with --retain-resources for what cannot be deleted), then "
        "deploy again"
    ),
    "DELETE_FAILED": (
        "Finish the deletion (aws cloudformation delete-stack --stack-name {stack}, with "
        "--retain-resources for what cannot be deleted), then deploy again"
    ),
    "UPDATE_ROLLBACK_FAILED": (
        "Fix what the rollback tripped on, then "
        "aws cloudformation continue-update-rollback --stack-name {stack} "
        "(--resources-to-skip for resources that cannot be rolled back); deploy again once it "
        "is UPDATE_ROLLBACK_COMPLETE"
    ),
    "IMPORT_ROLLBACK_FAILED": (
        "Resolve the failed import rollback in the CloudFormation console, then deploy again"
    ),
    "CREATE_FAILED": (
        "It was created with rollback disabled: roll it back (aws cloudformation rollback-stack "
        "--stack-name {stack}) or delete it, then deploy again"
    ),
}


def rollback_complete_advice(stack: str) -> str:
    return (
        f"stack {stack} is ROLLBACK_COMPLETE: its creation failed and it cannot be updated. "
        "Delete it, then deploy again:\n"
        f"  aws cloudformation delete-stack --stack-name {stack}\n"
        f"  aws cloudformation wait stack-delete-complete --stack-name {stack}\n"
        "(resources with DeletionPolicy Retain, such as tables and buckets, stay behind: "
        "delete or import them before retrying if their names are fixed)"
    )


@dataclass(frozen=True)
class ChangeSet:
    stack: str
    name: str
    id: str
    stack_id: str
    type: str
    changes: tuple[dict[str, Any], ...] = field(default=())


def create_change_set(
    cfn: Client,
    *,
    stack: str,
    name: str,
    template: TemplateSource,
    parameters: Sequence[dict[str, Any]],
    change_type: str,
    description: str = "",
    tags: Sequence[dict[str, str]] = (),
    role_arn: str | None = None,
) -> ChangeSet:
    """Create the change set, wait for it and return it with every change (all pages).

    `role_arn` is the CloudFormation execution role: CloudFormation then acts with that role's
    rights rather than the caller's (CI's deploy role may run change sets but create nothing).
    Raises NoChanges (after deleting the empty change set) or DeployFailed.
    """
    try:
        created = cfn.create_change_set(
            StackName=stack,
            ChangeSetName=name,
            # botocore retries a request whose answer was lost; the token makes such a retry the
            # same request instead of a second change set ("... already exists").
            ClientToken=name,
            ChangeSetType=change_type,
            Parameters=list(parameters),
            Capabilities=CAPABILITIES,
            Description=description[:1024],
            Tags=list(tags),
            # Without it a nested stack is one opaque "Modify AWS::CloudFormation::Stack" row and
            # the data-loss guard cannot see a table replaced inside it. Harmless without any.
            IncludeNestedStacks=True,
            **({"RoleARN": role_arn} if role_arn else {}),
            **template.as_arguments(),
        )
    except ClientError as exc:
        message = error_message(exc)
        # Some endpoints (and older API behaviour) reject an identical update outright.
        if is_no_changes(message):
            raise NoChanges(
                f"stack {stack}: no changes to deploy (change set {name} not created: {message})"
            ) from exc
        raise DeployFailed(f"stack {stack}: could not create change set {name}: {message}") from exc
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=stack, ChangeSetName=created["Id"], WaiterConfig=WAITER_CONFIG
        )
    except WaiterError as exc:
        last = exc.last_response or {}
        reason = str(last.get("StatusReason") or last.get("Error", {}).get("Message") or exc)
        status = last.get("Status", "unknown")
        if is_no_changes(reason):
            # An empty change set is FAILED; leaving it would clutter the stack's change sets.
            cfn.delete_change_set(StackName=stack, ChangeSetName=created["Id"])
            raise NoChanges(
                f"stack {stack}: no changes to deploy (change set {name} deleted: {reason})"
            ) from exc
        if status in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            # The waiter gave up (MaxAttempts), not CloudFormation.
            waited = WAITER_CONFIG["Delay"] * WAITER_CONFIG["MaxAttempts"]
            raise DeployFailed(
                f"stack {stack}: change set {name} is still {status} after {waited} s; "
                "CloudFormation may yet finish it: review it in the console (execute it there) "
                "or run the command again"
            ) from exc
        raise DeployFailed(f"stack {stack}: change set {name} is {status}: {reason}") from exc
    return ChangeSet(
        stack=stack,
        name=name,
        id=created["Id"],
        stack_id=created["StackId"],
        type=change_type,
        changes=tuple(describe_changes(cfn, stack, created["Id"])),
    )


def describe_changes(
    cfn: Client, stack: str | None, change_set: str, prefix: str = "", depth: int = 0
) -> list[dict[str, Any]]:
    """Every change of the change set, following NextToken through all pages.

    With IncludeNestedStacks a nested stack's ResourceChange carries the ChangeSetId of its own
    change set: its changes are read too, their logical IDs prefixed `<NestedStack>/`.
    """
    changes: list[dict[str, Any]] = []
    paginator = cfn.get_paginator("describe_change_set")
    arguments = {"ChangeSetName": change_set, **({"StackName": stack} if stack else {})}
    for page in paginator.paginate(**arguments):
        for change in page.get("Changes", []):
            rc = change.get("ResourceChange") or {}
            logical_id = prefix + str(rc.get("LogicalResourceId", ""))
            if prefix and rc:
                change = {**change, "ResourceChange": {**rc, "LogicalResourceId": logical_id}}
            changes.append(change)
            nested = rc.get("ChangeSetId")
            if rc.get("ResourceType") == "AWS::CloudFormation::Stack" and nested and depth < 5:
                changes.extend(describe_changes(cfn, None, nested, f"{logical_id}/", depth + 1))
    return changes


@dataclass(frozen=True)
class Row:
    action: str
    logical_id: str
    resource_type: str
    replacement: str
    details: str
    data_loss: bool
    security: bool
    consequence: str = ""  # for data-loss rows: what happens to the old resource's data


def is_stateful(resource_type: str) -> bool:
    return resource_type in STATEFUL_TYPES or resource_type.startswith(STATEFUL_PREFIXES)


def is_security_type(resource_type: str) -> bool:
    return resource_type in SECURITY_TYPES or resource_type.startswith(SECURITY_PREFIXES)


def _detail_text(change: dict[str, Any]) -> tuple[str, set[str]]:
    parts: list[str] = []
    names: set[str] = set()
    for detail in change.get("Details", []):
        target = detail.get("Target", {})
        name = target.get("Name") or target.get("Attribute", "")
        names.add(name)
        text = f"{target.get('Attribute', '')}.{name}" if target.get("Name") else name
        recreate = target.get("RequiresRecreation")
        if recreate and recreate != "Never":
            text += f" (recreate: {recreate})"
        if detail.get("CausingEntity"):
            text += f" <- {detail['CausingEntity']}"
        if text not in parts:
            parts.append(text)
    return ", ".join(parts), names


# ResourceChange.PolicyAction: what the DeletionPolicy / UpdateReplacePolicy does to the old
# resource. Retain does not make a replacement safe: the data stays in a resource the stack no
# longer manages, and the stack (and the app, through its outputs) moves to a new, empty one.
_CONSEQUENCES = {
    "ReplaceAndRetain": "the stack moves to a new, empty resource; the old one keeps its data "
    "but is detached from the stack",
    "ReplaceAndDelete": "the stack moves to a new, empty resource; the old one and its data are "
    "deleted",
    "ReplaceAndSnapshot": "the stack moves to a new, empty resource; the old one is deleted "
    "after a snapshot",
    "Retain": "removed from the stack; the resource and its data stay behind, unmanaged",
    "Delete": "deleted with its data",
    "Snapshot": "deleted after a snapshot",
}


def consequence(action: str, replacement: str, policy_action: str | None) -> str:
    if policy_action in _CONSEQUENCES:
        return _CONSEQUENCES[policy_action]
    if action == "Remove":
        return "removed from the stack"
    if replacement == "Conditional":
        return "may be replaced by a new, empty resource"
    return "replaced by a new, empty resource"


def classify(changes: Iterable[dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for change in changes:
        rc = change.get("ResourceChange")
        if change.get("Type") != "Resource" or not rc:
            continue
        action = rc.get("Action", "")
        rtype = rc.get("ResourceType", "")
        replacement = rc.get("Replacement", "")
        details, names = _detail_text(rc)
        scope = ", ".join(rc.get("Scope", []))
        if rc.get("PolicyAction"):
            scope = (
                f"{scope}; policy {rc['PolicyAction']}" if scope else f"policy {rc['PolicyAction']}"
            )
        text = "; ".join(p for p in (scope, details) if p)
        destroys = action == "Remove" or (
            action == "Modify" and replacement in ("True", "Conditional")
        )
        data_loss = destroys and is_stateful(rtype)
        rows.append(
            Row(
                action=action,
                logical_id=rc.get("LogicalResourceId", ""),
                resource_type=rtype,
                replacement=replacement or "-",
                details=text,
                data_loss=data_loss,
                security=is_security_type(rtype) or bool(names & SECURITY_PROPERTIES),
                consequence=consequence(action, replacement, rc.get("PolicyAction"))
                if data_loss
                else "",
            )
        )
    return rows


_ACTION_STYLE = {"Add": "green", "Modify": "yellow", "Remove": "red", "Import": "cyan"}


def render_changes(console: Console, change_set: ChangeSet, rows: Sequence[Row]) -> None:
    table = Table(
        title=f"Change set {change_set.name} for {change_set.stack} ({change_set.type})",
        title_justify="left",
    )
    for column in ("Action", "Logical ID", "Type", "Replacement", "Scope / details", "Flags"):
        table.add_column(column, overflow="fold")
    for row in rows:
        flags = Text()
        if row.data_loss:
            flags.append("DATA LOSS", style="bold red")
        if row.security:
            flags.append((" " if flags else "") + "SECURITY", style="bold yellow")
        replacement_style = "red" if row.replacement in ("True", "Conditional") else ""
        table.add_row(
            Text(row.action, style=_ACTION_STYLE.get(row.action, "")),
            row.logical_id,
            row.resource_type,
            Text(row.replacement, style=replacement_style),
            row.details,
            flags,
        )
    console.print(table)
    loss = [r for r in rows if r.data_loss]
    security = [r for r in rows if r.security]
    console.print(
        f"{len(rows)} change(s): {len(loss)} replace or remove stateful resources, "
        f"{len(security)} touch access control."
    )
    if security:
        console.print(
            "[yellow]Review the SECURITY rows: they change IAM, network access or resource "
            "policies.[/yellow]"
        )


def guard_data_loss(change_set: ChangeSet, rows: Sequence[Row], allow: bool) -> None:
    loss = [r for r in rows if r.data_loss]
    if allow or not loss:
        return
    listed = "".join(
        f"\n  {r.logical_id} ({r.resource_type}, {r.action}"
        + (f", replacement {r.replacement}" if r.action == "Modify" else "")
        + f"): {r.consequence}"
        for r in loss
    )
    raise DataLossRefused(
        f"change set {change_set.name} for stack {change_set.stack} would replace or remove "
        f"stateful resources:{listed}\nIf that is "
        "intended, re-run with --allow-data-loss (make ... ALLOW_DATA_LOSS=1); the change set "
        "is kept for review in the CloudFormation console"
    )
