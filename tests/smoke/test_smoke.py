"""`make smoke URL=<local stack>`: the smoke test, run as make runs it, against `make up`'s stack.

The local stack is this repository's (templates, services, website), on the emulator; it
creates the smoke user as `make smoke-user` does in AWS (scripts/smoke/user.py). The run must
pass, leave nothing behind, clean what an interrupted run left, and fail loudly on a failing
check. With ENV the endpoints come from the stacks' outputs, which config.js must match.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.deploy.aws import AwsClients
from scripts.local import LocalStack
from scripts.smoke import checks, cli
from scripts.smoke.user import ensure_smoke_user, read_secret, secret_name, username
from tests.scripts import fakes

ROOT = Path(__file__).resolve().parents[2]


def make_smoke(*arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "smoke", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        check=False,
        timeout=300,
    )


def smoke_token(stack: LocalStack) -> str:
    user = read_secret(stack.client("secretsmanager"), secret_name("local"))
    assert user is not None
    answer = stack.client("cognito-idp").initiate_auth(
        ClientId=stack.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.username, "PASSWORD": user.password},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def todos(stack: LocalStack) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {smoke_token(stack)}", "Origin": stack.site_url}
    answer = requests.get(stack.api_url + "/todos?limit=100", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def objects(stack: LocalStack) -> list[str]:
    bucket = next(name for lid, name in stack.resources.items() if lid == "FilesBucket")
    listed = stack.client("s3").list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_make_smoke_passes_against_the_local_stack_and_leaves_nothing(stack: LocalStack) -> None:
    before = objects(stack)
    result = make_smoke(f"URL={stack.site_url}")
    assert result.returncode == 0, result.stdout + result.stderr
    for name, _ in checks.CHECKS:
        assert name in result.stdout
    assert "FAIL" not in result.stdout
    assert f"all {len(checks.CHECKS)} checks passed" in result.stdout
    assert todos(stack) == []  # the round trip deleted its todo ...
    assert objects(stack) == before  # ... and the file it attached


def test_a_run_cleans_what_an_interrupted_one_left(stack: LocalStack) -> None:
    headers = {"Authorization": f"Bearer {smoke_token(stack)}", "Origin": stack.site_url}
    left = requests.post(
        stack.api_url + "/todos", json={"title": "smoke-interrupted"}, headers=headers, timeout=10
    )
    assert left.status_code == 201
    result = make_smoke(f"URL={stack.site_url}")
    assert result.returncode == 0, result.stdout
    assert "1 left by an earlier run, deleted" in result.stdout
    assert todos(stack) == []


def test_a_failing_check_fails_the_run_and_says_which(stack: LocalStack) -> None:
    result = make_smoke(f"URL={stack.site_url}", SMOKE_SECRET_ID="todo/local/no-such-user")
    assert result.returncode != 0
    assert "sign in (smoke user)" in result.stdout
    assert "FAIL" in result.stdout
    assert "no smoke user credentials" in result.stdout
    # What needs no user still passed.
    assert "checks failed" in result.stdout


def test_the_smoke_user_is_created_once_and_rotated_on_request(stack: LocalStack) -> None:
    cognito, secrets = stack.client("cognito-idp"), stack.client("secretsmanager")
    pool = stack.user_pool_id
    first, action = ensure_smoke_user(cognito, secrets, pool, "local")
    assert action == "exists"  # the local stack made it at start
    assert first.username == username("local") == "smoke-test@local.smoke.invalid"
    rotated, action = ensure_smoke_user(cognito, secrets, pool, "local", rotate=True)
    assert action == "rotated"
    assert rotated.password != first.password
    assert read_secret(secrets, secret_name("local")) == rotated
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(
            ClientId=stack.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": first.username, "PASSWORD": first.password},
        )
    assert smoke_token(stack)  # the secret's password signs in
    user = cognito.admin_get_user(UserPoolId=pool, Username=first.username)
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email_verified"] == "true"
    assert user["UserStatus"] == "CONFIRMED"


@pytest.mark.parametrize("matching", [True, False], ids=["outputs-match", "outputs-differ"])
def test_with_env_config_js_must_match_the_core_stacks_outputs(
    stack: LocalStack, matching: bool
) -> None:
    """ENV mode reads the stacks' outputs; here they describe the local stack (or not)."""
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    core = {
        "ApiUrl": stack.api_url
        if matching
        else "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "Region": "us-east-1",
        "UserPoolId": stack.user_pool_id,
        "UserPoolClientId": stack.user_pool_client_id,
    }
    cfn_stub.add_response(
        "describe_stacks", fakes.stack("todo-dev-core", "UPDATE_COMPLETE", outputs=core)
    )
    cfn_stub.add_response(
        "describe_stacks",
        fakes.stack("todo-dev-website", "UPDATE_COMPLETE", outputs={"SiteUrl": stack.site_url}),
    )
    clients = AwsClients(cloudformation=cfn, secretsmanager=stack.client("secretsmanager"))
    out, buffer = fakes.console()
    code = cli.main(
        ["run", "--env", "dev", "--secret-id", secret_name("local")], console=out, clients=clients
    )
    cfn_stub.assert_no_pending_responses()
    text = buffer.getvalue()
    assert ("match the core stack's outputs" in text) is matching
    assert (code == 0) is matching, text
    if not matching:
        assert "apiUrl" in text
        assert "!= output ApiUrl" in text


def test_the_config_js_check_compares_each_output() -> None:
    config = checks.SiteConfig(
        {
            "apiUrl": "https://a.example",
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_abc",
            "userPoolClientId": "client",
            "cognitoEndpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
        }
    )
    outputs = {
        "ApiUrl": "https://a.example",
        "Region": "eu-west-1",
        "UserPoolId": "eu-west-1_other",
        "UserPoolClientId": "client",
    }
    run = checks.Run("https://site.example", config, None, outputs)
    with pytest.raises(checks.CheckFailed, match="userPoolId 'eu-west-1_abc' != output UserPoolId"):
        checks.config_js(run)
    assert "match" in checks.config_js(
        checks.Run("https://site.example", config, None, {**outputs, "UserPoolId": "eu-west-1_abc"})
    )


def test_the_website_check_catches_a_weak_csp() -> None:
    def answer(method: str, url: str, **_: Any) -> checks.Response:
        return checks.Response(
            200,
            {
                "x-content-type-options": "nosniff",
                "x-frame-options": "DENY",
                "referrer-policy": "no-referrer",
                "content-security-policy": "default-src *; frame-ancestors 'none'; "
                "object-src 'none'",
            },
            b"<html></html>",
        )

    run = checks.Run("http://site.example", checks.SiteConfig({}), None, get=answer)
    with pytest.raises(checks.CheckFailed, match="default-src"):
        checks.website_headers(run)


def test_the_cli_refuses_an_env_without_a_smoke_user(stack: LocalStack) -> None:
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    cfn_stub.add_response(
        "describe_stacks", fakes.stack("todo-dev-core", "UPDATE_COMPLETE", outputs={"X": "y"})
    )
    cfn_stub.add_response(
        "describe_stacks",
        fakes.stack("todo-dev-website", "UPDATE_COMPLETE", outputs={"SiteUrl": stack.site_url}),
    )
    clients = AwsClients(cloudformation=cfn, secretsmanager=stack.client("secretsmanager"))
    code = cli.main(["run", "--env", "dev"], console=fakes.console()[0], clients=clients)
    assert code == 2  # todo/dev/smoke-user does not exist (here): make smoke-user first


def test_python_m_scripts_smoke_prints_its_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.smoke", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "--url" in result.stdout
    assert "exit codes" in result.stdout
