"""`make secret ENV=… NAME=… [RESTART=1]`: set (or rotate) a secret the services read.

The value comes from standard input (typed without echo on a terminal), never from the command
line, where shells and process lists keep it. A Secrets Manager secret gets a new version
(PutSecretValue); an SSM SecureString is written with the stack's data key (PutParameter,
Overwrite). ECS reads secrets when a task starts ("Pass sensitive data to an Amazon ECS
container"): running tasks keep the old value until they are replaced, which `--restart` does now
for the services that read it, through a new deployment of each (ECS's UpdateService with
forceNewDeployment, which changes nothing CloudFormation manages; the circuit breaker guards it).
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

from rich.console import Console

from generator.config import SecretSpec, Settings
from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import ConfigError
from scripts.deploy.params import stack_name, stack_outputs
from scripts.deploy.rollout import ServiceRef


def spec_named(name: str, settings: Settings) -> SecretSpec:
    for spec in settings.secrets:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in settings.secrets) or "none: no secret exists yet"
    raise ConfigError(f"no secret {name} in generator/config.py (its secrets: {known})")


def read_value(is_tty: Callable[[], bool], prompt: Callable[[str], str] = getpass.getpass) -> str:
    value = prompt("value (not shown): ") if is_tty() else sys.stdin.read().rstrip("\n")
    if not value:
        raise ConfigError("an empty value: nothing was changed")
    return value


def set_secret(clients: AwsClients, env: str, spec: SecretSpec, value: str) -> str:
    """Store the new value; return where it went."""
    core = stack_name(env, "core")
    if spec.store == "secretsmanager":
        name = f"{core}-{spec.name}"
        clients("secretsmanager").put_secret_value(SecretId=name, SecretString=value)
        return f"secret {name}"
    name = f"/{core}/{spec.name}"
    clients("ssm").put_parameter(
        Name=name, Value=value, Type="SecureString", KeyId=f"alias/{core}-data", Overwrite=True
    )
    return f"SecureString {name}"


def restart(clients: AwsClients, env: str, spec: SecretSpec, console: Console) -> None:
    core = stack_name(env, "core")
    outputs = stack_outputs(clients("cloudformation"), core)
    for service in spec.services:
        ref = ServiceRef.from_outputs(service, outputs, core)
        clients("ecs").update_service(
            cluster=ref.cluster, service=ref.name, forceNewDeployment=True
        )
        console.print(f"{ref.name}: new deployment started; its tasks start with the new value")


def run_secret(
    clients: AwsClients,
    console: Console,
    env: str,
    name: str,
    *,
    restart_services: bool,
    is_tty: Callable[[], bool] = sys.stdin.isatty,
    prompt: Callable[[str], str] = getpass.getpass,
    settings: Settings | None = None,
) -> None:
    spec = spec_named(name, settings or Settings())
    where = set_secret(clients, env, spec, read_value(is_tty, prompt))
    console.print(f"{spec.variable}: new value stored in {where}")
    if restart_services:
        restart(clients, env, spec, console)
    else:
        console.print(
            f"Running tasks of {', '.join(spec.services)} keep the old value until they are "
            f"replaced: make secret ENV={env} NAME={name} RESTART=1 replaces them now"
        )
