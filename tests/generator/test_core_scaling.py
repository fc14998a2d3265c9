"""The original scaling rule kept exactly, CPU tracking added, and the alarms that watch it all."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tests.generator.conftest import props, resources, target

SERVICES = ["main", "files"]
ORIGINAL_RULE = {
    "Namespace": "AWS/ApplicationELB",
    "MetricName": "HTTPCode_ELB_5XX_Count",
    "Statistic": "Sum",
    "Threshold": 10,
    "Period": 60,
    "EvaluationPeriods": 1,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
}


def doubling_alarms(template: dict[str, Any]) -> dict[str, set[str]]:
    """Alarms that match the original rule exactly -> the services whose step policy doubles."""
    doubling_policies = {}
    for name, policy in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").items():
        p = policy["Properties"]
        if p["PolicyType"] != "StepScaling":
            continue
        config = p["StepScalingPolicyConfiguration"]
        steps = config["StepAdjustments"]
        if config["AdjustmentType"] == "PercentChangeInCapacity" and steps == [
            {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 100}
        ]:
            doubling_policies[name] = str(target(p["ScalingTargetId"]))
    found = {}
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        p = alarm["Properties"]
        if any(p.get(k) != v for k, v in ORIGINAL_RULE.items()):
            continue
        if [target(d["Value"]) for d in p["Dimensions"]] != ["LoadBalancer"]:
            continue
        policies = {str(target(a)) for a in p.get("AlarmActions", [])}
        found[name] = {
            doubling_policies[policy] for policy in policies if policy in doubling_policies
        }
    return found


def test_alb_5xx_doubles_the_tasks_of_every_service(core_template: dict[str, Any]) -> None:
    alarms = doubling_alarms(core_template)
    assert {"MainScalableTarget", "FilesScalableTarget"} in alarms.values()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Threshold", 11),
        ("Period", 300),
        ("EvaluationPeriods", 2),
        ("Statistic", "Average"),
        ("ComparisonOperator", "GreaterThanThreshold"),
        ("MetricName", "HTTPCode_Target_5XX_Count"),
    ],
)
def test_the_rule_check_catches_any_drift(
    core_template: dict[str, Any], field: str, value: Any
) -> None:
    broken = copy.deepcopy(core_template)
    props(broken, "LoadBalancer5xxScaleOutAlarm")[field] = value
    assert {"MainScalableTarget", "FilesScalableTarget"} not in doubling_alarms(broken).values()


@pytest.mark.parametrize("service", SERVICES)
def test_scalable_target_uses_the_min_max_parameters(
    deployed: dict[str, Any], service: str
) -> None:
    # `deployed` runs real image tags; the bootstrap case is in test_core_bootstrap.py.
    title = service.title()
    p = props(deployed, f"{title}ScalableTarget")
    assert p["ScalableDimension"] == "ecs:service:DesiredCount"
    assert p["ServiceNamespace"] == "ecs"
    assert p["MinCapacity"] == {"Ref": f"{title}ServiceMinTasks"}
    assert p["MaxCapacity"] == {"Ref": f"{title}ServiceMaxTasks"}
    assert p["ResourceId"] == {"Fn::Sub": f"service/${{Cluster}}/${{{title}Service.Name}}"}
    # Auto Scaling owns the task count: a stack update must not reset it.
    assert "DesiredCount" not in props(deployed, f"{title}Service")


@pytest.mark.parametrize("service", SERVICES)
def test_cpu_target_tracking(core_template: dict[str, Any], service: str) -> None:
    (policy,) = [
        p["Properties"]
        for p in resources(core_template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if p["Properties"]["PolicyType"] == "TargetTrackingScaling"
        and target(p["Properties"]["ScalingTargetId"]) == f"{service.title()}ScalableTarget"
    ]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    metric = config["PredefinedMetricSpecification"]["PredefinedMetricType"]
    assert metric == "ECSServiceAverageCPUUtilization"
    assert 0 < config["TargetValue"] < 100


def test_alarms_cover_the_design_and_notify_the_encrypted_topic(
    core_template: dict[str, Any],
) -> None:
    topic = props(core_template, "AlarmTopic")
    assert target(topic["KmsMasterKeyId"]) == "DataKey"
    assert topic["Subscription"]["Fn::If"][0] == "HasAlarmEmail"
    watched = set()
    for name, alarm in resources(core_template, "AWS::CloudWatch::Alarm").items():
        p = alarm["Properties"]
        if name == "LoadBalancer5xxScaleOutAlarm" or "Deployment" in name:
            continue  # act on their own: scale out; roll a deployment back
        assert [target(a) for a in p["AlarmActions"]] == ["AlarmTopic"], name
        metrics = (
            [p]
            if "MetricName" in p
            else [m["MetricStat"]["Metric"] for m in p["Metrics"] if "MetricStat" in m]
        )
        for m in metrics:
            dims = tuple(sorted(str(target(d["Value"]) or d["Value"]) for d in m["Dimensions"]))
            watched.add((m["MetricName"], dims))
    names = {metric for metric, _ in watched}
    assert names >= {
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "UnHealthyHostCount",
        "CPUUtilization",
        "MemoryUtilization",
        "5xx",
        "Latency",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
    }
    # Both target groups of a service: a progressive deployment swaps their roles.
    for tg in ("MainTargetGroup", "MainAlternateTargetGroup", "FilesTargetGroup"):
        assert ("UnHealthyHostCount", tuple(sorted(("LoadBalancer", tg)))) in watched
        assert ("HTTPCode_Target_5XX_Count", tuple(sorted(("LoadBalancer", tg)))) in watched
    for table in ("TodosTable", "FilesTable"):
        assert ("WriteThrottleEvents", (table,)) in watched


def test_dashboard_body_is_valid_json_with_the_alarmed_metrics(
    core_template: dict[str, Any],
) -> None:
    (dashboard,) = resources(core_template, "AWS::CloudWatch::Dashboard").values()
    body, variables = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    text = json.dumps(widgets)
    for metric in ("HTTPCode_ELB_5XX_Count", "UnHealthyHostCount", "CPUUtilization", "5xx"):
        assert metric in text
    # Every placeholder is a Sub variable or a pseudo parameter.
    placeholders = set(re.findall(r"\$\{([^}]+)\}", body))
    assert placeholders <= set(variables) | {"AWS::Region"}
