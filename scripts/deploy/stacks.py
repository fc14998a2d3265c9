"""The `changeset` and `deploy` verbs: plan a stack change, guard it, approve it, apply it."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.prompt import Confirm, Prompt

from scripts.deploy import jwks
from scripts.deploy.aws import AwsClients, error_message
from scripts.deploy.changeset import (
    ChangeSet,
    Row,
    TemplateSource,
    change_set_name,
    change_set_type,
    classify,
    create_change_set,
    guard_data_loss,
    prepare_template,
    render_changes,
)
from scripts.deploy.errors import (
    ApprovalDeclined,
    ApprovalRequired,
    DeployFailed,
    Interrupted,
    LaunchTypeSwitchRefused,
)
from scripts.deploy.events import (
    SUCCESS,
    EventStream,
    WaitResult,
    render_outputs,
    wait_for_stack,
)
from scripts.deploy.image import head_commit
from scripts.deploy.package import package_functions
from scripts.deploy.params import (
    CONFIG_DIR,
    ROOT,
    TEMPLATES_DIR,
    build_parameters,
    describe_stack,
    load_config,
    outputs_of,
    parameters_of,
    resolve_values,
    stack_name,
    stack_outputs,
    stack_tags,
    template_parameters,
)
from scripts.deploy.refresh import group_name, needs_refresh, refresh_instances
from scripts.deploy.subscribers import warn_without_subscriber


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ask(question: str) -> bool:
    return Confirm.ask(question, default=False)


def _type_in(question: str) -> str:
    return Prompt.ask(question, default="", show_default=False)


def git_commit(repo: Path = ROOT) -> str | None:
    """The checked-out commit, for change-set names and descriptions (None outside git)."""
    try:
        return head_commit(repo) or None
    except DeployFailed:  # no git, or not a work tree: the name goes without a commit
        return None


@dataclass
class Context:
    """Everything a verb needs from outside: clients, terminal, files, clock."""

    clients: AwsClients
    console: Console
    env: str
    config_dir: Path = CONFIG_DIR
    templates_dir: Path = TEMPLATES_DIR
    artifact_bucket: str | None = None
    role_arn: str | None = None  # CloudFormation execution role for change sets
    commit: str | None = None
    now: Callable[[], datetime] = _utcnow
    is_tty: Callable[[], bool] = field(default=lambda: sys.stdin.isatty())
    ask: Callable[[str], bool] = _ask
    type_in: Callable[[str], str] = _type_in  # a typed answer (destroy: the environment's name)
    poll_seconds: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    read_url: Callable[[str], bytes] = jwks.read_url  # the user pool's keys (Egress=None)

    def change_set_name(self, verb: str = "deploy") -> str:
        return change_set_name(self.now(), self.commit, verb)

    def description(self, what: str) -> str:
        return f"{what} from commit {self.commit or 'unknown'}"


@dataclass(frozen=True)
class Plan:
    change_set: ChangeSet
    rows: list[Row]


def plan_stack(ctx: Context, stack: str, overrides: Mapping[str, str] | None = None) -> Plan:
    """Create and print the change set for `stack` from templates/ and config/<env>.json."""
    cfn = ctx.clients("cloudformation")
    name = stack_name(ctx.env, stack)
    current = describe_stack(cfn, name)
    change_type = change_set_type(current)
    template_path = ctx.templates_dir / f"{stack}.yaml"
    body = template_path.read_text()
    declared = template_parameters(body)
    config = load_config(ctx.env, ctx.config_dir)
    core = stack_name(ctx.env, "core")

    @cache
    def core_outputs() -> dict[str, str]:
        return stack_outputs(cfn, core)

    values = resolve_values({**config.get(stack, {}), **(overrides or {})}, core_outputs, core)
    existing = (
        {p["ParameterKey"] for p in (current or {}).get("Parameters") or []}
        if change_type == "UPDATE"
        else set()
    )
    config_file = ctx.config_dir / f"{ctx.env}.json"
    if jwks.PARAMETER in declared:
        keys = user_pool_keys(
            ctx, values, current if change_type == "UPDATE" else None, declared, config_file
        )
        if keys is not None:
            values[jwks.PARAMETER] = keys
    parameters = build_parameters(declared, values, existing, f"{config_file} [{stack}]")
    if stack == "core":
        warn_without_subscriber(
            ctx.console,
            lambda: ctx.clients("sns"),
            ctx.env,
            values,
            current if change_type == "UPDATE" else None,
        )
    if change_type == "UPDATE":
        guard_launch_type_switch(
            name, parameters_of(current or {}), values, declared, _shown(config_file), ctx.env
        )
    s3 = ctx.clients("s3") if ctx.artifact_bucket else None
    body = package_functions(body, template_path.parent, name, s3, ctx.artifact_bucket)
    template = prepare_template(body, name, s3, ctx.artifact_bucket, ctx.clients.region)
    ctx.console.print(
        f"Creating change set for {name} ({change_type}) from {template_path.name}"
        + (f" via {template.url}" if template.url else "")
    )
    return create_plan(ctx, name, template, parameters, change_type, f"{stack} stack")


def user_pool_keys(
    ctx: Context,
    values: Mapping[str, str],
    live_stack: Mapping[str, Any] | None,
    declared: Mapping[str, Mapping[str, Any]],
    config_file: Path,
) -> str | None:
    """`UserPoolJwks` for this deploy (scripts/deploy/jwks.py), and what it means, printed; None
    leaves it as it is (empty: a stack that is not private and never was)."""
    jwks.refuse_a_configured_value(values, f"{_shown(config_file)} (or --parameter)")
    live = parameters_of(live_stack or {})
    egress = jwks.effective_egress(values, live, declared)
    if egress != jwks.PRIVATE:
        return "" if live.get(jwks.PARAMETER) else None  # a NAT profile: the services fetch
    keys = jwks.keys_for(
        egress,
        outputs_of(live_stack) if live_stack else None,
        lambda: ctx.clients("cognito-idp"),
        ctx.read_url,
    )
    report_user_pool_keys(ctx.console, egress, keys, live.get(jwks.PARAMETER, ""))
    return keys


def report_user_pool_keys(console: Console, egress: str, keys: str, live: str) -> None:
    if egress != jwks.PRIVATE:
        return
    if not keys:
        console.print(
            "Egress=None: the user pool does not exist yet; its signing keys reach the services "
            "with their first rollout (make deploy-service)"
        )
        return
    console.print(
        f"Egress=None: the services verify tokens with the user pool's keys read now "
        f"({', '.join(jwks.key_ids(keys))})"
    )
    if live and live != keys:
        console.print(
            f"[yellow]The user pool's signing keys changed since the last deploy "
            f"({', '.join(jwks.key_ids(live))} before): the task definitions change so that the "
            "services trust the new keys.[/yellow]"
        )


def _shown(path: Path) -> str:
    """A path as the operator would type it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


LAUNCH_TYPE = "LaunchType"
SERVICES_ENABLED = "ServicesEnabled"


def guard_launch_type_switch(
    stack: str,
    live: Mapping[str, str],
    values: Mapping[str, str],
    declared: Mapping[str, Mapping[str, Any]],
    config_file: str,
    env: str,
) -> None:
    """Refuse a LaunchType switch on a live stack while its ECS services exist.

    CloudFormation cannot carry it out in one update, in either direction:
    - the services depend on the cluster's capacity-provider association, so the association is
      updated first, and a capacity provider cannot leave a cluster while a service's strategy
      still names it (ECS answers ResourceInUseException; AWS: "Deleting an Amazon ECS capacity
      provider", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/delete-capacity-provider-console-v2.html);
    - a target group's TargetType (instance for EC2, ip for Fargate) is create-only
      (AWS::ElasticLoadBalancingV2::TargetGroup, "Update requires: Replacement"), so the
      listener rules move to new, empty target groups before the services follow.
    With ServicesEnabled "false" on both sides no service is in the way (tests/aws/test_lifecycle.py
    checks both the failing switch and the three steps against the template).

    `live` holds the stack's current parameter values, `values` those this deploy sets (an unset
    parameter keeps its live value).
    """
    old, new = live.get(LAUNCH_TYPE), values.get(LAUNCH_TYPE)
    if old is None or new is None or old == new:
        return
    # A stack from before ServicesEnabled existed runs its services.
    live_enabled = live.get(SERVICES_ENABLED, "true")
    default = str((declared.get(SERVICES_ENABLED) or {}).get("Default", "true"))
    new_enabled = values.get(SERVICES_ENABLED, live.get(SERVICES_ENABLED, default))
    if live_enabled == "false" and new_enabled == "false":
        return
    deploy = f"make deploy STACK=core ENV={env}"
    done = " (done: the stack already has it)" if live_enabled == "false" else ""
    raise LaunchTypeSwitchRefused(
        f"stack {stack} runs LaunchType {old}; this deploy would switch it to {new} while its "
        f"ECS services exist (ServicesEnabled is {live_enabled!r} on the stack, {new_enabled!r} "
        "in this deploy). CloudFormation cannot do that in one update: it changes the cluster's "
        "capacity providers before the services, and ECS refuses to remove a provider a service "
        "still uses (ResourceInUseException); and a target group's TargetType cannot change in "
        "place, so the listener rules would move to new, empty target groups before the "
        "services do. No change set was created. Switch in three deploys; the API answers 503 "
        "from the load balancer from step 1 until step 3 has finished:\n"
        f'  1. in {config_file}, under "core", set "{SERVICES_ENABLED}": "false" and keep '
        f'"{LAUNCH_TYPE}": "{old}"; {deploy} (both services and their scaling go){done}\n'
        f'  2. set "{LAUNCH_TYPE}": "{new}" (ServicesEnabled stays "false"); {deploy} '
        "(capacity, target groups and task definitions change with no service in the way)\n"
        f'  3. set "{SERVICES_ENABLED}": "true"; {deploy} (the services start on {new})\n'
        'See docs/deploy.md, "Switching LaunchType".'
    )


def create_plan(
    ctx: Context,
    name: str,
    template: TemplateSource,
    parameters: Sequence[dict[str, Any]],
    change_type: str,
    what: str,
) -> Plan:
    change_set = create_change_set(
        ctx.clients("cloudformation"),
        stack=name,
        name=ctx.change_set_name(),
        template=template,
        parameters=parameters,
        change_type=change_type,
        description=ctx.description(what),
        tags=stack_tags(ctx.env),
        role_arn=ctx.role_arn,
    )
    rows = classify(change_set.changes)
    render_changes(ctx.console, change_set, rows)
    return Plan(change_set, rows)


def approve(ctx: Context, change_set: ChangeSet, auto_approve: bool) -> None:
    if auto_approve:
        return
    if not ctx.is_tty():
        raise ApprovalRequired(
            f"change set {change_set.name} for stack {change_set.stack} needs confirmation, "
            "but input is not a terminal: review it, then re-run with --auto-approve "
            "(make ... AUTO_APPROVE=1)"
        )
    try:
        confirmed = ctx.ask(f"Execute change set {change_set.name} on {change_set.stack}?")
    except (KeyboardInterrupt, EOFError):
        confirmed = False
    if not confirmed:
        raise ApprovalDeclined(
            f"change set {change_set.name} for stack {change_set.stack} was not executed "
            "(it stays in the console for review until the next deploy)"
        )


def watch_operation(
    ctx: Context,
    stack: str,
    stack_id: str,
    start: Callable[[], object],
    *,
    refused: str,
    started: str,
    change_set: str | None = None,
    success: frozenset[str] = SUCCESS,
    tick: Callable[[], object] | None = None,
) -> WaitResult:
    """Start a stack operation with `start()` and stream its events until it ends.

    The events that exist before it are not shown. A refused call raises DeployFailed with
    `refused` and AWS's message; `started` is printed once the call is accepted. `tick` runs
    between two polls of the stack (deploy-service follows the ECS deployment there).
    """
    cfn = ctx.clients("cloudformation")
    stream = EventStream(cfn, stack, stack_id=stack_id)
    stream.mark_seen()
    try:
        start()
    except ClientError as exc:
        raise DeployFailed(f"stack {stack}: {refused}: {error_message(exc)}") from exc
    ctx.console.print(started)

    def sleep(seconds: float) -> None:
        if tick is not None:
            tick()
        ctx.sleep(seconds)

    return wait_for_stack(
        cfn,
        stream,
        ctx.console,
        poll_seconds=ctx.poll_seconds,
        sleep=sleep,
        clock=ctx.clock,
        change_set=change_set,
        success=success,
    )


def execute(
    ctx: Context, change_set: ChangeSet, tick: Callable[[], object] | None = None
) -> WaitResult:
    cfn = ctx.clients("cloudformation")

    def start() -> object:
        # A retried ExecuteChangeSet (lost answer) with the same token is not a second
        # execution, which CloudFormation would refuse ("... EXECUTE_IN_PROGRESS").
        return cfn.execute_change_set(
            StackName=change_set.stack,
            ChangeSetName=change_set.id,
            ClientRequestToken=change_set.name,
        )

    try:
        return watch_operation(
            ctx,
            change_set.stack,
            change_set.stack_id,
            start,
            refused=f"change set {change_set.name} could not be executed",
            started=f"Executing change set {change_set.name} on {change_set.stack} ...",
            change_set=change_set.name,
            tick=tick,
        )
    except KeyboardInterrupt:
        # Ctrl-C stops this command, not CloudFormation: say what is still running.
        stop = (
            f"aws cloudformation cancel-update-stack --stack-name {change_set.stack} "
            "(rolls the update back)"
            if change_set.type == "UPDATE"
            else f"aws cloudformation delete-stack --stack-name {change_set.stack} "
            "(after the creation ends)"
        )
        raise Interrupted(
            f"stopped watching stack {change_set.stack}, but CloudFormation keeps executing "
            f"change set {change_set.name}. Follow it with `make status ENV={ctx.env}` or "
            f"`aws cloudformation describe-stack-events --stack-name {change_set.stack}`; "
            f"to stop it: {stop}"
        ) from None


def run_changeset(
    ctx: Context, stack: str, allow_data_loss: bool, overrides: Mapping[str, str] | None = None
) -> Plan:
    plan = plan_stack(ctx, stack, overrides)
    guard_data_loss(plan.change_set, plan.rows, allow_data_loss)
    ctx.console.print(
        f"Change set {plan.change_set.name} is ready. Apply it with "
        f"`make deploy STACK={stack} ENV={ctx.env}` (which creates a fresh one)."
    )
    return plan


def run_deploy(
    ctx: Context,
    stack: str,
    *,
    auto_approve: bool,
    allow_data_loss: bool,
    overrides: Mapping[str, str] | None = None,
) -> WaitResult:
    plan = plan_stack(ctx, stack, overrides)
    guard_data_loss(plan.change_set, plan.rows, allow_data_loss)
    approve(ctx, plan.change_set, auto_approve)
    result = execute(ctx, plan.change_set)
    render_outputs(ctx.console, result.stack)
    if stack == "core" and needs_refresh(plan.rows):
        start_instance_refresh(ctx)
    return result


def start_instance_refresh(ctx: Context) -> None:
    """The container instances move to the new launch template (scripts/deploy/refresh.py)."""
    name = stack_name(ctx.env, "core")
    group = group_name(ctx.clients("cloudformation"), name)
    if group is None:
        ctx.console.print(f"{name} has no container instances (Fargate): nothing to refresh")
        return
    refresh_instances(
        ctx.clients("autoscaling"),
        ctx.console,
        group,
        poll_seconds=ctx.poll_seconds,
        sleep=ctx.sleep,
        clock=ctx.clock,
    )
