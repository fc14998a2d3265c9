"""Replacement read from the provider schemas, the overrides, and how replacement spreads."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.cfn.schemas import resource_schema
from scripts.diff.replacement import (
    OVERRIDES,
    PropertyChange,
    changed_paths,
    format_path,
    plan,
    same,
    verdict,
)


@pytest.mark.parametrize(
    ("resource_type", "path", "mode", "why"),
    [
        # DynamoDB lists KeySchema as conditionally create-only, TableName as create-only.
        (
            "AWS::DynamoDB::Table",
            ("KeySchema", 0, "AttributeName"),
            "Conditionally",
            "conditionalCreateOnlyProperties",
        ),
        ("AWS::DynamoDB::Table", ("TableName",), "Always", "createOnlyProperties"),
        ("AWS::DynamoDB::Table", ("BillingMode",), None, ""),
        ("AWS::EC2::VPC", ("CidrBlock",), "Always", "createOnlyProperties"),
        ("AWS::ECS::TaskDefinition", ("ContainerDefinitions", 0, "Image"), "Always", None),
        ("AWS::ECS::Service", ("DesiredCount",), None, ""),
        ("AWS::ElasticLoadBalancingV2::LoadBalancer", ("Scheme",), "Always", None),
    ],
)
def test_replacement_comes_from_the_provider_schema(
    resource_type: str, path: tuple[Any, ...], mode: str | None, why: str | None
) -> None:
    found = verdict(resource_type, path)
    assert found.mode == mode
    if why is not None:
        assert found.why == why


def test_a_user_pools_sign_in_attributes_are_overridden_with_the_reason_and_page() -> None:
    found = verdict("AWS::Cognito::UserPool", ("UsernameAttributes", 0))
    assert found.mode == "Always"
    assert found.why.startswith("override: Cognito cannot change it")
    assert "docs.aws.amazon.com/cognito" in found.why
    assert verdict("AWS::Cognito::UserPool", ("MfaConfiguration",)).mode is None


@pytest.mark.parametrize(("resource_type", "path"), sorted(OVERRIDES), ids=str)
def test_each_override_is_still_needed(resource_type: str, path: tuple[str, ...]) -> None:
    """Fails when cfn-lint's schema learns the rule: then the override can go."""
    schema_says = resource_schema(resource_type).replaces_on_change(path)
    assert schema_says != OVERRIDES[resource_type, path].mode


def test_a_type_without_a_schema_says_so() -> None:
    found = verdict("Custom::Thing", ("Anything",))
    assert (found.mode, found.why) == (None, "no provider schema: update behaviour unknown")


def test_values_compare_as_cloudformation_reads_them() -> None:
    assert same("10", 10)
    assert same("true", True)
    assert same({"a": ["1", 2]}, {"a": [1, "2.0"]})
    assert not same("10", 11)
    assert not same([1, 2], [2, 1])
    assert not same({"a": 1}, {"a": 1, "b": None})


def test_changed_paths_are_the_deepest_differences() -> None:
    old = {
        "KeySchema": [{"AttributeName": "userID"}, {"AttributeName": "todoID"}],
        "Tags": [{"Key": "a"}],
        "Ref": {"Ref": "Old"},
        "Same": {"x": 1},
        "Gone": 1,
    }
    new = {
        "KeySchema": [{"AttributeName": "ownerID"}, {"AttributeName": "todoID"}],
        "Tags": [{"Key": "a"}, {"Key": "b"}],
        "Ref": {"Ref": "New"},
        "Same": {"x": "1"},
        "Added": 2,
    }
    paths = [format_path(p) for p in changed_paths(old, new)]
    assert paths == ["Added", "Gone", "KeySchema[0].AttributeName", "Ref", "Tags"]


def _table(key: str) -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {"KeySchema": [{"AttributeName": key, "KeyType": "HASH"}]},
    }


def _resources(key: str) -> dict[str, dict[str, Any]]:
    return {
        "Table": _table(key),
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "ContainerDefinitions": [
                    {"Name": "app", "Environment": [{"Name": "T", "Value": {"Ref": "Table"}}]}
                ]
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {"TaskDefinition": {"Ref": "Task"}},
        },
        "Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {"Dimensions": [{"Name": "TableName", "Value": {"Ref": "Table"}}]},
        },
        "Untouched": {"Type": "AWS::SNS::Topic", "Properties": {}},
    }


def test_replacement_spreads_through_references() -> None:
    plans = plan(_resources("userID"), _resources("ownerID"))

    assert plans["Table"].mode == "Conditionally"
    # The task definition names the table in a create-only property: a new revision, but only
    # as surely as the table's own replacement.
    assert plans["Task"].mode == "Conditionally"
    assert plans["Task"].changes == (
        PropertyChange(
            "ContainerDefinitions[0].Environment[0].Value",
            "Conditionally",
            "Table is replaced; createOnlyProperties",
        ),
    )
    # A service points at a new task definition in place; an alarm's dimension changes in place.
    assert plans["Service"].mode is None
    assert plans["Service"].changes[0].why == "Task is replaced"
    assert plans["Alarm"].mode is None
    assert "Untouched" not in plans
