"""Load-balancer layer: the internal ALB, one target group per service and the path rules."""

from __future__ import annotations

import json
from dataclasses import dataclass

from troposphere import GetAtt, If, Ref, Template
from troposphere.elasticloadbalancingv2 import (
    Action,
    Condition,
    FixedResponseConfig,
    Listener,
    ListenerRule,
    ListenerRuleAction,
    LoadBalancer,
    LoadBalancerAttributes,
    Matcher,
    PathPatternConfig,
    TargetGroup,
    TargetGroupAttribute,
)

from generator.common import add_output, add_switch, checkov_skip
from generator.config import Settings
from generator.core.compute import Compute
from generator.core.data import Data
from generator.core.network import Network
from generator.core.security import Security
from generator.naming import logical_id

NOT_FOUND_BODY = json.dumps(
    {"error": {"code": "not_found", "message": "No route matches this path."}},
    sort_keys=True,
)


@dataclass(frozen=True)
class LoadBalancing:
    load_balancer: LoadBalancer
    listener: Listener
    target_groups: dict[str, TargetGroup]  # service name -> target group
    listener_rules: dict[str, ListenerRule]


def add_loadbalancer(
    t: Template,
    settings: Settings,
    network: Network,
    security: Security,
    data: Data,
    compute: Compute,
) -> LoadBalancing:
    deletion_protection = add_switch(
        t,
        "LoadBalancerDeletionProtection",
        default=True,
        description="Refuse to delete the internal ALB; `make destroy "
        "DISABLE_DELETION_PROTECTION=1` sets false through a change set before deleting",
    )
    load_balancer = t.add_resource(
        LoadBalancer(
            "LoadBalancer",
            DependsOn=[data.log_bucket_policy.title],  # log delivery is checked at creation
            Type="application",
            Scheme="internal",
            Subnets=[Ref(subnet) for subnet in network.private_subnets],
            SecurityGroups=[GetAtt(security.load_balancer, "GroupId")],
            LoadBalancerAttributes=[
                LoadBalancerAttributes(Key=key, Value=value)
                for key, value in (
                    ("access_logs.s3.bucket", Ref(data.log_bucket)),
                    ("access_logs.s3.enabled", "true"),
                    ("access_logs.s3.prefix", data.alb_log_prefix),
                    # Not retained (it holds no data), so while this is true a stack delete
                    # fails at the ALB: lifted only on request, through the stack itself.
                    ("deletion_protection.enabled", Ref(deletion_protection)),
                    ("idle_timeout.timeout_seconds", "60"),  # gunicorn keepalive (65 s) outlives it
                    ("routing.http.desync_mitigation_mode", "strictest"),
                    ("routing.http.drop_invalid_header_fields.enabled", "true"),
                )
            ],
        )
    )
    listener = t.add_resource(
        checkov_skip(
            Listener(
                "LoadBalancerListener",
                LoadBalancerArn=Ref(load_balancer),
                Port=settings.alb_listener_port,
                Protocol="HTTP",
                DefaultActions=[
                    Action(
                        Type="fixed-response",
                        FixedResponseConfig=FixedResponseConfig(
                            StatusCode="404",
                            ContentType="application/json",
                            MessageBody=NOT_FOUND_BODY,
                        ),
                    )
                ],
            ),
            (
                "CKV_AWS_2",
                "Internal ALB reached only through the VPC link; TLS ends at API Gateway",
            ),
            (
                "CKV_AWS_103",
                "Plain HTTP listener inside the VPC (see CKV_AWS_2); no TLS policy applies",
            ),
        )
    )

    target_groups: dict[str, TargetGroup] = {}
    rules: dict[str, ListenerRule] = {}
    for service in settings.services:
        target_group = t.add_resource(
            TargetGroup(
                logical_id(service.name, "target-group"),
                VpcId=Ref(network.vpc),
                Protocol="HTTP",
                Port=settings.container_port,
                TargetType=If(compute.use_fargate, "ip", "instance"),
                HealthCheckEnabled=True,
                HealthCheckProtocol="HTTP",
                HealthCheckPath=settings.health_check_path,
                HealthCheckIntervalSeconds=settings.health_check_interval,
                HealthCheckTimeoutSeconds=settings.health_check_timeout,
                HealthyThresholdCount=settings.healthy_threshold,
                UnhealthyThresholdCount=settings.unhealthy_threshold,
                Matcher=Matcher(HttpCode="200"),
                TargetGroupAttributes=[
                    TargetGroupAttribute(
                        Key="deregistration_delay.timeout_seconds",
                        Value=str(settings.deregistration_delay),
                    ),
                    TargetGroupAttribute(
                        Key="load_balancing.algorithm.type", Value="least_outstanding_requests"
                    ),
                ],
            )
        )
        rules[service.name] = t.add_resource(
            ListenerRule(
                logical_id(service.name, "listener-rule"),
                ListenerArn=Ref(listener),
                Priority=service.listener_priority,
                Conditions=[
                    Condition(
                        Field="path-pattern",
                        PathPatternConfig=PathPatternConfig(Values=list(service.path_patterns)),
                    )
                ],
                Actions=[ListenerRuleAction(Type="forward", TargetGroupArn=Ref(target_group))],
            )
        )
        add_output(
            t,
            logical_id(service.name, "target-group-arn"),
            Ref(target_group),
            f"Target group of the {service.name} service",
        )
        target_groups[service.name] = target_group

    add_output(t, "LoadBalancerArn", Ref(load_balancer), "Internal Application Load Balancer")
    return LoadBalancing(
        load_balancer=load_balancer,
        listener=listener,
        target_groups=target_groups,
        listener_rules=rules,
    )
