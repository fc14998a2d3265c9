"""Release layer: how ECS rolls a new revision of each service out (docs/releasing.md).

Per service, a `<Service>ServiceDeploymentStrategy` parameter picks ECS's own deployment
strategy: ROLLING, BLUE_GREEN, CANARY or LINEAR ("Amazon ECS service deployment controllers and
strategies", Amazon ECS Developer Guide). For the progressive three, this layer adds what ECS
needs to move traffic itself:

- an infrastructure role per service that ECS assumes to register tasks in the service's two
  target groups and to move the weights of its two rules, nothing else ("Amazon ECS
  infrastructure IAM role for load balancers"; the AWS managed policy grants the same actions on
  every load balancer of the account, this role on the service's own resources), and to invoke
  the release gate ("Lambda hooks for Amazon ECS service deployments");
- the release gate as a lifecycle hook at POST_TEST_TRAFFIC_SHIFT (hooks/gate.py), told where
  the test listener is through `hookDetails`;
- the bake time (`DeploymentBakeMinutes`), and the canary or linear steps (generator/config.py).

For every strategy: deployment alarms that roll a deployment back (the service's target 5XX,
p99 response time and unhealthy hosts). A progressive deployment swaps the roles of the two
target groups, so each alarm adds up both groups with metric math.

Progressive strategies need `ip` targets ("Application Load Balancer resources for blue/green,
linear, and canary deployments": target type IP, for Fargate or EC2 in awsvpc mode). The EC2
launch type keeps bridge mode and its density (docs/releasing.md gives the figures), so the
template's Rules refuse a progressive strategy with `LaunchType=EC2` when the change set is
created, naming the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import awslambda, elasticloadbalancing
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import Equals, GetAtt, Not, Parameter, Ref, Sub, Template
from troposphere.cloudwatch import Alarm, Metric, MetricDataQuery, MetricDimension, MetricStat
from troposphere.iam import Policy, Role
from troposphere.serverless import Function

from generator.common import advisor_notes, assumed_by
from generator.config import ServiceSpec, Settings
from generator.core.compute import Compute
from generator.core.environment import Environment
from generator.core.functions import Functions
from generator.core.loadbalancer import LoadBalancing
from generator.naming import logical_id

ROLLING = "ROLLING"
STRATEGIES = (ROLLING, "BLUE_GREEN", "CANARY", "LINEAR")
# The stage after the new revision took all test traffic and before any production traffic.
GATE_STAGE = "POST_TEST_TRAFFIC_SHIFT"


@dataclass(frozen=True)
class ServiceRelease:
    """One service's deployment settings, as the services layer wires them into ECS."""

    strategy: Parameter
    progressive: str  # condition: BLUE_GREEN, CANARY or LINEAR
    canary: str  # condition
    linear: str  # condition
    infrastructure_role: Role
    alarms: list[Alarm]  # deployment alarms: each rolls a deployment back


@dataclass(frozen=True)
class Release:
    by_service: dict[str, ServiceRelease]
    bake_minutes: Parameter
    gate: Function
    gate_details: dict[str, dict[str, object]]  # service name -> hookDetails


def _strategy(t: Template, spec: ServiceSpec) -> Parameter:
    return t.add_parameter(
        Parameter(
            logical_id(spec.name, "service-deployment-strategy"),
            Type="String",
            Default=ROLLING,
            AllowedValues=list(STRATEGIES),
            Description=(
                f"How ECS rolls out a new {spec.name} revision: ROLLING, or (Fargate only) "
                "BLUE_GREEN, CANARY or LINEAR behind the release gate (docs/releasing.md)"
            ),
        )
    )


def _infrastructure_role(
    spec: ServiceSpec, environment: Environment, lb: LoadBalancing, functions: Functions
) -> Role:
    name = spec.name
    return advisor_notes(
        Role(
            logical_id(name, "ecs-infrastructure-role"),
            # As "Amazon ECS infrastructure IAM role for load balancers" writes it: ECS assumes
            # it for the deployment, with no confused-deputy context keys documented.
            AssumeRolePolicyDocument=assumed_by("ecs.amazonaws.com", this_account_only=False),
            PermissionsBoundary=environment.boundary,
            Policies=[
                Policy(
                    PolicyName=f"{name}-progressive-deployments",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Sid="ReadTheLoadBalancer",
                                Effect=Allow,
                                Action=[
                                    elasticloadbalancing.DescribeListeners,
                                    elasticloadbalancing.DescribeRules,
                                    elasticloadbalancing.DescribeTargetGroups,
                                    elasticloadbalancing.DescribeTargetHealth,
                                ],
                                Resource=["*"],
                            ),
                            Statement(
                                Sid="RegisterTasksInItsTargetGroups",
                                Effect=Allow,
                                Action=[
                                    elasticloadbalancing.RegisterTargets,
                                    elasticloadbalancing.DeregisterTargets,
                                ],
                                Resource=[
                                    Ref(lb.target_groups[name]),
                                    Ref(lb.alternate_target_groups[name]),
                                ],
                            ),
                            Statement(
                                Sid="MoveTheWeightsOfItsRules",
                                Effect=Allow,
                                Action=[elasticloadbalancing.ModifyRule],
                                Resource=[Ref(lb.listener_rules[name]), Ref(lb.test_rules[name])],
                            ),
                            Statement(
                                Sid="InvokeTheReleaseGate",
                                Effect=Allow,
                                Action=[awslambda.InvokeFunction],
                                Resource=[GetAtt(functions.gate, "Arn")],
                            ),
                        ],
                    ),
                )
            ],
        ),
        (
            "parliament",
            "RESOURCE_MISMATCH",
            "parliament's table gives ModifyRule only the Network Load Balancer's listener-rule "
            "ARN; the Service Authorization Reference lists the Application Load Balancer's too",
        ),
    )


def both_target_groups(
    lb: LoadBalancing, name: str, metric: str, stat: str
) -> list[MetricDataQuery]:
    """One query per target group of the service, `a` (primary) and `b` (alternate): a
    progressive deployment swaps their roles, so whatever watches a service reads both."""
    lb_name = GetAtt(lb.load_balancer, "LoadBalancerFullName")
    return [
        MetricDataQuery(
            Id=query_id,
            ReturnData=False,
            MetricStat=MetricStat(
                Metric=Metric(
                    Namespace="AWS/ApplicationELB",
                    MetricName=metric,
                    Dimensions=[
                        MetricDimension(Name="LoadBalancer", Value=lb_name),
                        MetricDimension(
                            Name="TargetGroup", Value=GetAtt(group, "TargetGroupFullName")
                        ),
                    ],
                ),
                Period=60,
                Stat=stat,
            ),
        )
        for query_id, group in (
            ("a", lb.target_groups[name]),
            ("b", lb.alternate_target_groups[name]),
        )
    ]


def _deployment_alarms(
    t: Template, settings: Settings, lb: LoadBalancing, name: str
) -> list[Alarm]:
    """The alarms that roll a deployment of `name` back, each over both target groups."""

    def alarm(
        part: str,
        description: str,
        queries: list[MetricDataQuery],
        expression: str,
        threshold: float,
        periods: int,
        comparison: str,
    ) -> Alarm:
        return t.add_resource(
            Alarm(
                logical_id(name, "deployment", part, "alarm"),
                # The service names these alarms, so it is created after them, and so after
                # both rules that route to its target groups: ECS refuses to register tasks in
                # a target group that no listener uses yet.
                DependsOn=[lb.listener_rules[name].title, lb.test_rules[name].title],
                AlarmDescription=f"Rolls back a {name} deployment: {description}",
                Metrics=[
                    *queries,
                    MetricDataQuery(
                        Id="both", Expression=expression, Label=description, ReturnData=True
                    ),
                ],
                EvaluationPeriods=periods,
                DatapointsToAlarm=periods,
                Threshold=threshold,
                ComparisonOperator=comparison,
                TreatMissingData="notBreaching",
            )
        )

    return [
        alarm(
            "5xx",
            f"its targets answer >= {settings.deployment_5xx_threshold} 5XX within a minute",
            both_target_groups(lb, name, "HTTPCode_Target_5XX_Count", "Sum"),
            "FILL(a, 0) + FILL(b, 0)",
            settings.deployment_5xx_threshold,
            1,
            "GreaterThanOrEqualToThreshold",
        ),
        alarm(
            "latency",
            f"its p99 response time stays above {settings.deployment_p99_seconds} s",
            both_target_groups(lb, name, "TargetResponseTime", "p99"),
            "MAX([FILL(a, 0), FILL(b, 0)])",
            settings.deployment_p99_seconds,
            3,
            "GreaterThanThreshold",
        ),
        alarm(
            "unhealthy-hosts",
            "a target fails its health check",
            both_target_groups(lb, name, "UnHealthyHostCount", "Maximum"),
            "MAX([FILL(a, 0), FILL(b, 0)])",
            1,
            2,
            "GreaterThanOrEqualToThreshold",
        ),
    ]


def add_release(
    t: Template,
    settings: Settings,
    environment: Environment,
    compute: Compute,
    lb: LoadBalancing,
    functions: Functions,
) -> Release:
    bake = t.add_parameter(
        Parameter(
            "DeploymentBakeMinutes",
            Type="Number",
            Default=10,
            MinValue=0,
            MaxValue=1440,
            Description="Minutes ECS keeps the old revision after a progressive deployment "
            "moved all production traffic, ready to roll back on a deployment alarm",
        )
    )
    by_service: dict[str, ServiceRelease] = {}
    details: dict[str, dict[str, object]] = {}
    assertions = []
    for spec in settings.services:
        strategy = _strategy(t, spec)
        conditions = {
            kind: logical_id(spec.name, kind, "deployment")
            for kind in ("progressive", "canary", "linear")
        }
        t.add_condition(conditions["progressive"], Not(Equals(Ref(strategy), ROLLING)))
        t.add_condition(conditions["canary"], Equals(Ref(strategy), "CANARY"))
        t.add_condition(conditions["linear"], Equals(Ref(strategy), "LINEAR"))
        role = t.add_resource(_infrastructure_role(spec, environment, lb, functions))
        by_service[spec.name] = ServiceRelease(
            strategy=strategy,
            progressive=conditions["progressive"],
            canary=conditions["canary"],
            linear=conditions["linear"],
            infrastructure_role=role,
            alarms=_deployment_alarms(t, settings, lb, spec.name),
        )
        details[spec.name] = {
            "testUrl": Sub(
                f"http://${{{lb.load_balancer.title}.DNSName}}:{settings.test_listener_port}"
            ),
            "service": spec.name,
            "header": settings.gate_service_header,
            "protectedPath": spec.protected_path,
        }
        assertions.append(
            {
                "Assert": Equals(Ref(strategy), ROLLING),
                "AssertDescription": (
                    f"{strategy.title} must be ROLLING with LaunchType EC2: blue/green, canary "
                    "and linear deployments need ip targets (LaunchType FARGATE)"
                ),
            }
        )
    t.add_rule(
        "ProgressiveDeliveryRunsOnFargate",
        {"RuleCondition": Equals(Ref(compute.launch_type), "EC2"), "Assertions": assertions},
    )
    return Release(
        by_service=by_service, bake_minutes=bake, gate=functions.gate, gate_details=details
    )
