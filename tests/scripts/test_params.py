"""config/<env>.json: `${core.Key}` resolution, parameter lists, upload order, logs, status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.deploy import logs, website
from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import ConfigError, DeployFailed, MissingOutput
from scripts.deploy.params import build_parameters, load_config, resolve_values
from scripts.deploy.status import run_status
from tests.scripts import fakes

CORE = "todo-dev-core"
TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/todo-dev-main:9"
DECLARED: dict[str, dict[str, Any]] = {
    "ApiUrl": {"Type": "String"},
    "FilesBucketName": {"Type": "String"},
    "OriginAccess": {"Type": "String", "AllowedValues": ["OAC", "OAI"], "Default": "OAC"},
    "AliasDomain": {"Type": "String", "Default": ""},
}


def test_core_references_are_resolved_from_the_core_stack_once() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    stub.add_response(
        "describe_stacks",
        fakes.stack(CORE, "UPDATE_COMPLETE", outputs={"ApiUrl": "https://a.test", "X": "b"}),
        {"StackName": CORE},
    )
    from scripts.deploy.params import stack_outputs

    cache: dict[str, dict[str, str]] = {}

    def outputs() -> dict[str, str]:
        if "core" not in cache:
            cache["core"] = stack_outputs(cfn, CORE)
        return cache["core"]

    values = resolve_values(
        {"ApiUrl": "${core.ApiUrl}", "Both": "${core.ApiUrl}/${core.X}", "N": 2, "B": True},
        outputs,
        CORE,
    )
    assert values == {"ApiUrl": "https://a.test", "Both": "https://a.test/b", "N": "2", "B": "true"}
    stub.assert_no_pending_responses()


def test_missing_output_names_it_and_the_stack() -> None:
    with pytest.raises(MissingOutput) as raised:
        resolve_values(
            {"FilesBucketName": "${core.FilesBucketName}"}, lambda: {"ApiUrl": "x"}, CORE
        )
    message = str(raised.value)
    assert "${core.FilesBucketName}" in message
    assert f"stack {CORE} has no output FilesBucketName" in message
    assert "its outputs: ApiUrl" in message


def test_literal_values_never_touch_aws() -> None:
    def boom() -> dict[str, str]:
        raise AssertionError("core outputs read without a reference")

    assert resolve_values({"OriginAccess": "OAC"}, boom, CORE) == {"OriginAccess": "OAC"}


def test_parameters_new_and_existing_stacks() -> None:
    values = {"ApiUrl": "https://a.test", "FilesBucketName": "b"}
    assert build_parameters(DECLARED, values, set(), "dev.json") == [
        {"ParameterKey": "ApiUrl", "ParameterValue": "https://a.test"},
        {"ParameterKey": "FilesBucketName", "ParameterValue": "b"},
    ]
    existing = {"ApiUrl", "FilesBucketName", "OriginAccess", "AliasDomain"}
    assert build_parameters(DECLARED, {"ApiUrl": "https://b.test"}, existing, "dev.json") == [
        {"ParameterKey": "AliasDomain", "UsePreviousValue": True},
        {"ParameterKey": "ApiUrl", "ParameterValue": "https://b.test"},
        {"ParameterKey": "FilesBucketName", "UsePreviousValue": True},
        {"ParameterKey": "OriginAccess", "UsePreviousValue": True},
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ApiUrl": "x", "FilesBucketName": "b", "Typo": "1"}, "sets Typo, which the template"),
        ({"ApiUrl": "x"}, "no value for FilesBucketName"),
        ({"ApiUrl": "x", "FilesBucketName": "b", "OriginAccess": "public"}, "not one of OAC, OAI"),
    ],
)
def test_parameter_mistakes_are_named(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_parameters(DECLARED, values, set(), "dev.json")


def test_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("dev", tmp_path)
    (tmp_path / "dev.json").write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config("dev", tmp_path)
    (tmp_path / "dev.json").write_text(json.dumps({"core": {"A": 1}}))
    assert load_config("dev", tmp_path) == {"core": {"A": 1}}


def test_html_and_config_are_uploaded_last(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("x")
    (tmp_path / "z.js").write_text("x")
    keys = [u.key for u in website.collect(tmp_path, "window.TODO_CONFIG = {};\n")]
    assert keys == ["z.js", "config.js", "index.html"]


def test_publishing_refuses_a_password_policy_the_page_cannot_show(tmp_path: Path) -> None:
    template = tmp_path / "core.yaml"
    template.write_text(
        "Resources:\n"
        "  Pool:\n"
        "    Type: AWS::Cognito::UserPool\n"
        "    Properties:\n"
        "      Policies: {PasswordPolicy: {MinimumLength: 10}}\n"
    )
    with pytest.raises(DeployFailed) as raised:
        website.password_rules(template)
    assert str(raised.value).startswith(
        f"{template}: Resources.Pool.Properties.Policies.PasswordPolicy: state RequireLowercase, "
        "RequireUppercase, RequireNumbers, RequireSymbols in the PasswordPolicy"
    )


def test_logs_reads_every_page_and_follows_without_repeats() -> None:
    client, stub = fakes.stubbed("logs")
    group = "/todo/dev/main"

    def ev(i: int, ts: int) -> dict[str, object]:
        return {
            "logStreamName": f"ecs/main/task{i}",
            "timestamp": ts,
            "message": f"line {i}",
            "ingestionTime": ts,
            "eventId": f"id{i}",
        }

    stub.add_response(
        "filter_log_events",
        {"events": [ev(1, 1_000)], "nextToken": "p2"},
        {"logGroupName": group, "startTime": 400_000},  # now (1000 s) minus 600 s, in ms
    )
    stub.add_response(
        "filter_log_events",
        {"events": [ev(2, 2_000)]},
        {"logGroupName": group, "startTime": 400_000, "nextToken": "p2"},
    )
    stub.add_response(
        "filter_log_events",
        {"events": [ev(2, 2_000), ev(3, 3_000)]},
        {"logGroupName": group, "startTime": 2_000},
    )
    out, buffer = fakes.console()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        logs.tail(
            client, out, group, since_seconds=600, follow=True, now=lambda: 1000.0, sleep=sleep
        )
    lines = [line.split(" ", 2)[2] for line in buffer.getvalue().splitlines()]
    assert lines == ["line 1", "line 2", "line 3"]
    assert logs.parse_since("10m") == 600
    with pytest.raises(ConfigError):
        logs.parse_since("ten minutes")


def test_status_shows_stacks_services_and_targets() -> None:
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    ecs, ecs_stub = fakes.stubbed("ecs")
    elbv2, elb_stub = fakes.stubbed("elbv2")
    tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/todo-dev-main/6d0e"
    outputs = {"ClusterName": "c", "MainServiceName": "todo-dev-main", "MainTargetGroupArn": tg}
    cfn_stub.add_response("describe_stacks", fakes.stack(CORE, "UPDATE_COMPLETE", outputs=outputs))
    fakes.not_found(cfn_stub, "todo-dev-website")
    ecs_stub.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": "todo-dev-main",
                    "desiredCount": 2,
                    "runningCount": 1,
                    "pendingCount": 1,
                    "deployments": [
                        {
                            "id": "ecs-svc/1",
                            "status": "PRIMARY",
                            "taskDefinition": TD,
                            "rolloutState": "IN_PROGRESS",
                        }
                    ],
                }
            ],
            "failures": [],
        },
        {"cluster": "c", "services": ["todo-dev-main"]},
    )
    elb_stub.add_response(
        "describe_target_health",
        {
            "TargetHealthDescriptions": [
                {
                    "Target": {"Id": "i-0abc", "Port": 32769},
                    "TargetHealth": {"State": "initial", "Reason": "Elb.RegistrationInProgress"},
                }
            ]
        },
    )
    out, buffer = fakes.console()
    run_status(AwsClients(cloudformation=cfn, ecs=ecs, elbv2=elbv2), out, "dev")
    text = buffer.getvalue()
    assert "todo-dev-website" in text
    assert "not deployed" in text
    assert "1/2" in text
    assert "IN_PROGRESS" in text
    assert "todo-dev-main:9" in text
    assert "Elb.RegistrationInProgress" in text
