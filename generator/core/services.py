"""Services layer: one hardened task definition and one ECS service per app service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import Equals, GetAtt, If, NoValue, Parameter, Ref, Sub, Template
from troposphere.ecs import (
    AdvancedConfiguration,
    AwsvpcConfiguration,
    CanaryConfiguration,
    CapacityProviderStrategy,
    ContainerDefinition,
    DeploymentAlarms,
    DeploymentCircuitBreaker,
    DeploymentConfiguration,
    DeploymentController,
    DeploymentLifecycleHook,
    Environment,
    HealthCheck,
    KernelCapabilities,
    LinearConfiguration,
    LinuxParameters,
    LoadBalancer,
    LogConfiguration,
    MountPoint,
    NetworkConfiguration,
    PlacementStrategy,
    PortMapping,
    Service,
    TaskDefinition,
    Volume,
)
from troposphere.ecs import Secret as EcsSecret

from generator.common import add_output, add_switch
from generator.config import ServiceSpec, Settings
from generator.core.auth import Auth
from generator.core.compute import Compute
from generator.core.data import Data
from generator.core.iam import Iam
from generator.core.loadbalancer import LoadBalancing
from generator.core.logs import Logs
from generator.core.network import Network
from generator.core.registry import Registry
from generator.core.release import GATE_STAGE, Release
from generator.core.secrets import Secrets, StackSecret
from generator.core.security import Security
from generator.naming import BOOTSTRAP_TAG, image_digest_parameter, logical_id

# An image digest: the task definition names the image by its content, so what runs is exactly
# what was tested (tags are mutable in general, and only for people here). `bootstrap` before the
# first image exists.
IMAGE_DIGEST_PATTERN = rf"^({BOOTSTRAP_TAG}|sha256:[a-f0-9]{{64}})$"

# Writable scratch space on a read-only root filesystem, as a per-task volume: /tmp for gunicorn.
# On Fargate a task volume starts as root 0755: the images declare `VOLUME /tmp` (mode 1777) so
# the non-root server can write there.
WRITABLE_PATHS = {
    "tmp": "/tmp",  # noqa: S108 - a per-task volume, not the host's /tmp
}

SERVICES_ENABLED = "ServicesEnabled"


@dataclass(frozen=True)
class AppService:
    """One app service as the later layers need it."""

    name: str
    service: Service
    task_definition: TaskDefinition
    min_tasks: Parameter
    max_tasks: Parameter
    bootstrapping: str  # condition: its image is `bootstrap` (no image yet, no task)


@dataclass(frozen=True)
class Services:
    by_name: dict[str, AppService]
    enabled: str  # condition: the ECS services exist (false only during a maintenance step)


@dataclass(frozen=True)
class _Wiring:
    """What every service is wired to: the other layers' handles and the shared settings."""

    network: Network
    security: Security
    registry: Registry
    logs: Logs
    iam: Iam
    compute: Compute
    lb: LoadBalancing
    release: Release
    secrets: Secrets
    environment: list[Any]


def _environment(settings: Settings, data: Data, auth: Auth, log_level: Parameter) -> list[Any]:
    values = {
        "AWS_REGION": Ref("AWS::Region"),
        "TODOS_TABLE": Ref(data.todos_table),
        "FILES_TABLE": Ref(data.files_table),
        "FILES_BUCKET": Ref(data.files_bucket),
        "COGNITO_USER_POOL_ID": Ref(auth.user_pool),
        "COGNITO_APP_CLIENT_ID": Ref(auth.client),
        "PORT": str(settings.container_port),
        "LOG_LEVEL": Ref(log_level),
        "MAX_UPLOAD_BYTES": str(settings.max_upload_bytes),
    }
    environment: list[Any] = [Environment(Name=n, Value=v) for n, v in sorted(values.items())]
    # With the pool's keys given at deploy time (Egress=None needs them), the services read them
    # from a data: URL instead of fetching them from Cognito (generator/core/auth.py).
    environment.append(
        If(auth.has_jwks, Environment(Name="COGNITO_JWKS_URL", Value=auth.jwks_url), NoValue)
    )
    return environment


def _container(
    settings: Settings,
    service: ServiceSpec,
    image: Sub,
    environment: list[Any],
    log_group: object,
    exec_enabled: str,
    secrets: list[StackSecret],
) -> ContainerDefinition:
    port = settings.container_port
    probe = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{port}{settings.health_check_path}', timeout=3)"
    )
    return ContainerDefinition(
        Name=service.name,
        Image=image,
        Essential=True,
        # No HostPort: bridge mode picks a dynamic host port, awsvpc uses the container port.
        PortMappings=[PortMapping(ContainerPort=port, Protocol="tcp")],
        Environment=environment,
        # Secret values only by reference: ECS reads them with the execution role at start.
        **(
            {"Secrets": [EcsSecret(Name=s.spec.variable, ValueFrom=s.arn) for s in secrets]}
            if secrets
            else {}
        ),
        User=settings.container_user,
        # ECS Exec is not supported with a read-only root filesystem (see generator/core/iam.py).
        ReadonlyRootFilesystem=If(exec_enabled, False, True),
        Privileged=False,
        Memory=service.memory,
        LinuxParameters=LinuxParameters(
            InitProcessEnabled=True,  # forwards signals to gunicorn, reaps orphaned processes
            Capabilities=KernelCapabilities(Drop=["ALL"]),
        ),
        MountPoints=[
            MountPoint(SourceVolume=name, ContainerPath=path, ReadOnly=False)
            for name, path in WRITABLE_PATHS.items()
        ],
        HealthCheck=HealthCheck(
            Command=["CMD", "python", "-c", probe],
            Interval=settings.health_check_interval,
            Timeout=settings.health_check_timeout,
            Retries=3,
            StartPeriod=10,
        ),
        StopTimeout=settings.deregistration_delay,
        LogConfiguration=LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(log_group),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": service.name,
                "mode": "non-blocking",
                "max-buffer-size": "4m",
            },
        ),
    )


def add_services(
    t: Template,
    settings: Settings,
    network: Network,
    security: Security,
    data: Data,
    auth: Auth,
    registry: Registry,
    logs: Logs,
    iam: Iam,
    compute: Compute,
    lb: LoadBalancing,
    release: Release,
    secrets: Secrets,
) -> Services:
    log_level = t.add_parameter(
        Parameter(
            "ServiceLogLevel",
            Type="String",
            Default="INFO",
            AllowedValues=["DEBUG", "INFO", "WARNING", "ERROR"],
            Description="LOG_LEVEL of both services",
        )
    )
    add_switch(
        t,
        "ServicesEnabled",
        default=True,
        description="false removes both ECS services and their scaling (a maintenance step, "
        "for example the first of the three steps that switch LaunchType; docs/deploy.md)",
        condition=SERVICES_ENABLED,
    )
    wiring = _Wiring(
        network=network,
        security=security,
        registry=registry,
        logs=logs,
        iam=iam,
        compute=compute,
        lb=lb,
        release=release,
        secrets=secrets,
        environment=_environment(settings, data, auth, log_level),
    )
    by_name = {spec.name: add_service(t, settings, spec, wiring) for spec in settings.services}
    return Services(by_name=by_name, enabled=SERVICES_ENABLED)


def _image_digest(t: Template, spec: ServiceSpec) -> Parameter:
    return t.add_parameter(
        Parameter(
            image_digest_parameter(spec.name),
            Type="String",
            Default=BOOTSTRAP_TAG,
            AllowedPattern=IMAGE_DIGEST_PATTERN,
            ConstraintDescription=(
                f"an image digest, sha256: and 64 hex digits, or {BOOTSTRAP_TAG}"
            ),
            Description=(
                f"Digest of the {spec.name} service's image in its ECR repository (set by make "
                f"deploy-service, promote and rollback); {BOOTSTRAP_TAG} (before the first image "
                "is pushed) runs no task"
            ),
        )
    )


def _task_count(t: Template, spec: ServiceSpec, bound: str, default: int) -> Parameter:
    return t.add_parameter(
        Parameter(
            f"{logical_id(spec.name)}Service{bound.title()}Tasks",
            Type="Number",
            Default=default,
            MinValue=1,
            Description=f"{bound.title()}imum number of {spec.name} tasks",
        )
    )


def _task_definition(
    t: Template, settings: Settings, spec: ServiceSpec, digest: Parameter, wiring: _Wiring
) -> TaskDefinition:
    repository = wiring.registry.repositories[spec.name]
    uri = f"${{{repository.title}.RepositoryUri}}"
    # By digest once an image exists; `bootstrap` names no image and no task runs.
    image = If(
        logical_id(spec.name, "bootstrapping"),
        Sub(f"{uri}:{BOOTSTRAP_TAG}"),
        Sub(f"{uri}@${{{digest.title}}}"),
    )
    fargate = wiring.compute.use_fargate
    return t.add_resource(
        TaskDefinition(
            logical_id(spec.name, "task-definition"),
            Family=Sub(f"${{AWS::StackName}}-{spec.name}"),
            RequiresCompatibilities=If(fargate, ["FARGATE"], ["EC2"]),
            NetworkMode=If(fargate, "awsvpc", "bridge"),
            Cpu=str(spec.cpu),
            Memory=str(spec.memory),
            ExecutionRoleArn=GetAtt(wiring.iam.execution_role, "Arn"),
            TaskRoleArn=GetAtt(wiring.iam.task_roles[spec.name], "Arn"),
            Volumes=[Volume(Name=name) for name in WRITABLE_PATHS],
            ContainerDefinitions=[
                _container(
                    settings,
                    spec,
                    image,
                    wiring.environment,
                    wiring.logs.services[spec.name],
                    wiring.iam.exec_enabled,
                    wiring.secrets.for_service(spec.name),
                )
            ],
        )
    )


def _deployment(settings: Settings, spec: ServiceSpec, release: Release) -> DeploymentConfiguration:
    """ECS's deployment of a new revision: the parameter's strategy, the circuit breaker and the
    deployment alarms always; bake time, steps and the release gate when it is progressive."""
    this = release.by_service[spec.name]
    return DeploymentConfiguration(
        Strategy=Ref(this.strategy),
        MinimumHealthyPercent=100,
        MaximumPercent=200,
        DeploymentCircuitBreaker=DeploymentCircuitBreaker(Enable=True, Rollback=True),
        Alarms=DeploymentAlarms(
            AlarmNames=[Ref(alarm) for alarm in this.alarms], Enable=True, Rollback=True
        ),
        BakeTimeInMinutes=If(this.progressive, Ref(release.bake_minutes), NoValue),
        CanaryConfiguration=If(
            this.canary,
            CanaryConfiguration(
                CanaryPercent=settings.canary_percent,
                CanaryBakeTimeInMinutes=settings.canary_bake_minutes,
            ),
            NoValue,
        ),
        LinearConfiguration=If(
            this.linear,
            LinearConfiguration(
                StepPercent=settings.linear_step_percent,
                StepBakeTimeInMinutes=settings.linear_step_bake_minutes,
            ),
            NoValue,
        ),
        LifecycleHooks=If(
            this.progressive,
            [
                DeploymentLifecycleHook(
                    HookTargetArn=GetAtt(release.gate, "Arn"),
                    RoleArn=GetAtt(this.infrastructure_role, "Arn"),
                    LifecycleStages=[GATE_STAGE],
                    HookDetails=release.gate_details[spec.name],
                )
            ],
            NoValue,
        ),
    )


def add_service(t: Template, settings: Settings, spec: ServiceSpec, wiring: _Wiring) -> AppService:
    """One app service: its image digest and task counts, task definition and ECS service."""
    digest = _image_digest(t, spec)
    bootstrapping = logical_id(spec.name, "bootstrapping")
    t.add_condition(bootstrapping, Equals(Ref(digest), BOOTSTRAP_TAG))
    min_tasks = _task_count(t, spec, "min", 2)
    max_tasks = _task_count(t, spec, "max", 8)
    task_definition = _task_definition(t, settings, spec, digest, wiring)
    compute, lb, fargate = wiring.compute, wiring.lb, wiring.compute.use_fargate
    release = wiring.release.by_service[spec.name]
    ecs_service = t.add_resource(
        Service(
            logical_id(spec.name, "service"),
            Condition=SERVICES_ENABLED,
            # A target group must be attached to the ALB before a service registers in it: the
            # service names its deployment alarms, which come after both of its rules
            # (generator/core/release.py), whatever the strategy.
            DependsOn=[compute.capacity_association.title],
            Cluster=Ref(compute.cluster),
            TaskDefinition=Ref(task_definition),
            CapacityProviderStrategy=If(
                fargate,
                [CapacityProviderStrategy(CapacityProvider="FARGATE", Weight=1, Base=0)],
                [
                    CapacityProviderStrategy(
                        CapacityProvider=Ref(compute.capacity_provider), Weight=1, Base=0
                    )
                ],
            ),
            # Bootstrapping: no image exists yet, so no task may start (the circuit breaker
            # would fail the creation). Otherwise DesiredCount is left unset, so Application
            # Auto Scaling owns the count and a stack update never resets a scaled-out
            # service: CloudFormation omits an unset DesiredCount from UpdateService, and on
            # the update from `bootstrap` to a real image the scalable target's new minimum
            # (0 -> MinTasks) makes Application Auto Scaling raise the count, which starts
            # the tasks (RegisterScalableTarget moves the current capacity into the new
            # bounds). See docs/deploy.md, first deployment.
            DesiredCount=If(bootstrapping, 0, NoValue),
            LoadBalancers=[
                LoadBalancer(
                    ContainerName=spec.name,
                    ContainerPort=settings.container_port,
                    TargetGroupArn=Ref(lb.target_groups[spec.name]),
                    AdvancedConfiguration=If(
                        release.progressive,
                        AdvancedConfiguration(
                            AlternateTargetGroupArn=Ref(lb.alternate_target_groups[spec.name]),
                            ProductionListenerRule=Ref(lb.listener_rules[spec.name]),
                            TestListenerRule=Ref(lb.test_rules[spec.name]),
                            RoleArn=GetAtt(release.infrastructure_role, "Arn"),
                        ),
                        NoValue,
                    ),
                )
            ],
            HealthCheckGracePeriodSeconds=settings.health_check_grace_period,
            DeploymentController=DeploymentController(Type="ECS"),
            DeploymentConfiguration=_deployment(settings, spec, wiring.release),
            PlacementStrategies=If(
                fargate,
                NoValue,
                [
                    PlacementStrategy(Type="spread", Field="attribute:ecs.availability-zone"),
                    PlacementStrategy(Type="binpack", Field="memory"),
                ],
            ),
            NetworkConfiguration=If(
                fargate,
                NetworkConfiguration(
                    AwsvpcConfiguration=AwsvpcConfiguration(
                        AssignPublicIp="DISABLED",
                        Subnets=[Ref(subnet) for subnet in wiring.network.private_subnets],
                        SecurityGroups=[GetAtt(wiring.security.task, "GroupId")],
                    )
                ),
                NoValue,
            ),
            EnableExecuteCommand=If(wiring.iam.exec_enabled, True, False),
            EnableECSManagedTags=True,
            PropagateTags="SERVICE",
        )
    )
    add_output(
        t,
        logical_id(spec.name, "service-name"),
        GetAtt(ecs_service, "Name"),
        f"ECS service of the {spec.name} service",
        condition=SERVICES_ENABLED,
    )
    return AppService(
        name=spec.name,
        service=ecs_service,
        task_definition=task_definition,
        min_tasks=min_tasks,
        max_tasks=max_tasks,
        bootstrapping=bootstrapping,
    )
