"""Generator changes made on purpose, each with the diff a reviewer must see.

BASE is the committed generator output; the working tree is the generator rendered with other
Settings, or its output patched in memory. Every comparison runs the real differ under Node.js.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from generator import render_all
from generator.config import MAIN, Settings
from scripts.cfn.template import parse_template
from scripts.diff.analysis import ParameterChange, Report, ResourceChange, StackDiff
from scripts.diff.report import build_report
from scripts.diff.security import Exposure, NetworkRule
from scripts.diff.sources import Config, Revision
from tests.diff.edits import patched, with_templates

ENVS = ("dev", "prod")


def rendered(settings: Settings) -> dict[str, str]:
    return {name.removesuffix(".yaml"): text for name, text in render_all(settings).items()}


def core_diff(report: Report) -> StackDiff:
    """The core stack's diff, the same in every environment."""
    (diff,) = [d for d in report.stacks if d.stack == "core"]
    assert diff.envs == ENVS, "the change should look the same in dev and prod"
    return diff


def editable(configs: Mapping[str, Config]) -> dict[str, dict[str, dict[str, Any]]]:
    """A deep copy of every environment's config that a test may change."""
    return {
        env: {stack: copy.deepcopy(dict(values)) for stack, values in config.items()}
        for env, config in configs.items()
    }


def resource(diff: StackDiff, logical_id: str) -> ResourceChange:
    (found,) = [r for r in diff.resources if r.logical_id == logical_id]
    return found


def test_a_table_key_change_is_a_conditional_replacement_of_the_table(committed: Revision) -> None:
    settings = dataclasses.replace(Settings(), todos_table_keys=("ownerID", "todoID"))
    head = with_templates(committed, "new key", rendered(settings))

    diff = core_diff(build_report(committed, head, stacks=["core"]))

    table = resource(diff, "TodosTable")
    assert (table.action, table.replacement) == ("modify", "Conditionally")
    key = {c.path: c for c in table.changes}["KeySchema[0].AttributeName"]
    assert (key.mode, key.why) == ("Conditionally", "conditionalCreateOnlyProperties")
    assert [(d.logical_id, d.change) for d in diff.data] == [("TodosTable", "may be replaced")]
    assert "new, empty resource" in diff.data[0].consequence
    # A task definition names the table in its environment: it follows the replacement.
    task = resource(diff, "MainTaskDefinition")
    assert task.replacement == "Conditionally"
    assert any(c.why.startswith("TodosTable is replaced") for c in task.changes)
    assert diff.count("add") == diff.count("remove") == 0
    assert not diff.security


def test_an_iam_action_widened_to_a_wildcard_is_flagged(committed: Revision) -> None:
    wide = dataclasses.replace(MAIN.access, todos_table=("dynamodb:*",))
    services = tuple(
        dataclasses.replace(s, access=wide) if s.name == "main" else s for s in Settings().services
    )
    head = with_templates(
        committed, "wide", rendered(dataclasses.replace(Settings(), services=services))
    )

    diff = core_diff(build_report(committed, head, stacks=["core"]))

    # The DynamoDB gateway endpoint's policy admits the calls the services make: it widens too.
    assert [(r.action, r.logical_id, r.replacement) for r in diff.resources] == [
        ("modify", "DynamoDbGatewayEndpoint", None),
        ("modify", "MainTaskRole", None),
    ]
    added = [s for s in diff.statements if s.change == "+" and s.kind == "identity"]
    removed = [s for s in diff.statements if s.change == "-" and s.kind == "identity"]
    assert [(s.kind, s.principal, s.effect, s.actions) for s in added] == [
        ("identity", "MainTaskRole", "Allow", "dynamodb:*")
    ]
    assert added[0].flags == ("WIDENED: action dynamodb:*",)
    assert added[0].resources == removed[0].resources == "${TodosTable.Arn}"
    assert removed[0].actions.split("\n") == sorted(MAIN.access.todos_table)
    assert removed[0].flags == ()
    (endpoint,) = [s for s in diff.statements if s.change == "+" and s.kind != "identity"]
    assert (endpoint.kind, endpoint.principal) == ("resource policy", "*")
    assert endpoint.flags == ("WIDENED: action dynamodb:*",)
    assert diff.flagged == 2


def _inline_ingress(template: dict[str, Any]) -> None:
    group = template["Resources"]["LoadBalancerSecurityGroup"]["Properties"]
    rule = {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    group["SecurityGroupIngress"] = [{**rule, "Description": "HTTPS from anywhere"}]


def _ingress_resource(template: dict[str, Any]) -> None:
    template["Resources"]["LoadBalancerIngressFromAnywhere"] = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {
            "GroupId": {"Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]},
            "CidrIpv6": "::/0",
            "IpProtocol": "tcp",
            "FromPort": 80,
            "ToPort": 80,
            "Description": "HTTP from anywhere",
        },
    }


@pytest.mark.parametrize(
    ("edit", "rule", "exposure"),
    [
        (
            _inline_ingress,
            ("TCP 443", "Everyone (IPv4)"),
            ("LoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup", "TCP 443 open to 0.0.0.0/0"),
        ),
        (
            _ingress_resource,
            ("TCP 80", "Everyone (IPv6)"),
            (
                "LoadBalancerIngressFromAnywhere",
                "AWS::EC2::SecurityGroupIngress",
                "LoadBalancerSecurityGroup: TCP 80 open to ::/0",
            ),
        ),
    ],
    ids=["inline-rule", "ingress-resource"],
)
def test_a_port_opened_to_the_internet_is_flagged(
    committed: Revision, edit: Any, rule: tuple[str, str], exposure: tuple[str, str, str]
) -> None:
    head = patched(committed, "core", edit)

    diff = core_diff(build_report(committed, head, stacks=["core"]))

    protocol, peer = rule
    assert diff.security_group_rules == (
        NetworkRule(
            "+",
            "LoadBalancerSecurityGroup",
            "ingress",
            "",
            protocol,
            peer,
            ("INTERNET: open to everyone",),
        ),
    )
    assert diff.exposures == (Exposure("+", *exposure),)
    assert not diff.replaced


def test_a_renamed_table_is_a_removal_and_an_addition_of_a_stateful_resource(
    committed: Revision,
) -> None:
    renamed = re.sub(r"\bTodosTable\b", "TodoItemsTable", committed.templates["core"])
    head = with_templates(committed, "renamed", {"core": renamed})

    diff = core_diff(build_report(committed, head, stacks=["core"]))

    tables = [r for r in diff.resources if r.resource_type == "AWS::DynamoDB::Table"]
    assert [(r.action, r.logical_id, r.note) for r in tables] == [
        ("remove", "TodosTable", "renamed to TodoItemsTable?"),
        ("add", "TodoItemsTable", "renamed from TodosTable?"),
    ]
    (data,) = diff.data
    assert (data.logical_id, data.change) == ("TodosTable", "removed")
    # DeletionPolicy Retain keeps the old table; the stack moves to a new, empty one.
    assert "data stay behind, unmanaged" in data.consequence
    assert "TodoItemsTable, which CloudFormation creates new and empty" in data.consequence


def _reordered(value: Any, key: str | None = None) -> Any:
    """Every mapping's keys in reverse order, and every DependsOn list reversed."""
    if isinstance(value, dict):
        return {k: _reordered(value[k], k) for k in reversed(list(value))}
    if isinstance(value, list):
        items = [_reordered(item) for item in value]
        return items[::-1] if key == "DependsOn" else items
    return value


def test_a_pure_reorder_is_no_change(committed: Revision) -> None:
    reordered = {
        stack: json.dumps(_reordered(parse_template(text)))
        for stack, text in committed.templates.items()
    }
    depends_on = re.findall(r'"DependsOn": \[("[^"]+", )+"[^"]+"\]', reordered["core"])
    assert depends_on, "the core template should have a DependsOn list to reverse"
    head = with_templates(committed, "reordered", reordered)

    report = build_report(committed, head)

    assert report.empty, report
    assert {d.stack for d in report.stacks} == set(committed.templates)


def test_a_config_change_shows_the_resources_it_feeds(committed: Revision) -> None:
    configs = editable(committed.configs)
    before = str(configs["prod"]["core"]["MainServiceMaxTasks"])
    after = str(int(before) + 8)
    configs["prod"]["core"]["MainServiceMaxTasks"] = after
    head = Revision("more tasks", committed.templates, configs)

    report = build_report(committed, head, stacks=["core"])

    assert report.parameters == (
        ParameterChange(
            "core",
            ("prod",),
            "MainServiceMaxTasks",
            before,
            after,
            "config/<env>.json",
            ("MainScalableTarget (MaxCapacity)",),
        ),
    )
    dev, prod = report.stacks
    assert (dev.envs, dev.empty) == (("dev",), True)
    (target,) = prod.resources
    assert (target.logical_id, [c.path for c in target.changes]) == (
        "MainScalableTarget",
        ["MaxCapacity"],
    )


def test_a_config_change_of_a_create_only_property_replaces_what_it_feeds(
    committed: Revision,
) -> None:
    configs = editable(committed.configs)
    configs["dev"]["core"]["VpcCidr"] = "10.99.0.0/16"
    head = Revision("new VPC range", committed.templates, configs)

    report = build_report(committed, head, stacks=["core"], envs=["dev"])

    (change,) = report.parameters
    assert change.name == "VpcCidr"
    assert "Vpc (CidrBlock) → replaced (Always)" in change.feeds
    (diff,) = report.stacks
    vpc = resource(diff, "Vpc")
    assert [(c.path, c.mode) for c in vpc.changes] == [("CidrBlock", "Always")]
    # Everything inside the VPC follows: subnets, security groups, target groups...
    assert resource(diff, "PrivateSubnetA").replacement == "Always"
    assert resource(diff, "MainTargetGroup").replacement == "Always"


ANYONE = {"Effect": "Allow", "Principal": {"AWS": "*"}}


def _key_policy(template: dict[str, Any]) -> None:
    key = template["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    key.append({**ANYONE, "Action": "kms:Decrypt", "Resource": "*"})


def _topic_policy(template: dict[str, Any]) -> None:
    policy = template["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]
    policy["Statement"].append(
        {**ANYONE, "Action": "sns:Publish", "Resource": {"Ref": "AlarmTopic"}}
    )


def _bucket_policy(template: dict[str, Any]) -> None:
    policy = template["Resources"]["FilesBucketPolicy"]["Properties"]["PolicyDocument"]
    resource = {"Fn::Sub": "${FilesBucket.Arn}/*"}
    policy["Statement"].append({**ANYONE, "Action": "s3:GetObject", "Resource": resource})


@pytest.mark.parametrize(
    ("edit", "owner", "action", "resource"),
    [
        (_key_policy, "DataKey", "kms:Decrypt", "${DataKey.Arn}"),
        (_topic_policy, "AlarmTopicPolicy", "sns:Publish", "${AlarmTopic}"),
        (_bucket_policy, "FilesBucketPolicy", "s3:GetObject", "${FilesBucket.Arn}/*"),
    ],
    ids=["key", "topic", "bucket"],
)
def test_a_resource_policy_opened_to_anyone_is_flagged(
    committed: Revision, edit: Any, owner: str, action: str, resource: str
) -> None:
    head = patched(committed, "core", edit)

    diff = core_diff(build_report(committed, head, stacks=["core"]))

    (statement,) = diff.statements
    assert (statement.change, statement.kind, statement.principal) == (
        "+",
        "resource policy",
        "AWS:*",
    )
    assert (statement.actions, statement.resources) == (action, resource)
    assert statement.flags == ("WIDENED: principal * without a condition",)
    (exposure,) = diff.exposures
    assert (exposure.change, exposure.logical_id) == ("+", owner)
    assert exposure.what == f"policy allows anyone: {action}"
