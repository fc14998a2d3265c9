"""Data, auth and registry: what holds state is kept, private and encrypted."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tests.generator.conftest import props, resolve, resources, target

STATEFUL_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::Cognito::UserPool",
    "AWS::ECR::Repository",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
)
BUCKETS = ("FilesBucket", "LogBucket")
TABLES = {"TodosTable": ("userID", "todoID"), "FilesTable": ("todoID", "fileID")}


def unretained(template: dict[str, Any]) -> list[str]:
    return sorted(
        name
        for name, res in template["Resources"].items()
        if res["Type"] in STATEFUL_TYPES
        and (res.get("DeletionPolicy") != "Retain" or res.get("UpdateReplacePolicy") != "Retain")
    )


def test_every_stateful_resource_is_retained(core_template: dict[str, Any]) -> None:
    assert unretained(core_template) == []
    kinds = {res["Type"] for res in core_template["Resources"].values()}
    assert kinds >= set(STATEFUL_TYPES)


@pytest.mark.parametrize("name", ["TodosTable", "FilesBucket", "UserPool", "MainRepository"])
def test_the_retain_check_catches_a_missing_policy(
    core_template: dict[str, Any], name: str
) -> None:
    broken = copy.deepcopy(core_template)
    del broken["Resources"][name]["UpdateReplacePolicy"]
    assert unretained(broken) == [name]


@pytest.mark.parametrize(("table", "keys"), TABLES.items())
def test_tables_match_the_data_model_and_are_protected(
    core_template: dict[str, Any], table: str, keys: tuple[str, str]
) -> None:
    p = props(core_template, table)
    assert [(k["AttributeName"], k["KeyType"]) for k in p["KeySchema"]] == [
        (keys[0], "HASH"),
        (keys[1], "RANGE"),
    ]
    attributes = {a["AttributeName"]: a["AttributeType"] for a in p["AttributeDefinitions"]}
    assert attributes[keys[0]] == attributes[keys[1]] == "S"
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert p["DeletionProtectionEnabled"] is True
    assert p["SSESpecification"]["SSEEnabled"] is True
    assert target(p["SSESpecification"]["KMSMasterKeyId"]) == "DataKey"


def test_todos_list_order_is_a_local_index(core_template: dict[str, Any]) -> None:
    """The main service reads a page of the list with one strongly consistent Query of it."""
    p = props(core_template, "TodosTable")
    (index,) = p["LocalSecondaryIndexes"]
    assert index["IndexName"] == "listOrder"  # the main service's default TODOS_LIST_INDEX
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("userID", "HASH"),
        ("listKey", "RANGE"),
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert {"AttributeName": "listKey", "AttributeType": "N"} in p["AttributeDefinitions"]
    assert "LocalSecondaryIndexes" not in props(core_template, "FilesTable")


@pytest.mark.parametrize("bucket", BUCKETS)
def test_buckets_are_private_encrypted_and_versioned(
    core_template: dict[str, Any], bucket: str
) -> None:
    p = props(core_template, bucket)
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"aws:kms", "AES256"}
    assert p["VersioningConfiguration"]["Status"] == "Enabled"
    assert p["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_policies_deny_plain_http(core_template: dict[str, Any], bucket: str) -> None:
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in resources(core_template, "AWS::S3::BucketPolicy").values()
        if target(p["Properties"]["Bucket"]) == bucket
    ]
    denials = [
        s
        for s in policy["Statement"]
        if s["Effect"] == "Deny"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and s["Principal"] == "*"
    ]
    assert len(denials) == 1
    resources_denied = json.dumps(denials[0]["Resource"])
    assert f'"{bucket}"' in resources_denied
    assert f"${{{bucket}.Arn}}/*" in resources_denied


def test_files_bucket_cleans_up_and_admits_only_the_website(
    core_template: dict[str, Any],
) -> None:
    p = props(core_template, "FilesBucket")
    rules = p["LifecycleConfiguration"]["Rules"]
    assert any("NoncurrentVersionExpiration" in r for r in rules)
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)
    (cors,) = p["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == [{"Ref": "WebsiteOrigin"}]
    assert sorted(cors["AllowedMethods"]) == ["GET", "POST"]  # presigned POST upload, GET download


def test_log_bucket_accepts_alb_logs_only_under_its_prefix(core_template: dict[str, Any]) -> None:
    attrs = {
        a["Key"]: a["Value"] for a in props(core_template, "LoadBalancer")["LoadBalancerAttributes"]
    }
    prefix = attrs["access_logs.s3.prefix"]
    policy = props(core_template, "LogBucketPolicy")["PolicyDocument"]
    writes = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    alb_writes = [s for s in writes if "AWSLogs" in json.dumps(s["Resource"])]
    assert alb_writes
    for statement in alb_writes:
        assert statement["Action"] == ["s3:PutObject"]
        assert f"/{prefix}/AWSLogs/${{AWS::AccountId}}/*" in json.dumps(statement["Resource"])
    services = [s["Principal"] for s in alb_writes if "Service" in s["Principal"]]
    assert services == [{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}]
    # The bucket policy must exist before the ALB turns logging on.
    assert "LogBucketPolicy" in core_template["Resources"]["LoadBalancer"]["DependsOn"]


@pytest.mark.parametrize(
    ("region", "account"),
    [("us-east-1", "127311923021"), ("eu-west-1", "156460612806"), ("eu-central-2", None)],
)
def test_alb_log_delivery_account_follows_the_region(
    core_template: dict[str, Any], region: str, account: str | None
) -> None:
    deployed = resolve(core_template, {"AWS::Region": region})
    policy = props(deployed, "LogBucketPolicy")["PolicyDocument"]
    (statement,) = [s for s in policy["Statement"] if "AWS" in s.get("Principal", {})]
    sub, variables = statement["Principal"]["AWS"]["Fn::Sub"]
    assert sub == "arn:${AWS::Partition}:iam::${Account}:root"
    if account is None:  # a newer Region: only the service principal delivers
        assert variables["Account"] == {"Ref": "AWS::AccountId"}
    else:
        mapping = core_template["Mappings"]["ElbLogDelivery"]
        _, key, attribute = variables["Account"]["Fn::FindInMap"]
        assert mapping[region][attribute] == account
        assert key == {"Ref": "AWS::Region"}


def test_user_pool_signs_in_by_email_with_strong_passwords(core_template: dict[str, Any]) -> None:
    p = props(core_template, "UserPool")
    assert p["UsernameAttributes"] == ["email"]
    assert p["AutoVerifiedAttributes"] == ["email"]
    password = p["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(
        password[k]
        for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    assert p["AccountRecoverySetting"]["RecoveryMechanisms"] == [
        {"Name": "verified_email", "Priority": 1}
    ]
    assert p["DeletionProtection"] == "ACTIVE"
    assert p["MfaConfiguration"] == {"Ref": "MfaConfiguration"}
    assert p["EnabledMfas"]["Fn::If"][1] == ["SOFTWARE_TOKEN_MFA"]


SES_IDENTITY = "arn:aws:ses:eu-west-1:111122223333:identity/example.com"


IDENTITY = {"Ref": "UserEmailSesIdentityArn"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, None),  # Cognito's own sender: a few e-mails a day, enough for dev
        (
            {"UserEmailSesIdentityArn": SES_IDENTITY},
            {"EmailSendingAccount": "DEVELOPER", "SourceArn": IDENTITY},
        ),
        (
            {"UserEmailSesIdentityArn": SES_IDENTITY, "UserEmailFrom": "To-do <no@example.com>"},
            {
                "EmailSendingAccount": "DEVELOPER",
                "SourceArn": IDENTITY,
                "From": {"Ref": "UserEmailFrom"},
            },
        ),
    ],
    ids=["default sender", "ses identity", "ses identity and sender name"],
)
def test_the_user_pool_can_send_its_email_through_ses(
    core_template: dict[str, Any], given: dict[str, str], expected: dict[str, str] | None
) -> None:
    parameters = core_template["Parameters"]
    assert parameters["UserEmailSesIdentityArn"]["Default"] == ""
    assert parameters["UserEmailFrom"]["Default"] == ""
    pool = props(resolve(core_template, given), "UserPool")
    assert pool.get("EmailConfiguration") == expected


def test_only_an_ses_identity_arn_is_taken(core_template: dict[str, Any]) -> None:
    pattern = re.compile(core_template["Parameters"]["UserEmailSesIdentityArn"]["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch(SES_IDENTITY)
    assert pattern.fullmatch("arn:aws:ses:us-east-1:111122223333:identity/no-reply@example.com")
    for wrong in ("example.com", "arn:aws:sns:eu-west-1:111122223333:topic", SES_IDENTITY + " "):
        assert not pattern.fullmatch(wrong), wrong


def test_app_client_has_no_secret_and_hides_user_existence(core_template: dict[str, Any]) -> None:
    p = props(core_template, "UserPoolClient")
    assert p["GenerateSecret"] is False
    assert sorted(p["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    assert p["PreventUserExistenceErrors"] == "ENABLED"
    for token in ("AccessToken", "IdToken", "RefreshToken"):
        assert p[f"{token}Validity"] > 0
        assert p["TokenValidityUnits"][token] in {"minutes", "hours", "days"}


@pytest.mark.parametrize("repository", ["MainRepository", "FilesRepository"])
def test_repositories_are_immutable_scanned_and_pruned(
    core_template: dict[str, Any], repository: str
) -> None:
    p = props(core_template, repository)
    assert p["ImageTagMutability"] == "IMMUTABLE"
    assert p["ImageScanningConfiguration"] == {"ScanOnPush": True}
    (rule,) = json.loads(p["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["action"] == {"type": "expire"}


def test_log_groups_expire_and_are_encrypted(core_template: dict[str, Any]) -> None:
    for name, group in resources(core_template, "AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] > 0, name
        assert target(group["Properties"]["KmsKeyId"]) == "DataKey", name


def test_data_key_rotates(core_template: dict[str, Any]) -> None:
    assert props(core_template, "DataKey")["EnableKeyRotation"] is True
