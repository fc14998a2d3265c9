"""Secrets layer: the secrets the services read, which ECS injects when a task starts.

Each `SecretSpec` of the settings maps an environment variable to a Secrets Manager secret
(`<stack>-<name>`, created here, encrypted with the data key, kept when the stack goes) or an SSM
SecureString parameter (`/<stack>/<name>`; CloudFormation cannot create SecureStrings, so
`make secret` does, with the data key). The task definition names it under `Secrets`
(`valueFrom`), never as a plain environment value; ECS reads it with the task execution role,
which may read exactly these ARNs and decrypt them only through Secrets Manager or SSM
("Pass sensitive data to an Amazon ECS container", ECS Developer Guide). A task reads its
secrets when it starts: a new value reaches running services only when their tasks are replaced
(`make secret ... RESTART=1`).

No production secret exists yet (generator/config.py); the mechanism is exercised by a test-only
settings variant and the local stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub, Template
from troposphere.secretsmanager import GenerateSecretString, Secret

from generator.common import checkov_skip, retain
from generator.config import SecretSpec, Settings
from generator.core.encryption import Encryption
from generator.naming import logical_id


@dataclass(frozen=True)
class StackSecret:
    spec: SecretSpec
    arn: object  # what `valueFrom` names


@dataclass(frozen=True)
class Secrets:
    by_variable: dict[str, StackSecret]

    def of_store(self, store: str) -> list[StackSecret]:
        return [s for s in self.by_variable.values() if s.spec.store == store]

    def for_service(self, service: str) -> list[StackSecret]:
        return [s for s in self.by_variable.values() if service in s.spec.services]


def parameter_name(name: str) -> str:
    """The SecureString's name; `${AWS::StackName}` is filled by Sub."""
    return f"/${{AWS::StackName}}/{name}"


def add_secrets(t: Template, settings: Settings, encryption: Encryption) -> Secrets:
    found: dict[str, StackSecret] = {}
    for spec in settings.secrets:
        if spec.store == "secretsmanager":
            secret = t.add_resource(
                checkov_skip(
                    retain(
                        Secret(
                            logical_id(spec.name, "secret"),
                            Name=Sub(f"${{AWS::StackName}}-{spec.name}"),
                            Description=f"{spec.variable} of the {', '.join(spec.services)} "
                            "service(s); set with make secret",
                            KmsKeyId=GetAtt(encryption.key, "Arn"),
                            # A random start, so that a task can start before anyone sets it.
                            GenerateSecretString=GenerateSecretString(
                                PasswordLength=48, ExcludePunctuation=True
                            ),
                        )
                    ),
                    (
                        "CKV2_AWS_57",
                        "rotated by make secret (docs/operations.md): no rotation Lambda "
                        "knows what the services do with the value",
                    ),
                )
            )
            found[spec.variable] = StackSecret(spec, Ref(secret))
        elif spec.store == "ssm":
            arn = Sub(
                "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
                + parameter_name(spec.name)
            )
            found[spec.variable] = StackSecret(spec, arn)
        else:
            raise ValueError(f"secret {spec.name}: store must be secretsmanager or ssm")
    return Secrets(by_variable=found)
