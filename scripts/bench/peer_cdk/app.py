"""The benchmark's comparison peer: the core architecture as an AWS CDK app, only to time what
`cdk synth` costs for it.

It is a benchmark subject, not a deployable alternative to `generator/` (the architecture lives
in `generator/core/`; nothing else reads this file): it mirrors the shape of
templates/core.yaml (VPC over 3 AZs with NAT per AZ, NACLs, gateway endpoints and flow logs; KMS;
two tables; files and log buckets; Cognito; ECR; an ECS cluster on an EC2 Auto Scaling group
capacity provider; an internal ALB with two path-routed target groups; two ECS services; step and
target-tracking scaling; an HTTP API with a JWT authorizer and a VPC-link integration; alarms, SNS
and a dashboard) with idiomatic L2 constructs, so the synthesized resource count is comparable.

Run it with the interpreter of `.venv-cdk` (see scripts/bench/cdk.py). It synthesizes in process
(`app.synth()`, no CDK CLI), needs no AWS account (account, region and AZs are fixed; nothing is
looked up), and prints one JSON line: seconds spent importing aws_cdk (jsii starts Node.js and
loads the aws-cdk-lib bundle), building the construct tree, and synthesizing, plus the resource
count of the synthesized template.
"""

import time

STARTED = time.perf_counter()  # before aws_cdk is imported, so its import is timed on its own

import argparse  # noqa: E402
import json  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import jsii  # noqa: E402
from aws_cdk import (  # noqa: E402
    App,
    CfnOutput,
    CfnParameter,
    Duration,
    Environment,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_apigatewayv2 as apigwv2  # noqa: E402
from aws_cdk import aws_apigatewayv2_authorizers as authorizers  # noqa: E402
from aws_cdk import aws_apigatewayv2_integrations as integrations  # noqa: E402
from aws_cdk import aws_applicationautoscaling as appscaling  # noqa: E402
from aws_cdk import aws_autoscaling as autoscaling  # noqa: E402
from aws_cdk import aws_cloudwatch as cloudwatch  # noqa: E402
from aws_cdk import aws_cloudwatch_actions as cw_actions  # noqa: E402
from aws_cdk import aws_cognito as cognito  # noqa: E402
from aws_cdk import aws_dynamodb as dynamodb  # noqa: E402
from aws_cdk import aws_ec2 as ec2  # noqa: E402
from aws_cdk import aws_ecr as ecr  # noqa: E402
from aws_cdk import aws_ecs as ecs  # noqa: E402
from aws_cdk import aws_elasticloadbalancingv2 as elbv2  # noqa: E402
from aws_cdk import aws_iam as iam  # noqa: E402
from aws_cdk import aws_kms as kms  # noqa: E402
from aws_cdk import aws_logs as logs  # noqa: E402
from aws_cdk import aws_s3 as s3  # noqa: E402
from aws_cdk import aws_sns as sns  # noqa: E402
from constructs import Construct  # noqa: E402

IMPORTED = time.perf_counter()

# A placeholder account: synthesis never calls AWS, but an explicit environment keeps the template
# environment-specific (as templates/core.yaml is per region) and avoids "unknown region" tokens.
ENV = Environment(account="123456789012", region="eu-west-1")
AZS = [f"{ENV.region}{suffix}" for suffix in "abc"]  # given, so Vpc needs no AZ lookup
CONTAINER_PORT = 8080
LISTENER_PORT = 80
EPHEMERAL = ec2.AclTraffic.tcp_port_range(1024, 65535)
DYNAMIC_HOST_PORTS = ec2.AclTraffic.tcp_port_range(32768, 65535)


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogs:
    """Stage access logs to a log group in CDK's default format (an interface, not a struct)."""

    def __init__(self, destination: apigwv2.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> None:
        return None


class CoreStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id, env=ENV)
        website_origin = CfnParameter(self, "WebsiteOrigin", default="http://localhost:5173")
        image_tags = {
            name: CfnParameter(
                self, f"{name.title()}ServiceImageTag", allowed_pattern="^(?!latest$)[\\w.-]+$"
            )
            for name in ("main", "files")
        }

        key = kms.Key(
            self,
            "DataKey",
            alias="alias/todo-core-data",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        vpc = self._network()
        private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

        # Data
        tables = {
            "todos": self._table("TodosTable", "userID", "todoID", key),
            "files": self._table("FilesTable", "todoID", "fileID", key),
        }
        log_bucket = s3.Bucket(
            self,
            "LogBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        files_bucket = s3.Bucket(
            self,
            "FilesBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            versioned=True,
            enforce_ssl=True,
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix="files-bucket/",
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.GET, s3.HttpMethods.PUT],
                    allowed_origins=[website_origin.value_as_string],
                    allowed_headers=["*"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

        # Auth
        user_pool = cognito.UserPool(
            self,
            "UserPool",
            sign_in_aliases=cognito.SignInAliases(email=True),
            self_sign_up_enabled=True,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            removal_policy=RemovalPolicy.RETAIN,
        )
        client = user_pool.add_client(
            "UserPoolClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=True),
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )

        # Registry and logs
        repositories = {
            name: ecr.Repository(
                self,
                f"{name.title()}Repository",
                image_tag_mutability=ecr.TagMutability.IMMUTABLE,
                image_scan_on_push=True,
                encryption=ecr.RepositoryEncryption.KMS,
                encryption_key=key,
                lifecycle_rules=[ecr.LifecycleRule(max_image_count=30)],
                removal_policy=RemovalPolicy.RETAIN,
            )
            for name in ("main", "files")
        }
        log_groups = {
            name: logs.LogGroup(
                self,
                f"{name.title()}LogGroup",
                retention=logs.RetentionDays.ONE_MONTH,
                encryption_key=key,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for name in ("main", "files", "api")
        }

        # Security groups: VPC link -> ALB -> container instances, nothing else inbound
        vpc_link_sg = ec2.SecurityGroup(
            self, "VpcLinkSecurityGroup", vpc=vpc, allow_all_outbound=False
        )
        alb_sg = ec2.SecurityGroup(
            self, "LoadBalancerSecurityGroup", vpc=vpc, allow_all_outbound=False
        )
        instance_sg = ec2.SecurityGroup(self, "ContainerInstanceSecurityGroup", vpc=vpc)
        alb_sg.connections.allow_from(
            vpc_link_sg, ec2.Port.tcp(LISTENER_PORT), "From the API Gateway VPC link only"
        )
        instance_sg.connections.allow_from(
            alb_sg, ec2.Port.tcp_range(32768, 65535), "From the ALB on the dynamic host ports"
        )

        # Compute: ECS cluster on an Auto Scaling group capacity provider
        cluster = ecs.Cluster(
            self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        instance_role = iam.Role(
            self,
            "ContainerInstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")
            ],
        )
        launch_template = ec2.LaunchTemplate(
            self,
            "ContainerInstanceLaunchTemplate",
            instance_type=ec2.InstanceType("t3.small"),
            machine_image=ecs.EcsOptimizedImage.amazon_linux2023(),
            user_data=ec2.UserData.for_linux(),
            role=instance_role,
            security_group=instance_sg,
            require_imdsv2=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        30, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
        )
        auto_scaling_group = autoscaling.AutoScalingGroup(
            self,
            "ContainerInstanceAutoScalingGroup",
            vpc=vpc,
            vpc_subnets=private,
            launch_template=launch_template,
            min_capacity=1,
            max_capacity=6,
            new_instances_protected_from_scale_in=True,
        )
        capacity_provider = ecs.AsgCapacityProvider(
            self,
            "CapacityProvider",
            auto_scaling_group=auto_scaling_group,
            enable_managed_scaling=True,
            enable_managed_termination_protection=True,
            target_capacity_percent=100,
        )
        cluster.add_asg_capacity_provider(capacity_provider)

        # Internal ALB: 404 by default, one path rule per service
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            vpc_subnets=private,
            internet_facing=False,
            security_group=alb_sg,
            drop_invalid_header_fields=True,
            desync_mitigation_mode=elbv2.DesyncMitigationMode.STRICTEST,
            deletion_protection=True,
        )
        alb.log_access_logs(log_bucket, "alb")
        listener = alb.add_listener(
            "LoadBalancerListener",
            port=LISTENER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            open=False,
            default_action=elbv2.ListenerAction.fixed_response(
                404,
                content_type="application/json",
                message_body='{"error": {"code": "not_found", "message": "Not found"}}',
            ),
        )

        # Services
        execution_role = iam.Role(
            self,
            "TaskExecutionRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
        )
        alarm_topic = sns.Topic(self, "AlarmTopic", master_key=key)
        alarm_action = cw_actions.SnsAction(alarm_topic)
        routes = {
            "main": (20, ["/todos", "/todos/*"]),
            "files": (10, ["/todos/*/files", "/todos/*/files/*"]),
        }
        environment = {
            "AWS_REGION": self.region,
            "TODOS_TABLE": tables["todos"].table_name,
            "FILES_TABLE": tables["files"].table_name,
            "FILES_BUCKET": files_bucket.bucket_name,
            "COGNITO_USER_POOL_ID": user_pool.user_pool_id,
            "COGNITO_APP_CLIENT_ID": client.user_pool_client_id,
        }
        target_groups: dict[str, elbv2.ApplicationTargetGroup] = {}
        services: dict[str, ecs.Ec2Service] = {}
        for name, (priority, paths) in routes.items():
            title = name.title()
            task_definition = ecs.Ec2TaskDefinition(
                self,
                f"{title}TaskDefinition",
                network_mode=ecs.NetworkMode.BRIDGE,
                execution_role=execution_role,
                task_role=iam.Role(
                    self,
                    f"{title}TaskRole",
                    assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                ),
                volumes=[ecs.Volume(name="tmp")],
            )
            container = task_definition.add_container(
                name,
                image=ecs.ContainerImage.from_ecr_repository(
                    repositories[name], tag=image_tags[name].value_as_string
                ),
                memory_limit_mib=512,
                cpu=256,
                user="1000:1000",
                readonly_root_filesystem=True,
                privileged=False,
                port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT, host_port=0)],
                environment={**environment, "PORT": str(CONTAINER_PORT)},
                logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=log_groups[name]),
                health_check=ecs.HealthCheck(
                    command=[
                        "CMD",
                        "python",
                        "-c",
                        "import urllib.request; urllib.request.urlopen("
                        f"'http://127.0.0.1:{CONTAINER_PORT}/health')",
                    ],
                    interval=Duration.seconds(15),
                    retries=3,
                    start_period=Duration.seconds(20),
                ),
            )
            container.add_mount_points(
                ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False)  # noqa: S108
            )
            tables["todos"].grant_read_data(task_definition.task_role)
            tables["files"].grant_read_write_data(task_definition.task_role)
            files_bucket.grant_read_write(task_definition.task_role)
            if name == "files":
                files_bucket.grant_delete(task_definition.task_role)
            else:
                tables["todos"].grant_write_data(task_definition.task_role)

            service = ecs.Ec2Service(
                self,
                f"{title}Service",
                cluster=cluster,
                task_definition=task_definition,
                desired_count=2,
                min_healthy_percent=100,
                max_healthy_percent=200,
                circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
                capacity_provider_strategies=[
                    ecs.CapacityProviderStrategy(
                        capacity_provider=capacity_provider.capacity_provider_name, weight=1
                    )
                ],
                placement_strategies=[
                    ecs.PlacementStrategy.spread_across(ecs.BuiltInAttributes.AVAILABILITY_ZONE),
                    ecs.PlacementStrategy.packed_by_memory(),
                ],
                enable_execute_command=True,
            )
            target_group = listener.add_targets(
                f"{title}Target",
                priority=priority,
                conditions=[elbv2.ListenerCondition.path_patterns(paths)],
                port=CONTAINER_PORT,
                protocol=elbv2.ApplicationProtocol.HTTP,
                targets=[service.load_balancer_target(container_name=name)],
                deregistration_delay=Duration.seconds(30),
                health_check=elbv2.HealthCheck(
                    path="/health",
                    port="traffic-port",
                    interval=Duration.seconds(15),
                    healthy_threshold_count=2,
                    unhealthy_threshold_count=3,
                ),
            )
            target_groups[name] = target_group
            services[name] = service

            # Scaling: the original 5XX step rule and CPU target tracking
            scaling = service.auto_scale_task_count(min_capacity=2, max_capacity=10)
            scaling.scale_on_cpu_utilization("CpuTargetTracking", target_utilization_percent=60)
            scaling.scale_on_metric(
                "Elb5xxStepScaling",
                metric=alb.metrics.http_code_elb(
                    elbv2.HttpCodeElb.ELB_5XX_COUNT,
                    period=Duration.minutes(1),
                    statistic="Sum",
                ),
                scaling_steps=[
                    appscaling.ScalingInterval(upper=10, change=0),
                    appscaling.ScalingInterval(lower=10, change=100),
                ],
                adjustment_type=appscaling.AdjustmentType.PERCENT_CHANGE_IN_CAPACITY,
                evaluation_periods=1,
                cooldown=Duration.minutes(2),
            )

            # Per-service alarms
            for alarm_id, metric, threshold in (
                (
                    "Target5xxAlarm",
                    target_group.metrics.http_code_target(
                        elbv2.HttpCodeTarget.TARGET_5XX_COUNT, statistic="Sum"
                    ),
                    10,
                ),
                ("UnhealthyHostsAlarm", target_group.metrics.unhealthy_host_count(), 1),
                ("CpuAlarm", service.metric_cpu_utilization(), 85),
                ("MemoryAlarm", service.metric_memory_utilization(), 85),
            ):
                self._alarm(f"{title}{alarm_id}", metric, threshold, alarm_action)

        # HTTP API: JWT authorizer -> VPC link -> ALB listener
        vpc_link = apigwv2.VpcLink(
            self, "HttpApiVpcLink", vpc=vpc, subnets=private, security_groups=[vpc_link_sg]
        )
        authorizer = authorizers.HttpJwtAuthorizer(
            "HttpApiJwtAuthorizer",
            f"https://cognito-idp.{self.region}.amazonaws.com/{user_pool.user_pool_id}",
            jwt_audience=[client.user_pool_client_id],
        )
        integration = integrations.HttpAlbIntegration(
            "HttpApiAlbIntegration",
            listener,
            vpc_link=vpc_link,
            parameter_mapping=apigwv2.ParameterMapping().overwrite_header(
                "x-user-sub", apigwv2.MappingValue.context_variable("authorizer.claims.sub")
            ),
        )
        http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            create_default_stage=False,
            default_authorizer=authorizer,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=[website_origin.value_as_string],
                allow_methods=[apigwv2.CorsHttpMethod.ANY],
                allow_headers=["authorization", "content-type"],
                max_age=Duration.hours(1),
            ),
        )
        http_api.add_stage(
            "HttpApiStage",
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=50, burst_limit=100),
            access_log_settings=AccessLogs(apigwv2.LogGroupLogDestination(log_groups["api"])),
        )
        for path in ("/todos", "/todos/{proxy+}"):
            http_api.add_routes(
                path=path, methods=[apigwv2.HttpMethod.ANY], integration=integration
            )

        # Stack-wide alarms and the dashboard
        alb_5xx = alb.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, statistic="Sum")
        self._alarm("LoadBalancer5xxAlarm", alb_5xx, 10, alarm_action)
        self._alarm("HttpApi5xxAlarm", http_api.metric_server_error(), 5, alarm_action)
        self._alarm(
            "HttpApiLatencyAlarm", http_api.metric_latency(statistic="p90"), 2000, alarm_action
        )
        for name, table in tables.items():
            throttles = table.metric_throttled_requests_for_operations(
                operations=[
                    dynamodb.Operation.GET_ITEM,
                    dynamodb.Operation.PUT_ITEM,
                    dynamodb.Operation.UPDATE_ITEM,
                    dynamodb.Operation.DELETE_ITEM,
                    dynamodb.Operation.QUERY,
                ]
            )
            self._alarm(f"{name.title()}TableThrottleAlarm", throttles, 1, alarm_action)
        cloudwatch.Dashboard(
            self,
            "Dashboard",
            widgets=[
                [
                    cloudwatch.GraphWidget(title="ALB 5XX", left=[alb_5xx]),
                    cloudwatch.GraphWidget(
                        title="API",
                        left=[http_api.metric_server_error()],
                        right=[http_api.metric_latency(statistic="p90")],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title=f"{name} service",
                        left=[service.metric_cpu_utilization()],
                        right=[service.metric_memory_utilization()],
                    )
                    for name, service in services.items()
                ],
            ],
        )

        # Outputs, exported as <stack name>-<key> like templates/core.yaml's
        outputs = {
            "ApiUrl": http_api.api_endpoint,
            "UserPoolId": user_pool.user_pool_id,
            "UserPoolClientId": client.user_pool_client_id,
            "Region": self.region,
            "FilesBucketName": files_bucket.bucket_name,
            "ClusterName": cluster.cluster_name,
            "MainServiceName": services["main"].service_name,
            "FilesServiceName": services["files"].service_name,
            "MainRepositoryUri": repositories["main"].repository_uri,
            "FilesRepositoryUri": repositories["files"].repository_uri,
            "LoadBalancerArn": alb.load_balancer_arn,
            "MainTargetGroupArn": target_groups["main"].target_group_arn,
            "FilesTargetGroupArn": target_groups["files"].target_group_arn,
            "MainLogGroupName": log_groups["main"].log_group_name,
            "FilesLogGroupName": log_groups["files"].log_group_name,
        }
        for output_key, value in outputs.items():
            CfnOutput(self, output_key, value=value, export_name=f"{self.stack_name}-{output_key}")

    def _network(self) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
            availability_zones=AZS,
            nat_gateways=len(AZS),
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=20
                ),
                ec2.SubnetConfiguration(
                    name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
            ],
            gateway_endpoints={
                "S3GatewayEndpoint": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.S3
                ),
                "DynamoDbGatewayEndpoint": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        vpc.add_flow_log(
            "VpcFlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                logs.LogGroup(self, "VpcFlowLogGroup", retention=logs.RetentionDays.ONE_MONTH)
            ),
        )
        vpc_cidr = ec2.AclCidr.ipv4(vpc.vpc_cidr_block)
        anywhere = ec2.AclCidr.any_ipv4()
        https = ec2.AclTraffic.tcp_port(443)
        listener = ec2.AclTraffic.tcp_port(LISTENER_PORT)
        container = ec2.AclTraffic.tcp_port(CONTAINER_PORT)
        out, into = ec2.TrafficDirection.EGRESS, ec2.TrafficDirection.INGRESS
        acls = {
            ec2.SubnetType.PUBLIC: [
                ("Egress100", 100, out, anywhere, https),
                ("Egress110", 110, out, vpc_cidr, EPHEMERAL),
                ("Ingress100", 100, into, vpc_cidr, https),
                ("Ingress110", 110, into, anywhere, EPHEMERAL),
            ],
            ec2.SubnetType.PRIVATE_WITH_EGRESS: [
                ("Egress100", 100, out, anywhere, https),
                ("Egress110", 110, out, vpc_cidr, listener),
                ("Egress120", 120, out, vpc_cidr, container),
                ("Egress130", 130, out, vpc_cidr, DYNAMIC_HOST_PORTS),
                ("Egress140", 140, out, vpc_cidr, EPHEMERAL),
                ("Ingress100", 100, into, vpc_cidr, listener),
                ("Ingress110", 110, into, vpc_cidr, container),
                ("Ingress120", 120, into, vpc_cidr, DYNAMIC_HOST_PORTS),
                ("Ingress130", 130, into, anywhere, EPHEMERAL),
            ],
        }
        for subnet_type, entries in acls.items():
            tier = "Public" if subnet_type == ec2.SubnetType.PUBLIC else "Private"
            acl = ec2.NetworkAcl(
                self,
                f"{tier}NetworkAcl",
                vpc=vpc,
                subnet_selection=ec2.SubnetSelection(subnet_type=subnet_type),
            )
            for entry_id, rule_number, direction, cidr, traffic in entries:
                acl.add_entry(
                    entry_id,
                    rule_number=rule_number,
                    direction=direction,
                    cidr=cidr,
                    traffic=traffic,
                    rule_action=ec2.Action.ALLOW,
                )
        return vpc

    def _table(self, construct_id: str, partition: str, sort: str, key: kms.IKey) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=sort, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        action: cloudwatch.IAlarmAction,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", help="cloud assembly directory (default: a temporary one)")
    args = parser.parse_args()

    app = App(outdir=args.outdir, analytics_reporting=False)
    stack = CoreStack(app, "todo-dev-core")
    built = time.perf_counter()
    assembly = app.synth()
    synthesized = time.perf_counter()

    template = Path(assembly.directory) / stack.template_file
    resources = json.loads(template.read_text(encoding="utf-8"))["Resources"]
    types = Counter(resource["Type"] for resource in resources.values())
    print(
        json.dumps(
            {
                "import_s": IMPORTED - STARTED,
                "build_s": built - IMPORTED,
                "synth_s": synthesized - built,
                "resources": len(resources),
                "types": dict(sorted(types.items())),
                "template": str(template),
            }
        )
    )


if __name__ == "__main__":
    main()
