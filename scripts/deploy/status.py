"""The `status` verb: stacks, services (running/desired/rollout) and target health."""

from __future__ import annotations

from botocore.exceptions import ClientError
from rich.console import Console
from rich.table import Table

from generator import naming
from scripts.deploy.aws import AwsClients
from scripts.deploy.params import STACKS, describe_stack, outputs_of, stack_name
from scripts.deploy.rollout import SERVICES, ServiceRef, primary_deployment


def run_status(clients: AwsClients, console: Console, env: str) -> None:
    cfn = clients("cloudformation")
    stacks = Table(title=f"Stacks ({env})", title_justify="left")
    for column in ("Stack", "Status", "Updated", "Reason"):
        stacks.add_column(column, overflow="fold")
    described = {}
    for stack in STACKS:
        name = stack_name(env, stack)
        found = described[stack] = describe_stack(cfn, name)
        if found is None:
            stacks.add_row(name, "not deployed", "", "")
            continue
        updated = found.get("LastUpdatedTime") or found.get("CreationTime")
        stacks.add_row(
            name,
            found["StackStatus"],
            f"{updated:%Y-%m-%d %H:%M:%S}" if updated else "",
            found.get("StackStatusReason", ""),
        )
    console.print(stacks)
    core = described["core"]
    if core is None:
        return
    outputs = outputs_of(core)
    if naming.CLUSTER_NAME_OUTPUT not in outputs:
        console.print(
            f"The core stack has no {naming.CLUSTER_NAME_OUTPUT} output: no services to show."
        )
        return
    ecs, elbv2 = clients("ecs"), clients("elbv2")
    services = Table(title="Services", title_justify="left")
    for column in ("Service", "Running/desired", "Pending", "Rollout", "Task definition"):
        services.add_column(column, overflow="fold")
    refs = [
        ServiceRef.from_outputs(s, outputs, core["StackName"])
        for s in SERVICES
        if naming.service_name_output(s) in outputs
    ]
    found_services = (
        ecs.describe_services(
            cluster=outputs[naming.CLUSTER_NAME_OUTPUT], services=[r.name for r in refs]
        )["services"]
        if refs
        else []
    )
    for service in found_services:
        primary = primary_deployment(service) or {}
        services.add_row(
            service["serviceName"],
            f"{service.get('runningCount', 0)}/{service.get('desiredCount', 0)}",
            str(service.get("pendingCount", 0)),
            f"{primary.get('rolloutState', '?')} {primary.get('rolloutStateReason', '')}".strip(),
            primary.get("taskDefinition", "").rsplit("/", 1)[-1],
        )
    console.print(services)
    health = Table(title="Target health", title_justify="left")
    for column in ("Service", "Target", "State", "Reason"):
        health.add_column(column, overflow="fold")
    for ref in refs:
        if not ref.target_group_arn:
            continue
        try:
            described_health = elbv2.describe_target_health(TargetGroupArn=ref.target_group_arn)
        except ClientError as exc:
            health.add_row(ref.service, "", "unknown", str(exc))
            continue
        for target in described_health["TargetHealthDescriptions"]:
            state = target["TargetHealth"]
            health.add_row(
                ref.service,
                f"{target['Target']['Id']}:{target['Target'].get('Port', '')}",
                state.get("State", ""),
                f"{state.get('Reason', '')} {state.get('Description', '')}".strip(),
            )
    console.print(health)
