"""The security section's judgements: widened statements, network rules, internet exposure."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.diff.prepare import prepare
from scripts.diff.security import exposures, nacl_rules, statements
from scripts.diff.sources import Revision


def _statement(change: str, principal: str, actions: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "change": change,
        "effect": extra.get("effect", "Allow"),
        "actions": {"not": False, "values": actions},
        "resources": {"not": False, "values": extra.get("resources", ["${Bucket.Arn}"])},
        "principals": {"not": False, "values": [principal]},
        "condition": extra.get("condition"),
    }


def test_a_wildcard_is_flagged_only_where_it_is_new() -> None:
    found = [
        _statement("-", "AWS:${Role}", ["s3:*"]),
        _statement("+", "AWS:${Role}", ["s3:*", "sqs:Send*"]),
        _statement("+", "AWS:${Other}", ["s3:GetObject"], resources=["*"]),
        _statement("+", "AWS:${Role}", ["*"], effect="Deny"),
    ]
    judged = {(s.principal, s.change, s.actions): s for s in statements(found, {"Role", "Other"})}
    assert judged["Role", "+", "s3:*\nsqs:Send*"].flags == ("WIDENED: action sqs:Send*",)
    assert judged["Other", "+", "s3:GetObject"].flags == ("WIDENED: resource *",)
    assert judged["Role", "+", "*"].flags == (), "a Deny narrows access"
    assert {s.kind for s in judged.values()} == {"identity"}


def test_a_public_principal_in_a_resource_policy_is_flagged_unless_conditioned() -> None:
    found = [
        _statement("+", "*", ["s3:GetObject"]),
        _statement("+", "AWS:*", ["kms:Decrypt"], condition={"StringEquals": {"aws:x": "y"}}),
    ]
    conditioned, open_ = sorted(statements(found, set()), key=lambda s: s.actions)
    assert conditioned.kind == open_.kind == "resource policy"
    assert conditioned.flags == ()
    assert open_.flags == ("WIDENED: principal * without a condition",)


def _entry(number: int, cidr: str, egress: bool = False) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::NetworkAclEntry",
        "Properties": {
            "NetworkAclId": {"Ref": "PublicAcl"},
            "RuleNumber": number,
            "RuleAction": "allow",
            "Protocol": "6",
            "PortRange": {"From": 443, "To": 443},
            "Egress": egress,
            "CidrBlock": cidr,
        },
    }


def test_nacl_entries_compare_by_content_not_logical_id() -> None:
    old = {"Ingress100": _entry(100, "10.0.0.0/16")}
    renamed = {"HttpsIn": _entry(100, "10.0.0.0/16")}
    assert nacl_rules(old, renamed) == []

    opened = {**renamed, "Anyone": _entry(110, "0.0.0.0/0")}
    (rule,) = nacl_rules(old, opened)
    assert (rule.change, rule.owner, rule.direction, rule.rule, rule.protocol, rule.peer) == (
        "+",
        "PublicAcl",
        "ingress",
        "110 allow",
        "TCP 443",
        "0.0.0.0/0",
    )
    assert rule.flags == ("INTERNET: allows everyone in",)
    (egress,) = nacl_rules(old, {**renamed, "Out": _entry(120, "0.0.0.0/0", egress=True)})
    assert egress.flags == (), "egress to the internet is not an opening"


@pytest.mark.parametrize(
    ("resource_type", "properties", "expected"),
    [
        # Scheme defaults to internet-facing.
        ("AWS::ElasticLoadBalancingV2::LoadBalancer", {}, ["internet-facing load balancer"]),
        ("AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internal"}, []),
        (
            "AWS::ApiGatewayV2::Route",
            {"RouteKey": "ANY /todos"},
            ["route ANY /todos without authorization"],
        ),
        ("AWS::ApiGatewayV2::Route", {"RouteKey": "ANY /todos", "AuthorizationType": "JWT"}, []),
        (
            "AWS::S3::Bucket",
            {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                }
            },
            ["public access not blocked: RestrictPublicBuckets"],
        ),
        (
            "AWS::S3::BucketPolicy",
            {
                "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]
                }
            },
            ["policy allows anyone: s3:GetObject"],
        ),
        (
            "AWS::ECS::Service",
            {"NetworkConfiguration": {"AwsvpcConfiguration": {"AssignPublicIp": "ENABLED"}}},
            ["tasks get public IP addresses"],
        ),
    ],
)
def test_exposure_rules(
    resource_type: str, properties: dict[str, Any], expected: list[str]
) -> None:
    found = exposures({"It": {"Type": resource_type, "Properties": properties}})
    assert sorted(what for _, _, what in found) == expected


def test_the_committed_stacks_expose_only_the_website_distribution(committed: Revision) -> None:
    exposed = set()
    for stack, text in committed.templates.items():
        for env, config in committed.configs.items():
            resources = prepare(text, stack, env, config).compared["Resources"]
            exposed |= {(stack, logical_id, what) for logical_id, _, what in exposures(resources)}
    assert exposed == {
        ("website", "WebsiteDistribution", "CloudFront distribution (public by design)")
    }
