"""The template's ECS services, run with the command their container runs (the Dockerfile's CMD)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scripts.cfn.template import Deferred, Placeholder, Resolver, Text, UnsupportedTemplate
from scripts.local.alb import ref_id
from scripts.local.processes import Child, Log, StartupError
from scripts.local.secrets import LocalSecret, read_secrets


def dockerfile_cmd(dockerfile: Path) -> list[str]:
    """The exec-form CMD of a Dockerfile (the last CMD wins, as in Docker)."""
    if not dockerfile.is_file():
        raise StartupError(f"{dockerfile} does not exist")
    text = re.sub(r"\\\r?\n", " ", dockerfile.read_text(encoding="utf-8"))
    commands = [
        line.strip()[3:].strip()
        for line in text.splitlines()
        if re.match(r"\s*CMD\s", line, re.IGNORECASE)
    ]
    if not commands:
        raise StartupError(f"{dockerfile} has no CMD")
    try:
        argv = json.loads(commands[-1])
    except json.JSONDecodeError as err:
        raise StartupError(
            f"{dockerfile}: CMD must be a JSON array (exec form) for the local stack to run it"
        ) from err
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise StartupError(f"{dockerfile}: CMD must be a non-empty JSON array of strings")
    return argv


def _executable(name: str) -> str:
    """A console script of this interpreter's environment first, then PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise StartupError(f"{name} is not installed in this environment (run `make venv`)")
    return found


def local_command(cmd: list[str]) -> list[str]:
    """The container's command, as written, minus any listening address.

    In its container a service binds 0.0.0.0:$PORT inside its own network namespace; on one machine
    each service needs a port of its own, and only the gateway should be reachable. The local
    address goes in through GUNICORN_CMD_ARGS (see `gunicorn_settings`), which outranks gunicorn's
    config file; an address written in the command itself would outrank it, so it is dropped.
    """
    argv = [_executable(cmd[0]) if "/" not in cmd[0] else cmd[0]]
    skip = False
    for arg in cmd[1:]:
        if skip:
            skip = False
            continue
        if arg in ("-b", "--bind"):
            skip = True
            continue
        if arg.startswith("--bind=") or (arg.startswith("-b") and len(arg) > 2):
            continue
        argv.append(arg)
    return argv


def gunicorn_settings(host: str, port: int) -> str:
    """GUNICORN_CMD_ARGS for a local service: its own address (it outranks gunicorn.conf.py).

    gunicorn.conf.py turns gunicorn's control socket off, so two services on one machine do not
    take its per-user default path from each other.
    """
    return f"--bind {host}:{port}"


ECS_SERVICE = "AWS::ECS::Service"

# Environment variable -> logical ID (the services' configuration, docs/services.md); used only
# when a task definition does not set the variable itself (task definitions normally do, with a
# Ref to the resource).
CONTRACT_ENV = {
    "TODOS_TABLE": "TodosTable",
    "FILES_TABLE": "FilesTable",
    "FILES_BUCKET": "FilesBucket",
    "COGNITO_USER_POOL_ID": "UserPool",
    "COGNITO_APP_CLIENT_ID": "UserPoolClient",
}


@dataclass(frozen=True)
class LocalService:
    """One ECS service of the template, as the local stack runs it.

    `name` is the container name in the service's load balancer mapping (`main`, `files`), which
    is also the app service's folder, `app/<name>_service/`. `environment` is the container's
    environment from the task definition, its values `Deferred` where they name a resource the
    emulator has not created yet; `unset` names the variables the local stack cannot give a
    value, with the reason.
    """

    logical_id: str
    name: str
    target_group: str
    command: tuple[str, ...]
    environment: Mapping[str, Text]
    unset: Mapping[str, str]
    secrets: tuple[LocalSecret, ...] = ()  # from the task definition's `Secrets`


def read_services(resolver: Resolver, app_dir: Path) -> tuple[LocalService, ...]:
    """Each ECS service with a load balancer mapping, with its container's command and env."""
    services: list[LocalService] = []
    for service_id in resolver.of_type(ECS_SERVICE):
        where = f"Resources.{service_id}.Properties"
        task_id = ref_id(resolver.prop(service_id, "TaskDefinition"), f"{where}.TaskDefinition")
        # Only names and the environment are read: the rest (image, logging...) has no meaning
        # locally.
        task_where = f"Resources.{task_id}.Properties.ContainerDefinitions"
        containers = {
            resolver.text(c.get("Name"), f"{task_where}[{i}].Name"): c
            for i, c in enumerate(resolver.properties(task_id).get("ContainerDefinitions", []))
        }
        for mapping in resolver.prop(service_id, "LoadBalancers") or []:
            target_group = ref_id(mapping.get("TargetGroupArn"), f"{where}.LoadBalancers")
            name = str(mapping.get("ContainerName"))
            if name not in containers:
                raise UnsupportedTemplate(
                    f"Resources.{task_id}: no container named {name!r} "
                    f"(the load balancer mapping of {service_id} names it)"
                )
            environment: dict[str, Text] = {}
            unset: dict[str, str] = {}
            for i, item in enumerate(containers[name].get("Environment", [])):
                entry = resolver.chosen(item, f"{task_where} environment [{i}]")
                if entry is None:
                    continue  # a variable the template leaves out for these parameters
                variable = resolver.text(entry["Name"], task_where)
                try:
                    environment[variable] = resolver.later_text(
                        entry["Value"], f"Resources.{task_id} environment {variable}"
                    )
                except UnsupportedTemplate as err:
                    unset[variable] = str(err)
            for variable, logical_id in CONTRACT_ENV.items():
                if variable not in environment and logical_id in resolver.later:
                    environment[variable] = Deferred((Placeholder(logical_id),))
            command = dockerfile_cmd(app_dir / f"{name}_service" / "Dockerfile")
            secrets = read_secrets(resolver, containers[name], task_where)
            services.append(
                LocalService(
                    service_id,
                    name,
                    target_group,
                    tuple(command),
                    environment,
                    unset,
                    tuple(secrets),
                )
            )
    return tuple(services)


def start_service(
    service: LocalService,
    app_dir: Path,
    env: Mapping[str, str],
    log: Log,
) -> Child:
    """The container's command in app/, with this environment's gunicorn (see local_command)."""
    return Child(service.name, local_command(list(service.command)), log, env=env, cwd=app_dir)
