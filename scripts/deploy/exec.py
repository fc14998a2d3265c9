"""`make exec SERVICE=… ENV=… [CMD=…]`: a shell or one command in a running task, by ECS Exec.

ECS Exec opens a Session Manager session into the container ("Monitor Amazon ECS containers with
ECS Exec", ECS Developer Guide). The client side is AWS's `session-manager-plugin`, which the AWS
CLI runs with the session that `ExecuteCommand` returns; this does the same, after checking what
usually goes wrong first: the plugin is missing, exec is off in the environment (`EnableExec`), or
no task runs the exec agent yet. The cluster logs every session to an encrypted log group
(generator/core/compute.py); CloudTrail records who called ExecuteCommand.

The choice of task is a pure function of DescribeTasks' answer (`pick_task`), apart from the calls.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from scripts.deploy.aws import Client
from scripts.deploy.errors import ConfigError, DeployError

PLUGIN = "session-manager-plugin"
INSTALL_PAGE = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "session-manager-working-with-install-plugin.html"
)
DEFAULT_COMMAND = "/bin/sh"


class ExecUnavailable(DeployError):
    """ECS Exec cannot start: no plugin, exec off, or no task with a running exec agent."""

    exit_code = 2


class SessionEnded(DeployError):
    """The session (or the plugin) ended with a non-zero code, which becomes the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = code


@dataclass(frozen=True)
class Target:
    task_arn: str
    task_id: str
    runtime_id: str  # the container's runtime ID, part of the Session Manager target
    where: str  # availability zone, for the message


def plugin_path(which: Callable[[str], str | None] = shutil.which) -> str:
    path = which(PLUGIN)
    if path is None:
        raise ExecUnavailable(
            f"{PLUGIN} is not installed (ECS Exec's client side, from AWS). Install it: "
            f"{INSTALL_PAGE} (Debian/Ubuntu: download session-manager-plugin.deb from that page "
            f"and `sudo dpkg -i session-manager-plugin.deb`; macOS: `brew install --cask "
            f"session-manager-plugin`), then check with `{PLUGIN} --version`"
        )
    return path


def _agent_status(container: dict[str, Any]) -> str:
    for agent in container.get("managedAgents") or []:
        if agent.get("name") == "ExecuteCommandAgent":
            return str(agent.get("lastStatus", "UNKNOWN"))
    return "absent"


def pick_task(tasks: Sequence[dict[str, Any]], container: str, service: str) -> Target:
    """The first running task whose container runs the exec agent; else why none can be used."""
    seen: list[str] = []
    for task in sorted(tasks, key=lambda t: str(t.get("startedAt", ""))):
        task_id = str(task["taskArn"]).rsplit("/", 1)[-1]
        found = [c for c in task.get("containers") or [] if c.get("name") == container]
        if not found:
            seen.append(f"{task_id}: no container {container}")
            continue
        agent = _agent_status(found[0])
        if task.get("lastStatus") == "RUNNING" and agent == "RUNNING" and found[0].get("runtimeId"):
            return Target(
                task_arn=str(task["taskArn"]),
                task_id=task_id,
                runtime_id=str(found[0]["runtimeId"]),
                where=str(task.get("availabilityZone", "")),
            )
        seen.append(f"{task_id}: task {task.get('lastStatus')}, exec agent {agent}")
    detail = "; ".join(seen) if seen else "no running task"
    raise ExecUnavailable(
        f"no task of {service} can take a session ({detail}). A task started before exec was "
        "turned on has no exec agent: a new deployment replaces it (make deploy-service, or "
        "make deploy STACK=core after changing EnableExec)"
    )


def find_target(ecs: Client, cluster: str, service: str, container: str) -> Target:
    described = ecs.describe_services(cluster=cluster, services=[service])["services"]
    if not described:
        raise ConfigError(f"ECS service {service} does not exist in cluster {cluster}")
    if not described[0].get("enableExecuteCommand"):
        raise ExecUnavailable(
            f'ECS Exec is off for {service}: set "EnableExec": "true" in config/<env>.json '
            "and make deploy STACK=core (it also makes the containers' root filesystem writable, "
            "which ECS Exec needs; docs/operations.md)"
        )
    arns = [
        arn
        for page in ecs.get_paginator("list_tasks").paginate(
            cluster=cluster, serviceName=service, desiredStatus="RUNNING"
        )
        for arn in page["taskArns"]
    ]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:100])["tasks"] if arns else []
    return pick_task(tasks, container, service)


@contextmanager
def _signals_go_to_the_session() -> Iterator[None]:
    """Ctrl-C and Ctrl-Z belong to the remote shell: the plugin forwards them, so this process
    must not die of them meanwhile (as the AWS CLI does)."""
    handled = (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP)
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in handled}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def open_session(
    ecs: Client,
    console: Console,
    *,
    cluster: str,
    service: str,
    container: str,
    command: str = DEFAULT_COMMAND,
    profile: str = "",
    which: Callable[[str], str | None] = shutil.which,
    run: Callable[[list[str]], int] = subprocess.call,
) -> int:
    """Start the session and hand the terminal to the plugin; its exit code is the result."""
    plugin = plugin_path(which)
    target = find_target(ecs, cluster, service, container)
    console.print(
        f"ECS Exec into {service}/{container}, task {target.task_id} ({target.where}): "
        f"{command!r}. The session is logged (command and output) to the cluster's "
        "exec log group."
    )
    response = ecs.execute_command(
        cluster=cluster,
        task=target.task_arn,
        container=container,
        command=command,
        interactive=True,
    )
    parameters = {"Target": f"ecs:{cluster}_{target.task_id}_{target.runtime_id}"}
    argv = [
        plugin,
        json.dumps(response["session"]),
        str(ecs.meta.region_name),
        "StartSession",
        profile,
        json.dumps(parameters),
        str(ecs.meta.endpoint_url),
    ]
    with _signals_go_to_the_session():
        return run(argv)
