"""`make changeset` / `make deploy` refuse a direct LaunchType switch on a live core stack.

The live stack's parameters come from a stubbed DescribeStacks. A refusal happens before any
change set is created (no CreateChangeSet is stubbed, so one would fail the test); an allowed
switch goes on to CreateChangeSet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from scripts.cfn.template import load_template, parameter_values
from scripts.deploy import cli
from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import LaunchTypeSwitchRefused
from scripts.deploy.params import CONFIG_DIR, TEMPLATES_DIR
from scripts.deploy.stacks import run_changeset
from tests.aws.conftest import core_parameters
from tests.scripts import fakes

CORE = "todo-dev-core"
NAME = "deploy-20260105T093000Z-abc1234def56"
TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  LaunchType:
    Type: String
    AllowedValues: [EC2, FARGATE]
    Default: EC2
  ServicesEnabled:
    Type: String
    AllowedValues: ['true', 'false']
    Default: 'true'
  WebsiteOrigin:
    Type: String
Resources:
  Cluster:
    Type: AWS::ECS::Cluster
"""


def directories(tmp_path: Path, core: dict[str, str]) -> tuple[Path, Path]:
    config, templates = tmp_path / "config", tmp_path / "templates"
    config.mkdir()
    templates.mkdir()
    (config / "dev.json").write_text(
        json.dumps({"core": {"WebsiteOrigin": "https://a.test", **core}})
    )
    (templates / "core.yaml").write_text(TEMPLATE)
    return config, templates


def live(stub: Stubber, parameters: dict[str, str]) -> None:
    stub.add_response(
        "describe_stacks",
        fakes.stack(
            CORE, "UPDATE_COMPLETE", parameters={"WebsiteOrigin": "https://a.test", **parameters}
        ),
        {"StackName": CORE},
    )


def expect_change_set(stub: Stubber, change_type: str) -> None:
    fakes.expect_change_set(
        stub,
        CORE,
        NAME,
        [fakes.change("Modify", "Cluster", "AWS::ECS::Cluster")],
        ChangeSetType=change_type,
        Parameters=ANY,
        Description=ANY,
        Tags=ANY,
        TemplateBody=TEMPLATE,
    )


def refused(
    tmp_path: Path, stack: dict[str, str], config: dict[str, str]
) -> LaunchTypeSwitchRefused:
    cfn, stub = fakes.stubbed("cloudformation")
    live(stub, stack)
    dirs = directories(tmp_path, config)
    ctx, _, _ = fakes.context(
        AwsClients(cloudformation=cfn), config_dir=dirs[0], templates_dir=dirs[1]
    )
    with pytest.raises(LaunchTypeSwitchRefused) as raised:
        run_changeset(ctx, "core", allow_data_loss=False)
    stub.assert_no_pending_responses()  # only DescribeStacks: no change set was created
    return raised.value


@pytest.mark.parametrize(
    ("stack", "config"),
    [
        # Services running, switched directly, in either direction.
        ({"LaunchType": "EC2", "ServicesEnabled": "true"}, {"LaunchType": "FARGATE"}),
        ({"LaunchType": "FARGATE", "ServicesEnabled": "true"}, {"LaunchType": "EC2"}),
        # Steps 1 and 2 at once: the services still exist when the capacity changes.
        (
            {"LaunchType": "EC2", "ServicesEnabled": "true"},
            {"LaunchType": "FARGATE", "ServicesEnabled": "false"},
        ),
        # A stack from before ServicesEnabled existed runs its services.
        ({"LaunchType": "EC2"}, {"LaunchType": "FARGATE"}),
    ],
)
def test_a_switch_while_the_services_exist_is_refused_with_the_procedure(
    tmp_path: Path, stack: dict[str, str], config: dict[str, str]
) -> None:
    error = refused(tmp_path, stack, config)
    message = str(error)
    old, new = stack["LaunchType"], config["LaunchType"]
    assert error.exit_code == 2
    assert message.startswith(
        f"stack {CORE} runs LaunchType {old}; this deploy would switch it to {new} while its "
        "ECS services exist"
    )
    assert "ResourceInUseException" in message
    assert "TargetType" in message
    config_file = tmp_path / "config" / "dev.json"
    steps = [line.strip() for line in message.splitlines() if line.startswith("  ")]
    assert steps == [
        f'1. in {config_file}, under "core", set "ServicesEnabled": "false" and keep '
        f'"LaunchType": "{old}"; make deploy STACK=core ENV=dev (both services and their '
        "scaling go)",
        f'2. set "LaunchType": "{new}" (ServicesEnabled stays "false"); make deploy STACK=core '
        "ENV=dev (capacity, target groups and task definitions change with no service in the way)",
        f'3. set "ServicesEnabled": "true"; make deploy STACK=core ENV=dev (the services start '
        f"on {new})",
    ]
    assert "the API answers 503" in message


def test_a_switch_together_with_the_services_returning_is_refused_and_step_1_is_done(
    tmp_path: Path,
) -> None:
    error = refused(
        tmp_path,
        {"LaunchType": "EC2", "ServicesEnabled": "false"},
        {"LaunchType": "FARGATE", "ServicesEnabled": "true"},
    )
    assert "(ServicesEnabled is 'false' on the stack, 'true' in this deploy)" in str(error)
    assert "(done: the stack already has it)" in str(error)


@pytest.mark.parametrize(
    ("stack", "config"),
    [
        # Step 2: no service on either side.
        (
            {"LaunchType": "EC2", "ServicesEnabled": "false"},
            {"LaunchType": "FARGATE", "ServicesEnabled": "false"},
        ),
        # Step 2 with ServicesEnabled left out of the config: it keeps its live "false".
        ({"LaunchType": "FARGATE", "ServicesEnabled": "false"}, {"LaunchType": "EC2"}),
        # Steps 1 and 3: LaunchType unchanged.
        (
            {"LaunchType": "EC2", "ServicesEnabled": "true"},
            {"LaunchType": "EC2", "ServicesEnabled": "false"},
        ),
        (
            {"LaunchType": "FARGATE", "ServicesEnabled": "false"},
            {"LaunchType": "FARGATE", "ServicesEnabled": "true"},
        ),
        # LaunchType left out of the config: it keeps its live value.
        ({"LaunchType": "EC2", "ServicesEnabled": "true"}, {}),
    ],
)
def test_the_steps_of_the_procedure_go_through(
    tmp_path: Path, stack: dict[str, str], config: dict[str, str]
) -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    live(stub, stack)
    expect_change_set(stub, "UPDATE")
    dirs = directories(tmp_path, config)
    ctx, _, _ = fakes.context(
        AwsClients(cloudformation=cfn), config_dir=dirs[0], templates_dir=dirs[1]
    )
    plan = run_changeset(ctx, "core", allow_data_loss=False)
    stub.assert_no_pending_responses()
    assert plan.change_set.type == "UPDATE"


def test_a_stack_being_created_takes_any_launch_type(tmp_path: Path) -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    fakes.not_found(stub, CORE)
    expect_change_set(stub, "CREATE")
    dirs = directories(tmp_path, {"LaunchType": "FARGATE"})
    ctx, _, _ = fakes.context(
        AwsClients(cloudformation=cfn), config_dir=dirs[0], templates_dir=dirs[1]
    )
    assert run_changeset(ctx, "core", allow_data_loss=False).change_set.type == "CREATE"
    stub.assert_no_pending_responses()


def test_the_committed_config_and_template_name_config_dev_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the real templates/core.yaml and config/dev.json a --parameter switch is refused
    before the template is uploaded or a change set created; the message names the file as
    the operator edits it."""
    monkeypatch.setenv("COLUMNS", "400")
    template: dict[str, Any] = load_template(TEMPLATES_DIR / "core.yaml")
    dev = json.loads((CONFIG_DIR / "dev.json").read_text())["core"]
    assert (dev["LaunchType"], dev["ServicesEnabled"]) == ("FARGATE", "true")
    parameters = parameter_values(template, core_parameters(LaunchType="FARGATE"))
    cfn, stub = fakes.stubbed("cloudformation")
    live(stub, parameters)
    out, _ = fakes.console()
    code = cli.main(
        ["deploy", "--stack", "core", "--env", "dev", "--parameter", "LaunchType=EC2"],
        clients=AwsClients(cloudformation=cfn),
        console=out,
    )
    stub.assert_no_pending_responses()
    error = capsys.readouterr().err
    assert code == 2
    assert (
        "stack todo-dev-core runs LaunchType FARGATE; this deploy would switch it to EC2" in error
    )
    assert 'in config/dev.json, under "core", set "ServicesEnabled": "false"' in error
