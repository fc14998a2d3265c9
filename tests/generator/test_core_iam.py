"""Least privilege, read from the awacs-rendered policies in the template."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.generator.conftest import as_list, props, resolve, resources, target

# What each service calls (DESIGN.md -> Services), per resource. Written out here rather than
# read from generator/config.py, so a change there must be made twice to pass.
OWN_OBJECTS = "${FilesBucket.Arn}/*"
EXPECTED_TASK_ACCESS: dict[str, dict[str, set[str]]] = {
    "main": {
        "TodosTable": {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
        # A page of the list is one Query of the todos table's list-order index.
        "${TodosTable.Arn}/index/listOrder": {"dynamodb:Query"},
        "FilesTable": {"dynamodb:Query", "dynamodb:BatchWriteItem"},
        "FilesBucket": {"s3:ListBucket"},
        OWN_OBJECTS: {"s3:DeleteObject"},
    },
    "files": {
        # GetItem: the ownership check of list and delete; registering is one TransactWriteItems
        # (ConditionCheck on the todo + Put of the record), authorised per item.
        "TodosTable": {"dynamodb:GetItem", "dynamodb:ConditionCheckItem"},
        "FilesTable": {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"},
        OWN_OBJECTS: {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"},
    },
}
# Actions that AWS offers only on "*" (no resource-level permissions), and the network-interface
# calls of a function in a VPC, which Lambda checks its role for at CreateFunction on "*"
# (AWSLambdaVPCAccessExecutionRole; the boundary keeps them in the environment).
UNSCOPABLE = {
    "ecr:GetAuthorizationToken",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "logs:DescribeLogGroups",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
}
ECS_EXEC = {a for a in UNSCOPABLE if a.startswith(("ssmmessages:", "logs:"))}
# ECS Exec's session log ("Logging and auditing using ECS Exec"), on the exec log group only.
EXEC_LOG = {"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"}


def identity_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(owner, statement) for every identity policy: inline role policies and IAM policies."""
    found = []
    for name, res in template["Resources"].items():
        p = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            for policy in p.get("Policies", []):
                found += [(name, s) for s in policy["PolicyDocument"]["Statement"]]
        elif res["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            found += [(name, s) for s in p["PolicyDocument"]["Statement"]]
    return found


def wildcard_violations(template: dict[str, Any]) -> list[str]:
    found = []
    for owner, statement in identity_statements(template):
        actions = set(as_list(statement.get("Action", [])))
        if "NotAction" in statement or "NotResource" in statement:
            found.append(f"{owner}: Not* element")
        for action in actions:
            if action == "*" or action.endswith(":*"):
                found.append(f"{owner}: action {action}")
        if "*" in as_list(statement["Resource"]) and not actions <= UNSCOPABLE:
            found.append(f"{owner}: resource * for {sorted(actions - UNSCOPABLE)}")
    return found


def resource_key(resource: Any) -> str:
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        return str(resource["Fn::Sub"])
    return str(target(resource) or resource)


def task_access(template: dict[str, Any], service: str) -> dict[str, set[str]]:
    role = f"{service.title()}TaskRole"
    access: dict[str, set[str]] = {}
    for owner, statement in identity_statements(template):
        if owner != role or statement["Effect"] != "Allow":
            continue
        for resource in as_list(statement["Resource"]):
            access.setdefault(resource_key(resource), set()).update(as_list(statement["Action"]))
    return access


@pytest.fixture(scope="module", params=["true", "false"], ids=["exec-on", "exec-off"])
def with_exec(request: pytest.FixtureRequest, core_template: dict[str, Any]) -> dict[str, Any]:
    """The core template as it deploys with ECS Exec on (dev's default) and off (prod's)."""
    return resolve(core_template, {"EnableExec": request.param})


def test_no_identity_policy_uses_wildcards_it_can_avoid(with_exec: dict[str, Any]) -> None:
    assert wildcard_violations(with_exec) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": ["arn"]}, "action dynamodb:*"),
        ({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}, "resource *"),
        ({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": ["arn"]}, "Not* element"),
    ],
)
def test_the_wildcard_check_catches_a_broad_statement(
    with_exec: dict[str, Any], statement: dict[str, Any], expected: str
) -> None:
    broken = copy.deepcopy(with_exec)
    policy = props(broken, "FilesTaskRole")["Policies"][0]["PolicyDocument"]
    policy["Statement"].append(statement)
    (violation,) = wildcard_violations(broken)
    assert violation.startswith(f"FilesTaskRole: {expected}")


@pytest.mark.parametrize("service", sorted(EXPECTED_TASK_ACCESS))
def test_task_role_grants_exactly_what_the_service_calls(
    with_exec: dict[str, Any], service: str
) -> None:
    access = task_access(with_exec, service)
    exec_log = "ExecSessionLogGroup"
    data_access = {k: v for k, v in access.items() if k not in {"DataKey", "*", exec_log}}
    assert data_access == EXPECTED_TASK_ACCESS[service]
    exec_on = with_exec["Parameters"]["EnableExec"] == "true"
    # ECS Exec's channels and session log, only where exec is on, and nothing else on "*".
    assert access.get("*", set()) == (ECS_EXEC if exec_on else set())
    assert access.get(exec_log, set()) == (EXEC_LOG if exec_on else set())


@pytest.mark.parametrize("service", sorted(EXPECTED_TASK_ACCESS))
def test_task_role_uses_the_data_key_only_through_dynamodb_and_s3(
    with_exec: dict[str, Any], service: str
) -> None:
    role = f"{service.title()}TaskRole"
    (statement,) = [
        s
        for owner, s in identity_statements(with_exec)
        if owner == role and [target(r) for r in s["Resource"]] == ["DataKey"]
    ]
    services = json.dumps(statement["Condition"]["StringEquals"]["kms:ViaService"])
    assert "dynamodb.${AWS::Region}" in services
    assert "s3.${AWS::Region}" in services
    assert not {
        a
        for a in statement["Action"]
        if a
        not in {
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:DescribeKey",
        }
    }


@pytest.mark.parametrize("service", sorted(EXPECTED_TASK_ACCESS))
def test_each_task_definition_runs_with_its_own_role(
    core_template: dict[str, Any], service: str
) -> None:
    task = props(core_template, f"{service.title()}TaskDefinition")
    assert target(task["TaskRoleArn"]) == f"{service.title()}TaskRole"
    assert target(task["ExecutionRoleArn"]) == "TaskExecutionRole"


def test_task_roles_trust_only_this_accounts_tasks(core_template: dict[str, Any]) -> None:
    for name in ("MainTaskRole", "FilesTaskRole", "TaskExecutionRole"):
        (statement,) = props(core_template, name)["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        }


def test_execution_role_pulls_only_the_services_images_and_writes_their_logs(
    core_template: dict[str, Any],
) -> None:
    statements = props(core_template, "TaskExecutionRole")["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    by_sid = {s["Sid"]: s for s in statements}
    assert {target(r) for r in by_sid["PullServiceImages"]["Resource"]} == {
        "MainRepository",
        "FilesRepository",
    }
    assert {target(r) for r in by_sid["WriteServiceLogs"]["Resource"]} == {
        "MainLogGroup",
        "FilesLogGroup",
    }


def test_container_instances_get_the_ecs_agent_and_session_manager(
    core_template: dict[str, Any],
) -> None:
    role = props(core_template, "ContainerInstanceRole")
    managed = sorted(arn["Fn::Sub"].rsplit("/", 1)[-1] for arn in role["ManagedPolicyArns"])
    assert managed == ["AmazonEC2ContainerServiceforEC2Role", "AmazonSSMManagedInstanceCore"]
    assert "Policies" not in role
    (profile,) = resources(core_template, "AWS::IAM::InstanceProfile").values()
    assert [target(r) for r in profile["Properties"]["Roles"]] == ["ContainerInstanceRole"]


def test_every_exec_session_is_logged_to_an_encrypted_log_group(
    core_template: dict[str, Any],
) -> None:
    """CloudTrail records only that a session started; the cluster sends its commands and output
    to a log group encrypted with the data key, kept when the stack goes."""
    config = props(core_template, "Cluster")["Configuration"]["ExecuteCommandConfiguration"]
    assert config["Logging"] == "OVERRIDE"
    log = config["LogConfiguration"]
    assert log["CloudWatchEncryptionEnabled"] is True
    assert target(log["CloudWatchLogGroupName"]) == "ExecSessionLogGroup"
    assert "S3BucketName" not in log
    group = core_template["Resources"]["ExecSessionLogGroup"]
    assert target(group["Properties"]["KmsKeyId"]) == "DataKey"
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"
    assert "Condition" not in group  # kept through exec off and on again
