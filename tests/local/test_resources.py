"""Resources created in the emulator follow the template's definitions."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import render_all
from generator.config import Settings
from scripts.cfn.template import Physical, UnsupportedTemplate, load_template
from scripts.local import LocalStack
from scripts.local.description import template_resolver
from scripts.local.resources import EmulatorClients, create_resources, read_resources
from tests.local.conftest import FIXTURE, ROOT

ORIGIN = "http://127.0.0.1:8000"
TEMPLATES = [ROOT / "templates" / "core.yaml", FIXTURE / "templates" / "core.yaml"]


def create_from(stack: LocalStack, template: Path) -> dict[str, Physical]:
    """Create the template's resources in the stack's emulator under a stack name of their own."""
    resolver = template_resolver(load_template(template), ORIGIN, f"t{uuid.uuid4().hex[:8]}")
    clients = EmulatorClients(
        stack.client("dynamodb"), stack.client("s3"), stack.client("cognito-idp")
    )
    created = create_resources(read_resources(resolver), clients, stack.region)
    return {c.logical_id: c.physical for c in created}


def rename_sort_key(template: dict[str, Any], table: str, old: str, new: str) -> None:
    props = template["Resources"][table]["Properties"]
    for entry in props["KeySchema"] + props["AttributeDefinitions"]:
        if entry["AttributeName"] == old:
            entry["AttributeName"] = new


@pytest.mark.parametrize("template", TEMPLATES, ids=["generated", "fixture"])
def test_a_schema_change_in_the_template_changes_the_local_table(
    stack: LocalStack, template: Path, tmp_path: Path
) -> None:
    changed = load_template(template)
    rename_sort_key(changed, "TodosTable", "todoID", "itemID")
    rendered = tmp_path / "core.yaml"
    rendered.write_text(yaml.safe_dump(changed))  # long forms: the loader reads both

    name = create_from(stack, rendered)["TodosTable"].ref
    table = stack.client("dynamodb").describe_table(TableName=name)["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("userID", "HASH"),
        ("itemID", "RANGE"),
    ]
    unchanged = create_from(stack, template)["TodosTable"].ref
    table = stack.client("dynamodb").describe_table(TableName=unchanged)["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["userID", "todoID"]


def test_a_key_changed_in_the_generator_reaches_the_local_table(
    stack: LocalStack, tmp_path: Path
) -> None:
    # The whole path of `make templates` then `make up`: generator settings -> YAML -> emulator.
    rendered = tmp_path / "core.yaml"
    rendered.write_text(render_all(Settings(todos_table_keys=("ownerID", "itemID")))["core.yaml"])
    name = create_from(stack, rendered)["TodosTable"].ref
    table = stack.client("dynamodb").describe_table(TableName=name)["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("ownerID", "HASH"),
        ("itemID", "RANGE"),
    ]
    (index,) = table["LocalSecondaryIndexes"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["ownerID", "listKey"]


def test_tables_follow_billing_and_indexes(stack: LocalStack) -> None:
    dynamodb = stack.client("dynamodb")
    files = dynamodb.describe_table(TableName=stack.resources["FilesTable"])["Table"]
    assert files["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in files["KeySchema"]] == ["todoID", "fileID"]
    (index,) = files["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "byUser"
    assert index["Projection"]["ProjectionType"] == "KEYS_ONLY"


def test_bucket_cors_names_the_local_site(stack: LocalStack) -> None:
    s3 = stack.client("s3")
    bucket = stack.resources["FilesBucket"]
    (rule,) = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rule["AllowedOrigins"] == [stack.site_url]
    assert rule["AllowedMethods"] == ["GET", "POST"]
    assert rule["MaxAgeSeconds"] == 600
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_user_pool_and_client_follow_the_template(stack: LocalStack) -> None:
    cognito = stack.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=stack.user_pool_id)["UserPool"]
    assert pool["Name"] == "todo-local-core-users"
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 12
    assert policy["RequireSymbols"] is False
    client = cognito.describe_user_pool_client(
        UserPoolId=stack.user_pool_id, ClientId=stack.user_pool_client_id
    )["UserPoolClient"]
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["IdTokenValidity"] == 60
    assert "ClientSecret" not in client
    # the pool's password policy holds in the emulator too
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.sign_up(
            ClientId=stack.user_pool_client_id, Username="weak@example.com", Password="short"
        )


def test_a_definition_the_emulator_refuses_is_named(stack: LocalStack, tmp_path: Path) -> None:
    template = load_template(FIXTURE / "templates" / "core.yaml")
    template["Resources"]["FilesTable"]["Properties"]["KeySchema"][1]["KeyType"] = "SORT"
    rendered = tmp_path / "core.yaml"
    rendered.write_text(yaml.safe_dump(template))
    with pytest.raises(
        UnsupportedTemplate,
        match=r"^Resources\.FilesTable \(AWS::DynamoDB::Table\): the emulator refused it: ",
    ):
        create_from(stack, rendered)
