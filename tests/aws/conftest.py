"""The rendered templates, and sample parameter values for a dev and a prod environment."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import pytest

from generator import render_all
from generator.managed_policies import CONTAINER_INSTANCE_POLICIES
from scripts.cfn.template import parse_template
from scripts.iam.policy import Decision, Policy, Request, evaluate
from scripts.iam.sample import Deployment
from scripts.iam.stack_roles import RolePolicies, managed_policy_documents, role_policies

ACCOUNT = "111122223333"
GITHUB_REPOSITORY = "example-org/todo"
REGION = "eu-west-1"  # not us-east-1, so that a global service's region shows up in the checks
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::StackName": "todo-dev-core",
    "AWS::URLSuffix": "amazonaws.com",
}


def core_parameters(environment: str = "dev", **given: str) -> dict[str, str]:
    """The core stack's values as a running environment has them (image tags rolled out)."""
    return {
        "Environment": environment,
        "MainServiceImageDigest": "sha256:" + "0a1b" * 16,
        "FilesServiceImageDigest": "sha256:" + "0a1b" * 16,
        "WebsiteOrigin": f"https://{environment}.todo.example.com",
        # A Slack channel, so that its resources (created only with one) are checked too.
        "SlackWorkspaceId": "T0123ABCD",
        "SlackChannelId": "C0123ABCD",
        **given,
    }


def website_parameters(environment: str = "dev") -> dict[str, str]:
    return {
        "ApiUrl": f"https://api-{environment}.execute-api.{REGION}.amazonaws.com",
        "FilesBucketName": f"todo-{environment}-core-filesbucket-0a1b2c3d4e5f",
    }


@pytest.fixture(scope="session")
def rendered() -> dict[str, dict[str, Any]]:
    return {name.removesuffix(".yaml"): parse_template(text) for name, text in render_all().items()}


@pytest.fixture(scope="session")
def core(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return rendered["core"]


@pytest.fixture(scope="session")
def website(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return rendered["website"]


@pytest.fixture(scope="session")
def ci(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return rendered["ci"]


# --- the roles of the stacks, as IAM evaluates them -----------------------------------------

ENVIRONMENTS = ("dev", "prod")


def deployment(environment: str) -> Deployment:
    return Deployment(environment, account=ACCOUNT, region=REGION)


@functools.cache
def ci_roles(environment: str) -> dict[str, RolePolicies]:
    template = parse_template(render_all()["ci.yaml"])
    parameters = {"Environment": environment, "GitHubRepository": GITHUB_REPOSITORY}
    return role_policies(template, "ci", deployment(environment), parameters)


@functools.cache
def ci_documents(environment: str) -> dict[str, Mapping[str, Any]]:
    """The CI stack's managed policies by ARN (the workload boundary among them)."""
    template = parse_template(render_all()["ci.yaml"])
    parameters = {"Environment": environment, "GitHubRepository": GITHUB_REPOSITORY}
    return managed_policy_documents(template, "ci", deployment(environment), parameters)


@functools.cache
def core_roles(environment: str, **given: str) -> dict[str, RolePolicies]:
    """The core stack's roles, their boundary read from the same environment's CI stack."""
    template = parse_template(render_all()["core.yaml"])
    aws_managed = {f"arn:aws:{p.arn_suffix}": p.document for p in CONTAINER_INSTANCE_POLICIES}
    parameters = core_parameters(environment, **given)
    return role_policies(
        template,
        "core",
        deployment(environment),
        parameters,
        managed={**aws_managed, **ci_documents(environment)},
    )


def allowed(role: RolePolicies, request: Request, key_policy: Policy | None = None) -> Decision:
    """IAM's decision for a request made by `role` (identity policies within its boundary); with
    `key_policy`, as KMS decides: only if the key policy allows too."""
    identity = [Policy(name, document) for name, document in role.policies]
    boundary = Policy(*role.boundary) if role.boundary else None
    if key_policy is None:
        return evaluate(request, identity, boundary=boundary)
    return evaluate(
        request,
        identity,
        boundary=boundary,
        resource_policy=key_policy,
        resource_policy_required=True,
    )
