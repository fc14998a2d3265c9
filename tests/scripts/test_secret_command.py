"""`make secret`: the value goes from standard input to the store, and the restart is asked for.

Secrets Manager and SSM are the emulator's (over HTTP); the restart's CloudFormation and ECS calls
are Stubber replays. The settings are the test-only variant: no production secret exists yet.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import ConfigError
from scripts.deploy.secret import run_secret
from tests.aws.test_secrets import VARIANT
from tests.scripts import fakes

CORE = "todo-dev-core"


def secret_run(clients: AwsClients, name: str, value: str, **options: Any) -> str:
    console, out = fakes.console()
    run_secret(
        clients,
        console,
        "dev",
        name,
        is_tty=lambda: True,
        prompt=lambda _question: value,
        settings=VARIANT,
        **options,
    )
    return " ".join(out.getvalue().split())


def test_a_secret_gets_a_new_version_and_the_restart_is_offered(aws_env: dict[str, str]) -> None:
    secretsmanager = boto3.client("secretsmanager")
    secretsmanager.create_secret(Name=f"{CORE}-example-api-key", SecretString="generated")
    text = secret_run(AwsClients(), "example-api-key", "s3cr3t", restart_services=False)
    stored = secretsmanager.get_secret_value(SecretId=f"{CORE}-example-api-key")["SecretString"]
    assert stored == "s3cr3t"
    assert "s3cr3t" not in text  # the value is never printed
    assert "keep the old value until they are replaced" in text
    assert "RESTART=1" in text


def test_a_securestring_is_written_with_the_stacks_key(aws_env: dict[str, str]) -> None:
    kms, ssm = boto3.client("kms"), boto3.client("ssm")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{CORE}-data", TargetKeyId=key)
    secret_run(AwsClients(), "example-signing-key", "signing", restart_services=False)
    parameter = ssm.get_parameter(Name=f"/{CORE}/example-signing-key", WithDecryption=True)
    assert parameter["Parameter"]["Type"] == "SecureString"
    assert parameter["Parameter"]["Value"] == "signing"


def test_restart_starts_a_deployment_of_each_service_that_reads_it() -> None:
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    ecs, ecs_stub = fakes.stubbed("ecs")
    ssm, ssm_stub = fakes.stubbed("ssm")
    ssm_stub.add_response(
        "put_parameter",
        {"Version": 2},
        {
            "Name": f"/{CORE}/example-signing-key",
            "Value": "signing",
            "Type": "SecureString",
            "KeyId": f"alias/{CORE}-data",
            "Overwrite": True,
        },
    )
    outputs = {"ClusterName": "c", "MainServiceName": "m", "FilesServiceName": "f"}
    cfn_stub.add_response(
        "describe_stacks",
        fakes.stack(CORE, "UPDATE_COMPLETE", outputs=outputs),
        {"StackName": CORE},
    )
    ecs_stub.add_response(
        "update_service", {}, {"cluster": "c", "service": "m", "forceNewDeployment": True}
    )
    text = secret_run(
        AwsClients(cloudformation=cfn, ecs=ecs, ssm=ssm),
        "example-signing-key",
        "signing",
        restart_services=True,
    )
    for stub in (cfn_stub, ecs_stub, ssm_stub):
        stub.assert_no_pending_responses()
    assert "m: new deployment started" in text  # only main reads the signing key


def test_an_unknown_or_empty_secret_changes_nothing() -> None:
    with pytest.raises(ConfigError, match="no secret nope"):
        secret_run(AwsClients(), "nope", "x", restart_services=False)
    with pytest.raises(ConfigError, match="an empty value"):
        secret_run(AwsClients(), "example-api-key", "", restart_services=False)


def test_the_real_settings_have_no_secret_yet() -> None:
    console, _ = fakes.console()
    with pytest.raises(ConfigError, match="none: no secret exists yet"):
        run_secret(AwsClients(), console, "dev", "anything", restart_services=False)
