"""New container instances after a new AMI: an instance refresh that the deploy starts.

A newer ECS-optimized AMI reaches the stack through the `ContainerInstanceAmi` SSM parameter,
which CloudFormation resolves at every change set: the launch template gets a new version, and the
Auto Scaling group (which follows `LatestVersionNumber`) launches new instances from it. But the
group has no property that replaces running instances, so they would keep the old AMI. A
CloudFormation rolling-update policy would, but it sets the group's desired capacity itself and
fights the capacity provider that owns it. So when a core change set modifies the launch template,
`make deploy` starts an instance refresh ("Use an instance refresh to update instances in an Auto
Scaling group", EC2 Auto Scaling User Guide) and follows it:

- `MinHealthyPercentage` 100 and `MaxHealthyPercentage` 200: a new instance is launched and in
  service before an old one is terminated, so capacity never drops;
- each old instance is terminated through the capacity provider's managed draining: ECS moves its
  tasks to the other instances first ("Safely stop Amazon ECS workloads running on EC2 instances");
- `SkipMatching`: instances already on the new launch template version stay.

`make refresh-instances ENV=…` starts one by hand (after an interrupted deploy, say).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console

from scripts.deploy.aws import Client
from scripts.deploy.changeset import Row
from scripts.deploy.errors import DeployFailed

LAUNCH_TEMPLATE = "ContainerInstanceLaunchTemplate"
GROUP = "ContainerInstanceAutoScalingGroup"
PREFERENCES = {
    "MinHealthyPercentage": 100,
    "MaxHealthyPercentage": 200,
    "InstanceWarmup": 120,
    "SkipMatching": True,
}
DONE = {"Successful"}
FAILED = {"Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed", "Baseline_Failed"}


def needs_refresh(rows: Sequence[Row]) -> bool:
    """Whether the change set gives the container instances a new launch template version."""
    return any(r.logical_id == LAUNCH_TEMPLATE and r.action == "Modify" for r in rows)


def group_name(cfn: Client, stack: str) -> str | None:
    """The stack's Auto Scaling group (None on Fargate, where it does not exist)."""
    resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    for resource in resources:
        if resource["LogicalResourceId"] == GROUP:
            return str(resource["PhysicalResourceId"])
    return None


def refresh_instances(
    autoscaling: Client,
    console: Console,
    group: str,
    *,
    poll_seconds: float = 15.0,
    sleep: Callable[[float], None],
    timeout_seconds: float = 3600.0,
    clock: Callable[[], float],
) -> dict[str, Any]:
    started = autoscaling.start_instance_refresh(
        AutoScalingGroupName=group, Strategy="Rolling", Preferences=PREFERENCES
    )
    refresh_id = started["InstanceRefreshId"]
    console.print(
        f"Instance refresh {refresh_id} of {group}: each instance replaced by one on the new "
        "launch template, its tasks drained first"
    )
    began = clock()
    last = ""
    while True:
        (refresh,) = autoscaling.describe_instance_refreshes(
            AutoScalingGroupName=group, InstanceRefreshIds=[refresh_id]
        )["InstanceRefreshes"]
        status = str(refresh["Status"])
        shown = f"{status} {refresh.get('PercentageComplete', 0)}%"
        if shown != last:
            console.print(f"  +{int(clock() - began)}s instance refresh {shown}")
            last = shown
        if status in DONE:
            return dict(refresh)
        if status in FAILED:
            raise DeployFailed(
                f"instance refresh {refresh_id} of {group} ended {status}: "
                f"{refresh.get('StatusReason', 'no reason given')}; the stack itself is deployed"
            )
        if clock() - began > timeout_seconds:
            raise DeployFailed(
                f"instance refresh {refresh_id} of {group} still {status} after "
                f"{int(timeout_seconds)} s; follow it with aws autoscaling "
                f"describe-instance-refreshes --auto-scaling-group-name {group}"
            )
        sleep(poll_seconds)
