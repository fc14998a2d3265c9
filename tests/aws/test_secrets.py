"""Secrets reach the tasks by reference only, readable by exactly the execution role, per profile.

No production secret exists yet (generator/config.py): a test-only settings variant declares one
Secrets Manager secret and one SSM SecureString, and the same checks as for the real templates
run on it: the task definitions, the execution role as IAM evaluates it within the environment's
boundary, the CloudFormation execution role's handler permissions, and the endpoints a private
stack needs.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pytest

from generator import render_all
from generator.config import SecretSpec, Settings
from generator.managed_policies import CONTAINER_INSTANCE_POLICIES
from scripts.cfn.template import parse_template
from scripts.iam.policy import Request
from scripts.iam.stack_calls import stack_calls
from scripts.iam.stack_roles import RolePolicies, managed_policy_documents, role_policies
from tests.aws.conftest import (
    ACCOUNT,
    GITHUB_REPOSITORY,
    REGION,
    allowed,
    core_parameters,
    deployment,
)
from tests.aws.handler_exceptions import EXCEPTIONS
from tests.aws.test_private_egress import callable_actions, endpoints_of, needed_endpoints
from tests.generator.conftest import resolve

VARIANT = dataclasses.replace(
    Settings(),
    secrets=(
        SecretSpec("EXAMPLE_API_KEY", "example-api-key"),
        SecretSpec("EXAMPLE_SIGNING_KEY", "example-signing-key", store="ssm", services=("main",)),
    ),
)
IN_REGION = {"aws:RequestedRegion": REGION}


@functools.cache
def rendered(variant: bool = True) -> dict[str, dict[str, Any]]:
    texts = render_all(VARIANT if variant else Settings())
    return {name.removesuffix(".yaml"): parse_template(text) for name, text in texts.items()}


def ci_roles(environment: str) -> dict[str, RolePolicies]:
    parameters = {"Environment": environment, "GitHubRepository": GITHUB_REPOSITORY}
    return role_policies(rendered()["ci"], "ci", deployment(environment), parameters)


def core_roles(environment: str, **given: str) -> dict[str, RolePolicies]:
    ci_parameters = {"Environment": environment, "GitHubRepository": GITHUB_REPOSITORY}
    boundary = managed_policy_documents(
        rendered()["ci"], "ci", deployment(environment), ci_parameters
    )
    aws_managed = {f"arn:aws:{p.arn_suffix}": p.document for p in CONTAINER_INSTANCE_POLICIES}
    return role_policies(
        rendered()["core"],
        "core",
        deployment(environment),
        core_parameters(environment, **given),
        managed={**aws_managed, **boundary},
    )


def containers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        c["Name"]: c
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition"
        for c in r["Properties"]["ContainerDefinitions"]
    }


def test_no_production_secret_exists_yet() -> None:
    assert Settings().secrets == ()
    for container in containers(resolve(rendered(variant=False)["core"], {})).values():
        assert "Secrets" not in container


def test_a_secret_is_a_reference_in_the_task_definition_never_a_value() -> None:
    found = containers(resolve(rendered()["core"], {}))
    main = {s["Name"]: s["ValueFrom"] for s in found["main"]["Secrets"]}
    files = {s["Name"]: s["ValueFrom"] for s in found["files"]["Secrets"]}
    assert main["EXAMPLE_API_KEY"] == {"Ref": "ExampleApiKeySecret"}
    assert main["EXAMPLE_SIGNING_KEY"]["Fn::Sub"].endswith(
        ":parameter/${AWS::StackName}/example-signing-key"
    )
    assert set(files) == {"EXAMPLE_API_KEY"}  # only the services a secret names get it
    for container in found.values():
        names = {e["Name"] for e in container["Environment"]}
        assert not names & {"EXAMPLE_API_KEY", "EXAMPLE_SIGNING_KEY"}
    secret = rendered()["core"]["Resources"]["ExampleApiKeySecret"]
    assert secret["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert secret["DeletionPolicy"] == "Retain"


def _secret_arn(environment: str) -> str:
    """The secret's ARN as the sample deployment of `environment` names it (its Ref)."""
    execution = core_roles(environment)["TaskExecutionRole"]
    (arn,) = [
        s["Resource"][0]
        for _, document in execution.policies
        for s in document["Statement"]
        if s.get("Sid") == "ReadTheTasksSecrets"
    ]
    assert f"secret:todo-{environment}-core-" in arn
    return str(arn)


def _parameter_arn(environment: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/todo-{environment}-core/example-signing-key"


@pytest.mark.parametrize(("own", "other"), [("dev", "prod"), ("prod", "dev")])
def test_only_the_execution_role_reads_exactly_its_secrets(own: str, other: str) -> None:
    roles = core_roles(own)
    execution = roles["TaskExecutionRole"]
    secret = Request("secretsmanager:GetSecretValue", _secret_arn(own), IN_REGION)
    parameter = Request("ssm:GetParameters", _parameter_arn(own), IN_REGION)
    (key,) = [
        s["Resource"][0]
        for _, document in execution.policies
        for s in document["Statement"]
        if s.get("Sid") == "DecryptTheSecretsThroughTheirService"
    ]
    decrypt = Request(
        "kms:Decrypt",
        key,
        {
            **IN_REGION,
            "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com",
            "aws:ResourceTag/todo:environment": own,
        },
    )
    for request in (secret, parameter, decrypt):
        assert allowed(execution, request).allowed, request
    direct = dataclasses.replace(decrypt, context={**decrypt.context, "kms:ViaService": ""})
    assert not allowed(execution, direct).allowed  # only through Secrets Manager or SSM
    for request in (
        Request(secret.action, _secret_arn(other), IN_REGION),
        Request(parameter.action, _parameter_arn(other), IN_REGION),
    ):
        assert not allowed(execution, request).allowed, request
    for name in ("MainTaskRole", "FilesTaskRole"):  # the application itself gets the value only
        assert not allowed(roles[name], secret).allowed  # through its environment


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_cloudformation_execution_role_manages_the_secret(environment: str) -> None:
    parameters = core_parameters(environment)
    calls = [
        c
        for c in stack_calls(
            rendered()["core"], "core", deployment(environment), parameters, exceptions=EXCEPTIONS
        )
        if c.resource_type == "AWS::SecretsManager::Secret"
    ]
    assert calls
    execution = ci_roles(environment)["CloudFormationExecutionRole"]
    denied = [c.describe() for c in calls if not allowed(execution, c.request).allowed]
    assert not denied, denied


@pytest.mark.parametrize("launch_type", ["EC2", "FARGATE"])
def test_a_private_stack_reaches_its_secrets_through_endpoints(launch_type: str) -> None:
    given = {"Egress": "None", "LaunchType": launch_type, "EnableExec": "false"}
    template = resolve(rendered()["core"], {**given, "UserPoolJwks": "{}"})
    needed = needed_endpoints(callable_actions(core_roles("prod", **given), template))
    assert {"secretsmanager", "ssm"} <= set(needed)
    assert {"secretsmanager", "ssm"} <= set(endpoints_of(template))
