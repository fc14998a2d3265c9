"""IAM layer: task execution role, one least-privilege task role per service, container instances.

Every document is an awacs object. The ECS and Application Auto Scaling service-linked roles are
created by AWS on first use; declaring them here would fail in any account that already has them.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import ecr, kms, logs, secretsmanager, ssm, ssmmessages
from awacs.aws import (
    Action,
    Allow,
    Condition,
    PolicyDocument,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, If, NoValue, Ref, Sub, Template
from troposphere.iam import InstanceProfile, Policy, Role

from generator.common import add_switch, advisor_notes, arn, assumed_by
from generator.config import Access, Settings
from generator.core.data import Data
from generator.core.encryption import Encryption
from generator.core.environment import Environment
from generator.core.logs import Logs
from generator.core.registry import Registry
from generator.core.secrets import Secrets
from generator.managed_policies import CONTAINER_INSTANCE_POLICIES
from generator.naming import logical_id

EXEC_ENABLED = "ExecEnabled"


@dataclass(frozen=True)
class Iam:
    execution_role: Role
    task_roles: dict[str, Role]  # service name -> role
    instance_role: Role
    instance_profile: InstanceProfile
    exec_enabled: str  # condition name: ECS Exec is on in this environment


def _actions(names: tuple[str, ...]) -> list[Action]:
    return [Action(*name.split(":", 1)) for name in names]


def _task_statements(
    settings: Settings, access: Access, data: Data, encryption: Encryption
) -> list[Statement]:
    """Exactly the calls the service makes, on its own tables, index and bucket only."""
    todos = data.todos_table.title
    statements: list[Statement] = []
    for sid, actions, resource in (
        ("TodosTable", access.todos_table, GetAtt(data.todos_table, "Arn")),
        (
            "TodosListIndex",
            access.todos_list_index,
            Sub(f"${{{todos}.Arn}}/index/{settings.todos_list_index}"),
        ),
        ("FilesTable", access.files_table, GetAtt(data.files_table, "Arn")),
        ("FilesBucket", access.bucket, GetAtt(data.files_bucket, "Arn")),
        ("FilesBucketObjects", access.bucket_objects, Sub(f"${{{data.files_bucket.title}.Arn}}/*")),
    ):
        if actions:
            statements.append(
                Statement(Sid=sid, Effect=Allow, Action=_actions(actions), Resource=[resource])
            )
    # The tables and the bucket are encrypted with the stack's key; use it only through them.
    statements.append(
        Statement(
            Sid="DataKeyThroughDynamoDbAndS3",
            Effect=Allow,
            Action=[kms.Decrypt, kms.Encrypt, kms.GenerateDataKey, kms.DescribeKey],
            Resource=[GetAtt(encryption.key, "Arn")],
            Condition=Condition(
                StringEquals(
                    "kms:ViaService",
                    [
                        Sub("dynamodb.${AWS::Region}.amazonaws.com"),
                        Sub("s3.${AWS::Region}.amazonaws.com"),
                    ],
                )
            ),
        )
    )
    return statements


def _secret_reads(secrets: Secrets, encryption: Encryption) -> list[Statement]:
    """ECS reads the tasks' secrets with the execution role: exactly these ARNs, decrypted only
    through Secrets Manager or SSM ("Required IAM permissions for Amazon ECS secrets")."""
    statements: list[Statement] = []
    via: list[Sub] = []
    managed = secrets.of_store("secretsmanager")
    if managed:
        statements.append(
            Statement(
                Sid="ReadTheTasksSecrets",
                Effect=Allow,
                Action=[secretsmanager.GetSecretValue],
                Resource=[s.arn for s in managed],
            )
        )
        via.append(Sub("secretsmanager.${AWS::Region}.amazonaws.com"))
    parameters = secrets.of_store("ssm")
    if parameters:
        statements.append(
            Statement(
                Sid="ReadTheTasksSecureStrings",
                Effect=Allow,
                Action=[ssm.GetParameters],
                Resource=[s.arn for s in parameters],
            )
        )
        via.append(Sub("ssm.${AWS::Region}.amazonaws.com"))
    if via:
        statements.append(
            Statement(
                Sid="DecryptTheSecretsThroughTheirService",
                Effect=Allow,
                Action=[kms.Decrypt],
                Resource=[GetAtt(encryption.key, "Arn")],
                Condition=Condition(StringEquals("kms:ViaService", via)),
            )
        )
    return statements


def _exec_policy(logs_: Logs) -> Policy:
    """ECS Exec's Session Manager channels and its session log ("Monitor Amazon ECS containers
    with ECS Exec", IAM permissions required, and "Logging and auditing using ECS Exec").

    The channels and DescribeLogGroups have no resource-level permissions, so those name `*`;
    the exec agent checks that the log group is encrypted (DescribeLogGroups) before it writes.
    """
    return Policy(
        PolicyName="ecs-exec-sessions",
        PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Sid="EcsExecSessionChannels",
                    Effect=Allow,
                    Action=[
                        ssmmessages.CreateControlChannel,
                        ssmmessages.CreateDataChannel,
                        ssmmessages.OpenControlChannel,
                        ssmmessages.OpenDataChannel,
                    ],
                    Resource=["*"],
                ),
                Statement(
                    Sid="FindTheSessionLogGroup",
                    Effect=Allow,
                    Action=[logs.DescribeLogGroups],
                    Resource=["*"],
                ),
                Statement(
                    Sid="WriteTheSessionLog",
                    Effect=Allow,
                    Action=[logs.CreateLogStream, logs.DescribeLogStreams, logs.PutLogEvents],
                    Resource=[GetAtt(logs_.exec_sessions, "Arn")],
                ),
            ],
        ),
    )


def _add_exec_switch(t: Template) -> str:
    """The `EnableExec` parameter: ECS Exec is an access decision, taken per environment.

    AWS does not support ECS Exec with a read-only root filesystem ("Using ECS Exec",
    considerations), and the ECS agent starts the exec agent as root, so a session is a root
    shell in the container. With exec on, the containers therefore run with a writable root; with
    it off (prod's default), they keep the read-only root and the task roles lose the channels.
    """
    add_switch(
        t,
        "EnableExec",
        default=False,
        description="ECS Exec into the service containers (root shells; the containers' "
        "root filesystem is then writable, as ECS Exec requires)",
        condition=EXEC_ENABLED,
    )
    return EXEC_ENABLED


def add_iam(
    t: Template,
    settings: Settings,
    environment: Environment,
    encryption: Encryption,
    data: Data,
    registry: Registry,
    logs_: Logs,
    secrets: Secrets,
) -> Iam:
    execution_role = t.add_resource(
        advisor_notes(
            Role(
                "TaskExecutionRole",
                # ECS names the account it acts for: only this account's tasks (no confused deputy).
                AssumeRolePolicyDocument=assumed_by(
                    "ecs-tasks.amazonaws.com", this_account_only=True
                ),
                PermissionsBoundary=environment.boundary,
                Policies=[
                    Policy(
                        PolicyName="pull-images-and-write-logs",
                        PolicyDocument=PolicyDocument(
                            Version="2012-10-17",
                            Statement=[
                                Statement(
                                    Sid="RegistryLogin",  # account-wide by design of ECR
                                    Effect=Allow,
                                    Action=[ecr.GetAuthorizationToken],
                                    Resource=["*"],
                                ),
                                Statement(
                                    Sid="PullServiceImages",
                                    Effect=Allow,
                                    Action=[
                                        ecr.BatchCheckLayerAvailability,
                                        ecr.BatchGetImage,
                                        ecr.GetDownloadUrlForLayer,
                                    ],
                                    Resource=[
                                        GetAtt(repo, "Arn")
                                        for repo in registry.repositories.values()
                                    ],
                                ),
                                Statement(
                                    Sid="WriteServiceLogs",
                                    Effect=Allow,
                                    Action=[logs.CreateLogStream, logs.PutLogEvents],
                                    Resource=[
                                        GetAtt(group, "Arn") for group in logs_.services.values()
                                    ],
                                ),
                                *_secret_reads(secrets, encryption),
                            ],
                        ),
                    )
                ],
            ),
            (
                "cloudsplaining",
                "CredentialsExposure",
                "ECR's registry login (ecr:GetAuthorizationToken) has no resource-level "
                "permission; the token pulls only the repositories the role may pull",
            ),
        )
    )

    exec_enabled = _add_exec_switch(t)
    task_roles: dict[str, Role] = {}
    for service in settings.services:
        task_roles[service.name] = t.add_resource(
            Role(
                logical_id(service.name, "task-role"),
                AssumeRolePolicyDocument=assumed_by(
                    "ecs-tasks.amazonaws.com", this_account_only=True
                ),
                PermissionsBoundary=environment.boundary,
                Policies=[
                    Policy(
                        PolicyName=f"{service.name}-service-data-access",
                        PolicyDocument=PolicyDocument(
                            Version="2012-10-17",
                            Statement=_task_statements(settings, service.access, data, encryption),
                        ),
                    ),
                    If(exec_enabled, _exec_policy(logs_), NoValue),
                ],
            )
        )

    instance_role = t.add_resource(
        Role(
            "ContainerInstanceRole",
            AssumeRolePolicyDocument=assumed_by("ec2.amazonaws.com", this_account_only=False),
            PermissionsBoundary=environment.boundary,
            # The ECS agent's calls, and Session Manager instead of SSH (the documents are in
            # generator/managed_policies.py; the boundary cuts them down to this environment).
            ManagedPolicyArns=[arn(policy.arn_suffix) for policy in CONTAINER_INSTANCE_POLICIES],
        )
    )
    instance_profile = t.add_resource(
        InstanceProfile("ContainerInstanceProfile", Roles=[Ref(instance_role)])
    )
    return Iam(
        execution_role=execution_role,
        task_roles=task_roles,
        instance_role=instance_role,
        instance_profile=instance_profile,
        exec_enabled=exec_enabled,
    )
