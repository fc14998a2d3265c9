"""Create the template's tables, buckets and user pools in the emulator.

Each creator reads one resource's properties through the resolver and records what the resource
answers to `Ref`/`Fn::GetAtt`, so later resources (an app client's `UserPoolId`, a task
definition's environment) resolve to the local names. Properties that only matter on AWS
(encryption keys, backups, lifecycle rules, policies) are left out on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from scripts.cfn.template import Physical, Resolver, UnsupportedTemplate

TABLE = "AWS::DynamoDB::Table"
BUCKET = "AWS::S3::Bucket"
USER_POOL = "AWS::Cognito::UserPool"
USER_POOL_CLIENT = "AWS::Cognito::UserPoolClient"

REGION = "us-east-1"
# moto needs credentials to sign with; these fake ones only ever reach the local emulator.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def emulator_client(endpoint_url: str, service: str) -> Any:
    """A boto3 client bound to the emulator (fake credentials, the local region)."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"mode": "standard"}),
    )


def emulator_jwks_url(endpoint_url: str, user_pool_id: str) -> str:
    """Where the emulator serves a user pool's signing keys (its tokens name the AWS issuer)."""
    return f"{endpoint_url}/{user_pool_id}/.well-known/jwks.json"


@dataclass(frozen=True)
class Clients:
    """boto3 clients bound to the emulator."""

    dynamodb: Any
    s3: Any
    cognito: Any


@dataclass(frozen=True)
class Created:
    """A created resource: its logical ID, type and local physical name/ID."""

    logical_id: str
    type: str
    name: str


def create_all(resolver: Resolver, clients: Clients) -> list[Created]:
    """Create every table, bucket, user pool and app client of the template, in dependency order."""
    creators: list[tuple[str, Callable[[Resolver, Any, str], Physical]]] = [
        (TABLE, lambda r, c, i: create_table(r, c.dynamodb, i)),
        (BUCKET, lambda r, c, i: create_bucket(r, c.s3, i)),
        (USER_POOL, lambda r, c, i: create_user_pool(r, c.cognito, i)),
        (USER_POOL_CLIENT, lambda r, c, i: create_user_pool_client(r, c.cognito, i)),
    ]
    created: list[Created] = []
    for resource_type, create in creators:
        for logical_id in resolver.of_type(resource_type):
            try:
                physical = create(resolver, clients, logical_id)
            except (ClientError, ParamValidationError) as err:
                raise UnsupportedTemplate(
                    f"Resources.{logical_id} ({resource_type}): the emulator refused it: {err}"
                ) from err
            resolver.physical[logical_id] = physical
            created.append(Created(logical_id, resource_type, physical.ref))
    return created


def _default_name(resolver: Resolver, logical_id: str) -> str:
    return f"{resolver.pseudo['AWS::StackName']}-{logical_id}"


def _pick(source: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: source[key] for key in keys if key in source}


_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


def table_request(resolver: Resolver, logical_id: str) -> dict[str, Any]:
    """The CreateTable request for an AWS::DynamoDB::Table resource."""
    where = f"Resources.{logical_id}"
    request: dict[str, Any] = {
        "TableName": resolver.prop(logical_id, "TableName") or _default_name(resolver, logical_id),
        "KeySchema": resolver.prop(logical_id, "KeySchema"),
        "AttributeDefinitions": resolver.prop(logical_id, "AttributeDefinitions"),
        "BillingMode": resolver.prop(logical_id, "BillingMode", "PROVISIONED"),
    }
    if not request["KeySchema"] or not request["AttributeDefinitions"]:
        raise UnsupportedTemplate(f"{where}: a table needs KeySchema and AttributeDefinitions")
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = resolver.prop(logical_id, "ProvisionedThroughput")
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = resolver.prop(logical_id, kind)
        if indexes:
            request[kind] = [_pick(index, _INDEX_KEYS) for index in indexes]
    stream = resolver.prop(logical_id, "StreamSpecification")
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    return request


def create_table(resolver: Resolver, dynamodb: Any, logical_id: str) -> Physical:
    request = table_request(resolver, logical_id)
    table = dynamodb.create_table(**request)["TableDescription"]
    ttl = resolver.prop(logical_id, "TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=request["TableName"],
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    attributes = {"Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return Physical(request["TableName"], attributes)


_CORS_KEYS = {
    "AllowedHeaders": "AllowedHeaders",
    "AllowedMethods": "AllowedMethods",
    "AllowedOrigins": "AllowedOrigins",
    "ExposedHeaders": "ExposeHeaders",
    "MaxAge": "MaxAgeSeconds",
    "Id": "ID",
}


def bucket_cors_rules(resolver: Resolver, logical_id: str) -> list[dict[str, Any]]:
    """The bucket's CORS rules in S3 API form (CloudFormation spells some keys differently)."""
    cors = resolver.prop(logical_id, "CorsConfiguration") or {}
    rules: list[dict[str, Any]] = []
    for rule in cors.get("CorsRules", []):
        converted = {_CORS_KEYS[k]: v for k, v in rule.items() if k in _CORS_KEYS}
        if "MaxAgeSeconds" in converted:
            converted["MaxAgeSeconds"] = int(converted["MaxAgeSeconds"])
        rules.append(converted)
    return rules


def _bucket_name(resolver: Resolver, logical_id: str) -> str:
    name = resolver.prop(logical_id, "BucketName")
    if name:
        return str(name)
    # CloudFormation derives a lowercase name from the stack and the logical ID; so do we.
    return _default_name(resolver, logical_id).lower()[:63]


def create_bucket(resolver: Resolver, s3: Any, logical_id: str) -> Physical:
    name = _bucket_name(resolver, logical_id)
    region = resolver.pseudo["AWS::Region"]
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    rules = bucket_cors_rules(resolver, logical_id)
    if rules:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    versioning = resolver.prop(logical_id, "VersioningConfiguration")
    if versioning:
        s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": versioning["Status"]}
        )
    block = resolver.prop(logical_id, "PublicAccessBlockConfiguration")
    if block:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    return Physical(
        name,
        {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
        },
    )


_POOL_KEYS = (
    "Policies",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "VerificationMessageTemplate",
    "MfaConfiguration",
    "UserAttributeUpdateSettings",
    "DeviceConfiguration",
    "AdminCreateUserConfig",
    "UsernameConfiguration",
    "AccountRecoverySetting",
    "DeletionProtection",
    "Schema",
    "UserPoolTags",
)


def user_pool_request(resolver: Resolver, logical_id: str) -> dict[str, Any]:
    """The CreateUserPool request for an AWS::Cognito::UserPool resource."""
    props = {
        key: resolver.prop(logical_id, key)
        for key in _POOL_KEYS
        if key in resolver.properties(logical_id)
    }
    name = resolver.prop(logical_id, "UserPoolName") or _default_name(resolver, logical_id)
    return {"PoolName": name, **props}


def create_user_pool(resolver: Resolver, cognito: Any, logical_id: str) -> Physical:
    pool = cognito.create_user_pool(**user_pool_request(resolver, logical_id))["UserPool"]
    region = resolver.pseudo["AWS::Region"]
    provider = f"cognito-idp.{region}.amazonaws.com/{pool['Id']}"
    return Physical(
        pool["Id"],
        {
            "Arn": pool["Arn"],
            "ProviderName": provider,
            "ProviderURL": f"https://{provider}",
            "UserPoolId": pool["Id"],
        },
    )


_CLIENT_KEYS = (
    "GenerateSecret",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
)


def user_pool_client_request(resolver: Resolver, logical_id: str) -> dict[str, Any]:
    """The CreateUserPoolClient request for an AWS::Cognito::UserPoolClient resource."""
    pool_id = resolver.prop(logical_id, "UserPoolId")
    if not isinstance(pool_id, str):
        raise UnsupportedTemplate(
            f"Resources.{logical_id}.Properties.UserPoolId: must name a user pool of this template"
        )
    props = {
        key: resolver.prop(logical_id, key)
        for key in _CLIENT_KEYS
        if key in resolver.properties(logical_id)
    }
    name = resolver.prop(logical_id, "ClientName") or logical_id
    return {"UserPoolId": pool_id, "ClientName": name, **props}


def create_user_pool_client(resolver: Resolver, cognito: Any, logical_id: str) -> Physical:
    request = user_pool_client_request(resolver, logical_id)
    client = cognito.create_user_pool_client(**request)["UserPoolClient"]
    return Physical(
        client["ClientId"], {"ClientId": client["ClientId"], "Name": request["ClientName"]}
    )
