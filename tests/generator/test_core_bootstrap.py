"""The first creation in an empty account: image tag `bootstrap` runs no task and cannot scale.

The core stack creates the ECR repositories its services pull from, so on the first creation no
image exists. With the tag at its default `bootstrap` a service is created with 0 tasks and a
scaling range of 0..0; any other tag leaves the count to Application Auto Scaling.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from generator.config import Settings
from tests.generator.conftest import LAUNCH_TYPES, props, resolve, resources, target, walk

SERVICES = [s.name for s in Settings().services]
REAL_TAG = "sha256:" + "0a1b" * 16  # an image digest, as deploy-service sets it


def tag_parameter(service: str) -> str:
    return f"{service.title()}ServiceImageDigest"


def deploy_with(template: dict[str, Any], launch_type: str, **tags: str) -> dict[str, Any]:
    """The template as it deploys with these image tags (others: a real commit)."""
    given = {tag_parameter(s): tags.get(s, REAL_TAG) for s in SERVICES}
    return resolve(template, {"LaunchType": launch_type, **given})


@pytest.mark.parametrize("service", SERVICES)
def test_image_tag_defaults_to_bootstrap(core_template: dict[str, Any], service: str) -> None:
    parameter = core_template["Parameters"][tag_parameter(service)]
    assert parameter["Default"] == "bootstrap"
    assert re.fullmatch(parameter["AllowedPattern"], parameter["Default"])


@pytest.mark.parametrize("service", SERVICES)
def test_one_bootstrapping_condition_per_service(
    core_template: dict[str, Any], service: str
) -> None:
    condition = core_template["Conditions"][f"{service.title()}Bootstrapping"]
    assert condition == {"Fn::Equals": [{"Ref": tag_parameter(service)}, "bootstrap"]}


@pytest.mark.parametrize("launch_type", LAUNCH_TYPES)
@pytest.mark.parametrize("service", SERVICES)
def test_bootstrap_runs_no_task_and_cannot_scale(
    core_template: dict[str, Any], launch_type: str, service: str
) -> None:
    default = core_template["Parameters"][tag_parameter(service)]["Default"]
    deployed = deploy_with(core_template, launch_type, **{service: default})
    title = service.title()
    assert props(deployed, f"{title}Service")["DesiredCount"] == 0
    scalable = props(deployed, f"{title}ScalableTarget")
    assert (scalable["MinCapacity"], scalable["MaxCapacity"]) == (0, 0)


@pytest.mark.parametrize("launch_type", LAUNCH_TYPES)
@pytest.mark.parametrize("service", SERVICES)
def test_a_real_tag_leaves_the_count_to_auto_scaling(
    core_template: dict[str, Any], launch_type: str, service: str
) -> None:
    deployed = deploy_with(core_template, launch_type, **{service: REAL_TAG})
    title = service.title()
    # Unset: CloudFormation omits it from UpdateService, so a scaled-out service keeps its count.
    assert "DesiredCount" not in props(deployed, f"{title}Service")
    scalable = props(deployed, f"{title}ScalableTarget")
    assert scalable["MinCapacity"] == {"Ref": f"{title}ServiceMinTasks"}
    assert scalable["MaxCapacity"] == {"Ref": f"{title}ServiceMaxTasks"}


@pytest.mark.parametrize("service", SERVICES)
def test_leaving_bootstrap_raises_the_scaling_minimum_to_at_least_one_task(
    core_template: dict[str, Any], service: str
) -> None:
    """The update from `bootstrap` starts tasks only through the scalable target's new minimum.

    DesiredCount goes from 0 to unset, which CloudFormation does not send, so the service stays at
    0 until RegisterScalableTarget raises the count into the new range: that range must not
    include 0 for any parameter value the template accepts.
    """
    title = service.title()
    minimum = core_template["Parameters"][f"{title}ServiceMinTasks"]
    maximum = core_template["Parameters"][f"{title}ServiceMaxTasks"]
    assert minimum["MinValue"] >= 1
    assert maximum["MinValue"] >= 1
    assert 1 <= minimum["Default"] <= maximum["Default"]


def test_each_service_bootstraps_on_its_own(core_template: dict[str, Any]) -> None:
    deployed = deploy_with(core_template, "EC2", main="bootstrap")
    assert props(deployed, "MainService")["DesiredCount"] == 0
    assert "DesiredCount" not in props(deployed, "FilesService")
    assert props(deployed, "FilesScalableTarget")["MinCapacity"] == {"Ref": "FilesServiceMinTasks"}


@pytest.mark.parametrize("tag", ["bootstrap", REAL_TAG])
def test_scaling_policies_and_alarms_stay_wired_at_any_tag(
    core_template: dict[str, Any], tag: str
) -> None:
    """Min = Max = 0 removes nothing: every policy and alarm action points at a resource."""
    deployed = deploy_with(core_template, "EC2", main=tag, files=tag)
    existing = set(deployed["Resources"])
    policies = resources(deployed, "AWS::ApplicationAutoScaling::ScalingPolicy")
    by_target: dict[str, set[str]] = {}
    for p in policies.values():
        config = p["Properties"]
        by_target.setdefault(str(target(config["ScalingTargetId"])), set()).add(
            config["PolicyType"]
        )
        if config["PolicyType"] == "StepScaling":
            # Doubling 0 tasks is 0: the minimum magnitude still adds a task when Max allows.
            assert config["StepScalingPolicyConfiguration"]["MinAdjustmentMagnitude"] >= 1
    for service in SERVICES:
        assert by_target[f"{service.title()}ScalableTarget"] == {
            "StepScaling",
            "TargetTrackingScaling",
        }
    alarm = props(deployed, "LoadBalancer5xxScaleOutAlarm")
    assert {target(a) for a in alarm["AlarmActions"]} == {
        name for name, p in policies.items() if p["Properties"]["PolicyType"] == "StepScaling"
    }
    for name, resource in deployed["Resources"].items():
        for value in walk(resource.get("Properties", {})):
            ref = target(value)
            if ref is not None and "::" not in ref:
                assert ref in existing or ref in deployed["Parameters"], f"{name} -> {ref}"
