"""Endpoints layer: how the tasks and the container instances reach AWS's APIs without the internet.

The S3 and DynamoDB gateway endpoints serve every egress profile (their routes are more specific
than any default route, so S3 and DynamoDB traffic never takes a NAT gateway). With `Egress=None`
the private subnets have no route out, and interface endpoints serve every other API the
workloads call (tests/generator/test_core_endpoints.py derives that list from the roles and fails
when one is missing):

- ecr.api, ecr.dkr (and the S3 gateway for the layers): image pulls, always (the ECS agent or
  Fargate, as the task execution role);
- logs: the awslogs driver's service logs and ECS Exec's session logs, always;
- ecs, ecs-agent, ecs-telemetry: the ECS agent on the container instances (EC2);
- ssm: the SSM agent on the container instances, Session Manager instead of SSH (EC2);
- ssmmessages: the SSM agent's session channels (EC2) and ECS Exec in the containers (exec on);
- secretsmanager, and ssm on Fargate too: the tasks' secrets, when the settings have some.

Fargate's own agent needs no ECS endpoints ("Amazon ECS interface VPC endpoints", ECS Developer
Guide); EC2 hosts need all three since the agent split them ("Considerations for endpoints").

Each endpoint admits only the tasks and the container instances (its security group) and, where
the service accepts an endpoint policy, only the calls the workloads make on this stack's
resources, by this account's principals. ECR's image layers come from an AWS-owned bucket
(`prod-<region>-starport-layer-bucket`, "Amazon ECR interface VPC endpoints", ECR User Guide), so
the S3 policy names that bucket: a policy of "this account's buckets only" would break every
image pull. ECS's endpoints accept no endpoint policy ("Considerations for Amazon ECS VPC
endpoints"), nor, as far as AWS documents, do Session Manager's channels: there the roles and
their permissions boundary are the control.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from awacs import ecr, logs, s3, secretsmanager, ssm
from awacs.aws import (
    Action,
    Allow,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import And, GetAtt, Or, Ref, Sub, Template
from troposphere import Condition as ConditionRef
from troposphere.ec2 import VPCEndpoint

from generator.common import arn
from generator.config import Settings
from generator.core.compute import Compute
from generator.core.data import Data
from generator.core.iam import Iam
from generator.core.logs import Logs
from generator.core.network import Network
from generator.core.registry import Registry
from generator.core.secrets import Secrets
from generator.core.security import Security
from generator.managed_policies import SSM_CORE
from generator.naming import logical_id

ON_EC2 = "PrivateEgressOnEc2"
WITH_SESSION_CHANNELS = "PrivateEgressWithSessionChannels"

# ECR serves image layers from this AWS-owned bucket ("Amazon ECR interface VPC endpoints",
# "Minimum Amazon S3 bucket permissions for Amazon ECR").
ECR_LAYER_BUCKET = "prod-${AWS::Region}-starport-layer-bucket"


@dataclass(frozen=True)
class _Targets:
    """What the endpoint policies name: this stack's repositories, log groups, tables, bucket."""

    settings: Settings
    registry: Registry
    logs: Logs
    data: Data
    secrets: Secrets


@dataclass(frozen=True)
class InterfaceEndpoint:
    service: str  # after `com.amazonaws.<region>.`
    condition: str  # when it exists (all under Egress=None)
    policy: Callable[[_Targets], list[Statement]] | None  # None: the service accepts no policy


@dataclass(frozen=True)
class Endpoints:
    interface: dict[str, VPCEndpoint]  # endpoint service -> endpoint
    gateway: dict[str, VPCEndpoint]  # "s3", "dynamodb" -> endpoint


def _this_account() -> Condition:
    return Condition(StringEquals("aws:PrincipalAccount", Ref("AWS::AccountId")))


def _allow(sid: str, actions: list[Action], resources: list[object]) -> Statement:
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("*"),
        Action=actions,
        Resource=resources,
        Condition=_this_account(),
    )


def _image_pulls(targets: _Targets) -> list[Statement]:
    return [
        _allow("RegistryLogin", [ecr.GetAuthorizationToken], ["*"]),
        _allow(
            "PullThisStacksImages",
            [ecr.BatchCheckLayerAvailability, ecr.BatchGetImage, ecr.GetDownloadUrlForLayer],
            [GetAtt(repo, "Arn") for repo in targets.registry.repositories.values()],
        ),
    ]


def _log_writes(targets: _Targets) -> list[Statement]:
    return [
        _allow(
            "WriteThisStacksLogs",
            [logs.CreateLogStream, logs.PutLogEvents],
            [GetAtt(group, "Arn") for group in targets.logs.services.values()],
        ),
        # ECS Exec's session log: the exec agent finds the group, then writes its stream.
        _allow("FindTheSessionLogGroup", [logs.DescribeLogGroups], ["*"]),
        _allow(
            "WriteTheSessionLog",
            [logs.CreateLogStream, logs.DescribeLogStreams, logs.PutLogEvents],
            [GetAtt(targets.logs.exec_sessions, "Arn")],
        ),
    ]


def _ssm_agent(targets: _Targets) -> list[Statement]:
    """The SSM agent's own calls, as its AWS managed policy lists them."""
    (statement, *_) = SSM_CORE.document["Statement"]
    return [
        _allow(
            "SsmAgentOfTheContainerInstances",
            [Action(*a.split(":", 1)) for a in statement["Action"] if a.startswith("ssm:")],
            ["*"],
        )
    ]


def _secret_reads(targets: _Targets) -> list[Statement]:
    return [
        _allow(
            "ReadTheTasksSecrets",
            [secretsmanager.GetSecretValue],
            [s.arn for s in targets.secrets.of_store("secretsmanager")],
        )
    ]


def _ssm(targets: _Targets) -> list[Statement]:
    """The SSM agent's calls (on EC2) and the tasks' SecureStrings, which ECS reads."""
    statements = _ssm_agent(targets)
    parameters = targets.secrets.of_store("ssm")
    if parameters:
        statements.append(
            _allow("ReadTheTasksSecureStrings", [ssm.GetParameters], [s.arn for s in parameters])
        )
    return statements


INTERFACE_ENDPOINTS: tuple[InterfaceEndpoint, ...] = (
    InterfaceEndpoint("ecr.api", "", _image_pulls),
    InterfaceEndpoint("ecr.dkr", "", _image_pulls),
    InterfaceEndpoint("logs", "", _log_writes),
    InterfaceEndpoint("ecs", ON_EC2, None),
    InterfaceEndpoint("ecs-agent", ON_EC2, None),
    InterfaceEndpoint("ecs-telemetry", ON_EC2, None),
    InterfaceEndpoint("ssm", ON_EC2, _ssm),
    InterfaceEndpoint("ssmmessages", WITH_SESSION_CHANNELS, None),
)


def _s3_policy(targets: _Targets) -> list[Statement]:
    bucket = targets.data.files_bucket
    access = [s.access for s in targets.settings.services]
    bucket_actions = sorted({a for x in access for a in x.bucket})
    object_actions = sorted({a for x in access for a in x.bucket_objects})
    statements = [
        _allow("EcrImageLayers", [s3.GetObject], [arn(f"s3:::{ECR_LAYER_BUCKET}/*")]),
        _allow(
            "FilesBucketObjects",
            [Action(*a.split(":", 1)) for a in object_actions],
            [Sub(f"${{{bucket.title}.Arn}}/*")],
        ),
    ]
    if bucket_actions:
        statements.append(
            _allow(
                "FilesBucket",
                [Action(*a.split(":", 1)) for a in bucket_actions],
                [GetAtt(bucket, "Arn")],
            )
        )
    return statements


def _dynamodb_policy(targets: _Targets) -> list[Statement]:
    data, settings = targets.data, targets.settings
    access = [s.access for s in settings.services]
    tables = sorted({a for x in access for a in (*x.todos_table, *x.files_table)})
    index = sorted({a for x in access for a in x.todos_list_index})
    statements = [
        _allow(
            "ThisStacksTables",
            [Action(*a.split(":", 1)) for a in tables],
            [GetAtt(data.todos_table, "Arn"), GetAtt(data.files_table, "Arn")],
        )
    ]
    if index:
        statements.append(
            _allow(
                "TodosListIndex",
                [Action(*a.split(":", 1)) for a in index],
                [Sub(f"${{{data.todos_table.title}.Arn}}/index/{settings.todos_list_index}")],
            )
        )
    return statements


def _interface_endpoints(secrets: Secrets) -> list[InterfaceEndpoint]:
    """The fixed list, and what the secrets need: Secrets Manager's endpoint, and SSM's on
    Fargate too (ECS reads SecureStrings through it)."""
    endpoints = list(INTERFACE_ENDPOINTS)
    if secrets.of_store("ssm"):
        endpoints = [
            InterfaceEndpoint(e.service, "", e.policy) if e.service == "ssm" else e
            for e in endpoints
        ]
    if secrets.of_store("secretsmanager"):
        endpoints.append(InterfaceEndpoint("secretsmanager", "", _secret_reads))
    return endpoints


def _document(statements: list[Statement]) -> PolicyDocument:
    return PolicyDocument(Version="2012-10-17", Statement=statements)


def add_endpoints(
    t: Template,
    settings: Settings,
    network: Network,
    security: Security,
    data: Data,
    registry: Registry,
    logs_: Logs,
    iam: Iam,
    compute: Compute,
    secrets: Secrets,
) -> Endpoints:
    private = network.private_egress
    t.add_condition(ON_EC2, And(ConditionRef(private), ConditionRef(compute.use_ec2)))
    t.add_condition(
        WITH_SESSION_CHANNELS,
        And(
            ConditionRef(private),
            Or(ConditionRef(compute.use_ec2), ConditionRef(iam.exec_enabled)),
        ),
    )
    targets = _Targets(settings=settings, registry=registry, logs=logs_, data=data, secrets=secrets)

    # DynamoDB and S3 traffic stays on the AWS network and costs no NAT processing.
    gateway = {
        service: t.add_resource(
            VPCEndpoint(
                f"{name}GatewayEndpoint",
                VpcId=Ref(network.vpc),
                VpcEndpointType="Gateway",
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                RouteTableIds=[Ref(rt) for rt in network.private_route_tables],
                PolicyDocument=_document(policy(targets)),
            )
        )
        for service, name, policy in (
            ("s3", "S3", _s3_policy),
            ("dynamodb", "DynamoDb", _dynamodb_policy),
        )
    }

    interface: dict[str, VPCEndpoint] = {}
    for spec in _interface_endpoints(secrets):
        endpoint = VPCEndpoint(
            logical_id(spec.service.replace(".", "-"), "endpoint"),
            Condition=spec.condition or private,
            VpcId=Ref(network.vpc),
            VpcEndpointType="Interface",
            ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{spec.service}"),
            SubnetIds=[Ref(subnet) for subnet in network.private_subnets],
            SecurityGroupIds=[GetAtt(security.endpoints, "GroupId")],
            # The service's usual host name resolves to the endpoint inside the VPC, so the
            # agents and SDKs need no endpoint configuration.
            PrivateDnsEnabled=True,
        )
        if spec.policy is not None:
            endpoint.PolicyDocument = _document(spec.policy(targets))
        interface[spec.service] = t.add_resource(endpoint)
    return Endpoints(interface=interface, gateway=gateway)
