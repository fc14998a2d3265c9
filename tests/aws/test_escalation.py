"""Escalation and blast radius: concrete requests that the roles must be refused.

Each test builds the request AWS would evaluate and asks the evaluator, so a widened action, a
lost condition or a missing boundary shows up here as a request that is suddenly allowed.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from scripts.iam import actions
from scripts.iam.policy import Request
from scripts.iam.sample import generated_name
from scripts.iam.stack_calls import StackCall
from scripts.iam.stack_roles import RolePolicies
from tests.aws.conftest import (
    ACCOUNT,
    REGION,
    allowed,
    ci_documents,
    ci_roles,
    core_roles,
)
from tests.aws.test_handler_permissions import calls_of

IN_REGION = {"aws:RequestedRegion": REGION}
GLOBAL = {"aws:RequestedRegion": "us-east-1"}
EXECUTION_ROLE = "CloudFormationExecutionRole"

# What dev's execution role can still do to prod's resources in a shared account, and why
# nothing can confine it there (docs/aws-semantics.md, "Shared account: what stays open").
# (action pattern, resource pattern) -> reason.
SHARED_ACCOUNT_GAPS: dict[tuple[str, str], str] = {
    ("apigateway:*", "arn:aws:apigateway:*::/apis/*/*"): (
        "an HTTP API's routes, integrations, authorizers and stages-collection carry no tags "
        "and, unlike a REST API's, inherit none"
    ),
    ("cloudfront:*", "arn:aws:cloudfront::*:origin-access-control/*"): "no tags, ID-only ARN",
    ("cloudfront:*", "arn:aws:cloudfront::*:response-headers-policy/*"): "no tags, ID-only ARN",
    ("cloudfront:*", "arn:aws:cloudfront::*:origin-access-identity/*"): "no tags, ID-only ARN",
    ("ecs:DeregisterTaskDefinition", "*"): "no resource type in the reference",
    ("cloudwatch:TagResource", "*"): "dashboards' tagging has no resource type",
    ("cloudwatch:UntagResource", "*"): "dashboards' tagging has no resource type",
    ("sns:Unsubscribe", "*"): "no resource type in the reference",
    ("logs:*LogDelivery", "*"): "account-level log delivery (access logs, flow logs)",
    ("logs:*ResourcePolicy", "*"): "account-level log delivery (access logs, flow logs)",
}


def _is_read(action: str) -> bool:
    return actions.action_info(action).access_level in ("Read", "List")


def _gap(call: StackCall) -> str | None:
    for (action, resource), reason in SHARED_ACCOUNT_GAPS.items():
        if fnmatch.fnmatchcase(call.request.action, action) and fnmatch.fnmatchcase(
            call.request.resource, resource
        ):
            return reason
    return None


@pytest.mark.parametrize(("own", "other"), [("dev", "prod"), ("prod", "dev")])
def test_one_environments_execution_role_cannot_change_the_others_resources(
    rendered: dict[str, dict[str, Any]], own: str, other: str
) -> None:
    """Every handler call on the other environment's resources that is not a read or the
    creation of a new resource is refused, but for the reviewed gaps of a shared account."""
    role = ci_roles(own)[EXECUTION_ROLE]
    reached: set[tuple[str, str]] = set()
    leaks = []
    for launch_type in ("EC2", "FARGATE"):
        for call in calls_of(rendered, other, launch_type):
            if not allowed(role, call.request).allowed:
                continue
            if call.creating or _is_read(call.request.action):
                continue
            # A resource that is neither in the other stacks nor named after them (an instance
            # being launched, a new API in the account's collection) is not the other's; a call
            # on `*` may reach anything, so it stays in the account below.
            resource = call.request.resource
            if call.target is None and resource != "*" and f"todo-{other}-" not in resource:
                continue
            reason = _gap(call)
            if reason is None:
                leaks.append(call.describe())
            else:
                reached |= {
                    key
                    for key in SHARED_ACCOUNT_GAPS
                    if fnmatch.fnmatchcase(call.request.action, key[0])
                }
    assert not leaks, f"{own}'s execution role may change {other}'s:\n  " + "\n  ".join(
        sorted(set(leaks))[:30]
    )
    stale = {a for a, _ in SHARED_ACCOUNT_GAPS} - {a for a, _ in reached}
    assert not stale, f"gaps no longer reached (remove them): {sorted(stale)}"


def _role_request(
    action: str, role: str = "todo-dev-core-Escalate-0A1B2C", **context: Any
) -> Request:
    return Request(action, f"arn:aws:iam::{ACCOUNT}:role/{role}", {**GLOBAL, **context})


BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/todo-dev-workload-boundary"


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (_role_request("iam:CreateRole"), False),  # no boundary
        (
            _role_request(
                "iam:CreateRole", **{"iam:PermissionsBoundary": BOUNDARY.replace("dev", "prod")}
            ),
            False,
        ),
        (
            _role_request(
                "iam:CreateRole",
                **{"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"},
            ),
            False,
        ),
        (_role_request("iam:CreateRole", **{"iam:PermissionsBoundary": BOUNDARY}), True),
        (
            _role_request(
                "iam:DeleteRolePermissionsBoundary", **{"iam:PermissionsBoundary": BOUNDARY}
            ),
            False,
        ),
        (
            _role_request(
                "iam:PutRolePermissionsBoundary",
                **{"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"},
            ),
            False,
        ),
        (
            _role_request(
                "iam:AttachRolePolicy",
                **{
                    "iam:PermissionsBoundary": BOUNDARY,
                    "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess",
                },
            ),
            False,
        ),
        (_role_request("iam:PutRolePolicy", **{"iam:PermissionsBoundary": BOUNDARY}), True),
        (_role_request("iam:PutRolePolicy"), False),  # a role without the boundary
        (
            _role_request(
                "iam:CreateRole",
                role="todo-dev-ci-Escalate",
                **{"iam:PermissionsBoundary": BOUNDARY},
            ),
            False,
        ),
        (Request("iam:CreatePolicyVersion", BOUNDARY, GLOBAL), False),
        (Request("iam:DeletePolicy", BOUNDARY, GLOBAL), False),
        (Request("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/todo-dev-core-x", GLOBAL), False),
    ],
    ids=[
        "create-without-boundary",
        "create-with-prod-boundary",
        "create-with-admin-as-boundary",
        "create-with-the-boundary",
        "remove-the-boundary",
        "swap-the-boundary",
        "attach-administrator",
        "inline-policy-on-bounded-role",
        "inline-policy-on-unbounded-role",
        "role-outside-the-core-stack",
        "edit-the-boundary",
        "delete-the-boundary",
        "create-a-user",
    ],
)
def test_the_execution_role_creates_roles_only_inside_the_boundary(
    request_: Request, expected: bool
) -> None:
    decision = allowed(ci_roles("dev")[EXECUTION_ROLE], request_)
    assert decision.allowed is expected, decision.reason


def _pass(role_name: str, service: str) -> Request:
    return _role_request("iam:PassRole", role=role_name, **{"iam:PassedToService": service})


@pytest.mark.parametrize(
    ("role_name", "service", "expected"),
    [
        ("todo-dev-core-ContainerInstanceRole-0A1B", "ec2.amazonaws.com", True),
        ("todo-dev-core-MainTaskRole-0A1B", "ec2.amazonaws.com", False),
        ("todo-dev-core-Escalate-0A1B", "ec2.amazonaws.com", False),
        ("todo-dev-core-MainTaskRole-0A1B", "ecs-tasks.amazonaws.com", True),
        ("todo-dev-core-MainTaskRole-0A1B", "lambda.amazonaws.com", False),
        ("todo-dev-ci-CloudFormationExecutionRole-0A1B", "ecs-tasks.amazonaws.com", False),
        ("todo-prod-core-MainTaskRole-0A1B", "ecs-tasks.amazonaws.com", False),
    ],
)
def test_roles_are_passed_only_to_their_own_service(
    role_name: str, service: str, expected: bool
) -> None:
    decision = allowed(ci_roles("dev")[EXECUTION_ROLE], _pass(role_name, service))
    assert decision.allowed is expected, decision.reason


def test_a_role_made_to_be_administrator_stays_inside_the_boundary() -> None:
    """The worst role dev's execution role could create: an inline `*:*`, with the boundary it
    must carry. IAM grants the intersection, so it reaches only dev's workload calls."""
    (boundary,) = [
        (arn, doc) for arn, doc in ci_documents("dev").items() if arn.endswith("workload-boundary")
    ]
    admin = RolePolicies(
        logical_id="Escalated",
        arn=f"arn:aws:iam::{ACCOUNT}:role/todo-dev-core-Escalated-0A1B",
        policies=(
            (
                "admin",
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                },
            ),
        ),
        boundary=boundary,
        trust={},
    )
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/todo-{{}}-core-TodosTable-0A1B"
    assert allowed(admin, Request("dynamodb:GetItem", table.format("dev"), IN_REGION)).allowed
    for request in (
        Request("dynamodb:GetItem", table.format("prod"), IN_REGION),
        Request("dynamodb:DeleteTable", table.format("dev"), IN_REGION),
        Request("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x", GLOBAL),
        Request("s3:GetObject", "arn:aws:s3:::todo-prod-core-filesbucket-0a1b/k", IN_REGION),
        Request("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/todo-prod-ci-x", GLOBAL),
        Request("ec2:RunInstances", f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*", IN_REGION),
    ):
        decision = allowed(admin, request)
        assert not decision.allowed, f"{request.action} on {request.resource}: {decision.reason}"


TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/" + "{}"


def _table(environment: str, logical_id: str) -> str:
    return TABLE.format(
        generated_name(f"todo-{environment}-core", logical_id, "AWS::DynamoDB::Table")
    )


@pytest.mark.parametrize(
    ("role", "action", "table", "expected"),
    [
        ("MainTaskRole", "dynamodb:PutItem", "TodosTable", True),
        ("MainTaskRole", "dynamodb:PutItem", "FilesTable", False),
        ("FilesTaskRole", "dynamodb:PutItem", "FilesTable", True),
        ("FilesTaskRole", "dynamodb:PutItem", "TodosTable", False),
        ("FilesTaskRole", "dynamodb:DeleteItem", "TodosTable", False),
        ("MainTaskRole", "dynamodb:Scan", "TodosTable", False),
    ],
)
def test_each_task_role_reaches_only_its_own_calls(
    role: str, action: str, table: str, expected: bool
) -> None:
    decision = allowed(core_roles("dev")[role], Request(action, _table("dev", table), IN_REGION))
    assert decision.allowed is expected, decision.reason


@pytest.mark.parametrize(("own", "other"), [("dev", "prod"), ("prod", "dev")])
@pytest.mark.parametrize("role", ["MainTaskRole", "FilesTaskRole"])
def test_task_roles_cannot_reach_the_other_environments_data(
    own: str, other: str, role: str
) -> None:
    task = core_roles(own)[role]
    bucket = generated_name(f"todo-{other}-core", "FilesBucket", "AWS::S3::Bucket")
    for request in (
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/some-user/some-file", IN_REGION),
        Request("s3:DeleteObject", f"arn:aws:s3:::{bucket}/some-user/some-file", IN_REGION),
        Request("dynamodb:GetItem", _table(other, "TodosTable"), IN_REGION),
    ):
        decision = allowed(task, request)
        assert not decision.allowed, f"{own} {role} may {request.action} on {request.resource}"


@pytest.mark.parametrize(("own", "other"), [("dev", "prod"), ("prod", "dev")])
def test_container_instances_join_only_their_own_cluster(own: str, other: str) -> None:
    """The ECS agent's managed policy allows every cluster; the boundary keeps it to its own."""
    instance = core_roles(own)["ContainerInstanceRole"]

    def cluster(environment: str) -> str:
        name = generated_name(f"todo-{environment}-core", "Cluster", "AWS::ECS::Cluster")
        return f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"

    register = "ecs:RegisterContainerInstance"
    assert allowed(instance, Request(register, cluster(own), IN_REGION)).allowed
    assert not allowed(instance, Request(register, cluster(other), IN_REGION)).allowed
    assert not allowed(instance, Request("ecs:CreateCluster", "*", IN_REGION)).allowed


def test_the_execution_role_acts_only_in_its_region() -> None:
    role = ci_roles("dev")[EXECUTION_ROLE]
    create = Request(
        "ec2:CreateVpc",
        f"arn:aws:ec2:us-west-2:{ACCOUNT}:vpc/vpc-0a1b",
        {"aws:RequestedRegion": "us-west-2"},
    )
    assert not allowed(role, create).allowed
    assert allowed(
        role, Request(create.action, create.resource.replace("us-west-2", REGION), IN_REGION)
    ).allowed


def test_the_blast_radius_check_fails_without_the_tag_condition(
    rendered: dict[str, dict[str, Any]],
) -> None:
    """The same scan on an execution role whose tag-confined statement lost its tag condition."""
    import copy

    role = copy.deepcopy(ci_roles("dev")[EXECUTION_ROLE])
    for _, document in role.policies:
        for statement in document["Statement"]:
            if statement.get("Sid") == "ChangeThisEnvironmentsResources":
                del statement["Condition"]["StringEquals"]["aws:ResourceTag/todo:environment"]
    changed = {
        call.describe()
        for call in calls_of(rendered, "prod", "EC2")
        if call.target is not None
        and not call.creating
        and not _is_read(call.request.action)
        and allowed(role, call.request).allowed
    }
    assert any("todo-prod-core/Vpc (AWS::EC2::VPC) delete: ec2:DeleteVpc" in c for c in changed)


def _exec_log_stream(environment: str) -> str:
    group = generated_name(f"todo-{environment}-core", "ExecSessionLogGroup", "AWS::Logs::LogGroup")
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:ecs-execute-command-1"


@pytest.mark.parametrize("role", ["MainTaskRole", "FilesTaskRole"])
def test_exec_sessions_are_logged_within_the_boundary_and_only_with_exec_on(role: str) -> None:
    """With EnableExec the task roles open the session channels and write the session log, on
    their own environment's log group only: the boundary allows what ECS Exec's logging needs
    ("Logging and auditing using ECS Exec")."""
    on = core_roles("dev", EnableExec="true")[role]
    off = core_roles("dev", EnableExec="false")[role]
    own = Request("logs:PutLogEvents", _exec_log_stream("dev"), IN_REGION)
    requests = [
        own,
        Request("logs:CreateLogStream", own.resource, IN_REGION),
        Request("logs:DescribeLogGroups", "*", IN_REGION),
        Request("ssmmessages:OpenDataChannel", "*", IN_REGION),
    ]
    for request in requests:
        assert allowed(on, request).allowed, request
        assert not allowed(off, request).allowed, request
    other = Request("logs:PutLogEvents", _exec_log_stream("prod"), IN_REGION)
    assert not allowed(on, other).allowed
