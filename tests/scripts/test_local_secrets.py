"""The local stack gives the services the task definitions' secrets as ECS would: on the emulator.

The test-only settings variant of tests/aws/test_secrets.py (one Secrets Manager secret, one SSM
SecureString) is described from its rendered template, its secrets are created in a real emulator
from local development values, and the values a task would start with are read back through the
calls ECS makes.
"""

from __future__ import annotations

import boto3

from generator import render_all
from scripts.cfn.template import parse_template
from scripts.local.description import template_resolver
from scripts.local.secrets import LocalSecret, create_secrets, injected, read_secrets
from tests.aws.test_secrets import VARIANT


def variant_secrets() -> dict[str, list[LocalSecret]]:
    template = parse_template(render_all(VARIANT)["core.yaml"])
    resolver = template_resolver(template, "https://local.example")
    found = {}
    for task in ("MainTaskDefinition", "FilesTaskDefinition"):
        (container,) = resolver.properties(task)["ContainerDefinitions"]
        found[container["Name"]] = read_secrets(resolver, container, task)
    return found


def test_the_task_definitions_secrets_are_read_by_name() -> None:
    secrets = variant_secrets()
    assert {s.variable: (s.store, s.name) for s in secrets["main"]} == {
        "EXAMPLE_API_KEY": ("secretsmanager", "todo-local-core-example-api-key"),
        "EXAMPLE_SIGNING_KEY": ("ssm", "/todo-local-core/example-signing-key"),
    }
    assert [s.variable for s in secrets["files"]] == ["EXAMPLE_API_KEY"]


def test_secrets_are_created_and_injected_as_ecs_would(aws_env: dict[str, str]) -> None:
    secretsmanager, ssm = boto3.client("secretsmanager"), boto3.client("ssm")
    secrets = variant_secrets()
    created = create_secrets([s for found in secrets.values() for s in found], secretsmanager, ssm)
    assert sorted(created) == [
        "/todo-local-core/example-signing-key",
        "todo-local-core-example-api-key",
    ]
    stored = ssm.get_parameter(Name="/todo-local-core/example-signing-key")["Parameter"]
    assert stored["Type"] == "SecureString"
    main = injected(secrets["main"], secretsmanager, ssm)
    assert main == {
        "EXAMPLE_API_KEY": "local-development-todo-local-core-example-api-key",
        "EXAMPLE_SIGNING_KEY": "local-development-todo-local-core-example-signing-key",
    }
    secretsmanager.put_secret_value(
        SecretId="todo-local-core-example-api-key", SecretString="rotated"
    )
    # A task that starts after a rotation gets the new value; one already running keeps its own.
    assert injected(secrets["files"], secretsmanager, ssm) == {"EXAMPLE_API_KEY": "rotated"}
    assert main["EXAMPLE_API_KEY"] != "rotated"


def test_the_real_template_has_no_secret_yet() -> None:
    template = parse_template(render_all()["core.yaml"])
    resolver = template_resolver(template, "https://local.example")
    (container,) = resolver.properties("MainTaskDefinition")["ContainerDefinitions"]
    assert read_secrets(resolver, container, "MainTaskDefinition") == []
