"""Fixtures and helpers for the core stack's invariant tests (tests/generator/test_core_*.py).

The core template is read back from the YAML that `render_all()` produces (what reviewers read
and CloudFormation deploys), then resolved the way CloudFormation would resolve it for given
parameter values (`scripts.cfn.template.deployed`, the one resolver the local stack and the tests
share): Conditions decide which resources exist, Fn::If picks a branch and AWS::NoValue removes a
property. Each launch type is checked as it would deploy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from generator import render_all
from scripts.cfn import template as cfn_template
from scripts.cfn.template import parse_template

# Parameters without a default (Environment, WebsiteOrigin) and the image tags, set as
# config/<env>.json and deploy-service set them on a stack that runs: their `bootstrap` default
# runs no task, which tests/generator/test_core_bootstrap.py checks.
REQUIRED = {
    "Environment": "dev",
    "MainServiceImageDigest": "sha256:" + "0a1b" * 16,
    "FilesServiceImageDigest": "sha256:" + "2c3d" * 16,
    "WebsiteOrigin": "https://todo.example.com",
}
LAUNCH_TYPES = ("EC2", "FARGATE")
PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}


@pytest.fixture(scope="session")
def core_text() -> str:
    return render_all()["core.yaml"]


@pytest.fixture(scope="session")
def core_template(core_text: str) -> dict[str, Any]:
    """The rendered core template as plain data, unresolved (conditions still in place)."""
    return parse_template(core_text)


@pytest.fixture(scope="session", params=LAUNCH_TYPES)
def deployed(request: pytest.FixtureRequest, core_template: dict[str, Any]) -> dict[str, Any]:
    """The core template as it deploys with each launch type (other parameters at defaults)."""
    return resolve(core_template, {"LaunchType": request.param})


def resolve(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """The template as CloudFormation creates it: `given` names parameters or pseudo parameters."""
    pseudo = {**PSEUDO, **{k: v for k, v in given.items() if k.startswith("AWS::")}}
    params = {**REQUIRED, **{k: v for k, v in given.items() if not k.startswith("AWS::")}}
    return cfn_template.deployed(template, params, pseudo)


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == type_}


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id].get("Properties", {})
    return properties


def target(value: Any) -> str | None:
    """The logical ID a Ref or Fn::GetAtt points at (None for anything else)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return str(att[0] if isinstance(att, list) else att.split(".")[0])
    return None


def walk(value: Any) -> Iterator[Any]:
    """Every nested value, depth first."""
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
