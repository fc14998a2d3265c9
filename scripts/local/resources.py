"""The template's tables, buckets, user pools and app clients: read as requests, then created.

`read_resources` is pure: it turns each resource's properties into the request the emulator is
sent (a user pool's ID is picked by the emulator, so an app client's `UserPoolId` stays
`Deferred` until the pool exists). `create_resources` sends them, in dependency order, and
returns what each resource answers to `Ref`/`Fn::GetAtt`, to which the services' environment
and the gateway's authorizer are then bound. Properties that only matter on AWS (encryption keys,
backups, lifecycle rules, policies) are left out on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from scripts.cfn.template import Deferred, Physical, Resolver, UnsupportedTemplate, bind

TABLE = "AWS::DynamoDB::Table"
BUCKET = "AWS::S3::Bucket"
USER_POOL = "AWS::Cognito::UserPool"
USER_POOL_CLIENT = "AWS::Cognito::UserPoolClient"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # the emulator's default account
CREATED_TYPES = (TABLE, BUCKET, USER_POOL, USER_POOL_CLIENT)  # in the order they are created
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
class EmulatorClients:
    """boto3 clients bound to the emulator, one per service the resources need."""

    dynamodb: Any
    s3: Any
    cognito: Any


@dataclass(frozen=True)
class Table:
    logical_id: str
    request: Mapping[str, Any]  # CreateTable
    ttl_attribute: str | None = None

    @property
    def name(self) -> str:
        return str(self.request["TableName"])


@dataclass(frozen=True)
class Bucket:
    logical_id: str
    name: str
    cors_rules: tuple[Mapping[str, Any], ...] = ()
    versioning: str | None = None
    public_access_block: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class UserPool:
    logical_id: str
    request: Mapping[str, Any]  # CreateUserPool


@dataclass(frozen=True)
class UserPoolClient:
    logical_id: str
    request: Mapping[str, Any]  # CreateUserPoolClient; its UserPoolId is Deferred


@dataclass(frozen=True)
class Resources:
    """What the local stack creates in the emulator, as the template defines it."""

    tables: tuple[Table, ...]
    buckets: tuple[Bucket, ...]
    user_pools: tuple[UserPool, ...]
    user_pool_clients: tuple[UserPoolClient, ...]

    def table(self, logical_id: str) -> Table:
        found = [t for t in self.tables if t.logical_id == logical_id]
        if not found:
            raise KeyError(f"no table {logical_id} in the template")
        return found[0]


@dataclass(frozen=True)
class Created:
    """A created resource: its logical ID, type and what it answers to Ref and GetAtt."""

    logical_id: str
    type: str
    physical: Physical

    @property
    def name(self) -> str:
        return self.physical.ref


def read_resources(resolver: Resolver) -> Resources:
    """Every table, bucket, user pool and app client of the template, as emulator requests."""
    return Resources(
        tables=tuple(read_table(resolver, i) for i in resolver.of_type(TABLE)),
        buckets=tuple(read_bucket(resolver, i) for i in resolver.of_type(BUCKET)),
        user_pools=tuple(
            UserPool(i, user_pool_request(resolver, i)) for i in resolver.of_type(USER_POOL)
        ),
        user_pool_clients=tuple(
            UserPoolClient(i, user_pool_client_request(resolver, i))
            for i in resolver.of_type(USER_POOL_CLIENT)
        ),
    )


def create_resources(
    resources: Resources, clients: EmulatorClients, region: str = REGION
) -> list[Created]:
    """Create them all in dependency order (pools before their clients)."""
    created: list[Created] = []
    physical: dict[str, Physical] = {}

    def record(logical_id: str, kind: str, create: Any) -> None:
        try:
            made = create()
        except (ClientError, ParamValidationError) as err:
            raise UnsupportedTemplate(
                f"Resources.{logical_id} ({kind}): the emulator refused it: {err}"
            ) from err
        physical[logical_id] = made
        created.append(Created(logical_id, kind, made))

    for table in resources.tables:
        record(table.logical_id, TABLE, lambda t=table: create_table(clients.dynamodb, t, region))
    for bucket in resources.buckets:
        record(bucket.logical_id, BUCKET, lambda b=bucket: create_bucket(clients.s3, b, region))
    for pool in resources.user_pools:
        record(
            pool.logical_id, USER_POOL, lambda p=pool: create_user_pool(clients.cognito, p, region)
        )
    for client in resources.user_pool_clients:
        record(
            client.logical_id,
            USER_POOL_CLIENT,
            lambda c=client: create_user_pool_client(clients.cognito, c, physical),
        )
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


def read_table(resolver: Resolver, logical_id: str) -> Table:
    ttl = resolver.prop(logical_id, "TimeToLiveSpecification")
    attribute = str(ttl["AttributeName"]) if ttl and ttl.get("Enabled") else None
    return Table(logical_id, table_request(resolver, logical_id), attribute)


def create_table(dynamodb: Any, table: Table, region: str) -> Physical:
    description = dynamodb.create_table(**table.request)["TableDescription"]
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )
    attributes = {"Arn": description["TableArn"]}
    if "LatestStreamArn" in description:
        attributes["StreamArn"] = description["LatestStreamArn"]
    return Physical(table.name, attributes)


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


def read_bucket(resolver: Resolver, logical_id: str) -> Bucket:
    versioning = resolver.prop(logical_id, "VersioningConfiguration")
    return Bucket(
        logical_id,
        _bucket_name(resolver, logical_id),
        tuple(bucket_cors_rules(resolver, logical_id)),
        str(versioning["Status"]) if versioning else None,
        resolver.prop(logical_id, "PublicAccessBlockConfiguration") or None,
    )


def create_bucket(s3: Any, bucket: Bucket, region: str) -> Physical:
    name = bucket.name
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if bucket.cors_rules:
        s3.put_bucket_cors(
            Bucket=name, CORSConfiguration={"CORSRules": [dict(r) for r in bucket.cors_rules]}
        )
    if bucket.versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": bucket.versioning})
    if bucket.public_access_block:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=dict(bucket.public_access_block)
        )
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


def create_user_pool(cognito: Any, user_pool: UserPool, region: str) -> Physical:
    pool = cognito.create_user_pool(**user_pool.request)["UserPool"]
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
    if not isinstance(pool_id, Deferred):
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


def create_user_pool_client(
    cognito: Any, app_client: UserPoolClient, physical: Mapping[str, Physical]
) -> Physical:
    request = bind(app_client.request, physical)
    client = cognito.create_user_pool_client(**request)["UserPoolClient"]
    return Physical(
        client["ClientId"], {"ClientId": client["ClientId"], "Name": request["ClientName"]}
    )
