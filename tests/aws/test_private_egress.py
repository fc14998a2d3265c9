"""Egress=None: each AWS API the workloads may call has a VPC endpoint, and none is idle.

The list is derived, not copied: the roles that act inside the VPC (those ECS tasks and EC2
instances assume) say, through their policies as IAM evaluates them (the AWS managed policies of the
instance role included, as vendored in generator/managed_policies.py), which services they may call.
Each service maps to the endpoints that serve it ("AWS services that integrate with AWS
PrivateLink", PrivateLink Guide): `ecr` is ecr.api and ecr.dkr, and S3 for the image layers
("Amazon ECR interface VPC endpoints", ECR User Guide); the ECS agent's calls go to ecs, ecs-agent
(`Poll`) and ecs-telemetry (`StartTelemetrySession`) ("Amazon ECS interface VPC endpoints").
A KMS call made through another service (`kms:ViaService`) is that service's, not the VPC's.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from generator import render_all
from scripts.cfn.template import deployed, parse_template
from scripts.iam import actions
from scripts.iam.policy import Policy, Request, evaluate
from scripts.iam.sample import generated_name
from scripts.iam.stack_roles import RolePolicies, resolved_property
from tests.aws.conftest import (
    ACCOUNT,
    ENVIRONMENTS,
    PSEUDO,
    REGION,
    allowed,
    ci_roles,
    core_parameters,
    core_roles,
    deployment,
)
from tests.generator.conftest import target

# Where a role's call goes: the endpoint services of an IAM service prefix (by action for ECS).
ENDPOINTS_OF_SERVICE: Mapping[str, tuple[str, ...]] = {
    "ecr": ("ecr.api", "ecr.dkr", "s3"),
    "logs": ("logs",),
    "ssm": ("ssm",),
    "ssmmessages": ("ssmmessages",),
    "secretsmanager": ("secretsmanager",),
    "kms": ("kms",),
    "dynamodb": ("dynamodb",),
    "s3": ("s3",),
    "ec2": ("ec2",),
    "ec2messages": ("ec2messages",),
}
ECS_AGENT_ENDPOINTS = {"ecs:Poll": "ecs-agent", "ecs:StartTelemetrySession": "ecs-telemetry"}

# What a role's policy allows but nothing in this VPC calls, each with its reason.
NOT_CALLED: Mapping[str, str] = {
    "ec2": (
        "AmazonEC2ContainerServiceforEC2Role allows ec2:DescribeTags, which the ECS agent calls "
        "only with ECS_CONTAINER_INSTANCE_PROPAGATE_TAGS_FROM=ec2_instance; the user data does "
        "not set it (checked below)"
    ),
    "ec2messages": (
        "AmazonSSMManagedInstanceCore allows ec2messages:*, which SSM Agent 3.3.40.0 and later "
        "no longer calls when ssmmessages is reachable ('Reference: ec2messages, ssmmessages, "
        "and other API operations', Systems Manager User Guide); the ECS-optimized AMI ships a "
        "later agent"
    ),
}
PROFILES = [
    pytest.param(launch_type, exec_on, id=f"{launch_type}-exec-{exec_on}")
    for launch_type in ("EC2", "FARGATE")
    for exec_on in ("true", "false")
]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def workload_roles(template: Mapping[str, Any]) -> set[str]:
    """The roles assumed inside the VPC, in a deployed template: each task definition's task and
    execution roles, and the role of the instance profile a launch template gives instances."""
    found: set[str] = set()
    resources = template["Resources"]
    for resource in resources.values():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::ECS::TaskDefinition":
            found |= {str(target(props[k])) for k in ("TaskRoleArn", "ExecutionRoleArn")}
        elif resource["Type"] == "AWS::EC2::LaunchTemplate":
            profile = target(props["LaunchTemplateData"]["IamInstanceProfile"]["Arn"])
            found |= {str(target(r)) for r in resources[profile]["Properties"]["Roles"]}
    return found


def _through_another_service(statement: Mapping[str, Any]) -> bool:
    return any(
        key.lower() == "kms:viaservice"
        for operator in (statement.get("Condition") or {}).values()
        for key in operator
    )


def _within(action: str, boundary: Mapping[str, Any] | None) -> bool:
    if boundary is None:
        return True
    return any(
        fnmatch.fnmatchcase(action.lower(), str(pattern).lower())
        for statement in boundary["Statement"]
        if statement["Effect"] == "Allow"
        for pattern in _listed(statement["Action"])
    )


def callable_actions(roles: Mapping[str, RolePolicies], template: Mapping[str, Any]) -> set[str]:
    """The actions the workloads' roles may call directly (their boundary permitting)."""
    found: set[str] = set()
    for name in workload_roles(template):
        role = roles[name]
        boundary = role.boundary[1] if role.boundary else None
        for _, document in role.policies:
            for statement in document["Statement"]:
                if statement["Effect"] != "Allow" or _through_another_service(statement):
                    continue
                for pattern in _listed(statement["Action"]):
                    names = actions.expand(pattern) if "*" in pattern else (pattern,)
                    found |= {a for a in names if _within(a, boundary)}
    return found


def needed_endpoints(called: Iterable[str]) -> dict[str, set[str]]:
    """Endpoint service -> the actions that need it."""
    needed: dict[str, set[str]] = {}
    for action in called:
        service = action.split(":", 1)[0]
        if service in NOT_CALLED:
            continue
        if service == "ecs":
            endpoints: tuple[str, ...] = (ECS_AGENT_ENDPOINTS.get(action, "ecs"),)
        else:
            assert service in ENDPOINTS_OF_SERVICE, f"no endpoint known for {action}"
            endpoints = ENDPOINTS_OF_SERVICE[service]
        for endpoint in endpoints:
            needed.setdefault(endpoint, set()).add(action)
    return needed


def endpoints_of(template: Mapping[str, Any]) -> dict[str, str]:
    """Endpoint service (`ecr.api`) -> its type, in a deployed template."""
    found = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::EC2::VPCEndpoint":
            props = resource["Properties"]
            service = props["ServiceName"]["Fn::Sub"].removeprefix("com.amazonaws.${AWS::Region}.")
            found[service] = props["VpcEndpointType"]
    return found


def private_stack(launch_type: str, exec_on: str, template: Mapping[str, Any] | None = None) -> Any:
    parameters = core_parameters(
        "prod", Egress="None", LaunchType=launch_type, EnableExec=exec_on, UserPoolJwks="{}"
    )
    source = template or parse_template(render_all()["core.yaml"])
    return deployed(source, parameters, PSEUDO)


def calls_of(launch_type: str, exec_on: str, template: Mapping[str, Any] | None = None) -> set[str]:
    roles = core_roles("prod", Egress="None", LaunchType=launch_type, EnableExec=exec_on)
    return callable_actions(roles, private_stack(launch_type, exec_on, template))


def missing_and_unneeded(
    launch_type: str, exec_on: str, template: Mapping[str, Any] | None = None
) -> tuple[dict[str, set[str]], set[str]]:
    needed = needed_endpoints(calls_of(launch_type, exec_on, template))
    present = endpoints_of(private_stack(launch_type, exec_on, template))
    missing = {e: a for e, a in needed.items() if e not in present}
    unneeded = {e for e, kind in present.items() if kind == "Interface" and e not in needed}
    return missing, unneeded


@pytest.mark.parametrize(("launch_type", "exec_on"), PROFILES)
def test_every_api_the_workloads_call_has_an_endpoint(launch_type: str, exec_on: str) -> None:
    missing, unneeded = missing_and_unneeded(launch_type, exec_on)
    assert not missing, f"Egress=None lacks endpoints for: {missing}"
    # An interface endpoint costs in every AZ: none is there that no role calls.
    assert not unneeded, f"interface endpoints no role calls: {sorted(unneeded)}"


def test_the_derivation_finds_the_calls_of_each_kind_of_workload() -> None:
    """Not an empty run: the instance role's managed policies, the execution role's pulls and
    the task roles' exec channels all show up."""
    needed = needed_endpoints(calls_of("EC2", "true"))
    assert {"ecs", "ecs-agent", "ecs-telemetry", "ssm", "ssmmessages"} <= set(needed)
    assert {"ecr.api", "ecr.dkr", "s3", "logs", "dynamodb"} <= set(needed)
    assert "ecs:Poll" in needed["ecs-agent"]  # from AmazonEC2ContainerServiceforEC2Role
    fargate = calls_of("FARGATE", "false")
    assert "ecr:BatchGetImage" in fargate
    assert not {a for a in fargate if a.startswith(("ecs:", "ssm:", "ssmmessages:"))}


def test_the_check_fails_without_the_logs_endpoint() -> None:
    broken = copy.deepcopy(parse_template(render_all()["core.yaml"]))
    del broken["Resources"]["LogsEndpoint"]
    missing, _ = missing_and_unneeded("FARGATE", "false", broken)
    assert set(missing) == {"logs"}
    assert "logs:PutLogEvents" in missing["logs"]


def test_the_check_fails_on_an_endpoint_nothing_calls() -> None:
    broken = copy.deepcopy(parse_template(render_all()["core.yaml"]))
    broken["Resources"]["EcsEndpoint"]["Condition"] = "PrivateEgressOnly"  # on Fargate too
    _, unneeded = missing_and_unneeded("FARGATE", "false", broken)
    assert unneeded == {"ecs"}


def test_calls_left_out_are_really_not_made() -> None:
    """The reasons in NOT_CALLED stay true of the template."""
    template = private_stack("EC2", "false")
    (launch_template,) = (
        r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::LaunchTemplate"
    )
    user_data = str(launch_template["Properties"]["LaunchTemplateData"]["UserData"])
    assert "ECS_CONTAINER_INSTANCE_PROPAGATE_TAGS_FROM" not in user_data
    called = calls_of("EC2", "false")
    for service in NOT_CALLED:  # each exception is still needed, or it would go
        assert any(a.startswith(service + ":") for a in called), service


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_execution_role_can_turn_on_an_endpoints_private_dns(environment: str) -> None:
    """ec2:CreateVpcEndpoint with PrivateDnsEnabled associates the VPC with the endpoint's
    private hosted zone as the caller: the Service Authorization Reference lists
    route53:AssociateVPCWithHostedZone as its dependent action, the provider schema does not."""
    info = actions.action_info("ec2:CreateVpcEndpoint")
    assert info.service == "ec2"  # the reference still knows the action
    context = {"aws:RequestedRegion": "us-east-1", "aws:PrincipalAccount": ACCOUNT}
    request = Request(
        "route53:AssociateVPCWithHostedZone",
        "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ",
        {**context, "aws:ViaAWSService": True},
    )
    role = ci_roles(environment)["CloudFormationExecutionRole"]
    assert allowed(role, request).allowed
    # Only EC2 on the role's behalf: the role itself cannot rewire a VPC's DNS.
    direct = dataclasses.replace(request, context={**context, "aws:ViaAWSService": False})
    assert not allowed(role, direct).allowed
    private = private_stack("EC2", "false")
    interface = [
        r["Properties"]
        for r in private["Resources"].values()
        if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"]["VpcEndpointType"] != "Gateway"
    ]
    assert interface
    assert all(p["PrivateDnsEnabled"] is True for p in interface)


def endpoint_policy(logical_id: str) -> Policy:
    template = parse_template(render_all()["core.yaml"])
    parameters = core_parameters("prod", Egress="None", UserPoolJwks="{}")
    document = resolved_property(
        template, "core", deployment("prod"), parameters, logical_id, "PolicyDocument"
    )
    return Policy(f"{logical_id} policy", document)


def through(policy: Policy, action: str, resource: str, account: str = ACCOUNT) -> bool:
    """Whether the endpoint policy lets a role of `account` make the call. An endpoint policy is
    evaluated like a resource policy that names its principals ("Control access to VPC
    endpoints using endpoint policies", PrivateLink Guide)."""
    request = Request(
        action,
        resource,
        {"aws:PrincipalAccount": account},
        principal=f"arn:aws:iam::{account}:role/todo-prod-core-TaskRole-0",
    )
    return evaluate(request, [], resource_policy=policy).allowed


def test_image_layers_pass_the_s3_endpoint_but_other_buckets_do_not() -> None:
    """ECR serves layers from an AWS-owned bucket ("Amazon ECR interface VPC endpoints"): an
    "own account's buckets only" policy would break every pull."""
    s3 = endpoint_policy("S3GatewayEndpoint")
    layers = f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/sha256/abc"
    files = "arn:aws:s3:::" + generated_name("todo-prod-core", "FilesBucket", "AWS::S3::Bucket")
    assert through(s3, "s3:GetObject", layers)
    assert through(s3, "s3:GetObject", f"{files}/u/t/f")
    assert not through(s3, "s3:GetObject", "arn:aws:s3:::someone-elses-bucket/data")
    assert not through(s3, "s3:PutBucketPolicy", files)
    assert not through(s3, "s3:GetObject", f"{files}/u/t/f", account="444455556666")


def test_the_endpoints_admit_only_this_stacks_images_logs_and_tables() -> None:
    repository = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/"
    ecr = endpoint_policy("EcrDkrEndpoint")
    main = generated_name("todo-prod-core", "MainRepository", "AWS::ECR::Repository")
    assert through(ecr, "ecr:BatchGetImage", repository + main)
    assert through(ecr, "ecr:GetAuthorizationToken", "*")
    assert not through(ecr, "ecr:BatchGetImage", repository + "todo-dev-core-mainrepository-x")
    assert not through(ecr, "ecr:PutImage", repository + main)
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"
    todos = generated_name("todo-prod-core", "TodosTable", "AWS::DynamoDB::Table")
    dynamodb = endpoint_policy("DynamoDbGatewayEndpoint")
    assert through(dynamodb, "dynamodb:GetItem", table + todos)
    assert not through(dynamodb, "dynamodb:DeleteTable", table + todos)
    assert not through(dynamodb, "dynamodb:GetItem", table + "todo-dev-core-TodosTable-x")
