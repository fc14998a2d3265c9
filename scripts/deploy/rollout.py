"""The `deploy-service` verb: push an image (or take one already in ECR with --image-tag),
change one image-tag parameter, follow the deployment ECS runs.

CloudFormation stays the single source of truth: the new tag goes in through a change set on
the core stack (its template and every other parameter unchanged). While CloudFormation applies
it, the deployment ECS starts is followed stage by stage (scripts/deploy/follow.py: scale-up,
test traffic, the release gate, production traffic with its weights, bake time, clean-up); a
rollback names the deployment alarm, lifecycle hook or circuit breaker that caused it and is a
failure even when the stack update succeeded. The end is the PRIMARY deployment running the new
task definition with every task healthy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.table import Table

from generator import naming
from scripts.deploy import image, jwks
from scripts.deploy.aws import Client, error_message
from scripts.deploy.changeset import Row, TemplateSource, change_set_type, guard_data_loss
from scripts.deploy.errors import (
    DeployFailed,
    Interrupted,
    MissingOutput,
    NoChanges,
    RolloutFailed,
)
from scripts.deploy.events import render_outputs
from scripts.deploy.follow import Follower
from scripts.deploy.params import (
    ROOT,
    describe_stack,
    outputs_of,
    parameters_of,
    previous_values_with,
    stack_name,
)
from scripts.deploy.stacks import Context, approve, create_plan, execute, report_user_pool_keys

SERVICES = ("main", "files")


@dataclass(frozen=True)
class ServiceRef:
    """Where one app service lives, read from the core stack's outputs."""

    service: str
    cluster: str
    name: str
    container: str
    target_group_arn: str | None
    log_group: str | None
    gate_log_group: str | None = None  # the release gate's (progressive deployments)

    @classmethod
    def from_outputs(cls, service: str, outputs: dict[str, str], core: str) -> ServiceRef:
        for key in (naming.CLUSTER_NAME_OUTPUT, naming.service_name_output(service)):
            if key not in outputs:
                raise MissingOutput(f"stack {core} has no output {key}: is it the core stack?")
        return cls(
            service=service,
            cluster=outputs[naming.CLUSTER_NAME_OUTPUT],
            name=outputs[naming.service_name_output(service)],
            container=service,
            target_group_arn=outputs.get(naming.target_group_arn_output(service)),
            log_group=outputs.get(naming.log_group_name_output(service)),
            gate_log_group=outputs.get(naming.GATE_LOG_GROUP_OUTPUT),
        )


@dataclass(frozen=True)
class Assessment:
    state: str  # "done" | "wait" | "failed"
    summary: str


def primary_deployment(service: dict[str, Any]) -> dict[str, Any] | None:
    """The deployment ECS is rolling towards (or has reached): the one it calls PRIMARY."""
    return next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None)


def assess(service: dict[str, Any], expected_task_definition: str | None) -> Assessment:
    """Judge one DescribeServices snapshot of a rollout towards `expected_task_definition`."""
    deployments = service.get("deployments", [])
    primary = primary_deployment(service)
    if primary is None:
        return Assessment("wait", "no PRIMARY deployment yet")
    expected = expected_task_definition or primary["taskDefinition"]
    target = next((d for d in deployments if d["taskDefinition"] == expected), None)
    if target is None:
        return Assessment(
            "failed",
            f"no deployment of {expected} is left: ECS rolled back to "
            f"{primary['taskDefinition']} (deployment circuit breaker)",
        )
    counts = (
        f"{target.get('runningCount', 0)}/{target.get('desiredCount', 0)} running, "
        f"{target.get('pendingCount', 0)} pending, {target.get('failedTasks', 0)} failed"
    )
    if target.get("rolloutState") == "FAILED":
        return Assessment(
            "failed",
            f"deployment {target['id']} rolloutState FAILED: "
            f"{target.get('rolloutStateReason', 'no reason given')} ({counts})",
        )
    if target is not primary:
        return Assessment(
            "failed",
            f"ECS rolled back: the PRIMARY deployment runs {primary['taskDefinition']}, "
            f"not {expected} ({target.get('rolloutStateReason', '')})".rstrip(" ()"),
        )
    if not target.get("desiredCount"):
        # The first rollout after `bootstrap`: the service update leaves the count at 0 (its
        # DesiredCount is unset) and the scalable target's new minimum then makes Application
        # Auto Scaling raise it. A COMPLETED deployment of 0 tasks has rolled out nothing yet.
        return Assessment(
            "wait",
            f"deployment {target['id']} {target.get('rolloutState', '?')} with 0 desired tasks: "
            f"waiting for Application Auto Scaling to raise the count to its minimum ({counts})",
        )
    if (
        target.get("rolloutState") == "COMPLETED"
        and len(deployments) == 1
        and target.get("runningCount") == target.get("desiredCount")
    ):
        return Assessment("done", f"deployment {target['id']} COMPLETED ({counts})")
    return Assessment(
        "wait", f"deployment {target['id']} {target.get('rolloutState', '?')} ({counts})"
    )


def watch_rollout(
    ecs: Client,
    ref: ServiceRef,
    expected_task_definition: str,
    console: Console,
    *,
    poll_seconds: float,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> dict[str, Any]:
    start = clock()
    last = ""
    while True:
        services = ecs.describe_services(cluster=ref.cluster, services=[ref.name])["services"]
        if not services:
            raise RolloutFailed(f"ECS service {ref.name} not found in cluster {ref.cluster}")
        service = services[0]
        verdict = assess(service, expected_task_definition)
        if verdict.summary != last:
            minutes, seconds = divmod(int(clock() - start), 60)
            console.print(f"+{minutes:02d}:{seconds:02d} ECS {ref.name}: {verdict.summary}")
            last = verdict.summary
        if verdict.state == "done":
            return dict(service)
        if verdict.state == "failed":
            raise RolloutFailed(f"service {ref.name} in {ref.cluster}: {verdict.summary}")
        if clock() - start > timeout_seconds:
            raise RolloutFailed(
                f"service {ref.name} in {ref.cluster} not stable after "
                f"{timeout_seconds:.0f} s: {verdict.summary}"
            )
        sleep(poll_seconds)


def diagnose(ecs: Client, elbv2: Client, logs: Client, ref: ServiceRef, console: Console) -> None:
    """Print why tasks fail: service events, stopped tasks, target health, the last log lines.

    Each source is read on its own; one that cannot be read is reported, never fatal.
    """
    console.rule(f"Diagnosis: {ref.name}")
    try:
        service = ecs.describe_services(cluster=ref.cluster, services=[ref.name])["services"]
        for event in (service[0].get("events", []) if service else [])[:5]:
            console.print(f"event {event['createdAt']:%H:%M:%S} {event['message']}")
    except ClientError as exc:
        console.print(f"could not read the service's events: {error_message(exc)}")

    stopped: list[dict[str, Any]] = []
    try:
        arns = ecs.list_tasks(cluster=ref.cluster, serviceName=ref.name, desiredStatus="STOPPED")[
            "taskArns"
        ][:5]
        if arns:
            stopped = ecs.describe_tasks(cluster=ref.cluster, tasks=arns)["tasks"]
    except ClientError as exc:
        console.print(f"could not read stopped tasks: {error_message(exc)}")
    stopped.sort(key=lambda t: t.get("stoppedAt") or t.get("createdAt") or 0, reverse=True)
    if stopped:
        table = Table(title="Recently stopped tasks", title_justify="left")
        for column in ("Task", "Stop code", "Stopped reason", "Containers"):
            table.add_column(column, overflow="fold")
        for task in stopped:
            containers = "; ".join(
                f"{c['name']}: {c.get('lastStatus', '?')} exit {c.get('exitCode', '-')}"
                + (f" ({c['reason']})" if c.get("reason") else "")
                for c in task.get("containers", [])
            )
            table.add_row(
                task["taskArn"].rsplit("/", 1)[-1],
                task.get("stopCode", ""),
                task.get("stoppedReason", ""),
                containers,
            )
        console.print(table)
    else:
        console.print("no stopped tasks")

    if ref.target_group_arn:
        try:
            health = elbv2.describe_target_health(TargetGroupArn=ref.target_group_arn)
            for target in health["TargetHealthDescriptions"]:
                state = target["TargetHealth"]
                console.print(
                    f"target {target['Target']['Id']}:{target['Target'].get('Port', '')} "
                    f"{state.get('State')} {state.get('Reason', '')} {state.get('Description', '')}"
                )
            if not health["TargetHealthDescriptions"]:
                console.print("no registered targets")
        except ClientError as exc:
            console.print(f"could not read target health: {error_message(exc)}")

    if stopped:
        _print_last_log_lines(ecs, logs, ref, stopped[0], console)


def _print_last_log_lines(
    ecs: Client, logs: Client, ref: ServiceRef, task: dict[str, Any], console: Console
) -> None:
    """awslogs names a stream <prefix>/<container>/<task id>; read its tail."""
    try:
        definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])
    except ClientError as exc:
        console.print(f"could not read the task definition: {error_message(exc)}")
        return
    containers = definition["taskDefinition"]["containerDefinitions"]
    container = next((c for c in containers if c["name"] == ref.container), containers[0])
    options = (container.get("logConfiguration") or {}).get("options", {})
    group = options.get("awslogs-group") or ref.log_group
    stream_prefix = options.get("awslogs-stream-prefix")
    if not group or not stream_prefix:
        console.print(f"container {container['name']} does not log through awslogs")
        return
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    stream = f"{stream_prefix}/{container['name']}/{task_id}"
    try:
        events = logs.get_log_events(
            logGroupName=group, logStreamName=stream, limit=20, startFromHead=False
        )["events"]
    except ClientError as exc:
        console.print(f"no log lines for {group} {stream}: {error_message(exc)}")
        return
    console.print(f"last log lines of {container['name']} in task {task_id} ({group} {stream}):")
    for event in events:
        console.print(f"  {event['message'].rstrip()}", markup=False, highlight=False)


def expected_task_definition(cfn: Client, core: str, service: str) -> str:
    """The task definition the stack now names: the one ECS must end up running.

    Without it the PRIMARY deployment would be taken as the target, and after a circuit-breaker
    rollback that is the old task definition: a failed rollout would look like success.
    """
    logical_id = naming.task_definition_id(service)
    try:
        detail = cfn.describe_stack_resource(StackName=core, LogicalResourceId=logical_id)[
            "StackResourceDetail"
        ]
    except ClientError as exc:
        raise RolloutFailed(
            f"stack {core}: cannot read {logical_id} to know which task definition ECS must "
            f"run ({error_message(exc)}); check the rollout with `make status`"
        ) from exc
    physical_id = str(detail.get("PhysicalResourceId") or "")
    if not physical_id:
        raise RolloutFailed(f"stack {core}: {logical_id} has no physical ID yet")
    return physical_id


def rollout_resources(service: str) -> frozenset[str]:
    """What a new image tag changes: the task definition (replaced), the service that runs it,
    and the scalable target whose bounds depend on the tag (`bootstrap` or not)."""
    return frozenset(
        {
            naming.task_definition_id(service),
            naming.service_id(service),
            naming.scalable_target_id(service),
        }
    )


def unexpected_changes(rows: Sequence[Row], service: str) -> list[str]:
    """Logical IDs in the change set that an image-tag change does not explain.

    A prefix match would hide e.g. FilesTable or FilesBucket behind `Files`.
    """
    expected = rollout_resources(service)
    return [r.logical_id for r in rows if r.logical_id not in expected]


def _execute_following(ctx: Context, change_set: Any, follower: Follower) -> Any:
    """Execute the change set, following ECS's deployment between two polls of the stack.

    When CloudFormation fails because ECS rolled the deployment back (it reports the circuit
    breaker, or only that the service did not stabilize), the error names ECS's cause."""
    try:
        return execute(ctx, change_set, tick=follower.poll)
    except RolloutFailed:
        raise
    except DeployFailed as exc:
        reading = follower.poll() if follower.arn else follower.reading
        if reading is not None and reading.cause:
            raise RolloutFailed(f"{follower.failure()}\nCloudFormation: {exc}") from exc
        raise


def print_gate_log(
    logs: Client, ref: ServiceRef, since: datetime, console: Console, limit: int = 20
) -> None:
    """The release gate's verdict: its log lines for this service since the deployment began."""
    if not ref.gate_log_group:
        return
    try:
        events = logs.filter_log_events(
            logGroupName=ref.gate_log_group,
            startTime=int(since.timestamp() * 1000),
            filterPattern=f'"{ref.service}"',
        )["events"]
    except ClientError as exc:
        console.print(f"could not read the release gate's log: {error_message(exc)}")
        return
    console.print(f"release gate ({ref.gate_log_group}), last {limit} lines for {ref.service}:")
    for event in events[-limit:]:
        console.print(f"  {event['message'].rstrip()}", markup=False, highlight=False)


def report_output(name: str, value: str) -> None:
    """A value for the next job of a GitHub Actions workflow ($GITHUB_OUTPUT), when run there."""
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{name}={value}\n")


def run_deploy_service(
    ctx: Context,
    service: str,
    *,
    auto_approve: bool,
    image_tag: str | None = None,
    image_digest: str | None = None,
    repo: Path = ROOT,
    publish: Callable[..., None] = image.publish_image,
    timeout_seconds: float = 1800.0,
    what: str = "image",
) -> dict[str, Any]:
    """Roll one service out to an image: HEAD built and pushed (no tag, no digest), an image
    already in ECR by tag, or by digest (promote and rollback). The stack names it by digest."""
    cfn = ctx.clients("cloudformation")
    core = stack_name(ctx.env, "core")
    build = image_tag is None and image_digest is None
    if build:
        image.ensure_clean_tree(repo)
        image_tag = image.head_commit(repo)
    if image_tag is not None:
        image.validate_tag(image_tag)
    if image_digest is not None:
        image.validate_digest(image_digest)

    stack = describe_stack(cfn, core)
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        raise DeployFailed(
            f"stack {core} does not exist yet: deploy it first (see the first deployment "
            "steps in the README)"
        )
    change_set_type(stack)  # refuses ROLLBACK_COMPLETE and stacks busy with another operation
    outputs = outputs_of(stack)
    repository_key = naming.repository_uri_output(service)
    if repository_key not in outputs:
        raise MissingOutput(f"stack {core} has no output {repository_key}")
    ref = ServiceRef.from_outputs(service, outputs, core)
    uri = outputs[repository_key]
    ecr = ctx.clients("ecr")
    if image_digest is None:
        assert image_tag is not None
        publish(ecr, uri, image_tag, service=service, repo=repo, console=ctx.console, build=build)
        image_digest = image.digest_of(ecr, uri, image_tag)
    else:
        tags = image.describe(ecr, uri, {"imageDigest": image_digest}).get("imageTags") or []
        image_tag = image_tag or (tags[0] if tags else None)
    shown = f"{image_tag} ({image_digest})" if image_tag else image_digest
    report_output("image-digest", image_digest)

    key = naming.image_digest_parameter(service)
    live = parameters_of(stack)
    if live.get(key) == image_digest:
        raise NoChanges(f"stack {core}: {key} is already {shown}; nothing to roll out")
    changes = {key: image_digest}
    if live.get(jwks.EGRESS) == jwks.PRIVATE:
        # A private stack's services verify tokens with the keys it carries: the first rollout
        # out of `bootstrap` needs them, and a later one refreshes them.
        changes[jwks.PARAMETER] = jwks.keys_for(
            jwks.PRIVATE, outputs, lambda: ctx.clients("cognito-idp"), ctx.read_url
        )
        report_user_pool_keys(
            ctx.console, jwks.PRIVATE, changes[jwks.PARAMETER], live.get(jwks.PARAMETER, "")
        )
    plan = create_plan(
        ctx,
        core,
        TemplateSource(use_previous=True),
        previous_values_with(stack, changes),
        "UPDATE",
        f"{service} service {what} {shown}",
    )
    guard_data_loss(plan.change_set, plan.rows, allow=False)
    others = unexpected_changes(plan.rows, service)
    if others:
        # Same template, same values: what else changes comes from values CloudFormation
        # resolves on every update (SSM parameters such as the ECS-optimized AMI).
        ctx.console.print(
            f"[yellow]This change set also changes {', '.join(others)}: CloudFormation "
            "re-resolved a dynamic value (for example a newer AMI from an SSM parameter). "
            "Review before approving.[/yellow]"
        )
    approve(ctx, plan.change_set, auto_approve)
    ecs, elbv2, logs = ctx.clients("ecs"), ctx.clients("elbv2"), ctx.clients("logs")
    since = ctx.now()
    follower = Follower(ecs, ref.cluster, ref.name, service, ctx.console, since, ctx.clock)
    try:
        result = _execute_following(ctx, plan.change_set, follower)
        expected = expected_task_definition(cfn, core, service)
        follower.follow(
            poll_seconds=ctx.poll_seconds, timeout_seconds=timeout_seconds, sleep=ctx.sleep
        )
        watched = watch_rollout(
            ecs,
            ref,
            expected,
            ctx.console,
            poll_seconds=ctx.poll_seconds,
            timeout_seconds=timeout_seconds,
            sleep=ctx.sleep,
            clock=ctx.clock,
        )
    except DeployFailed:
        diagnose(ecs, elbv2, logs, ref, ctx.console)
        if follower.reading is not None and "lifecycle hook" in (follower.reading.cause or ""):
            print_gate_log(logs, ref, since, ctx.console)
        raise
    except KeyboardInterrupt:
        raise Interrupted(
            f"stopped watching ECS service {ref.name} in {ref.cluster}, but its deployment of "
            f"{shown} goes on (the circuit breaker and the deployment alarms still roll a "
            f"failing one back). Follow it with `make status ENV={ctx.env}`"
        ) from None
    render_outputs(ctx.console, result.stack)
    ctx.console.print(
        f"[green]{ref.name}[/green] runs {shown}: "
        f"{watched['runningCount']}/{watched['desiredCount']} tasks"
    )
    return watched
