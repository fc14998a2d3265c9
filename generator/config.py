"""The generator's only input: one frozen dataclass of settings.

Values that differ per environment are CloudFormation parameters (see config/<env>.json);
these settings are the architecture's fixed shape. Change a setting here when the shape
changes (a new service, a port, a retention period); change a parameter in config/<env>.json
when only one environment's value changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Access:
    """The AWS actions one service calls, per resource (the task role grants exactly these)."""

    todos_table: tuple[str, ...] = ()
    todos_list_index: tuple[str, ...] = ()  # the todos table's list-order index
    files_table: tuple[str, ...] = ()
    bucket: tuple[str, ...] = ()  # on the bucket itself (for example ListBucket)
    bucket_objects: tuple[str, ...] = ()  # on the bucket's objects


@dataclass(frozen=True)
class ServiceSpec:
    """One app service: its container, its ALB rule and what its task role may call."""

    name: str  # container name and logical-ID prefix ("main" -> MainService)
    path_patterns: tuple[str, ...]
    listener_priority: int  # lower wins on the ALB
    access: Access
    # A path of the service that answers 401 without a token: the release gate asks for it.
    protected_path: str
    cpu: int = 256
    memory: int = 512


MAIN = ServiceSpec(
    name="main",
    path_patterns=("/todos", "/todos/*"),
    listener_priority=20,
    protected_path="/todos",
    access=Access(
        todos_table=(
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ),
        # A page of the list is one Query of the list-order index.
        todos_list_index=("dynamodb:Query",),
        # Deleting a todo removes its file records and objects in batches.
        files_table=("dynamodb:Query", "dynamodb:BatchWriteItem"),
        bucket=("s3:ListBucket",),
        bucket_objects=("s3:DeleteObject",),
    ),
)

FILES = ServiceSpec(
    name="files",
    path_patterns=("/todos/*/files", "/todos/*/files/*"),
    listener_priority=10,
    protected_path="/todos/00000000-0000-4000-8000-000000000000/files",
    access=Access(
        # Ownership checks: GetItem before listing or deleting a file; registering a file is one
        # TransactWriteItems whose ConditionCheck on the todo guards the Put of the record
        # (a transaction needs the per-item actions: ConditionCheckItem here, PutItem there).
        todos_table=("dynamodb:GetItem", "dynamodb:ConditionCheckItem"),
        files_table=("dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"),
        bucket_objects=("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
    ),
)


@dataclass(frozen=True)
class SecretSpec:
    """An environment variable whose value is a secret: the task definition names the secret
    (`Secrets`, `valueFrom`), ECS resolves it when a task starts, and only the task execution role
    may read it. Its value is set with `make secret ENV=… NAME=<name>` (docs/operations.md)."""

    variable: str  # the services' environment variable
    name: str  # lower-case words: secret `<stack>-<name>`, or parameter `/<stack>/<name>`
    store: str = "secretsmanager"  # or "ssm": an SSM SecureString parameter
    services: tuple[str, ...] = ("main", "files")  # the services that get it


@dataclass(frozen=True)
class Settings:
    project: str = "todo"
    availability_zones: int = 3
    services: tuple[ServiceSpec, ...] = field(default=(MAIN, FILES))
    # No production secret exists yet: the services need none (cursors carry no key, identity is
    # the verified JWT). tests/generator/test_core_secrets.py shows the mechanism with a variant.
    secrets: tuple[SecretSpec, ...] = ()
    # Table keys (partition, sort): the data model the services read and write.
    todos_table_keys: tuple[str, str] = ("userID", "todoID")
    files_table_keys: tuple[str, str] = ("todoID", "fileID")
    # Local secondary index of the todos table (partition userID, sort listKey): the list order.
    # The main service's default TODOS_LIST_INDEX names it.
    todos_list_index: str = "listOrder"

    # Network: one /20 per subnet out of the VPC CIDR (Fn::Cidr with 12 host bits).
    subnet_host_bits: int = 12
    # Dynamic host ports that ECS picks in bridge mode (Linux ephemeral range).
    ephemeral_ports: tuple[int, int] = (32768, 65535)
    # The HTTP methods the API routes to the services (never OPTIONS: see generator/core/api.py).
    api_methods: tuple[str, ...] = ("GET", "POST", "PATCH", "DELETE")
    alb_listener_port: int = 80
    container_port: int = 8080
    # The numeric user the containers run as (also created in the images).
    container_user: str = "10001:10001"
    max_upload_bytes: int = 10 * 1024 * 1024

    # Health checks and draining: a new task is healthy after 2 x 10 s, a drained one is gone
    # within 30 s.
    health_check_path: str = "/health"
    health_check_interval: int = 10
    health_check_timeout: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    deregistration_delay: int = 30
    health_check_grace_period: int = 30

    # Retention.
    log_retention_days: int = 90
    flow_log_retention_days: int = 30
    access_log_expiry_days: int = 365
    noncurrent_version_days: int = 30
    incomplete_upload_days: int = 1
    ecr_keep_images: int = 30

    # Cognito token validity.
    access_token_minutes: int = 60
    id_token_minutes: int = 60
    refresh_token_days: int = 30

    # Scaling: the original rule (ALB 5XX >= 10 within 60 s doubles the tasks) plus CPU tracking.
    elb_5xx_threshold: int = 10
    elb_5xx_period: int = 60
    elb_5xx_scale_out_percent: int = 100
    cpu_target_percent: int = 60
    scale_cooldown: int = 60

    # Alarms.
    cpu_alarm_percent: int = 80
    memory_alarm_percent: int = 80
    api_latency_p90_ms: int = 2000

    # Release: ECS's own deployments (docs/releasing.md). The ALB's test listener is reached
    # only by the release gate; its rules pick the service by this header.
    test_listener_port: int = 9000
    gate_service_header: str = "x-release-gate-service"
    canary_percent: float = 10.0
    canary_bake_minutes: int = 5
    linear_step_percent: float = 25.0
    linear_step_bake_minutes: int = 2
    # Deployment alarms, over both target groups of a service (they swap roles at each release).
    deployment_5xx_threshold: int = 5  # target 5XX within one minute
    deployment_p99_seconds: float = 2.0  # TargetResponseTime p99, three minutes in a row
    gate_timeout_seconds: int = 30
