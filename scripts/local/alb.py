"""The ALB listener as the local gateway plays it: rules in priority order, then the default.

Read from the template by following references: the listener's rules (path-pattern conditions),
each forwarding to a target group in which one ECS service registers (a weighted forward goes to
the groups with a weight, which must serve one service: the alternate group of a progressive
deployment has weight 0), to a target group whose target is a Lambda function (run in process,
from its SAM CodeUri and Handler, with the event an ALB sends: "Lambda functions as targets",
Elastic Load Balancing User Guide), or answering a fixed response. Nothing here names a logical
ID.
"""

from __future__ import annotations

import base64
import importlib.util
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from scripts.cfn.template import LogicalRef, Resolver, UnsupportedTemplate

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"


def path_pattern_regex(pattern: str) -> re.Pattern[str]:
    """ALB path-pattern semantics: case-sensitive, `*` any characters (including `/`), `?` one."""
    parts = ["[^\n]*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts) + r"\Z")


@dataclass(frozen=True)
class FixedResponse:
    status: int
    content_type: str
    body: str


@dataclass(frozen=True)
class Forward:
    """Forward to the target group in which this app service's ECS service registers."""

    service: str


@dataclass(frozen=True)
class LambdaTarget:
    """A target group whose target is a Lambda function: its handler, run in this process."""

    function: str  # logical ID
    code_dir: Path
    handler: str  # module.function

    def load(self) -> Callable[[dict[str, Any], object], dict[str, Any]]:
        module_name, function_name = self.handler.rsplit(".", 1)
        path = self.code_dir / f"{module_name}.py"
        spec = importlib.util.spec_from_file_location(f"_local_lambda_{module_name}", path)
        if spec is None or spec.loader is None:
            raise UnsupportedTemplate(f"{self.function}: cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found: Callable[[dict[str, Any], object], dict[str, Any]] = getattr(module, function_name)
        return found

    def answer(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> FixedResponse:
        """The function's answer to the request, as the ALB turns it into an HTTP response."""
        event = {
            "requestContext": {"elb": {"targetGroupArn": f"local:{self.function}"}},
            "httpMethod": method,
            "path": path,
            "queryStringParameters": dict(query),
            "headers": {k.lower(): v for k, v in headers.items()},
            "body": "",
            "isBase64Encoded": False,
        }
        reply = self.load()(event, None)
        body = str(reply.get("body", ""))
        if reply.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8")
        content_type = (reply.get("headers") or {}).get("Content-Type", "text/plain")
        return FixedResponse(int(reply.get("statusCode", 200)), str(content_type), body)


Action = Forward | FixedResponse | LambdaTarget


@dataclass(frozen=True)
class ListenerRule:
    logical_id: str
    priority: int
    patterns: tuple[str, ...]
    action: Action

    @cached_property
    def _regexes(self) -> tuple[re.Pattern[str], ...]:
        return tuple(path_pattern_regex(p) for p in self.patterns)

    def matches(self, path: str) -> bool:
        return any(regex.match(path) for regex in self._regexes)


@dataclass(frozen=True)
class Routing:
    """The ALB listener: rules in priority order, then the default action."""

    rules: tuple[ListenerRule, ...]
    default: Action

    def route(self, path: str) -> Action:
        for rule in self.rules:
            if rule.matches(path):
                return rule.action
        return self.default


def ref_id(value: Any, where: str) -> str:
    """The logical ID a `Ref` names (resolved as a `LogicalRef`)."""
    if isinstance(value, LogicalRef):
        return value.logical_id
    raise UnsupportedTemplate(f"{where}: expected a Ref to a resource of this template")


def _forward(
    targets: list[str],
    where: str,
    target_groups: Mapping[str, str],
    functions: Mapping[str, LambdaTarget],
) -> Action:
    """What a forward to these target groups reaches: one function, or one ECS service."""
    if len(targets) == 1 and targets[0] in functions:
        return functions[targets[0]]
    unknown = [t for t in targets if t not in target_groups]
    if unknown or not targets:
        raise UnsupportedTemplate(
            f"{where}: no ECS service registers in target group {', '.join(unknown) or '(none)'}"
        )
    services = {target_groups[t] for t in targets}
    if len(services) != 1:
        raise UnsupportedTemplate(f"{where}: weighted forwarding between services is not emulated")
    return Forward(services.pop())


def _action(
    actions: list[Any],
    where: str,
    target_groups: Mapping[str, str],
    functions: Mapping[str, LambdaTarget],
) -> Action:
    for action in sorted(actions, key=lambda a: int(a.get("Order", 0))):
        kind = str(action.get("Type", "")).lower()
        if kind == "fixed-response":
            config = action.get("FixedResponseConfig", {})
            return FixedResponse(
                int(config.get("StatusCode", 200)),
                str(config.get("ContentType", "text/plain")),
                str(config.get("MessageBody", "")),
            )
        if kind == "forward":
            target = action.get("TargetGroupArn")
            if target is not None:
                targets = [ref_id(target, where)]
            else:
                groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
                targets = [
                    ref_id(g.get("TargetGroupArn"), where)
                    for g in groups
                    if int(g.get("Weight", 1)) > 0
                ]
            return _forward(targets, where, target_groups, functions)
        if kind in ("authenticate-cognito", "authenticate-oidc"):
            continue
        raise UnsupportedTemplate(f"{where}: action type {kind!r} is not emulated")
    raise UnsupportedTemplate(f"{where}: no forward or fixed-response action")


def _patterns(conditions: list[Any], where: str) -> tuple[str, ...]:
    patterns: list[str] = []
    for condition in conditions:
        if condition.get("Field") != "path-pattern":
            raise UnsupportedTemplate(
                f"{where}: condition field {condition.get('Field')!r} is not emulated"
            )
        values = condition.get("PathPatternConfig", {}).get("Values") or condition.get("Values")
        patterns.extend(str(v) for v in values or [])
    if not patterns:
        raise UnsupportedTemplate(f"{where}: a rule without path patterns")
    return tuple(patterns)


def lambda_targets(resolver: Resolver, template_dir: Path) -> dict[str, LambdaTarget]:
    """Target groups of TargetType `lambda`, by logical ID, with the SAM function each invokes."""
    found: dict[str, LambdaTarget] = {}
    for group in resolver.of_type(TARGET_GROUP):
        if resolver.prop(group, "TargetType") != "lambda":
            continue
        where = f"Resources.{group}.Properties.Targets"
        (described,) = resolver.properties(group).get("Targets") or [None]
        function = _function_id(described, where)
        properties = resolver.properties(function)
        code_uri = properties.get("CodeUri")
        if not isinstance(code_uri, str):
            raise UnsupportedTemplate(f"Resources.{function}: CodeUri is not a local directory")
        found[group] = LambdaTarget(
            function, (template_dir / code_uri).resolve(), str(properties.get("Handler"))
        )
    return found


def _function_id(target: Any, where: str) -> str:
    value = (target or {}).get("Id") if isinstance(target, dict) else None
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        attribute = value["Fn::GetAtt"]
        return str(attribute[0] if isinstance(attribute, list) else attribute.split(".")[0])
    raise UnsupportedTemplate(f"{where}: expected one target, a GetAtt of a function's Arn")


def read_routing(
    resolver: Resolver,
    listener_id: str,
    target_groups: Mapping[str, str],
    functions: Mapping[str, LambdaTarget] | None = None,
) -> Routing:
    """The listener's rules (lowest priority number first) and default action.

    `target_groups` names the app service registered in each target group (by logical ID);
    `functions` the Lambda target of each target group whose targets are functions.
    """
    functions = functions or {}
    rules: list[ListenerRule] = []
    for rule_id in resolver.of_type(LISTENER_RULE):
        where = f"Resources.{rule_id}.Properties"
        if ref_id(resolver.prop(rule_id, "ListenerArn"), f"{where}.ListenerArn") != listener_id:
            continue
        rules.append(
            ListenerRule(
                rule_id,
                int(resolver.prop(rule_id, "Priority")),
                _patterns(resolver.prop(rule_id, "Conditions") or [], f"{where}.Conditions"),
                _action(resolver.prop(rule_id, "Actions") or [], where, target_groups, functions),
            )
        )
    rules.sort(key=lambda r: r.priority)
    where = f"Resources.{listener_id}.Properties.DefaultActions"
    default = _action(
        resolver.prop(listener_id, "DefaultActions") or [], where, target_groups, functions
    )
    return Routing(tuple(rules), default)
