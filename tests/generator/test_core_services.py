"""Services, task definitions and the load balancer: hardening, wiring and timings."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from generator.config import Settings
from hooks import not_found
from tests.generator.conftest import props, resolve, resources, target

SETTINGS = Settings()
SERVICES = [s.name for s in SETTINGS.services]
CONTRACT_ENV = {
    "AWS_REGION",
    "TODOS_TABLE",
    "FILES_TABLE",
    "FILES_BUCKET",
    "COGNITO_USER_POOL_ID",
    "COGNITO_APP_CLIENT_ID",
    "PORT",
    "LOG_LEVEL",
    "MAX_UPLOAD_BYTES",
}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|KEY", re.IGNORECASE)


def containers(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for td in resources(template, "AWS::ECS::TaskDefinition").values()
        for c in td["Properties"]["ContainerDefinitions"]
    ]


def hardening_violations(template: dict[str, Any]) -> list[str]:
    found = []
    for c in containers(template):
        name = c["Name"]
        user = str(c.get("User", ""))
        if not user or user.split(":")[0] in {"0", "root"}:
            found.append(f"{name}: runs as root")
        if c.get("ReadonlyRootFilesystem") is not True:
            found.append(f"{name}: writable root filesystem")
        if c.get("Privileged", False) is not False:
            found.append(f"{name}: privileged")
        if not c.get("Memory"):
            found.append(f"{name}: no memory limit")
        for env in c.get("Environment", []):
            if SECRET_NAME.search(env["Name"]) and isinstance(env["Value"], str):
                found.append(f"{name}: plain secret {env['Name']}")
    return found


def serving_group(action: dict[str, Any]) -> str | None:
    """The target group a forward action sends traffic to (weight > 0)."""
    if "TargetGroupArn" in action:
        return target(action["TargetGroupArn"])
    (group,) = [g for g in action["ForwardConfig"]["TargetGroups"] if g["Weight"] > 0]
    return target(group["TargetGroupArn"])


def service_chain(template: dict[str, Any]) -> dict[str, tuple[list[str], str]]:
    """Follow the production listener's rule -> target group -> ECS service -> task definition
    -> container."""
    chain = {}
    services = resources(template, "AWS::ECS::Service")
    for rule in resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule").values():
        p = rule["Properties"]
        if target(p["ListenerArn"]) != "LoadBalancerListener":
            continue
        (action,) = p["Actions"]
        group = serving_group(action)
        (condition,) = p["Conditions"]
        patterns = condition["PathPatternConfig"]["Values"]
        for service in services.values():
            for lb in service["Properties"]["LoadBalancers"]:
                if target(lb["TargetGroupArn"]) == group:
                    task = props(template, str(target(service["Properties"]["TaskDefinition"])))
                    names = {c["Name"] for c in task["ContainerDefinitions"]}
                    assert lb["ContainerName"] in names
                    chain[lb["ContainerName"]] = (patterns, f"{p['Priority']}")
    return chain


def test_every_container_is_hardened(deployed: dict[str, Any]) -> None:
    assert len(containers(deployed)) == len(SERVICES)
    assert hardening_violations(deployed) == []


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("User", "0", "runs as root"),
        ("ReadonlyRootFilesystem", False, "writable root filesystem"),
        ("Privileged", True, "privileged"),
        ("Memory", None, "no memory limit"),
    ],
)
def test_the_hardening_check_catches_each_regression(
    core_template: dict[str, Any], field: str, value: Any, expected: str
) -> None:
    broken = copy.deepcopy(resolve(core_template, {}))
    container = props(broken, "MainTaskDefinition")["ContainerDefinitions"][0]
    container[field] = value
    assert hardening_violations(broken) == [f"main: {expected}"]


@pytest.mark.parametrize("service", SERVICES)
def test_writable_paths_are_task_volumes(core_template: dict[str, Any], service: str) -> None:
    task = props(core_template, f"{service.title()}TaskDefinition")
    (container,) = task["ContainerDefinitions"]
    volumes = {v["Name"] for v in task["Volumes"]}
    mounts = {m["ContainerPath"]: m["SourceVolume"] for m in container["MountPoints"]}
    assert "/tmp" in mounts  # the path inside the container
    assert set(mounts.values()) <= volumes
    # Plain task volumes: no host path, so nothing of the instance is exposed to the task.
    assert all(set(v) == {"Name"} for v in task["Volumes"])


@pytest.mark.parametrize("service", SERVICES)
def test_environment_is_exactly_the_contract(core_template: dict[str, Any], service: str) -> None:
    deployed = resolve(core_template, {})  # no UserPoolJwks: the services fetch the keys
    (container,) = props(deployed, f"{service.title()}TaskDefinition")["ContainerDefinitions"]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert set(env) == CONTRACT_ENV
    assert "Secrets" not in container
    assert env["TODOS_TABLE"] == {"Ref": "TodosTable"}
    assert env["FILES_TABLE"] == {"Ref": "FilesTable"}
    assert env["FILES_BUCKET"] == {"Ref": "FilesBucket"}
    assert env["COGNITO_USER_POOL_ID"] == {"Ref": "UserPool"}
    assert env["COGNITO_APP_CLIENT_ID"] == {"Ref": "UserPoolClient"}
    assert env["PORT"] == str(SETTINGS.container_port)


@pytest.mark.parametrize("service", SERVICES)
def test_container_image_is_its_repository_at_the_digest_parameter(
    core_template: dict[str, Any], service: str
) -> None:
    """By digest: what runs is what was tested; `bootstrap` names no image and runs no task."""
    title = service.title()
    (container,) = props(core_template, f"{title}TaskDefinition")["ContainerDefinitions"]
    assert container["Name"] == service
    assert container["Image"] == {
        "Fn::If": [
            f"{title}Bootstrapping",
            {"Fn::Sub": f"${{{title}Repository.RepositoryUri}}:bootstrap"},
            {"Fn::Sub": f"${{{title}Repository.RepositoryUri}}@${{{title}ServiceImageDigest}}"},
        ]
    }
    log = container["LogConfiguration"]
    assert log["LogDriver"] == "awslogs"
    assert log["Options"]["awslogs-group"] == {"Ref": f"{title}LogGroup"}
    assert "/health" in " ".join(container["HealthCheck"]["Command"])


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("sha256:" + "0a1b2c3d" * 8, True),
        ("bootstrap", True),
        ("latest", False),
        ("v1.2.3", False),  # a tag: tags are for people, the stack names the digest
        ("0123456789abcdef0123456789abcdef01234567", False),
        ("sha256:" + "0a1b2c3d" * 7, False),  # too short
        ("sha256:" + "0A1B2C3D" * 8, False),  # digests are lower-case hex
        ("", False),
    ],
)
def test_image_digest_parameter_takes_only_a_digest(
    core_template: dict[str, Any], service: str, value: str, accepted: bool
) -> None:
    parameter = core_template["Parameters"][f"{service.title()}ServiceImageDigest"]
    assert bool(re.fullmatch(parameter["AllowedPattern"], value)) is accepted


def test_listener_rules_route_files_before_main(core_template: dict[str, Any]) -> None:
    chain = service_chain(core_template)
    assert chain == {
        "files": (["/todos/*/files", "/todos/*/files/*"], "10"),
        "main": (["/todos", "/todos/*"], "20"),
    }


@pytest.mark.parametrize("listener", ["LoadBalancerListener", "LoadBalancerTestListener"])
def test_listener_default_is_a_json_404(core_template: dict[str, Any], listener: str) -> None:
    """Unmatched paths forward to the NotFoundFunction (a forward action, as progressive
    deployments need), whose handler answers the JSON 404."""
    (action,) = props(core_template, listener)["DefaultActions"]
    assert action["Type"] == "forward"
    group = props(core_template, str(target(action["TargetGroupArn"])))
    assert group["TargetType"] == "lambda"
    (function,) = group["Targets"]
    assert target(function["Id"]) == "NotFoundFunction"
    code = props(core_template, "NotFoundFunction")
    module, handler = code["Handler"].split(".")
    assert (module, handler) == ("not_found", "handler")
    answer = not_found.handler({"path": "/nowhere"}, None)
    assert answer["statusCode"] == 404
    assert answer["headers"]["Content-Type"] == "application/json"
    assert json.loads(answer["body"])["error"]["code"] == "not_found"


def test_load_balancer_attributes(core_template: dict[str, Any]) -> None:
    attrs = {
        a["Key"]: a["Value"] for a in props(core_template, "LoadBalancer")["LoadBalancerAttributes"]
    }
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attrs["routing.http.desync_mitigation_mode"] == "strictest"
    # On unless lifted on purpose, through the stack (make destroy DISABLE_DELETION_PROTECTION=1).
    assert attrs["deletion_protection.enabled"] == {"Ref": "LoadBalancerDeletionProtection"}
    assert core_template["Parameters"]["LoadBalancerDeletionProtection"]["Default"] == "true"
    assert attrs["access_logs.s3.enabled"] == "true"
    assert attrs["access_logs.s3.bucket"] == {"Ref": "LogBucket"}


@pytest.mark.parametrize("service", SERVICES)
def test_health_check_timings_keep_rollouts_within_30_seconds(
    core_template: dict[str, Any], service: str
) -> None:
    tg = props(core_template, f"{service.title()}TargetGroup")
    assert tg["HealthCheckPath"] == "/health"
    assert tg["HealthCheckIntervalSeconds"] == 10
    assert tg["HealthyThresholdCount"] == 2
    assert tg["UnhealthyThresholdCount"] == 3
    assert tg["HealthCheckTimeoutSeconds"] < tg["HealthCheckIntervalSeconds"]
    # In service within 30 s, drained within 30 s.
    assert tg["HealthCheckIntervalSeconds"] * tg["HealthyThresholdCount"] <= 30
    attrs = {a["Key"]: a["Value"] for a in tg["TargetGroupAttributes"]}
    assert int(attrs["deregistration_delay.timeout_seconds"]) <= 30


@pytest.mark.parametrize("service", SERVICES)
def test_service_deploys_safely(core_template: dict[str, Any], service: str) -> None:
    p = props(core_template, f"{service.title()}Service")
    deployment = p["DeploymentConfiguration"]
    assert deployment["MinimumHealthyPercent"] == 100
    assert deployment["MaximumPercent"] == 200
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert p["HealthCheckGracePeriodSeconds"] > 0
    # Both rules attach the target groups to the ALB before the service registers: the service
    # names its deployment alarms, which depend on the rules.
    for alarm in deployment["Alarms"]["AlarmNames"]:
        depends = core_template["Resources"][str(target(alarm))]["DependsOn"]
        assert set(depends) == {
            f"{service.title()}ListenerRule",
            f"{service.title()}TestListenerRule",
        }


def test_launch_type_switches_networking_and_targets(deployed: dict[str, Any]) -> None:
    fargate = "FARGATE" in json.dumps(props(deployed, "ClusterCapacityProviderAssociations"))
    for name in SERVICES:
        title = name.title()
        task = props(deployed, f"{title}TaskDefinition")
        service = props(deployed, f"{title}Service")
        group = props(deployed, f"{title}TargetGroup")
        (strategy,) = service["CapacityProviderStrategy"]
        if fargate:
            assert task["NetworkMode"] == "awsvpc"
            assert task["RequiresCompatibilities"] == ["FARGATE"]
            assert group["TargetType"] == "ip"
            assert strategy["CapacityProvider"] == "FARGATE"
            assert "PlacementStrategies" not in service
        else:
            assert task["NetworkMode"] == "bridge"
            assert task["RequiresCompatibilities"] == ["EC2"]
            assert group["TargetType"] == "instance"
            assert strategy["CapacityProvider"] == {"Ref": "CapacityProvider"}
            assert service["PlacementStrategies"] == [
                {"Type": "spread", "Field": "attribute:ecs.availability-zone"},
                {"Type": "binpack", "Field": "memory"},
            ]
            assert "NetworkConfiguration" not in service
            # Dynamic host port: the container port is mapped, the host port left to ECS.
            (container,) = task["ContainerDefinitions"]
            assert all("HostPort" not in m for m in container["PortMappings"])
    asgs = resources(deployed, "AWS::AutoScaling::AutoScalingGroup")
    assert len(asgs) == (0 if fargate else 1)


def test_capacity_provider_scales_and_drains_instances(core_template: dict[str, Any]) -> None:
    """Managed draining instead of termination protection: tests/aws/test_lifecycle.py says why."""
    provider = props(core_template, "CapacityProvider")["AutoScalingGroupProvider"]
    assert provider["ManagedScaling"]["Status"] == "ENABLED"
    assert provider["ManagedDraining"] == "ENABLED"
    asg = props(core_template, "ContainerInstanceAutoScalingGroup")
    assert {target(s) for s in asg["VPCZoneIdentifier"]} == {f"PrivateSubnet{az}" for az in "ABC"}
    cluster = props(core_template, "Cluster")
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]


@pytest.mark.parametrize("exec_on", [True, False], ids=["exec-on", "exec-off"])
def test_ecs_exec_is_a_parameter_and_never_meets_a_read_only_root(
    core_template: dict[str, Any], exec_on: bool
) -> None:
    """AWS does not support ECS Exec with a read-only root filesystem (ECS Exec considerations):
    with exec on the root is writable (the one hardening rule exec relaxes), with it off it is
    read-only and exec is off on every service. Off by default; dev turns it on."""
    stack = resolve(core_template, {"EnableExec": str(exec_on).lower()})
    assert core_template["Parameters"]["EnableExec"]["Default"] == "false"
    for service in SERVICES:
        assert props(stack, f"{service.title()}Service")["EnableExecuteCommand"] is exec_on
    for c in containers(stack):
        assert c["ReadonlyRootFilesystem"] is not exec_on
    expected = [f"{name}: writable root filesystem" for name in SERVICES] if exec_on else []
    assert sorted(hardening_violations(stack)) == sorted(expected)
