"""The CloudFormation execution role allows every permission its resource handlers ask for.

For every resource of core.yaml and website.yaml, as each environment's config deploys it (with
either launch type), every action its type's create, update and delete handlers list in the
CloudFormation registry schema becomes the concrete requests IAM evaluates: the resource ARNs as
the template names them and the context AWS supplies (scripts/iam/stack_calls.py). Each must be
allowed by the execution role of the same environment's CI stack. What is left out on purpose is
in handler_exceptions.py, each with its reason.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from scripts.cfn import sam
from scripts.cfn.schemas import resource_schema
from scripts.iam.policy import Policy
from scripts.iam.stack_calls import StackCall, stack_calls
from scripts.iam.stack_roles import RolePolicies, key_policies
from tests.aws.conftest import (
    ENVIRONMENTS,
    allowed,
    ci_roles,
    core_parameters,
    deployment,
    website_parameters,
)
from tests.aws.handler_exceptions import EXCEPTIONS

ROOT = Path(__file__).resolve().parents[2]
EXECUTION_ROLE = "CloudFormationExecutionRole"


def config_values(environment: str, layer: str) -> dict[str, str]:
    """config/<env>.json's values for a stack, `${core.X}` references left to the caller."""
    values = json.loads((ROOT / "config" / f"{environment}.json").read_text())[layer]
    return {k: str(v) for k, v in values.items() if "${" not in str(v)}


def calls_of(
    rendered: dict[str, dict[str, Any]], environment: str, launch_type: str
) -> list[StackCall]:
    core = core_parameters(environment, **config_values(environment, "core"))
    core["LaunchType"] = launch_type
    website = {**website_parameters(environment), **config_values(environment, "website")}
    where = deployment(environment)
    return [
        *stack_calls(rendered["core"], "core", where, core, exceptions=EXCEPTIONS),
        *stack_calls(rendered["website"], "website", where, website, exceptions=EXCEPTIONS),
    ]


def denied(
    calls: list[StackCall], role: RolePolicies, keys: Mapping[str, Mapping[str, Any]] = {}
) -> list[str]:
    """The calls IAM refuses the role; a call on a KMS key is evaluated with its key policy."""
    lines = []
    for call in calls:
        key_policy = keys.get(call.target or "") if call.request.action.startswith("kms:") else None
        if key_policy is None:
            decision = allowed(role, call.request)
        else:
            decision = allowed(
                role,
                dataclasses.replace(call.request, principal=role.arn),
                key_policy=Policy(f"key policy of {call.target}", key_policy),
            )
        if not decision.allowed:
            lines.append(f"{call.describe()}: {decision.reason}")
    return lines


def core_key_policies(environment: str, rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return key_policies(
        rendered["core"], "core", deployment(environment), core_parameters(environment)
    )


@pytest.mark.parametrize("launch_type", ["EC2", "FARGATE"])
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_execution_role_allows_every_handler_permission(
    rendered: dict[str, dict[str, Any]], environment: str, launch_type: str
) -> None:
    calls = calls_of(rendered, environment, launch_type)
    assert len(calls) > 1000  # every resource's handlers, not an empty run
    keys = core_key_policies(environment, rendered)
    assert keys  # the data key's policy takes part
    missing = denied(calls, ci_roles(environment)[EXECUTION_ROLE], keys)
    summary = "\n  ".join(sorted(set(missing))[:40])
    assert not missing, f"{len(missing)} handler permission(s) denied:\n  {summary}"


def test_the_check_names_the_resource_permission_and_arn_it_misses(
    rendered: dict[str, dict[str, Any]],
) -> None:
    """The same check on an execution role without its DynamoDB statement."""
    role = copy.deepcopy(ci_roles("dev")[EXECUTION_ROLE])
    for _, document in role.policies:
        document["Statement"][:] = [
            s for s in document["Statement"] if s.get("Sid") != "ManageDynamodbOfThisEnvironment"
        ]
    missing = denied(calls_of(rendered, "dev", "EC2"), role)
    assert (
        "todo-dev-core/TodosTable (AWS::DynamoDB::Table) create: dynamodb:CreateTable on "
        "arn:aws:dynamodb:eu-west-1:111122223333:table/todo-dev-core-TodosTable-"
    ) in "\n".join(missing)
    assert {line.split(" (")[1].split(")")[0] for line in missing} == {"AWS::DynamoDB::Table"}


def test_every_exception_still_names_a_handler_permission(
    rendered: dict[str, dict[str, Any]],
) -> None:
    """A stale exception would hide the day the feature is used."""
    import fnmatch

    used = {
        r["Type"]
        for name in ("core", "website")
        for r in sam.expand(rendered[name], {})["Resources"].values()
    }
    listed = {
        (t, action)
        for t in used
        for handler in ("create", "update", "delete")
        for action in resource_schema(t).handler_permissions(handler)
    }
    for (rtype, pattern), reason in EXCEPTIONS.items():
        assert reason.strip()
        assert any(
            t == rtype and fnmatch.fnmatchcase(a.lower(), pattern.lower()) for t, a in listed
        ), f"exception ({rtype}, {pattern}) matches no handler permission any more"


def test_kms_calls_need_the_key_policy_too(rendered: dict[str, dict[str, Any]]) -> None:
    """Without the key policy's statement that delegates to IAM, the execution role's own
    allow is not enough: KMS refuses (Default key policy, KMS Developer Guide)."""
    keys = copy.deepcopy(core_key_policies("dev", rendered))
    for policy in keys.values():
        policy["Statement"] = [
            s for s in policy["Statement"] if s.get("Sid") != "AccountAdministersKeyThroughIam"
        ]
    missing = denied(calls_of(rendered, "dev", "EC2"), ci_roles("dev")[EXECUTION_ROLE], keys)
    assert missing
    assert all(" kms:" in line for line in missing), missing[:3]
