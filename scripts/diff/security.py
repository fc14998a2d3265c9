"""The security section: IAM and resource-policy statements, network rules, internet exposure.

The differ (engine.py) finds IAM statements, managed-policy attachments and security-group rules
added or removed across the whole template, so a statement or rule that only moves between
resources is no change. This module judges them (a wildcard that was not there before; a rule
open to 0.0.0.0/0 or ::/0) and adds what the differ does not cover: network ACL entries, and
what a resource exposes to the internet.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

INTERNET = frozenset({"0.0.0.0/0", "::/0"})
IDENTITY_TYPES = frozenset({"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"})
# AWS managed policies that grant (nearly) everything in an account or a service.
BROAD_MANAGED = ("/AdministratorAccess", "/PowerUserAccess", "FullAccess")

Resources = Mapping[str, Mapping[str, Any]]


def compact(value: Any, limit: int = 120) -> str:
    """One short line for a template value: intrinsics as ${X}, JSON otherwise."""
    if value is None:
        return "(none)"
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return f"${{{arg}}}"
        if key == "Fn::GetAtt":
            return "${" + (".".join(map(str, arg)) if isinstance(arg, list) else str(arg)) + "}"
        if key == "Fn::Sub" and isinstance(arg, str):
            return arg
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def name_of(value: Any) -> str:
    """A resource reference as its logical ID: `${Vpc}`, `${Group.GroupId}`, Ref -> the ID."""
    text = compact(value)
    if text.startswith("${") and text.endswith("}") and "${" not in text[2:]:
        return text[2:-1].split(".", 1)[0]
    return text


# -- statements --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    change: str  # "+" or "-"
    kind: str  # "identity" or "resource policy"
    effect: str
    principal: str
    actions: str
    resources: str
    condition: str
    flags: tuple[str, ...]


def _targets(targets: Mapping[str, Any]) -> str:
    values = "\n".join(map(str, targets.get("values", [])))
    return f"NOT {values}" if targets.get("not") else values


def _wildcards(statement: Mapping[str, Any]) -> set[str]:
    """What makes an Allow statement broad: wildcard actions, all resources, anyone."""
    if statement.get("effect") != "Allow":
        return set()
    found: set[str] = set()
    actions, resources, principals = (
        statement["actions"],
        statement["resources"],
        statement["principals"],
    )
    if actions.get("not"):
        found.add("NotAction")
    found |= {f"action {a}" for a in actions.get("values", []) if "*" in str(a)}
    if resources.get("not"):
        found.add("NotResource")
    if "*" in resources.get("values", []):
        found.add("resource *")
    public = {"*", "AWS:*"} & set(principals.get("values", []))
    if public and not statement.get("condition"):
        found.add("principal * without a condition")
    return found


def _owner(statement: Mapping[str, Any], identities: set[str]) -> str | None:
    for principal in statement["principals"].get("values", []):
        text = str(principal)
        if text.startswith("AWS:${") and text.endswith("}") and text[6:-1] in identities:
            return text[6:-1]
    return None


def statements(found: Sequence[Mapping[str, Any]], identities: set[str]) -> list[Statement]:
    """The differ's added and removed statements, each flagged when it widens access.

    `identities` are the logical IDs of roles, users and groups: a statement whose principal is
    one of them comes from an identity policy, any other from a resource policy (a bucket, key or
    topic policy, or a role's trust policy).
    """
    removed: dict[str | None, set[str]] = {}
    for s in found:
        if s["change"] == "-":
            removed.setdefault(_owner(s, identities), set()).update(_wildcards(s))
    result = []
    for s in found:
        owner = _owner(s, identities)
        flags: tuple[str, ...] = ()
        if s["change"] == "+":
            new = sorted(_wildcards(s) - removed.get(owner, set()))
            flags = tuple(f"WIDENED: {w}" for w in new)
        result.append(
            Statement(
                change=s["change"],
                kind="identity" if owner else "resource policy",
                effect=str(s["effect"]),
                principal=owner or _targets(s["principals"]),
                actions=_targets(s["actions"]),
                resources=_targets(s["resources"]),
                condition=compact(s["condition"]) if s.get("condition") else "",
                flags=flags,
            )
        )
    return sorted(result, key=lambda s: (s.kind, s.principal, s.change, s.actions))


@dataclass(frozen=True)
class ManagedPolicy:
    change: str
    identity: str
    policy: str
    flags: tuple[str, ...]


def managed_policies(found: list[Mapping[str, Any]]) -> list[ManagedPolicy]:
    result = []
    for p in found:
        policy = str(p["policy"])
        broad = p["change"] == "+" and any(marker in policy for marker in BROAD_MANAGED)
        flags = ("WIDENED: broad AWS managed policy",) if broad else ()
        result.append(ManagedPolicy(p["change"], str(p["identity"]), policy, flags))
    return sorted(result, key=lambda p: (p.identity, p.change, p.policy))


# -- network rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkRule:
    change: str
    owner: str  # security group or network ACL
    direction: str  # "ingress" or "egress"
    rule: str  # NACL rule number and action; "" for security groups
    protocol: str
    peer: str
    flags: tuple[str, ...]


def security_group_rules(found: list[Mapping[str, Any]]) -> list[NetworkRule]:
    result = []
    for r in found:
        open_to_all = r["direction"] == "ingress" and r.get("cidr") in INTERNET
        flags = ("INTERNET: open to everyone",) if open_to_all and r["change"] == "+" else ()
        peer = name_of((r.get("peer") or {}).get("value", "?"))
        result.append(
            NetworkRule(
                r["change"], name_of(r["group"]), r["direction"], "", r["protocol"], peer, flags
            )
        )
    return sorted(result, key=lambda r: (r.owner, r.direction, r.change, r.protocol))


_PROTOCOLS = {"-1": "all", "6": "TCP", "17": "UDP", "1": "ICMP", "58": "ICMPv6"}


def _nacl_entry(props: Mapping[str, Any]) -> NetworkRule:
    protocol = _PROTOCOLS.get(str(props.get("Protocol")), f"protocol {props.get('Protocol')}")
    ports = props.get("PortRange") or {}
    if ports:
        low, high = ports.get("From"), ports.get("To")
        protocol += f" {low}" if low == high else f" {low}-{high}"
    egress = str(props.get("Egress", False)).lower() == "true"
    return NetworkRule(
        change="",
        owner=name_of(props.get("NetworkAclId")),
        direction="egress" if egress else "ingress",
        rule=f"{props.get('RuleNumber')} {props.get('RuleAction')}",
        protocol=protocol,
        peer=compact(props.get("CidrBlock") or props.get("Ipv6CidrBlock")),
        flags=(),
    )


def _nacl_entries(resources: Resources) -> Counter[NetworkRule]:
    return Counter(
        _nacl_entry(r.get("Properties") or {})
        for r in resources.values()
        if r.get("Type") == "AWS::EC2::NetworkAclEntry"
    )


def nacl_rules(old: Resources, new: Resources) -> list[NetworkRule]:
    """Network ACL entries added or removed, by content (a renamed entry is no change)."""
    before, after = _nacl_entries(old), _nacl_entries(new)
    result = []
    for change, entries in (("+", after - before), ("-", before - after)):
        for entry in entries.elements():
            allows_all = (
                change == "+"
                and entry.direction == "ingress"
                and entry.rule.endswith("allow")
                and entry.peer in INTERNET
            )
            flags = ("INTERNET: allows everyone in",) if allows_all else ()
            result.append(
                NetworkRule(
                    change,
                    entry.owner,
                    entry.direction,
                    entry.rule,
                    entry.protocol,
                    entry.peer,
                    flags,
                )
            )
    return sorted(result, key=lambda r: (r.owner, r.direction, r.rule, r.change))


# -- internet exposure -------------------------------------------------------------------------


@dataclass(frozen=True)
class Exposure:
    change: str  # "+" becomes reachable, "-" no longer
    logical_id: str
    resource_type: str
    what: str


def _port_text(rule: Mapping[str, Any]) -> str:
    protocol = str(rule.get("IpProtocol", "?"))
    if protocol == "-1":
        return "all traffic"
    low, high = rule.get("FromPort"), rule.get("ToPort")
    return f"{protocol.upper()} {low}" if low == high else f"{protocol.upper()} {low}-{high}"


def _open_rules(rules: Iterator[Mapping[str, Any]]) -> Iterator[str]:
    for rule in rules:
        cidr = rule.get("CidrIp") or rule.get("CidrIpv6")
        if cidr in INTERNET:
            yield f"{_port_text(rule)} open to {cidr}"


def _security_group(props: Mapping[str, Any]) -> Iterator[str]:
    yield from _open_rules(iter(props.get("SecurityGroupIngress") or []))


def _ingress(props: Mapping[str, Any]) -> Iterator[str]:
    for text in _open_rules(iter([props])):
        yield f"{name_of(props.get('GroupId'))}: {text}"


def _load_balancer(props: Mapping[str, Any]) -> Iterator[str]:
    # Scheme defaults to internet-facing:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-loadbalancer.html
    if props.get("Scheme", "internet-facing") != "internal":
        yield "internet-facing load balancer"


def _route(props: Mapping[str, Any]) -> Iterator[str]:
    # An HTTP API route without an authorizer answers anyone (AuthorizationType defaults to NONE).
    if str(props.get("AuthorizationType", "NONE")).upper() == "NONE":
        yield f"route {props.get('RouteKey')} without authorization"


def _method(props: Mapping[str, Any]) -> Iterator[str]:
    if str(props.get("AuthorizationType", "NONE")).upper() == "NONE":
        yield f"{props.get('HttpMethod')} method without authorization"


_BLOCKS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def _bucket(props: Mapping[str, Any]) -> Iterator[str]:
    blocks = props.get("PublicAccessBlockConfiguration") or {}
    missing = [b for b in _BLOCKS if str(blocks.get(b, False)).lower() != "true"]
    if missing:
        yield f"public access not blocked: {', '.join(missing)}"
    if props.get("WebsiteConfiguration"):
        yield "S3 website hosting"


def _public_statements(document: Any) -> Iterator[str]:
    if not isinstance(document, dict):
        return
    listed = document.get("Statement") or []
    for statement in listed if isinstance(listed, list) else [listed]:
        principal = statement.get("Principal")
        anyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        if statement.get("Effect") == "Allow" and anyone and not statement.get("Condition"):
            yield f"policy allows anyone: {compact(statement.get('Action'))}"


def _policy(key: str) -> Callable[[Mapping[str, Any]], Iterator[str]]:
    def check(props: Mapping[str, Any]) -> Iterator[str]:
        yield from _public_statements(props.get(key))

    return check


def _flag(key: str, value: str, text: str) -> Callable[[Mapping[str, Any]], Iterator[str]]:
    def check(props: Mapping[str, Any]) -> Iterator[str]:
        if str(props.get(key, "")).lower() == value:
            yield text

    return check


def _ecs_service(props: Mapping[str, Any]) -> Iterator[str]:
    awsvpc = (props.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}
    if awsvpc.get("AssignPublicIp") == "ENABLED":
        yield "tasks get public IP addresses"


def _launch_template(props: Mapping[str, Any]) -> Iterator[str]:
    data = props.get("LaunchTemplateData") or {}
    for interface in data.get("NetworkInterfaces") or []:
        if str(interface.get("AssociatePublicIpAddress", "")).lower() == "true":
            yield "instances get public IP addresses"


def _distribution(props: Mapping[str, Any]) -> Iterator[str]:
    yield "CloudFront distribution (public by design)"


def _lambda_permission(props: Mapping[str, Any]) -> Iterator[str]:
    if props.get("Principal") == "*":
        yield f"anyone may call {props.get('Action')}"


# Resource type -> what makes one reachable from the internet.
EXPOSURE_RULES: Mapping[str, Callable[[Mapping[str, Any]], Iterator[str]]] = {
    "AWS::EC2::SecurityGroup": _security_group,
    "AWS::EC2::SecurityGroupIngress": _ingress,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _load_balancer,
    "AWS::ElasticLoadBalancing::LoadBalancer": _load_balancer,
    "AWS::ApiGatewayV2::Route": _route,
    "AWS::ApiGateway::Method": _method,
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _policy("PolicyDocument"),
    "AWS::SNS::TopicPolicy": _policy("PolicyDocument"),
    "AWS::SQS::QueuePolicy": _policy("PolicyDocument"),
    "AWS::KMS::Key": _policy("KeyPolicy"),
    "AWS::ECR::Repository": _policy("RepositoryPolicyText"),
    "AWS::Lambda::Permission": _lambda_permission,
    "AWS::Lambda::Url": _flag("AuthType", "none", "function URL without authorization"),
    "AWS::EC2::Subnet": _flag("MapPublicIpOnLaunch", "true", "instances get public IP addresses"),
    "AWS::ECS::Service": _ecs_service,
    "AWS::EC2::LaunchTemplate": _launch_template,
    "AWS::RDS::DBInstance": _flag("PubliclyAccessible", "true", "publicly accessible database"),
    "AWS::CloudFront::Distribution": _distribution,
}


def exposures(resources: Resources) -> set[tuple[str, str, str]]:
    """(logical ID, type, what) for everything the template makes reachable from the internet."""
    found = set()
    for logical_id, resource in resources.items():
        kind = str(resource.get("Type"))
        rule = EXPOSURE_RULES.get(kind)
        if rule is not None:
            for what in rule(resource.get("Properties") or {}):
                found.add((logical_id, kind, what))
    return found


def exposure_changes(old: Resources, new: Resources) -> list[Exposure]:
    before, after = exposures(old), exposures(new)
    return [
        Exposure(change, *item)
        for change, items in (("+", after - before), ("-", before - after))
        for item in sorted(items)
    ]


def identity_ids(*resources: Resources) -> set[str]:
    return {
        logical_id
        for group in resources
        for logical_id, r in group.items()
        if r.get("Type") in IDENTITY_TYPES
    }
