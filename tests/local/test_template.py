"""Reading templates: short and long intrinsic forms, local values, clear refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts.cfn.template import (
    LogicalRef,
    Physical,
    Resolver,
    UnsupportedTemplate,
    load_template,
)

PSEUDO = {"AWS::StackName": "todo-local-core", "AWS::Region": "us-east-1", "AWS::AccountId": "1"}

TEMPLATE = """
Parameters:
  WebsiteOrigin: {Type: String}
  Env: {Type: String, Default: dev}
  Secret: {Type: String}
Conditions:
  IsDev: !Equals [!Ref Env, dev]
  IsProd: {"Fn::Not": [{"Condition": IsDev}]}
Mappings:
  Sizes: {dev: {Memory: '512'}}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      Short: !Sub '${AWS::StackName}-${Env}-${Table.Arn}'
      Long: {"Fn::Sub": ["${Name}/${!Literal}", {Name: {"Ref": "WebsiteOrigin"}}]}
      Joined: !Join ['-', [a, !Ref Env, !Select [1, !Split [',', 'x,y,z']]]]
      Chosen: !If [IsDev, small, large]
      Gone: !If [IsProd, kept, !Ref AWS::NoValue]
      List: [one, !Ref AWS::NoValue, two]
      Memory: !FindInMap [Sizes, !Ref Env, Memory]
      Att: !GetAtt Table.Arn
      AttList: !GetAtt [Table, Arn]
      Group: !Ref Group
      Secret: !Ref Secret
      Import: !ImportValue other-stack-Thing
      Azs: !GetAZs ''
  Group:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
  ProdOnly:
    Type: AWS::S3::Bucket
    Condition: IsProd
"""


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)
    resolver = Resolver(load_template(path), {"WebsiteOrigin": "http://127.0.0.1:8000"}, PSEUDO)
    resolver.physical["Table"] = Physical("the-table", {"Arn": "arn:table"})
    return resolver


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Short", "todo-local-core-dev-arn:table"),
        ("Long", "http://127.0.0.1:8000/${Literal}"),
        ("Joined", "a-dev-y"),
        ("Chosen", "small"),
        ("Gone", None),
        ("List", ["one", "two"]),
        ("Memory", "512"),
        ("Att", "arn:table"),
        ("AttList", "arn:table"),
        ("Group", LogicalRef("Group")),
    ],
)
def test_resolves_intrinsics_with_local_values(
    resolver: Resolver, name: str, expected: Any
) -> None:
    assert resolver.prop("Table", name) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Secret", "Resources.Table.Properties.Secret.Ref: parameter Secret has no Default"),
        ("Import", "Resources.Table.Properties.Import.Fn::ImportValue: Fn::ImportValue is not"),
        ("Azs", "Resources.Table.Properties.Azs.Fn::GetAZs: Fn::GetAZs is not supported"),
    ],
)
def test_refuses_what_it_cannot_emulate_naming_the_place(
    resolver: Resolver, name: str, message: str
) -> None:
    with pytest.raises(UnsupportedTemplate, match="^" + message.replace(".", r"\.")):
        resolver.prop("Table", name)


def test_a_resource_ref_inside_a_string_is_refused(resolver: Resolver) -> None:
    with pytest.raises(UnsupportedTemplate, match="the resource Group, which the local stack"):
        resolver.text({"Fn::Join": ["", ["x", {"Ref": "Group"}]]}, "Resources.X")


def test_resources_whose_condition_fails_are_skipped(resolver: Resolver) -> None:
    assert resolver.of_type("AWS::S3::Bucket") == []
    assert resolver.of_type("AWS::DynamoDB::Table") == ["Table"]


def test_the_generated_templates_parse(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    for name in ("core.yaml", "website.yaml"):
        template = load_template(root / "templates" / name)
        assert "Resources" in template


def test_an_unreadable_template_is_reported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedTemplate, match="cannot read the template: No such file"):
        load_template(tmp_path / "missing.yaml")


def test_unknown_tags_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  X: !Bogus thing\n")
    with pytest.raises(UnsupportedTemplate, match="unknown CloudFormation tag !Bogus"):
        load_template(path)
