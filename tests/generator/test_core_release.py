"""Progressive delivery in the core template: strategy, alarms, the test listener and the gate.

What ECS's own blue/green, canary and linear deployments need ("Amazon ECS service deployment
controllers and strategies"; "Application Load Balancer resources for blue/green, linear, and
canary deployments"; "Lifecycle hooks for Amazon ECS service deployments", Amazon ECS Developer
Guide), read from the rendered template as each strategy and launch type deploys it. The roles'
permissions are evaluated in tests/aws/test_release_roles.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from generator.config import Settings
from tests.generator.conftest import props, resolve, resources, target, walk

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings()
SERVICES = [s.name for s in SETTINGS.services]
STRATEGIES = ["ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"]
LISTENERS = ("LoadBalancerListener", "LoadBalancerTestListener")


def strategy(template: dict[str, Any], value: str) -> dict[str, Any]:
    """The template as it deploys on Fargate with every service on `value`."""
    given = {f"{name.title()}ServiceDeploymentStrategy": value for name in SERVICES}
    return resolve(template, {"LaunchType": "FARGATE", **given})


def config(environment: str) -> dict[str, str]:
    core: dict[str, str] = json.loads((ROOT / "config" / f"{environment}.json").read_text())["core"]
    return core


def test_every_service_has_a_strategy_parameter_rolling_by_default(
    core_template: dict[str, Any],
) -> None:
    for name in SERVICES:
        parameter = core_template["Parameters"][f"{name.title()}ServiceDeploymentStrategy"]
        assert parameter["AllowedValues"] == STRATEGIES
        assert parameter["Default"] == "ROLLING"  # a new stack, or the EC2 launch type


@pytest.mark.parametrize(("environment", "expected"), [("dev", "BLUE_GREEN"), ("prod", "CANARY")])
def test_each_environment_releases_progressively_on_fargate(
    environment: str, expected: str
) -> None:
    """dev runs the same gate and traffic shift in one step; prod moves a canary first."""
    values = config(environment)
    assert values["LaunchType"] == "FARGATE"
    for name in SERVICES:
        assert values[f"{name.title()}ServiceDeploymentStrategy"] == expected
    assert int(values["DeploymentBakeMinutes"]) > 0


def test_the_template_refuses_a_progressive_strategy_on_ec2(core_template: dict[str, Any]) -> None:
    """Progressive deployments need ip targets; EC2 keeps bridge mode (docs/releasing.md)."""
    rule = core_template["Rules"]["ProgressiveDeliveryRunsOnFargate"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "LaunchType"}, "EC2"]}
    asserted = {
        a["Assert"]["Fn::Equals"][0]["Ref"]: a["Assert"]["Fn::Equals"][1]
        for a in rule["Assertions"]
    }
    assert asserted == {f"{n.title()}ServiceDeploymentStrategy": "ROLLING" for n in SERVICES}
    assert all("FARGATE" in a["AssertDescription"] for a in rule["Assertions"])


@pytest.mark.parametrize("value", STRATEGIES)
@pytest.mark.parametrize("name", SERVICES)
def test_the_deployment_follows_the_strategy(
    core_template: dict[str, Any], value: str, name: str
) -> None:
    service = props(strategy(core_template, value), f"{name.title()}Service")
    assert service["DeploymentController"] == {"Type": "ECS"}
    deployment = service["DeploymentConfiguration"]
    assert deployment["Strategy"] == {"Ref": f"{name.title()}ServiceDeploymentStrategy"}
    # The circuit breaker stays, whatever the strategy.
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    progressive = value != "ROLLING"
    assert ("BakeTimeInMinutes" in deployment) is progressive
    assert ("LifecycleHooks" in deployment) is progressive
    assert ("CanaryConfiguration" in deployment) is (value == "CANARY")
    assert ("LinearConfiguration" in deployment) is (value == "LINEAR")
    (balancer,) = service["LoadBalancers"]
    assert ("AdvancedConfiguration" in balancer) is progressive
    if value == "CANARY":
        canary = deployment["CanaryConfiguration"]
        assert 0 < canary["CanaryPercent"] < 50
        assert canary["CanaryBakeTimeInMinutes"] > 0
    if value == "LINEAR":
        linear = deployment["LinearConfiguration"]
        assert 0 < linear["StepPercent"] < 100
        assert linear["StepBakeTimeInMinutes"] > 0
    if progressive:
        assert deployment["BakeTimeInMinutes"] == {"Ref": "DeploymentBakeMinutes"}


@pytest.mark.parametrize("name", SERVICES)
def test_a_progressive_service_shifts_between_its_own_two_groups_and_rules(
    core_template: dict[str, Any], name: str
) -> None:
    title = name.title()
    service = props(strategy(core_template, "CANARY"), f"{title}Service")
    (balancer,) = service["LoadBalancers"]
    advanced = balancer["AdvancedConfiguration"]
    assert target(balancer["TargetGroupArn"]) == f"{title}TargetGroup"
    assert target(advanced["AlternateTargetGroupArn"]) == f"{title}AlternateTargetGroup"
    assert target(advanced["ProductionListenerRule"]) == f"{title}ListenerRule"
    assert target(advanced["TestListenerRule"]) == f"{title}TestListenerRule"
    assert target(advanced["RoleArn"]) == f"{title}EcsInfrastructureRole"


@pytest.mark.parametrize("name", SERVICES)
def test_the_release_gate_runs_after_test_traffic_and_knows_where_it_is(
    core_template: dict[str, Any], name: str
) -> None:
    title = name.title()
    deployment = props(strategy(core_template, "BLUE_GREEN"), f"{title}Service")[
        "DeploymentConfiguration"
    ]
    (hook,) = deployment["LifecycleHooks"]
    # After the test traffic shift: hooks of the shift stages themselves run again on rollback.
    assert hook["LifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    assert target(hook["HookTargetArn"]) == "ReleaseGateFunction"
    assert target(hook["RoleArn"]) == f"{title}EcsInfrastructureRole"
    details = hook["HookDetails"]
    assert details["testUrl"] == {
        "Fn::Sub": f"http://${{LoadBalancer.DNSName}}:{SETTINGS.test_listener_port}"
    }
    assert details["service"] == name
    assert details["header"] == SETTINGS.gate_service_header
    spec = next(s for s in SETTINGS.services if s.name == name)
    assert details["protectedPath"] == spec.protected_path
    # The gate reaches the ALB from the private subnets.
    function = props(core_template, "ReleaseGateFunction")
    assert all(
        str(target(s)).startswith("PrivateSubnet") for s in function["VpcConfig"]["SubnetIds"]
    )
    assert [target(g) for g in function["VpcConfig"]["SecurityGroupIds"]] == [
        "ReleaseGateSecurityGroup"
    ]


@pytest.mark.parametrize("name", SERVICES)
def test_deployment_alarms_roll_back_and_watch_both_target_groups(
    core_template: dict[str, Any], name: str
) -> None:
    title = name.title()
    deployed = strategy(core_template, "ROLLING")
    alarms = props(deployed, f"{title}Service")["DeploymentConfiguration"]["Alarms"]
    assert alarms["Enable"] is True
    assert alarms["Rollback"] is True
    watched = {}
    for alarm_ref in alarms["AlarmNames"]:
        alarm = props(deployed, str(target(alarm_ref)))
        metrics = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
        groups = {
            target(d["Value"])
            for m in metrics
            for d in m["Dimensions"]
            if d["Name"] == "TargetGroup"
        }
        # The two groups swap roles at every progressive deployment.
        assert groups == {f"{title}TargetGroup", f"{title}AlternateTargetGroup"}, alarm_ref
        (expression,) = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
        assert "a" in expression
        assert "b" in expression
        watched[metrics[0]["MetricName"]] = metrics[0]
    assert set(watched) == {"HTTPCode_Target_5XX_Count", "TargetResponseTime", "UnHealthyHostCount"}


def test_every_listener_action_forwards(core_template: dict[str, Any]) -> None:
    """A listener whose rules mix forward and non-forward actions fails a progressive
    deployment (ALB resources page, Limitations): both listeners hold only forward actions."""
    actions = [a for name in LISTENERS for a in props(core_template, name)["DefaultActions"]]
    for rule in resources(core_template, "AWS::ElasticLoadBalancingV2::ListenerRule").values():
        actions += rule["Properties"]["Actions"]
    assert len(actions) == len(LISTENERS) + 2 * len(SERVICES)
    assert {a["Type"] for a in actions} == {"forward"}


def test_the_forward_check_catches_a_fixed_response(core_template: dict[str, Any]) -> None:
    broken = copy.deepcopy(core_template)
    props(broken, "LoadBalancerListener")["DefaultActions"] = [{"Type": "fixed-response"}]
    with pytest.raises(AssertionError):
        test_every_listener_action_forwards(broken)


@pytest.mark.parametrize("name", SERVICES)
def test_both_rules_forward_to_both_groups_the_primary_first(
    core_template: dict[str, Any], name: str
) -> None:
    title = name.title()
    for rule, listener in (
        (f"{title}ListenerRule", "LoadBalancerListener"),
        (f"{title}TestListenerRule", "LoadBalancerTestListener"),
    ):
        p = props(core_template, rule)
        assert target(p["ListenerArn"]) == listener
        (action,) = p["Actions"]
        weights = {
            target(g["TargetGroupArn"]): g["Weight"]
            for g in action["ForwardConfig"]["TargetGroups"]
        }
        assert weights == {f"{title}TargetGroup": 100, f"{title}AlternateTargetGroup": 0}


def test_the_test_listener_selects_the_service_by_the_gates_header(
    core_template: dict[str, Any],
) -> None:
    assert props(core_template, "LoadBalancerTestListener")["Port"] == SETTINGS.test_listener_port
    assert SETTINGS.test_listener_port != SETTINGS.alb_listener_port
    for name in SERVICES:
        (condition,) = props(core_template, f"{name.title()}TestListenerRule")["Conditions"]
        assert condition["Field"] == "http-header"
        assert condition["HttpHeaderConfig"] == {
            "HttpHeaderName": SETTINGS.gate_service_header,
            "Values": [name],
        }


def test_test_traffic_is_reachable_from_the_release_gate_only(
    core_template: dict[str, Any],
) -> None:
    """Nothing but the gate's security group may open the test port; the API's integration
    sends to the production listener; the gate may open nothing else."""
    port = SETTINGS.test_listener_port
    opened = [
        (target(r["Properties"]["SourceSecurityGroupId"]), r["Properties"].get("CidrIp"))
        for r in resources(core_template, "AWS::EC2::SecurityGroupIngress").values()
        if target(r["Properties"]["GroupId"]) == "LoadBalancerSecurityGroup"
        and r["Properties"]["FromPort"] <= port <= r["Properties"]["ToPort"]
    ]
    assert opened == [("ReleaseGateSecurityGroup", None)]
    inline = props(core_template, "LoadBalancerSecurityGroup").get("SecurityGroupIngress", [])
    assert inline == []
    (egress,) = props(core_template, "ReleaseGateSecurityGroup")["SecurityGroupEgress"]
    assert (egress["FromPort"], egress["ToPort"]) == (port, port)
    assert target(egress["DestinationSecurityGroupId"]) == "LoadBalancerSecurityGroup"
    integrations = resources(core_template, "AWS::ApiGatewayV2::Integration")
    assert integrations
    for integration in integrations.values():
        assert target(integration["Properties"]["IntegrationUri"]) == "LoadBalancerListener"
    # The VPC link's group may send to the production listener's port only.
    for rule in props(core_template, "VpcLinkSecurityGroup")["SecurityGroupEgress"]:
        assert rule["FromPort"] == rule["ToPort"] == SETTINGS.alb_listener_port


def test_the_reachability_check_catches_an_open_test_port(core_template: dict[str, Any]) -> None:
    broken = copy.deepcopy(core_template)
    broken["Resources"]["OpenTestPort"] = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {
            "GroupId": {"Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": ["VpcLinkSecurityGroup", "GroupId"]},
            "IpProtocol": "tcp",
            "FromPort": 0,
            "ToPort": 65535,
        },
    }
    with pytest.raises(AssertionError):
        test_test_traffic_is_reachable_from_the_release_gate_only(broken)


def test_the_private_network_acl_carries_the_gates_traffic(core_template: dict[str, Any]) -> None:
    """The gate and the ALB sit in the private subnets, whose ACL is stateless: the test port
    must be allowed in and out within the VPC (the high-port rules cover it)."""
    port = SETTINGS.test_listener_port
    entries = resources(core_template, "AWS::EC2::NetworkAclEntry").values()
    for egress in (False, True):
        assert any(
            target(e["Properties"]["NetworkAclId"]) == "PrivateNetworkAcl"
            and e["Properties"]["Egress"] is egress
            and e["Properties"]["RuleAction"] == "allow"
            and e["Properties"]["PortRange"]["From"] <= port <= e["Properties"]["PortRange"]["To"]
            for e in entries
        ), f"egress={egress}"


def test_the_functions_are_sam_functions_packaged_from_hooks(core_template: dict[str, Any]) -> None:
    functions = resources(core_template, "AWS::Serverless::Function")
    assert set(functions) == {"NotFoundFunction", "ReleaseGateFunction"}
    for name, function in functions.items():
        p = function["Properties"]
        assert p["CodeUri"] == "../hooks", name
        module = p["Handler"].split(".")[0]
        assert (ROOT / "hooks" / f"{module}.py").is_file(), name
        assert target(p["Role"]) == f"{name}Role"
        assert target(p["LoggingConfig"]["LogGroup"]) == name.removesuffix("Function") + (
            "FunctionLogGroup" if name == "NotFoundFunction" else "LogGroup"
        )
    # No role that SAM would make (with AWS managed policies the execution role may not attach).
    assert not any("Policies" in f["Properties"] for f in functions.values())


def test_no_resource_refers_to_a_fixed_response(core_template: dict[str, Any]) -> None:
    assert "fixed-response" not in [v for v in walk(core_template) if isinstance(v, str)]
