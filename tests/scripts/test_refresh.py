"""A new AMI reaches the running container instances: the template lets an instance refresh
replace them safely, and `make deploy` starts one when the launch template changes.

CloudFormation and Auto Scaling are Stubber replays (no emulator runs an instance refresh).
"""

from __future__ import annotations

from typing import Any

import pytest

from generator import render_all
from scripts.cfn.template import parse_template
from scripts.deploy.changeset import Row
from scripts.deploy.errors import DeployFailed
from scripts.deploy.refresh import GROUP, PREFERENCES, needs_refresh, refresh_instances
from tests.scripts import fakes

ASG = "todo-dev-core-ContainerInstanceAutoScalingGroup-1A2B3C"


def row(logical_id: str, action: str = "Modify") -> Row:
    return Row(action, logical_id, "AWS::EC2::LaunchTemplate", "False", "", False, False)


def test_the_template_lets_a_refresh_replace_instances_safely() -> None:
    """New AMI -> new launch template version -> the group launches from it; instances carry no
    scale-in protection (a refresh could not terminate them), and the capacity provider drains
    an instance's tasks before it goes."""
    resources = parse_template(render_all()["core.yaml"])["Resources"]
    group = resources[GROUP]["Properties"]
    assert group["LaunchTemplate"]["Version"] == {
        "Fn::GetAtt": ["ContainerInstanceLaunchTemplate", "LatestVersionNumber"]
    }
    data = resources["ContainerInstanceLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["ImageId"] == {"Ref": "ContainerInstanceAmi"}
    assert group["NewInstancesProtectedFromScaleIn"] is False
    provider = resources["CapacityProvider"]["Properties"]["AutoScalingGroupProvider"]
    assert provider["ManagedDraining"] == "ENABLED"
    # No rolling-update policy: it would set the desired capacity the capacity provider owns.
    assert "UpdatePolicy" not in resources[GROUP]


def test_only_a_changed_launch_template_asks_for_a_refresh() -> None:
    assert needs_refresh([row("MainService"), row("ContainerInstanceLaunchTemplate")])
    assert not needs_refresh([row("MainService")])
    assert not needs_refresh([row("ContainerInstanceLaunchTemplate", "Add")])


def refresh(*statuses: tuple[str, int, str]) -> tuple[dict[str, Any], str, Any]:
    autoscaling, stub = fakes.stubbed("autoscaling")
    stub.add_response(
        "start_instance_refresh",
        {"InstanceRefreshId": "r-1"},
        {"AutoScalingGroupName": ASG, "Strategy": "Rolling", "Preferences": PREFERENCES},
    )
    for status, percent, reason in statuses:
        stub.add_response(
            "describe_instance_refreshes",
            {
                "InstanceRefreshes": [
                    {
                        "InstanceRefreshId": "r-1",
                        "AutoScalingGroupName": ASG,
                        "Status": status,
                        "PercentageComplete": percent,
                        **({"StatusReason": reason} if reason else {}),
                    }
                ]
            },
            {"AutoScalingGroupName": ASG, "InstanceRefreshIds": ["r-1"]},
        )
    console, out = fakes.console()
    time = fakes.FakeTime()
    result = refresh_instances(
        autoscaling, console, ASG, poll_seconds=15, sleep=time.sleep, clock=time.clock
    )
    stub.assert_no_pending_responses()
    return result, out.getvalue(), time


def test_a_refresh_keeps_full_capacity_and_is_followed_to_the_end() -> None:
    assert PREFERENCES["MinHealthyPercentage"] == 100  # launch before terminate
    assert PREFERENCES["SkipMatching"] is True
    result, text, time = refresh(
        ("Pending", 0, ""), ("InProgress", 33, ""), ("InProgress", 66, ""), ("Successful", 100, "")
    )
    assert result["Status"] == "Successful"
    assert "InProgress 66%" in text
    assert time.sleeps == [15, 15, 15]


def test_a_failed_refresh_fails_the_deploy_with_its_reason() -> None:
    with pytest.raises(DeployFailed, match="ended Failed: instance i-0 failed to launch"):
        refresh(("InProgress", 10, ""), ("Failed", 10, "instance i-0 failed to launch"))
