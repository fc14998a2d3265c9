"""Load-balancer layer: the internal ALB, its production and test listeners, two target groups per
service and the rules.

Every action of both listeners forwards: ECS's blue/green, linear and canary deployments fail on
a listener whose rules mix forward and non-forward actions ("Application Load Balancer resources
for blue/green, linear, and canary deployments", Amazon ECS Developer Guide, Limitations). So
paths no rule matches go to a target group whose target is the NotFoundFunction (hooks/
not_found.py), which answers the JSON 404 that a fixed-response default action answered before.

Each service has a primary and an alternate target group, a production rule on the production
listener (its paths) and a test rule on the test listener (the release gate's header). Both rules
forward to both groups, weighted 100/0; ECS moves the weights during a progressive deployment and
leaves them on whichever group then serves, so the template never changes them afterwards (see
`update_hazards` in scripts/cfn/lifecycle.py). The test listener admits only the release gate's
security group (generator/core/functions.py): no path from the API or the internet reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Ref, Template
from troposphere.elasticloadbalancingv2 import (
    Action,
    Condition,
    ForwardConfig,
    HttpHeaderConfig,
    Listener,
    ListenerRule,
    ListenerRuleAction,
    LoadBalancer,
    LoadBalancerAttributes,
    Matcher,
    PathPatternConfig,
    TargetDescription,
    TargetGroup,
    TargetGroupAttribute,
    TargetGroupTuple,
)

from generator.common import add_output, add_switch, checkov_skip
from generator.config import Settings
from generator.core.compute import Compute
from generator.core.data import Data
from generator.core.functions import Functions
from generator.core.network import Network
from generator.core.security import Security
from generator.naming import logical_id


@dataclass(frozen=True)
class LoadBalancing:
    load_balancer: LoadBalancer
    listener: Listener  # production: the API's VPC link integration sends here
    test_listener: Listener  # the release gate's only
    target_groups: dict[str, TargetGroup]  # service name -> primary target group
    alternate_target_groups: dict[str, TargetGroup]  # service name -> alternate target group
    listener_rules: dict[str, ListenerRule]  # service name -> production rule
    test_rules: dict[str, ListenerRule]  # service name -> test rule
    not_found: TargetGroup


def _forward(*groups: TargetGroup) -> list[ListenerRuleAction]:
    """Forward to the first group; the others are ECS's alternates, at weight 0 until it moves."""
    return [
        ListenerRuleAction(
            Type="forward",
            ForwardConfig=ForwardConfig(
                TargetGroups=[
                    TargetGroupTuple(TargetGroupArn=Ref(group), Weight=100 if i == 0 else 0)
                    for i, group in enumerate(groups)
                ]
            ),
        )
    ]


def add_loadbalancer(
    t: Template,
    settings: Settings,
    network: Network,
    security: Security,
    data: Data,
    compute: Compute,
    functions: Functions,
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
    not_found = t.add_resource(
        TargetGroup(
            "NotFoundTargetGroup",
            # The ALB checks its invoke permission when it registers the function.
            DependsOn=[functions.not_found_permission.title],
            TargetType="lambda",
            Targets=[TargetDescription(Id=GetAtt(functions.not_found, "Arn"))],
        )
    )
    # Plain HTTP inside the VPC: the VPC link (production) and the release gate (test) reach
    # these listeners; TLS ends at API Gateway.
    http_only = (
        (
            "CKV_AWS_2",
            "Internal ALB reached only through the VPC link; TLS ends at API Gateway",
        ),
        (
            "CKV_AWS_103",
            "Plain HTTP listener inside the VPC (see CKV_AWS_2); no TLS policy applies",
        ),
    )

    def listener_on(title: str, port: int) -> Listener:
        return t.add_resource(
            checkov_skip(
                Listener(
                    title,
                    LoadBalancerArn=Ref(load_balancer),
                    Port=port,
                    Protocol="HTTP",
                    DefaultActions=[Action(Type="forward", TargetGroupArn=Ref(not_found))],
                ),
                *http_only,
            )
        )

    listener = listener_on("LoadBalancerListener", settings.alb_listener_port)
    test_listener = listener_on("LoadBalancerTestListener", settings.test_listener_port)

    target_groups: dict[str, TargetGroup] = {}
    alternates: dict[str, TargetGroup] = {}
    rules: dict[str, ListenerRule] = {}
    test_rules: dict[str, ListenerRule] = {}
    for service in settings.services:
        primary, alternate = (
            t.add_resource(_target_group(settings, network, compute, title))
            for title in (
                logical_id(service.name, "target-group"),
                logical_id(service.name, "alternate-target-group"),
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
                Actions=_forward(primary, alternate),
            )
        )
        test_rules[service.name] = t.add_resource(
            ListenerRule(
                logical_id(service.name, "test-listener-rule"),
                ListenerArn=Ref(test_listener),
                Priority=service.listener_priority,
                Conditions=[
                    Condition(
                        Field="http-header",
                        HttpHeaderConfig=HttpHeaderConfig(
                            HttpHeaderName=settings.gate_service_header, Values=[service.name]
                        ),
                    )
                ],
                Actions=_forward(primary, alternate),
            )
        )
        add_output(
            t,
            logical_id(service.name, "target-group-arn"),
            Ref(primary),
            f"Target group of the {service.name} service",
        )
        add_output(
            t,
            logical_id(service.name, "alternate-target-group-arn"),
            Ref(alternate),
            f"Alternate target group of the {service.name} service (progressive deployments)",
        )
        target_groups[service.name] = primary
        alternates[service.name] = alternate

    add_output(t, "LoadBalancerArn", Ref(load_balancer), "Internal Application Load Balancer")
    return LoadBalancing(
        load_balancer=load_balancer,
        listener=listener,
        test_listener=test_listener,
        target_groups=target_groups,
        alternate_target_groups=alternates,
        listener_rules=rules,
        test_rules=test_rules,
        not_found=not_found,
    )


def _target_group(
    settings: Settings, network: Network, compute: Compute, title: str
) -> TargetGroup:
    """A service's target group: ip targets on Fargate (awsvpc), instances on EC2 (bridge)."""
    return TargetGroup(
        title,
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
