"""Templates shaped per environment before the diff: parameters, SAM, conditions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.diff.errors import DiffError
from scripts.diff.prepare import prepare, substitute
from scripts.diff.report import build_report
from scripts.diff.sources import Revision


def test_services_are_compared_as_they_run_not_as_first_created(committed: Revision) -> None:
    """The image tags `make deploy-service` sets are placeholders, never `bootstrap`, so the
    scaling limits come from config/<env>.json instead of the bootstrap shape's 0 tasks."""
    for env, config in committed.configs.items():
        core = prepare(committed.templates["core"], "core", env, config)
        assert core.sources["MainServiceImageDigest"] == "set by make deploy-service"
        target = core.compared["Resources"]["MainScalableTarget"]["Properties"]
        assert str(target["MaxCapacity"]) == str(config["core"]["MainServiceMaxTasks"])


def test_values_read_from_another_stack_are_placeholders(committed: Revision) -> None:
    website = prepare(committed.templates["website"], "website", "dev", committed.configs["dev"])
    assert website.values["ApiUrl"] == "<core.ApiUrl>"
    assert website.sources["ApiUrl"] == "config/dev.json"


def test_a_stack_without_a_config_section_gets_its_environment(committed: Revision) -> None:
    ci = prepare(committed.templates["ci"], "ci", "prod", committed.configs["prod"])
    assert ci.values["Environment"] == "prod"
    assert ci.sources["GitHubRepository"] == "placeholder"


def test_substitute_fills_refs_and_sub_but_keeps_local_names() -> None:
    values: dict[str, Any] = {"Env": "dev", "Zones": ["a", "b"]}
    template = {
        "A": {"Ref": "Env"},
        "B": {"Ref": "Zones"},
        "C": {"Fn::Sub": "todo-${Env}-${AWS::Region}"},
        "D": {"Fn::Sub": ["${Env}-${Name}", {"Name": {"Ref": "Env"}, "Env": "local"}]},
        "E": {"Fn::Sub": "todo-${Env}"},
    }
    assert substitute(template, values) == {
        "A": "dev",
        "B": ["a", "b"],
        "C": {"Fn::Sub": "todo-dev-${AWS::Region}"},
        "D": {"Fn::Sub": ["${Env}-${Name}", {"Name": "dev", "Env": "local"}]},
        "E": "todo-dev",
    }


def _function(statement: dict[str, Any]) -> str:
    return json.dumps(
        {
            "Transform": "AWS::Serverless-2016-10-31",
            "Resources": {
                "Worker": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "Runtime": "python3.12",
                        "Handler": "app.handler",
                        "InlineCode": "def handler(event, context): pass",
                        "Policies": [{"Statement": [statement]}],
                    },
                }
            },
        }
    )


READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}


def test_sam_resources_are_expanded_before_the_diff() -> None:
    expanded = prepare(_function(READ), "worker", "dev", None).compared["Resources"]
    assert {r["Type"] for r in expanded.values()} == {"AWS::Lambda::Function", "AWS::IAM::Role"}

    base = Revision("base", {"worker": _function(READ)}, {"dev": {}})
    wide = {**READ, "Action": "s3:*"}
    head = Revision("head", {"worker": _function(wide)}, {"dev": {}})
    (diff,) = build_report(base, head).stacks
    added = [s for s in diff.statements if s.change == "+"]
    assert [(s.principal, s.actions, s.flags) for s in added] == [
        ("WorkerRole", "s3:*", ("WIDENED: action s3:*",))
    ]


def test_only_the_sam_transform_is_expanded() -> None:
    text = json.dumps({"Transform": "AWS::LanguageExtensions", "Resources": {}})
    with pytest.raises(DiffError, match="cannot expand the transform"):
        prepare(text, "other", "dev", None)


def test_an_unreadable_template_names_the_stack_and_environment() -> None:
    with pytest.raises(DiffError, match=r"templates/core.yaml for dev: not a template"):
        prepare("- just a list", "core", "dev", None)
