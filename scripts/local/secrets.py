"""The tasks' secrets on the emulator: created from local development values, injected as ECS does.

A task definition names its secrets under `Secrets` (`valueFrom`: a Secrets Manager secret of the
stack, or an SSM SecureString parameter's ARN; generator/core/secrets.py). The local stack creates
each in the emulator with a local development value (never a real one), then gives the service
process the value it reads back through the same calls ECS makes when a task starts
(GetSecretValue, GetParameters with decryption), so the whole path runs here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from scripts.cfn.template import LogicalRef, Resolver, UnsupportedTemplate

SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 - a resource type


@dataclass(frozen=True)
class LocalSecret:
    variable: str
    store: str  # "secretsmanager" or "ssm"
    name: str  # the secret's name, or the parameter's

    @property
    def local_value(self) -> str:
        """A development value: recognisable, and never one of a deployed environment."""
        return f"local-development-{self.name.strip('/').replace('/', '-')}"


def read_secrets(resolver: Resolver, container: Mapping[str, Any], where: str) -> list[LocalSecret]:
    """A container definition's `Secrets`, as names the emulator can hold."""
    found = []
    for i, entry in enumerate(container.get("Secrets") or []):
        variable = resolver.text(entry["Name"], f"{where}.Secrets[{i}].Name")
        value = resolver.resolve(entry["ValueFrom"], f"{where}.Secrets[{i}].ValueFrom")
        if (
            isinstance(value, LogicalRef)
            and resolver.resource(value.logical_id)["Type"] == SECRET_TYPE
        ):
            name = resolver.text(
                resolver.properties(value.logical_id)["Name"], f"Resources.{value.logical_id}.Name"
            )
            found.append(LocalSecret(variable, "secretsmanager", name))
        elif isinstance(value, str) and ":ssm:" in value and ":parameter/" in value:
            found.append(LocalSecret(variable, "ssm", "/" + value.split(":parameter/", 1)[1]))
        else:
            raise UnsupportedTemplate(
                f"{where}.Secrets[{i}]: {variable} names neither a secret of the template nor an "
                "SSM parameter"
            )
    return found


def create_secrets(secrets: Iterable[LocalSecret], secretsmanager: Any, ssm: Any) -> list[str]:
    """Create each secret once in the emulator; the names created."""
    created: list[str] = []
    for secret in {s.name: s for s in secrets}.values():
        if secret.store == "secretsmanager":
            secretsmanager.create_secret(Name=secret.name, SecretString=secret.local_value)
        else:
            ssm.put_parameter(
                Name=secret.name, Type="SecureString", Value=secret.local_value, Overwrite=True
            )
        created.append(secret.name)
    return created


def injected(secrets: Iterable[LocalSecret], secretsmanager: Any, ssm: Any) -> dict[str, str]:
    """The variables a task starts with, read back as ECS reads them."""
    values: dict[str, str] = {}
    for secret in secrets:
        if secret.store == "secretsmanager":
            values[secret.variable] = secretsmanager.get_secret_value(SecretId=secret.name)[
                "SecretString"
            ]
        else:
            (parameter,) = ssm.get_parameters(Names=[secret.name], WithDecryption=True)[
                "Parameters"
            ]
            values[secret.variable] = parameter["Value"]
    return values
