"""The ALB listener as the local gateway plays it: rules in priority order, then the default.

Read from the template by following references: the listener's rules (path-pattern conditions),
each forwarding to a target group in which one ECS service registers, or answering a fixed
response. Nothing here names a logical ID.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from scripts.cfn.template import LogicalRef, Resolver, UnsupportedTemplate

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"


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


Action = Forward | FixedResponse


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


def _action(actions: list[Any], where: str, target_groups: Mapping[str, str]) -> Action:
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
            if target is None:
                groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
                if len(groups) != 1:
                    raise UnsupportedTemplate(f"{where}: weighted forwarding is not emulated")
                target = groups[0].get("TargetGroupArn")
            target_id = ref_id(target, where)
            if target_id not in target_groups:
                raise UnsupportedTemplate(
                    f"{where}: no ECS service registers in target group {target_id}"
                )
            return Forward(target_groups[target_id])
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


def read_routing(resolver: Resolver, listener_id: str, target_groups: Mapping[str, str]) -> Routing:
    """The listener's rules (lowest priority number first) and default action.

    `target_groups` names the app service registered in each target group (by logical ID).
    """
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
                _action(resolver.prop(rule_id, "Actions") or [], where, target_groups),
            )
        )
    rules.sort(key=lambda r: r.priority)
    where = f"Resources.{listener_id}.Properties.DefaultActions"
    default = _action(resolver.prop(listener_id, "DefaultActions") or [], where, target_groups)
    return Routing(tuple(rules), default)
