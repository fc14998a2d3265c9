"""The `destroy` verb: delete an environment's stacks on purpose, saying first what stays behind.

The website stack goes first (it reads the core stack's outputs), then the core stack. The CI
stack `todo-<env>-ci` is never touched: it holds the roles that deploy every stack.

What stays is read from the live stacks, not from templates/: ListStackResources (every page)
names the resources, GetTemplate with TemplateStage Processed (the template after the SAM
transform, so generated resources are there too) gives each one's DeletionPolicy. A resource
without one is deleted; Retain, RetainExceptOnCreate and Snapshot leave something behind that
goes on costing ("DeletionPolicy attribute", CloudFormation Template Reference,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).

A load balancer with deletion protection stops a stack delete at DELETE_FAILED. It is lifted only
on request (--disable-deletion-protection), through the stack: a change set that sets the
parameter behind the attribute to "false", so the stack and the load balancer never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from scripts.cfn.lifecycle import RETAINED
from scripts.cfn.template import parse_template
from scripts.deploy.aws import Client
from scripts.deploy.changeset import TemplateSource, change_set_type, guard_data_loss
from scripts.deploy.errors import (
    ApprovalDeclined,
    ApprovalRequired,
    DeletionProtected,
    DeployFailed,
    Interrupted,
    StackBlocked,
)
from scripts.deploy.params import (
    STACKS,
    describe_stack,
    parameters_of,
    previous_values_except,
    stack_name,
)
from scripts.deploy.stacks import Context, create_plan, execute, watch_operation

# The website stack reads the core stack's outputs: it goes first.
DESTROY_ORDER = tuple(reversed(STACKS))
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
DELETION_PROTECTION = "deletion_protection.enabled"
DELETED = frozenset({"DELETE_COMPLETE"})


@dataclass(frozen=True)
class Resource:
    logical_id: str
    resource_type: str
    physical_id: str
    policy: str  # the DeletionPolicy in force ("Delete" when the template sets none)

    @property
    def retained(self) -> bool:
        return self.policy in RETAINED


@dataclass(frozen=True)
class Protection:
    """A load balancer of the stack whose deletion protection is on."""

    logical_id: str
    physical_id: str
    parameter: str | None  # the stack parameter that sets it; None when the template fixes it


@dataclass(frozen=True)
class LiveStack:
    name: str
    description: dict[str, Any]  # its DescribeStacks entry
    resources: tuple[Resource, ...]
    protection: Protection | None

    @property
    def id(self) -> str:
        return str(self.description["StackId"])

    @property
    def status(self) -> str:
        return str(self.description["StackStatus"])


# --- Reading and judging (pure apart from read_stack) ---------------------------------------


def resources_of(
    summaries: Iterable[Mapping[str, Any]], template: Mapping[str, Any]
) -> tuple[Resource, ...]:
    """The stack's resources with their DeletionPolicy, retained ones first.

    Resources already DELETE_COMPLETE (a stack whose earlier delete failed half-way) are gone.
    """
    declared = template.get("Resources") or {}
    resources = [
        Resource(
            logical_id=s["LogicalResourceId"],
            resource_type=s["ResourceType"],
            physical_id=s.get("PhysicalResourceId") or "-",
            policy=str(
                (declared.get(s["LogicalResourceId"]) or {}).get("DeletionPolicy", "Delete")
            ),
        )
        for s in summaries
        if s.get("ResourceStatus") != "DELETE_COMPLETE"
    ]
    return tuple(sorted(resources, key=lambda r: (not r.retained, r.logical_id)))


def load_balancer_protection(
    template: Mapping[str, Any], parameters: Mapping[str, str], resources: Sequence[Resource]
) -> Protection | None:
    """The first live load balancer whose `deletion_protection.enabled` is "true", read from the
    template: a `Ref` to a parameter takes the stack's value of it, a literal is fixed."""
    declared = template.get("Resources") or {}
    for resource in resources:
        if resource.resource_type != LOAD_BALANCER:
            continue
        properties = (declared.get(resource.logical_id) or {}).get("Properties") or {}
        for attribute in properties.get("LoadBalancerAttributes") or []:
            if attribute.get("Key") != DELETION_PROTECTION:
                continue
            value = attribute.get("Value")
            parameter = value.get("Ref") if isinstance(value, dict) else None
            enabled = parameters.get(parameter, "") if parameter else str(value)
            if enabled.lower() == "true":
                return Protection(resource.logical_id, resource.physical_id, parameter)
    return None


def _template(cfn: Client, stack_id: str) -> dict[str, Any]:
    """The processed template; botocore hands JSON over already parsed, YAML as text."""
    body = cfn.get_template(StackName=stack_id, TemplateStage="Processed")["TemplateBody"]
    return dict(body) if isinstance(body, Mapping) else parse_template(str(body))


def read_stack(cfn: Client, name: str) -> LiveStack | None:
    """The stack, its resources and their fate on a delete; None when it does not exist."""
    description = describe_stack(cfn, name)
    if description is None:
        return None
    stack_id = description["StackId"]
    summaries = [
        summary
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
        for summary in page.get("StackResourceSummaries", [])
    ]
    # A stack that never got past REVIEW_IN_PROGRESS has neither resources nor a template.
    template = _template(cfn, stack_id) if summaries else {}
    resources = resources_of(summaries, template)
    protection = load_balancer_protection(template, parameters_of(description), resources)
    return LiveStack(name, description, resources, protection)


def check_deletable(live: LiveStack) -> None:
    """CloudFormation runs one operation at a time on a stack; wait for the current one."""
    if live.status.endswith("_IN_PROGRESS") and live.status != "REVIEW_IN_PROGRESS":
        raise StackBlocked(
            f"stack {live.name} is {live.status}: wait for that operation to finish "
            "(make status), then run make destroy again. Nothing was deleted."
        )


@dataclass(frozen=True)
class Upkeep:
    """What a retained resource of one type goes on costing, and how to remove it by hand."""

    singular: str
    plural: str
    cost: str
    removal: str


_UPKEEP = {
    "AWS::DynamoDB::Table": Upkeep(
        "DynamoDB table",
        "DynamoDB tables",
        "storage and point-in-time recovery",
        "aws dynamodb delete-table (deletion protection off first)",
    ),
    "AWS::S3::Bucket": Upkeep(
        "S3 bucket",
        "S3 buckets",
        "storage of every object version",
        "aws s3 rb once every object version is deleted",
    ),
    "AWS::Logs::LogGroup": Upkeep(
        "log group", "log groups", "log storage", "aws logs delete-log-group"
    ),
    "AWS::ECR::Repository": Upkeep(
        "ECR repository",
        "ECR repositories",
        "image storage",
        "aws ecr delete-repository --force",
    ),
    "AWS::Cognito::UserPool": Upkeep(
        "user pool",
        "user pools",
        "monthly active users, if anyone still signs in",
        "aws cognito-idp delete-user-pool (deletion protection off first)",
    ),
    "AWS::KMS::Key": Upkeep(
        "KMS key",
        "KMS keys",
        "a monthly key fee",
        "aws kms schedule-key-deletion, last (7 to 30 days on, what it encrypted is unreadable)",
    ),
}


def upkeep(retained: Sequence[Resource]) -> str:
    """Two lines: what the retained resources go on costing, and how to remove them by hand."""
    counts: dict[str, int] = {}
    for resource in retained:
        counts[resource.resource_type] = counts.get(resource.resource_type, 0) + 1
    costs, removals = [], []
    for resource_type, count in counts.items():
        known = _UPKEEP.get(resource_type) or Upkeep(
            resource_type, resource_type, "its own charges", f"the delete call for {resource_type}"
        )
        costs.append(f"{count} {known.singular if count == 1 else known.plural} ({known.cost})")
        removals.append(known.removal)
    return (
        f"Retained after the delete, and still billed: {', '.join(costs)}.\n"
        "To remove one by hand once its data is no longer needed, by its physical ID above: "
        f"{'; '.join(removals)}."
    )


def ci_note(env: str) -> str:
    return (
        f"The CI stack {stack_name(env, 'ci')} is not part of this: it holds the roles that deploy "
        "every stack. Delete it by hand, last, only when the environment is gone for good."
    )


def render_stack(console: Console, live: LiveStack) -> None:
    retained = sum(r.retained for r in live.resources)
    table = Table(
        title=f"{live.name} ({live.status}): {retained} retained, "
        f"{len(live.resources) - retained} deleted",
        title_justify="left",
    )
    for column in ("Outcome", "Policy", "Logical ID", "Type", "Physical ID"):
        table.add_column(column, overflow="fold")
    for r in live.resources:
        outcome = Text("retained", style="bold yellow") if r.retained else Text("deleted", "red")
        table.add_row(outcome, r.policy, r.logical_id, r.resource_type, r.physical_id)
    console.print(table)


# --- Acting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lift:
    """Deletion protection to turn off through the stack: `parameter` set to "false"."""

    logical_id: str
    parameter: str


def refuse_protected(env: str, live: LiveStack, disable: bool) -> Lift | None:
    """The protection to lift before the delete, or DeletionProtected when it may not be."""
    protection = live.protection
    if protection is None:
        return None
    where = f"load balancer {protection.logical_id} of {live.name}"
    if protection.parameter is None:
        raise DeletionProtected(
            f"{where} has deletion protection set in the stack's template, not by a parameter: "
            f"deploy the current template first (make deploy STACK=core ENV={env}), then run "
            f"make destroy ENV={env} DISABLE_DELETION_PROTECTION=1. Nothing was deleted."
        )
    if not disable:
        raise DeletionProtected(
            f"{where} has deletion protection on ({protection.parameter}=true), so deleting the "
            "stack would fail there. To turn it off through the stack before deleting, re-run "
            f"with --disable-deletion-protection (make destroy ENV={env} "
            "DISABLE_DELETION_PROTECTION=1). Nothing was deleted."
        )
    try:
        change_set_type(live.description)
    except StackBlocked:
        # DELETE_FAILED, ROLLBACK_FAILED...: no change set can run on the stack any more.
        raise DeletionProtected(
            f"{where} has deletion protection on, and {live.name} is {live.status}, which "
            "CloudFormation cannot update: turn it off on the load balancer itself "
            f"(aws elbv2 modify-load-balancer-attributes --load-balancer-arn "
            f"{protection.physical_id} --attributes Key={DELETION_PROTECTION},Value=false), "
            f"then run make destroy ENV={env} again. Nothing was deleted."
        ) from None
    return Lift(protection.logical_id, protection.parameter)


def confirm(ctx: Context, names: Sequence[str], yes: bool) -> None:
    if yes:
        return
    listed = " and ".join(names)
    if not ctx.is_tty():
        raise ApprovalRequired(
            f"deleting {listed} needs confirmation, but input is not a terminal: review the "
            f"lists above, then re-run with --yes (make destroy ENV={ctx.env} YES=1)"
        )
    try:
        typed = ctx.type_in(f"Type the environment's name ({ctx.env}) to delete {listed}")
    except (KeyboardInterrupt, EOFError):
        typed = ""
    if typed.strip() != ctx.env:
        raise ApprovalDeclined(f"{listed} not deleted: the answer was not {ctx.env!r}")


def lift_protection(ctx: Context, live: LiveStack, lift: Lift) -> None:
    """Set the protection's parameter to "false" through a change set on the stack's current
    template, every other parameter unchanged, and wait for the update."""
    ctx.console.print(
        f"Turning off deletion protection of {lift.logical_id} on {live.name} "
        f"({lift.parameter}=false) ..."
    )
    plan = create_plan(
        ctx,
        live.name,
        TemplateSource(use_previous=True),
        previous_values_except(live.description, lift.parameter, "false"),
        "UPDATE",
        f"{lift.parameter}=false before make destroy",
    )
    # Only the attribute should change; a replaced table would be a surprise worth stopping at.
    guard_data_loss(plan.change_set, plan.rows, allow=False)
    try:
        execute(ctx, plan.change_set)
    except Interrupted as exc:
        raise Interrupted(f"{exc}. Nothing has been deleted yet.") from None
    except DeployFailed as exc:
        raise DeployFailed(f"{exc}\nNothing was deleted.") from exc


def delete_stack(ctx: Context, live: LiveStack, after: str) -> None:
    """DeleteStack by the stack's ID (the stack listed above, not a namesake created since),
    then stream its events until DELETE_COMPLETE. `after` is said on failure or Ctrl-C."""
    cfn = ctx.clients("cloudformation")
    token = ctx.change_set_name("destroy")

    def start() -> object:
        # The token makes a retried request (lost answer) the same delete, and tags its events.
        return cfn.delete_stack(
            StackName=live.id,
            ClientRequestToken=token,
            **({"RoleARN": ctx.role_arn} if ctx.role_arn else {}),
        )

    try:
        watch_operation(
            ctx,
            live.name,
            live.id,
            start,
            refused="DeleteStack failed",
            started=f"Deleting {live.name} (request {token}) ...",
            success=DELETED,
        )
    except KeyboardInterrupt:
        raise Interrupted(
            f"stopped watching stack {live.name}, but CloudFormation keeps deleting it (request "
            f"{token}; a delete cannot be cancelled). Follow it with `make status ENV={ctx.env}` "
            f"or `aws cloudformation describe-stack-events --stack-name {live.id}`{after}"
        ) from None
    except DeployFailed as exc:
        raise DeployFailed(
            f"{exc}\nFix the cause, then run make destroy ENV={ctx.env} again (a stack left "
            f"DELETE_FAILED is deleted from where it stopped){after}"
        ) from exc


def _after(
    ctx: Context, remaining: Sequence[LiveStack], lifted: Sequence[tuple[LiveStack, Lift]]
) -> str:
    """What a failure or Ctrl-C leaves as it is."""
    parts = []
    if remaining:
        parts.append(f"Not started: {', '.join(s.name for s in remaining)}")
    for live, lift in lifted:
        if live in remaining:
            parts.append(
                f"Deletion protection is off on {live.name} ({lift.parameter}=false); a make "
                f'deploy STACK=core ENV={ctx.env} with it "true" in config/{ctx.env}.json turns '
                "it back on"
            )
    return "".join(f". {p}" for p in parts)


def run_destroy(ctx: Context, *, yes: bool, disable_deletion_protection: bool) -> list[str]:
    """Delete the environment's stacks; the names of those deleted, in order."""
    cfn = ctx.clients("cloudformation")
    found: list[LiveStack] = []
    for stack in DESTROY_ORDER:
        name = stack_name(ctx.env, stack)
        live = read_stack(cfn, name)
        if live is None:
            ctx.console.print(f"{name} does not exist: nothing to delete there.")
            continue
        check_deletable(live)
        render_stack(ctx.console, live)
        found.append(live)
    if not found:
        ctx.console.print(f"[green]Nothing to destroy in {ctx.env}.[/green] {ci_note(ctx.env)}")
        return []
    retained = [r for live in found for r in live.resources if r.retained]
    if retained:
        ctx.console.print(upkeep(retained))
    ctx.console.print(ci_note(ctx.env))

    lifts = [
        (live, lift)
        for live in found
        if (lift := refuse_protected(ctx.env, live, disable_deletion_protection))
    ]
    confirm(ctx, [live.name for live in found], yes)
    # Lifted before anything is deleted: if the update fails, the environment is still whole.
    for live, lift in lifts:
        lift_protection(ctx, live, lift)
    for index, live in enumerate(found):
        delete_stack(ctx, live, _after(ctx, found[index + 1 :], lifts))
    ctx.console.print(
        f"[green]Deleted {' and '.join(live.name for live in found)}.[/green] "
        f"{len(retained)} retained resource(s) stay, as listed above."
    )
    return [live.name for live in found]
