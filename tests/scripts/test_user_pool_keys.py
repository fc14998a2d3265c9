"""Egress=None: the user pool's keys travel from Cognito, through the deploy tooling and the
template, to the services' own token check, which then never fetches anything.

The first test runs the whole path on the emulator: its Cognito issues a real token and serves the
pool's JWKS; the deploy tooling reads it; the committed template turns the `UserPoolJwks`
parameter into the task definition's COGNITO_JWKS_URL; the services' `TokenVerifier` checks the
token with it. The others replay what the tooling sends CloudFormation (botocore's Stubber).
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from botocore.stub import ANY
from cryptography.hazmat.primitives.asymmetric import rsa

from generator import render_all
from scripts.cfn.template import Resolver, parse_template
from scripts.deploy import jwks
from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import ApprovalRequired, ConfigError, DeployFailed
from scripts.deploy.params import CONFIG_DIR, TEMPLATES_DIR, load_config, template_parameters
from scripts.deploy.rollout import run_deploy_service
from scripts.deploy.stacks import run_changeset
from tests.scripts import fakes
from tests.scripts.test_rollout import NEW_DIGEST, NEW_TAG, OUTPUTS, Pushed, stub_digest

APP = Path(__file__).resolve().parents[2] / "app"
if str(APP) not in sys.path:
    sys.path.insert(0, str(APP))

from common.auth import JwksCache, TokenVerifier, Unauthorized  # noqa: E402

PASSWORD = "Keys-Passw0rd!"
POOL_ID = "us-east-1_Pool0123"
KEYS = {"keys": [{"kty": "RSA", "kid": "key-1", "alg": "RS256", "e": "AQAB", "n": "xyz"}]}
COMPACT = json.dumps(KEYS, separators=(",", ":"), sort_keys=True)


def task_environment(parameters: dict[str, str]) -> dict[str, str]:
    """The main container's environment as the committed template gives it (only the values
    that need no resource of the stack)."""
    template = parse_template(render_all()["core.yaml"])
    pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    resolver = Resolver(template, parameters, pseudo)
    (container,) = resolver.properties("MainTaskDefinition")["ContainerDefinitions"]
    environment = {}
    for item in container["Environment"]:
        entry = resolver.chosen(item, "Environment")
        if entry is not None:
            value = resolver.resolve(entry["Value"], entry["Name"])
            if isinstance(value, str):  # not a resource of the stack
                environment[entry["Name"]] = value
    return environment


def test_private_services_verify_tokens_with_the_keys_the_deploy_read(
    aws_env: dict[str, str],
) -> None:
    cognito = boto3.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="keys")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    email = "keys@example.com"
    cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True
    )
    token = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["IdToken"]

    keys = jwks.keys_for("None", {"UserPoolId": pool}, lambda: cognito)
    assert jwks.key_ids(keys)  # the emulator's signing key, read over HTTP

    environment = task_environment(
        {"Environment": "prod", "WebsiteOrigin": "https://x.example", "UserPoolJwks": keys}
    )
    url = environment["COGNITO_JWKS_URL"]
    assert url.startswith("data:application/json;base64,")
    assert base64.b64decode(url.split(",", 1)[1]).decode() == keys

    fetched: list[str] = []

    def fetch(location: str) -> Any:
        fetched.append(location)
        from common.auth import _fetch_json

        return _fetch_json(location)

    verifier = TokenVerifier(
        issuer=f"https://cognito-idp.us-east-1.amazonaws.com/{pool}",
        client_id=client,
        keys=JwksCache(url, fetch=fetch),
    )
    claims = verifier.verify(token)
    assert claims["sub"] == jwt.decode(token, options={"verify_signature": False})["sub"]
    assert fetched == [url]  # the data: URL, read in the process: no request left it

    # A token signed by a key the stack does not carry (as after a rotation) is refused.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {**jwt.decode(token, options={"verify_signature": False})},
        other,
        algorithm="RS256",
        headers={"kid": "rotated-key"},
    )
    with pytest.raises(Unauthorized, match="unknown key"):
        verifier.verify(forged)


def test_without_keys_the_services_fetch_them_as_before() -> None:
    environment = task_environment({"Environment": "dev", "WebsiteOrigin": "https://x.example"})
    assert "COGNITO_JWKS_URL" not in environment


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>", "not JSON"),
        (b'{"keys": []}', "holds no keys"),
        (b'{"keys": [{"kty": "EC", "kid": "a"}]}', "not an RSA key"),
        (json.dumps({"keys": [{"kty": "RSA", "kid": "k" * 5000}]}).encode(), "over the 4096"),
    ],
)
def test_what_is_not_a_pools_keys_stops_the_deploy(body: bytes, message: str) -> None:
    with pytest.raises(DeployFailed, match=message):
        jwks.compact_jwks(body, "the pool's JWKS")


def test_an_unreachable_endpoint_names_the_url() -> None:
    cognito = fakes.client("cognito-idp")

    def unreachable(url: str) -> bytes:
        raise OSError("connection refused")

    with pytest.raises(DeployFailed, match=f"{POOL_ID}/.well-known/jwks.json: connection"):
        jwks.read_pool_keys(cognito, POOL_ID, unreachable)


# --- what the tooling sends CloudFormation ------------------------------------------------------


def declared() -> dict[str, dict[str, Any]]:
    return template_parameters((TEMPLATES_DIR / "core.yaml").read_text())


def live_parameters(env: str, **given: str) -> dict[str, str]:
    current = {key: str(spec.get("Default", "x")) for key, spec in declared().items()}
    return {**current, **load_config(env, CONFIG_DIR)["core"], **given}


def plan(
    env: str, current: dict[str, str] | None, config_dir: Path = CONFIG_DIR
) -> tuple[dict[str, Any], str, list[str]]:
    """`make changeset STACK=core ENV=<env>` on a live stack: the parameters it sends, what it
    printed, and the URLs it read."""
    stack = f"todo-{env}-core"
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    s3, s3_stub = fakes.stubbed("s3")
    outputs = {"UserPoolId": POOL_ID}
    cfn_stub.add_response(
        "describe_stacks",
        fakes.stack(stack, "UPDATE_COMPLETE", parameters=current, outputs=outputs),
        {"StackName": stack},
    )
    # The core template's functions are packaged first (scripts/deploy/package.py).
    s3_stub.add_response(
        "put_object",
        {"ETag": '"1"'},
        {"Bucket": "b", "Key": ANY, "Body": ANY, "ContentType": "application/zip"},
    )
    s3_stub.add_response(
        "put_object",
        {"ETag": '"0"'},
        {"Bucket": "b", "Key": ANY, "Body": ANY, "ContentType": "application/x-yaml"},
    )
    sent: list[dict[str, Any]] = []
    cfn.meta.events.register(
        "provide-client-params.cloudformation.CreateChangeSet",
        lambda params, **_: sent.append(params),
    )
    name = "deploy-20260105T093000Z-abc1234def56"
    fakes.expect_change_set(
        cfn_stub,
        stack,
        name,
        [fakes.change("Modify", "MainTaskDefinition", "AWS::ECS::TaskDefinition")],
        ChangeSetType="UPDATE",
        Parameters=ANY,
        Description=ANY,
        Tags=ANY,
        TemplateURL=ANY,
    )
    read: list[str] = []

    def read_url(url: str) -> bytes:
        read.append(url)
        return json.dumps(KEYS).encode()

    cognito = fakes.client("cognito-idp")
    ctx, out, _ = fakes.context(
        AwsClients(cloudformation=cfn, s3=s3, **{"cognito-idp": cognito}),
        config_dir=config_dir,
        templates_dir=TEMPLATES_DIR,
        env=env,
        artifact_bucket="b",
    )
    ctx.read_url = read_url
    run_changeset(ctx, "core", allow_data_loss=False)
    (request,) = sent
    values = {
        p["ParameterKey"]: p.get("ParameterValue", "(previous)") for p in request["Parameters"]
    }
    return values, out.getvalue(), read


def test_a_private_stacks_deploy_sends_the_pools_current_keys() -> None:
    assert load_config("prod", CONFIG_DIR)["core"]["Egress"] == "None"
    values, printed, read = plan("prod", live_parameters("prod", UserPoolJwks=COMPACT))
    assert read == [
        f"https://cognito-idp.{fakes.REGION}.amazonaws.com/{POOL_ID}/.well-known/jwks.json"
    ]
    assert values["UserPoolJwks"] == COMPACT
    assert "verify tokens with the user pool's keys read now (key-1)" in printed
    assert "keys changed" not in printed


def test_changed_keys_are_said_before_they_change_the_task_definitions() -> None:
    old = json.dumps({"keys": [{"kty": "RSA", "kid": "key-0"}]}, separators=(",", ":"))
    values, printed, _ = plan("prod", live_parameters("prod", UserPoolJwks=old))
    assert values["UserPoolJwks"] == COMPACT
    assert "signing keys changed since the last deploy (key-0 before)" in " ".join(printed.split())


def test_a_nat_stack_clears_the_keys_a_private_one_left() -> None:
    assert load_config("dev", CONFIG_DIR)["core"]["Egress"] == "SingleNat"
    values, _, read = plan("dev", live_parameters("dev", UserPoolJwks=COMPACT))
    assert values["UserPoolJwks"] == ""
    assert read == []  # the services fetch the keys themselves


def test_keys_are_not_a_config_value(tmp_path: Path) -> None:
    config = load_config("prod", CONFIG_DIR)
    config["core"]["UserPoolJwks"] = COMPACT
    (tmp_path / "prod.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="UserPoolJwks, which make deploy fills"):
        plan("prod", live_parameters("prod"), config_dir=tmp_path)


def test_a_private_stacks_first_rollout_carries_the_keys(tmp_path: Path) -> None:
    """deploy-service keeps every other parameter, but refreshes the keys of a private stack:
    its services cannot run without them (the template's rule refuses the change set)."""
    cfn, cfn_stub = fakes.stubbed("cloudformation")
    current = {"Egress": "None", "MainServiceImageDigest": "bootstrap", "UserPoolJwks": ""}
    stack = "todo-dev-core"
    cfn_stub.add_response(
        "describe_stacks",
        fakes.stack(
            stack, "UPDATE_COMPLETE", parameters=current, outputs={**OUTPUTS, "UserPoolId": POOL_ID}
        ),
        {"StackName": stack},
    )
    fakes.expect_change_set(
        cfn_stub,
        stack,
        "deploy-20260105T093000Z-abc1234def56",
        [fakes.change("Modify", "MainTaskDefinition", "AWS::ECS::TaskDefinition")],
        ChangeSetType="UPDATE",
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": "Egress", "UsePreviousValue": True},
            {"ParameterKey": "MainServiceImageDigest", "ParameterValue": NEW_DIGEST},
            {"ParameterKey": "UserPoolJwks", "ParameterValue": COMPACT},
        ],
        Description=ANY,
        Tags=ANY,
    )
    ecr, ecr_stub = fakes.stubbed("ecr")
    stub_digest(ecr_stub)
    all_clients = AwsClients(
        cloudformation=cfn, ecr=ecr, **{"cognito-idp": fakes.client("cognito-idp")}
    )
    ctx, out, _ = fakes.context(all_clients, config_dir=tmp_path, templates_dir=tmp_path)
    ctx.read_url = lambda url: json.dumps(KEYS).encode()
    with pytest.raises(ApprovalRequired):  # not a terminal, no --auto-approve: it stops here
        run_deploy_service(ctx, "main", auto_approve=False, image_tag=NEW_TAG, publish=Pushed())
    cfn_stub.assert_no_pending_responses()
    assert "key-1" in out.getvalue()
