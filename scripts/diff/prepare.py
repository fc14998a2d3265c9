"""One template for one environment, shaped as CloudFormation would deploy it, ready to compare.

1. Parameter values: the stack's section of config/<env>.json (a stack without one, the CI stack,
   gets `Environment=<env>` as docs/cd.md deploys it), else the template's Default. The image
   digests that `make deploy-service` sets, values read from another stack at deploy time
   (`${core.ApiUrl}`) and parameters with neither a value nor a Default get a placeholder; both
   sides get the same one, so they never show as a change. A placeholder image digest is not
   `bootstrap`, so the services are compared as they run, not as first created with 0 tasks.
2. SAM: a template with `Transform: AWS::Serverless-2016-10-31` is expanded by aws-sam-translator,
   the library CloudFormation's SAM transform is built from, so AWS::Serverless::* resources are
   compared as the resources they become.
3. `scripts.cfn.template.deployed`: Conditions, `Fn::If` and `AWS::NoValue` applied.
4. Parameters substituted into `Ref` and `Fn::Sub`, so a changed value shows as the property
   change it causes (and a create-only property fed by a parameter shows as a replacement).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from generator import naming
from scripts.cfn import sam
from scripts.cfn.schemas import REFERENCE_REGION
from scripts.cfn.template import UnsupportedTemplate, deployed, parse_template
from scripts.deploy.params import resolve_values, stack_name
from scripts.deploy.rollout import SERVICES
from scripts.diff.errors import DiffError
from scripts.diff.sources import Config

ACCOUNT = "123456789012"
# Set on the running stack by `make deploy-service`, never by config/<env>.json.
DEPLOY_SET = frozenset(naming.image_digest_parameter(service) for service in SERVICES)


class _OutputPlaceholders(Mapping[str, str]):
    """Stands in for another stack's outputs: any `${core.Name}` reads as `<core.Name>`."""

    def __getitem__(self, name: str) -> str:
        return f"<core.{name}>"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True)
class Prepared:
    """One stack in one environment, on one side of the comparison."""

    expanded: Mapping[str, Any]  # after the SAM transform, before Conditions
    shaped: Mapping[str, Any]  # Conditions applied; parameters still referenced
    compared: Mapping[str, Any]  # Resources and Outputs with parameter values in place
    values: Mapping[str, str]  # every parameter's value
    sources: Mapping[str, str]  # parameter -> where its value comes from


def pseudo_parameters(stack: str, env: str) -> dict[str, str]:
    name = stack_name(env, stack)
    return {
        "AWS::Region": REFERENCE_REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": name,
        "AWS::StackId": f"arn:aws:cloudformation:{REFERENCE_REGION}:{ACCOUNT}:stack/{name}/id",
    }


def given_parameters(
    template: Mapping[str, Any], stack: str, env: str, config: Config | None
) -> tuple[dict[str, str], dict[str, str]]:
    """(values, sources) for the parameters the deploy passes; the rest take their Default."""
    declared = template.get("Parameters") or {}
    source = f"config/{env}.json"
    if config is not None and stack in config:
        values = resolve_values(config[stack], _OutputPlaceholders, stack_name(env, "core"))
        sources = dict.fromkeys(values, source)
    elif "Environment" in declared:
        values, sources = {"Environment": env}, {"Environment": "environment name"}
    else:
        values, sources = {}, {}
    for name, spec in declared.items():
        if name in values:
            continue
        if name in DEPLOY_SET:
            values[name], sources[name] = f"<{name}>", "set by make deploy-service"
        elif isinstance(spec, dict) and "Default" in spec:
            sources[name] = "template default"
        else:
            values[name], sources[name] = f"<{name}>", "placeholder"
    return values, sources


def expand_sam(template: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """The template with the SAM transform applied (unchanged when it declares none)."""
    try:
        return sam.expand(template, values)
    except UnsupportedTemplate as err:
        raise DiffError(str(err)) from err


_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")


def substitute(value: Any, values: Mapping[str, Any]) -> Any:
    """`value` with `Ref: P` and `${P}` in `Fn::Sub` replaced by the parameter's value."""
    if isinstance(value, list):
        return [substitute(item, values) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in values:
        return values[value["Ref"]]
    if set(value) == {"Fn::Sub"}:
        arg = value["Fn::Sub"]
        text, local = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})

        def fill(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            known = name in values and name not in local and isinstance(values[name], str)
            return str(values[name]) if known else match.group(0)

        filled = _SUB_NAME.sub(fill, str(text))
        if isinstance(arg, list):
            return {"Fn::Sub": [filled, substitute(local, values)]}
        return filled if not _SUB_NAME.search(filled) else {"Fn::Sub": filled}
    return {key: substitute(item, values) for key, item in value.items()}


def _typed(template: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """List-typed parameters are lists where a `Ref` reads them."""
    declared = template.get("Parameters") or {}
    typed: dict[str, Any] = {}
    for name, value in values.items():
        kind = str((declared.get(name) or {}).get("Type", "String"))
        is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
        typed[name] = value.split(",") if is_list else value
    return typed


def prepare(text: str, stack: str, env: str, config: Config | None) -> Prepared:
    """Parse, expand, shape and fill one template for one environment."""
    try:
        raw = parse_template(text)
        given, sources = given_parameters(raw, stack, env, config)
        expanded = expand_sam(raw, given)
        shaped = deployed(expanded, given, pseudo_parameters(stack, env))
    except UnsupportedTemplate as err:
        raise DiffError(f"templates/{stack}.yaml for {env}: {err}") from err
    values: dict[str, str] = dict(shaped["Parameters"])
    typed = _typed(expanded, values)
    compared = {
        "Resources": substitute(shaped.get("Resources") or {}, typed),
        "Outputs": substitute(shaped.get("Outputs") or {}, typed),
    }
    return Prepared(
        expanded=expanded, shaped=shaped, compared=compared, values=values, sources=sources
    )
