"""Fixtures and helpers for the core stack's invariant tests (tests/generator/test_core_*.py).

The core template is read back from the YAML that `render_all()` produces (what reviewers read
and CloudFormation deploys), then resolved the way CloudFormation would resolve it for given
parameter values: Conditions decide which resources exist, Fn::If picks a branch and
AWS::NoValue removes a property. Each launch type is checked as it would deploy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import cfn_flip
import pytest

from generator import render_all

NO_VALUE = {"Ref": "AWS::NoValue"}

# Parameters without a default (WebsiteOrigin) and the image tags, set as config/<env>.json and
# deploy-service set them on a stack that runs: their `bootstrap` default runs no task, which
# tests/generator/test_core_bootstrap.py checks.
REQUIRED = {
    "MainServiceImageTag": "0123456789abcdef0123456789abcdef01234567",
    "FilesServiceImageTag": "v1.2.3",
    "WebsiteOrigin": "https://todo.example.com",
}
LAUNCH_TYPES = ("EC2", "FARGATE")
PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}


def _load(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(cfn_flip.load_yaml(text)))
    return loaded


@pytest.fixture(scope="session")
def core_text() -> str:
    return render_all()["core.yaml"]


@pytest.fixture(scope="session")
def core_template(core_text: str) -> dict[str, Any]:
    """The rendered core template as plain data, unresolved (conditions still in place)."""
    return _load(core_text)


@pytest.fixture(scope="session", params=LAUNCH_TYPES)
def deployed(request: pytest.FixtureRequest, core_template: dict[str, Any]) -> dict[str, Any]:
    """The core template as it deploys with each launch type (other parameters at defaults)."""
    return resolve(core_template, {"LaunchType": request.param})


def parameter_values(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    values = {name: p.get("Default") for name, p in template["Parameters"].items()}
    values.update(PSEUDO)
    values.update(REQUIRED)
    values.update(given)
    missing = sorted(name for name, value in values.items() if value is None)
    assert not missing, f"no value for parameters {missing}"
    return {name: str(value) for name, value in values.items()}


def _condition(expr: Any, params: dict[str, str], conditions: dict[str, Any]) -> Any:
    if isinstance(expr, dict) and len(expr) == 1:
        ((fn, arg),) = expr.items()
        if fn == "Ref":
            return params[arg]
        if fn == "Condition":
            return _condition(conditions[arg], params, conditions)
        if fn == "Fn::Equals":
            left, right = (_condition(a, params, conditions) for a in arg)
            return str(left) == str(right)
        if fn == "Fn::Not":
            return not _condition(arg[0], params, conditions)
        if fn == "Fn::And":
            return all(_condition(a, params, conditions) for a in arg)
        if fn == "Fn::Or":
            return any(_condition(a, params, conditions) for a in arg)
    return expr


def _resolve_value(value: Any, truth: dict[str, bool]) -> Any:
    """Pick Fn::If branches and drop AWS::NoValue; leave every other intrinsic as it is."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            return _resolve_value(when_true if truth[name] else when_false, truth)
        resolved = {k: _resolve_value(v, truth) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v != NO_VALUE}
    if isinstance(value, list):
        return [_resolve_value(v, truth) for v in value if v != NO_VALUE]
    return value


def resolve(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    params = parameter_values(template, given)
    conditions = template.get("Conditions", {})
    truth = {name: bool(_condition(expr, params, conditions)) for name, expr in conditions.items()}
    resolved = copy.deepcopy(template)
    resolved["Resources"] = {
        name: _resolve_value({k: v for k, v in res.items() if k != "Condition"}, truth)
        for name, res in template["Resources"].items()
        if truth.get(res.get("Condition", ""), True)
    }
    resolved["Parameters"] = {name: {"Value": value} for name, value in params.items()}
    return resolved


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
