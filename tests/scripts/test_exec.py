"""`make exec`: the task it picks, what it refuses with a clear message, and the session it opens.

ECS is a Stubber replay (no emulator runs ECS Exec). The session manager plugin is a real
executable written into a temporary directory on PATH: it records the arguments it is started
with, exactly as the AWS CLI starts AWS's plugin.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from scripts.deploy import exec as exec_verb
from scripts.deploy.aws import AwsClients
from scripts.deploy.cli import main
from scripts.deploy.errors import ConfigError
from tests.scripts import fakes

CLUSTER = "todo-dev-core-Cluster-ABC"
SERVICE = "todo-dev-core-MainService-XYZ"
ARN = f"arn:aws:ecs:{fakes.REGION}:{fakes.ACCOUNT}"
OUTPUTS = {"ClusterName": CLUSTER, "MainServiceName": SERVICE}


def task(
    task_id: str, *, status: str = "RUNNING", agent: str | None = "RUNNING", started: int = 0
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "main",
        "runtimeId": f"{task_id}-0527074092",
        "lastStatus": status,
    }
    if agent is not None:
        container["managedAgents"] = [{"name": "ExecuteCommandAgent", "lastStatus": agent}]
    return {
        "taskArn": f"{ARN}:task/{CLUSTER}/{task_id}",
        "lastStatus": status,
        "availabilityZone": f"{fakes.REGION}b",
        "startedAt": fakes.T0.replace(minute=started),
        "containers": [container],
    }


def test_it_picks_the_oldest_task_whose_exec_agent_runs() -> None:
    tasks = [task("b", started=20), task("a", started=10), task("c", agent="PENDING", started=1)]
    target = exec_verb.pick_task(tasks, "main", SERVICE)
    assert (target.task_id, target.runtime_id) == ("a", "a-0527074092")


@pytest.mark.parametrize(
    ("tasks", "said"),
    [
        ([], "no running task"),
        ([task("a", agent=None)], "a: task RUNNING, exec agent absent"),
        ([task("a", agent="STOPPED")], "exec agent STOPPED"),
        ([task("a", status="PROVISIONING", agent="PENDING")], "task PROVISIONING"),
    ],
)
def test_no_usable_task_says_why_and_what_replaces_it(tasks: list[Any], said: str) -> None:
    with pytest.raises(exec_verb.ExecUnavailable, match=said) as caught:
        exec_verb.pick_task(tasks, "main", SERVICE)
    assert "a new deployment replaces it" in str(caught.value)


def test_a_missing_plugin_says_how_to_install_it() -> None:
    with pytest.raises(exec_verb.ExecUnavailable) as caught:
        exec_verb.plugin_path(lambda _name: None)
    message = str(caught.value)
    assert "session-manager-plugin is not installed" in message
    assert exec_verb.INSTALL_PAGE in message
    assert "dpkg -i session-manager-plugin.deb" in message


def fake_plugin(directory: Path) -> Path:
    """An executable named like AWS's plugin that writes its arguments to args.json."""
    plugin = directory / exec_verb.PLUGIN
    record = directory / "args.json"
    plugin.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    return plugin


def stub_ecs(stub: Stubber, *, exec_enabled: bool = True, tasks: list[Any] | None = None) -> None:
    stub.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICE,
                    "serviceArn": f"{ARN}:service/{CLUSTER}/{SERVICE}",
                    "enableExecuteCommand": exec_enabled,
                }
            ]
        },
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    if not exec_enabled:
        return
    running = tasks if tasks is not None else [task("0d3c8a5f")]
    stub.add_response(
        "list_tasks",
        {"taskArns": [t["taskArn"] for t in running]},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "RUNNING"},
    )
    if running:
        stub.add_response(
            "describe_tasks",
            {"tasks": running},
            {"cluster": CLUSTER, "tasks": [t["taskArn"] for t in running]},
        )


SESSION = {"sessionId": "ecs-execute-command-0a1b2c", "streamUrl": "wss://ssm", "tokenValue": "t"}


def test_the_session_goes_to_the_plugin_as_the_aws_cli_hands_it_over(tmp_path: Path) -> None:
    fake_plugin(tmp_path)
    ecs, stub = fakes.stubbed("ecs")
    stub_ecs(stub)
    stub.add_response(
        "execute_command",
        {
            "clusterArn": f"{ARN}:cluster/{CLUSTER}",
            "containerName": "main",
            "taskArn": f"{ARN}:task/{CLUSTER}/0d3c8a5f",
            "interactive": True,
            "session": SESSION,
        },
        {
            "cluster": CLUSTER,
            "task": f"{ARN}:task/{CLUSTER}/0d3c8a5f",
            "container": "main",
            "command": "ls /tmp",
            "interactive": True,
        },
    )
    console, out = fakes.console()
    code = exec_verb.open_session(
        ecs,
        console,
        cluster=CLUSTER,
        service=SERVICE,
        container="main",
        command="ls /tmp",
        profile="ops",
        which=lambda name: os.path.join(tmp_path, name),
    )
    stub.assert_no_pending_responses()
    assert code == 0
    args = json.loads((tmp_path / "args.json").read_text())
    assert json.loads(args[0]) == SESSION
    assert args[1:4] == [fakes.REGION, "StartSession", "ops"]
    assert json.loads(args[4]) == {"Target": f"ecs:{CLUSTER}_0d3c8a5f_0d3c8a5f-0527074092"}
    assert args[5] == ecs.meta.endpoint_url
    assert "task 0d3c8a5f" in out.getvalue()
    assert "logged" in out.getvalue()


def test_exec_off_is_refused_before_any_session(tmp_path: Path) -> None:
    fake_plugin(tmp_path)
    ecs, stub = fakes.stubbed("ecs")
    stub_ecs(stub, exec_enabled=False)
    console, _ = fakes.console()
    with pytest.raises(exec_verb.ExecUnavailable, match='"EnableExec": "true"'):
        exec_verb.open_session(
            ecs,
            console,
            cluster=CLUSTER,
            service=SERVICE,
            container="main",
            which=lambda name: os.path.join(tmp_path, name),
        )
    stub.assert_no_pending_responses()
    assert not (tmp_path / "args.json").exists()


def test_an_unknown_service_is_a_config_error() -> None:
    ecs, stub = fakes.stubbed("ecs")
    stub.add_response(
        "describe_services", {"services": []}, {"cluster": CLUSTER, "services": [SERVICE]}
    )
    with pytest.raises(ConfigError, match="does not exist"):
        exec_verb.find_target(ecs, CLUSTER, SERVICE, "main")


def test_make_exec_without_the_plugin_exits_2_with_the_install_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the command line as `make exec` runs it: no AWS call is answered, none is made."""
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing named session-manager-plugin on it
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    cfn_stub.add_response(
        "describe_stacks",
        fakes.stack("todo-dev-core", "UPDATE_COMPLETE", outputs=OUTPUTS),
        {"StackName": "todo-dev-core"},
    )
    ecs, ecs_stub = fakes.stubbed("ecs")
    console, _ = fakes.console()
    errors = tmp_path / "stderr"
    with errors.open("w") as stream, pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", stream)
        code = main(
            ["exec", "--env", "dev", "--service", "main"],
            clients=AwsClients(cloudformation=cfn, ecs=ecs),
            console=console,
        )
    assert code == exec_verb.ExecUnavailable.exit_code == 2
    assert "session-manager-plugin is not installed" in " ".join(errors.read_text().split())
    ecs_stub.assert_no_pending_responses()
