"""The roles of progressive deployments, evaluated as IAM would: each reaches its own resources.

A service's ECS infrastructure role may move tasks between the service's own two target groups,
move the weights of its own two rules and invoke the release gate; not the other service's, not
another environment's. The functions' roles write only their own log groups. The execution role
passes the infrastructure roles only to ECS and the functions' roles only to Lambda. Each role's
own policy is evaluated within the permissions boundary it carries (the CI stack's), so a
boundary that forgot one of these calls fails here as well.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pytest

from generator import render_all
from scripts.cfn.template import parse_template
from scripts.iam.policy import Request
from scripts.iam.sample import SampleStack, load_stack, resource_arn
from tests.aws.conftest import (
    ACCOUNT,
    REGION,
    allowed,
    ci_roles,
    core_parameters,
    core_roles,
    deployment,
)

IN_REGION = {"aws:RequestedRegion": REGION}
GLOBAL = {"aws:RequestedRegion": "us-east-1"}
TAG = "aws:ResourceTag/todo:environment"


@functools.cache
def stack(environment: str) -> SampleStack:
    template = parse_template(render_all()["core.yaml"])
    return load_stack(template, "core", deployment(environment), core_parameters(environment))


def arn(environment: str, logical_id: str) -> str:
    found = resource_arn(stack(environment), logical_id)
    assert found is not None, logical_id
    return found


def tagged(environment: str, action: str, logical_id: str, of: str | None = None) -> Request:
    """A request on a resource of `environment`, carrying its environment tag (stack tags)."""
    return Request(
        action, arn(of or environment, logical_id), {**IN_REGION, TAG: of or environment}
    )


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        ("elasticloadbalancing:RegisterTargets", "MainTargetGroup", True),
        ("elasticloadbalancing:DeregisterTargets", "MainAlternateTargetGroup", True),
        ("elasticloadbalancing:ModifyRule", "MainListenerRule", True),
        ("elasticloadbalancing:ModifyRule", "MainTestListenerRule", True),
        ("lambda:InvokeFunction", "ReleaseGateFunction", True),
        # The other service's resources, and what no deployment needs.
        ("elasticloadbalancing:RegisterTargets", "FilesTargetGroup", False),
        ("elasticloadbalancing:ModifyRule", "FilesListenerRule", False),
        ("elasticloadbalancing:ModifyListener", "LoadBalancerListener", False),
        ("elasticloadbalancing:DeleteTargetGroup", "MainTargetGroup", False),
        ("lambda:InvokeFunction", "NotFoundFunction", False),
        ("lambda:UpdateFunctionCode", "ReleaseGateFunction", False),
    ],
)
def test_an_infrastructure_role_moves_only_its_own_services_traffic(
    environment: str, action: str, resource: str, expected: bool
) -> None:
    role = core_roles(environment)["MainEcsInfrastructureRole"]
    decision = allowed(role, tagged(environment, action, resource))
    assert decision.allowed is expected, decision.reason


@pytest.mark.parametrize(("own", "other"), [("dev", "prod"), ("prod", "dev")])
def test_an_infrastructure_role_never_reaches_the_other_environment(own: str, other: str) -> None:
    role = core_roles(own)["MainEcsInfrastructureRole"]
    for action, resource in (
        ("elasticloadbalancing:RegisterTargets", "MainTargetGroup"),
        ("elasticloadbalancing:ModifyRule", "MainListenerRule"),
        ("lambda:InvokeFunction", "ReleaseGateFunction"),
    ):
        decision = allowed(role, tagged(own, action, resource, of=other))
        assert not decision.allowed, f"{own} may {action} on {other}'s {resource}"


def test_the_infrastructure_roles_reads_are_allowed_by_the_boundary() -> None:
    role = core_roles("dev")["FilesEcsInfrastructureRole"]
    for action in ("DescribeTargetGroups", "DescribeTargetHealth", "DescribeRules"):
        request = Request(f"elasticloadbalancing:{action}", "*", IN_REGION)
        assert allowed(role, request).allowed, action


def test_the_boundary_caps_the_infrastructure_role() -> None:
    """Without its boundary the role's own policy would allow a rule move; the boundary, which
    names this environment's tag, is what refuses it on an untagged rule of another stack."""
    role = core_roles("dev")["MainEcsInfrastructureRole"]
    request = Request(
        "elasticloadbalancing:ModifyRule", arn("dev", "MainListenerRule"), dict(IN_REGION)
    )
    assert not allowed(role, request).allowed
    unbounded = dataclasses.replace(role, boundary=None)
    assert allowed(unbounded, request).allowed


@pytest.mark.parametrize(
    ("role", "group", "expected"),
    [
        ("ReleaseGateFunctionRole", "ReleaseGateLogGroup", True),
        ("ReleaseGateFunctionRole", "NotFoundFunctionLogGroup", False),
        ("ReleaseGateFunctionRole", "MainLogGroup", False),
        ("NotFoundFunctionRole", "NotFoundFunctionLogGroup", True),
        ("NotFoundFunctionRole", "ReleaseGateLogGroup", False),
    ],
)
def test_each_function_writes_only_its_own_log_group(role: str, group: str, expected: bool) -> None:
    stream = arn("dev", group).removesuffix(":*") + ":log-stream:2026/01/01/[$LATEST]0a1b"
    decision = allowed(core_roles("dev")[role], Request("logs:PutLogEvents", stream, IN_REGION))
    assert decision.allowed is expected, decision.reason


def test_only_the_gate_attaches_network_interfaces() -> None:
    request = Request(
        "ec2:CreateNetworkInterface",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*",
        IN_REGION,
    )
    roles = core_roles("dev")
    assert allowed(roles["ReleaseGateFunctionRole"], request).allowed
    assert not allowed(roles["NotFoundFunctionRole"], request).allowed
    assert not allowed(roles["MainEcsInfrastructureRole"], request).allowed


def _pass(role_logical_id: str, service: str) -> Request:
    return Request(
        "iam:PassRole",
        arn("dev", role_logical_id),
        {**GLOBAL, "iam:PassedToService": service},
    )


@pytest.mark.parametrize(
    ("role", "service", "expected"),
    [
        ("MainEcsInfrastructureRole", "ecs.amazonaws.com", True),
        ("MainEcsInfrastructureRole", "ecs-tasks.amazonaws.com", False),
        ("MainEcsInfrastructureRole", "lambda.amazonaws.com", False),
        ("ReleaseGateFunctionRole", "lambda.amazonaws.com", True),
        ("ReleaseGateFunctionRole", "ecs.amazonaws.com", False),
        ("NotFoundFunctionRole", "lambda.amazonaws.com", True),
        ("MainTaskRole", "ecs.amazonaws.com", False),
        ("MainTaskRole", "lambda.amazonaws.com", False),
    ],
)
def test_the_execution_role_passes_each_new_role_only_to_its_service(
    role: str, service: str, expected: bool
) -> None:
    execution = ci_roles("dev")["CloudFormationExecutionRole"]
    decision = allowed(execution, _pass(role, service))
    assert decision.allowed is expected, decision.reason


def _trusted(template: dict[str, Any], logical_id: str) -> list[str]:
    document = template["Resources"][logical_id]["Properties"]["AssumeRolePolicyDocument"]
    return [s["Principal"]["Service"] for s in document["Statement"]]


def test_the_new_roles_are_assumed_only_by_their_service() -> None:
    template = parse_template(render_all()["core.yaml"])
    for name in ("Main", "Files"):
        assert _trusted(template, f"{name}EcsInfrastructureRole") == ["ecs.amazonaws.com"]
    for name in ("ReleaseGate", "NotFound"):
        assert _trusted(template, f"{name}FunctionRole") == ["lambda.amazonaws.com"]


@pytest.mark.parametrize(("own", "other"), [("dev", "prod"), ("prod", "dev")])
def test_the_deploy_role_reads_only_its_own_smoke_user(own: str, other: str) -> None:
    """make smoke in CI signs in with the password in todo/<env>/smoke-user."""
    deploy = ci_roles(own)["GitHubDeployRole"]

    def secret(environment: str) -> Request:
        arn = (
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:todo/{environment}/smoke-user-AbC123"
        )
        return Request("secretsmanager:GetSecretValue", arn, IN_REGION)

    assert allowed(deploy, secret(own)).allowed
    assert not allowed(deploy, secret(other)).allowed
    rotate = Request("secretsmanager:PutSecretValue", secret(own).resource, IN_REGION)
    assert not allowed(deploy, rotate).allowed  # rotation is an administrator's


def test_a_deploy_role_promotes_only_from_the_environment_before_it() -> None:
    """prod's CI stack with PromotesFrom=dev: make promote pulls dev's images, never pushes
    there, and reads no third environment; without PromotesFrom it reads none."""
    from scripts.cfn.template import parse_template
    from scripts.iam.stack_roles import role_policies
    from tests.aws.conftest import GITHUB_REPOSITORY

    template = parse_template(render_all()["ci.yaml"])
    given = {"Environment": "prod", "GitHubRepository": GITHUB_REPOSITORY, "PromotesFrom": "dev"}
    deploy = role_policies(template, "ci", deployment("prod"), given)["GitHubDeployRole"]

    def repository(environment: str) -> str:
        return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/todo-{environment}-core-mainrepo-0a1b"

    def request(action: str, environment: str) -> Request:
        return Request(action, repository(environment), IN_REGION)

    for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"):
        assert allowed(deploy, request(action, "dev")).allowed, action
        assert not allowed(deploy, request(action, "staging")).allowed, action
    for action in ("ecr:PutImage", "ecr:InitiateLayerUpload"):
        assert not allowed(deploy, request(action, "dev")).allowed, action
        assert allowed(deploy, request(action, "prod")).allowed, action
    first = ci_roles("dev")["GitHubDeployRole"]  # no PromotesFrom: no other environment
    assert not allowed(first, request("ecr:BatchGetImage", "prod")).allowed
