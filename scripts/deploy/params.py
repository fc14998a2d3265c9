"""Stack names, config/<env>.json loading, and `${core.OutputKey}` resolution."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from scripts.cfn.template import UnsupportedTemplate, parse_template
from scripts.deploy.aws import Client, error_message
from scripts.deploy.errors import ConfigError, DeployFailed, MissingOutput
from scripts.pipeline.environments import environments

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "config"
TEMPLATES_DIR = ROOT / "templates"
PROJECT = "todo"
STACKS = ("core", "website")
# An environment exists because config/<env>.json does, in config/promotion.json's order.
ENVS = tuple(environments(CONFIG_DIR))

_REFERENCE = re.compile(r"\$\{core\.([A-Za-z0-9]+)\}")


def stack_name(env: str, stack: str) -> str:
    return f"{PROJECT}-{env}-{stack}"


def stack_tags(env: str) -> list[dict[str, str]]:
    """The tags of every stack of `env`. CloudFormation copies them to each resource it can tag,
    and the CI stack's execution role changes only resources whose `<project>:environment` tag
    names its own environment (generator/ci_permissions.py)."""
    return [
        {"Key": "project", "Value": PROJECT},
        {"Key": f"{PROJECT}:environment", "Value": env},
    ]


def load_config(env: str, config_dir: Path = CONFIG_DIR) -> dict[str, dict[str, Any]]:
    path = config_dir / f"{env}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path} does not exist: create it with the parameter values for {env}"
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ConfigError(f'{path} must be {{"core": {{...}}, "website": {{...}}}}')
    return data


def _as_parameter_value(value: Any) -> str:
    """CloudFormation parameters are strings; JSON numbers, booleans and lists are spelled out."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_as_parameter_value(v) for v in value)
    return str(value)


def resolve_values(
    values: Mapping[str, Any], core_outputs: Callable[[], Mapping[str, str]], core_stack: str
) -> dict[str, str]:
    """Replace every `${core.Key}` with that core output; fetch the outputs only if needed."""
    resolved: dict[str, str] = {}
    for key, raw in values.items():
        text = _as_parameter_value(raw)

        def substitute(match: re.Match[str], parameter: str = key) -> str:
            outputs = core_outputs()
            name = match.group(1)
            if name not in outputs:
                known = ", ".join(sorted(outputs)) or "none"
                raise MissingOutput(
                    f"parameter {parameter} refers to ${{core.{name}}}, but stack {core_stack} "
                    f"has no output {name} (its outputs: {known})"
                )
            return outputs[name]

        resolved[key] = _REFERENCE.sub(substitute, text)
    return resolved


def stack_outputs(cfn: Client, name: str) -> dict[str, str]:
    stack = describe_stack(cfn, name)
    if stack is None:
        raise ConfigError(
            f"stack {name} does not exist: deploy it first "
            f"(make deploy STACK={name.rsplit('-', 1)[-1]} ENV={name.split('-')[1]})"
        )
    return outputs_of(stack)


def outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    """A DescribeStacks entry's Outputs as {OutputKey: OutputValue}."""
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def parameters_of(stack: Mapping[str, Any]) -> dict[str, str]:
    """A DescribeStacks entry's Parameters as {ParameterKey: ParameterValue}."""
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters") or []}


def previous_values_except(stack: Mapping[str, Any], key: str, value: str) -> list[dict[str, Any]]:
    """Parameters for an update of the live stack that changes only `key` to `value`: every other
    parameter keeps its current value (UsePreviousValue)."""
    return previous_values_with(stack, {key: value})


def previous_values_with(
    stack: Mapping[str, Any], changes: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Parameters for an update of the live stack that sets `changes` and keeps every other
    parameter's current value (UsePreviousValue)."""
    keys = sorted(parameters_of(stack))
    for key in changes:
        if key not in keys:
            raise DeployFailed(
                f"stack {stack['StackName']} has no parameter {key}: was it created from "
                "templates/core.yaml?"
            )
    return [
        {"ParameterKey": k, "ParameterValue": changes[k]}
        if k in changes
        else {"ParameterKey": k, "UsePreviousValue": True}
        for k in keys
    ]


def describe_stack(cfn: Client, name: str) -> dict[str, Any] | None:
    """The stack's description, or None when it does not exist."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if stack_missing(exc):
            return None
        raise
    return stacks[0] if stacks else None


def stack_missing(exc: ClientError) -> bool:
    """CloudFormation says a stack is missing only in words: a ValidationError "... does not
    exist" (also for a deleted stack asked for by name)."""
    return "does not exist" in error_message(exc)


def template_parameters(body: str) -> dict[str, dict[str, Any]]:
    """The template's declared parameters, read by the one template loader."""
    try:
        document = parse_template(body)
    except UnsupportedTemplate as err:
        raise ConfigError(f"cannot read the template's parameters: {err}") from err
    return dict(document.get("Parameters") or {})


def build_parameters(
    declared: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, str],
    existing: set[str],
    source: str,
) -> list[dict[str, Any]]:
    """CloudFormation's Parameters list.

    A template parameter that the config does not set keeps its current value on an existing
    stack (UsePreviousValue): that is how the image digests that deploy-service rolled out survive
    a `make deploy STACK=core`. On a new stack it takes the template default.
    """
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ConfigError(
            f"{source} sets {', '.join(unknown)}, which the template does not declare "
            f"(declared: {', '.join(sorted(declared)) or 'none'})"
        )
    missing = sorted(
        key
        for key, spec in declared.items()
        if key not in values and key not in existing and "Default" not in (spec or {})
    )
    if missing:
        hint = (
            "; image digests are set by `make deploy-service`, see the README's first deployment"
            if any(key.endswith("ImageDigest") for key in missing)
            else ""
        )
        raise ConfigError(
            f"{source} gives no value for {', '.join(missing)}, which the template requires "
            f"(no default){hint}"
        )
    for key, value in values.items():
        allowed = (declared[key] or {}).get("AllowedValues")
        if allowed and value not in [str(a) for a in allowed]:
            raise ConfigError(
                f"{source}: {key}={value!r} is not one of {', '.join(map(str, allowed))}"
            )
    result: list[dict[str, Any]] = []
    for key in sorted(declared):
        if key in values:
            result.append({"ParameterKey": key, "ParameterValue": values[key]})
        elif key in existing:
            result.append({"ParameterKey": key, "UsePreviousValue": True})
    return result
