"""Observability, the last layer: the alarm topic, alarms on every layer's metrics, a dashboard."""

from __future__ import annotations

import json
from typing import Any

from troposphere import Equals, GetAtt, If, Not, Parameter, Ref, Sub, Template
from troposphere.cloudwatch import (
    Alarm,
    Dashboard,
    Metric,
    MetricDataQuery,
    MetricDimension,
    MetricStat,
)
from troposphere.sns import Subscription, Topic

from generator.config import Settings
from generator.core.api import HttpApi
from generator.core.compute import Compute
from generator.core.data import Data
from generator.core.encryption import Encryption
from generator.core.loadbalancer import LoadBalancing
from generator.core.release import both_target_groups
from generator.core.services import Services
from generator.naming import logical_id

HAS_ALARM_EMAIL = "HasAlarmEmail"


def add_observability(
    t: Template,
    settings: Settings,
    encryption: Encryption,
    data: Data,
    lb: LoadBalancing,
    services: Services,
    api: HttpApi,
    compute: Compute,
) -> Topic:
    email = t.add_parameter(
        Parameter(
            "AlarmEmail",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[^@\s]+@[^@\s]+$",
            Description="E-mail address subscribed to the alarms (empty: no subscription)",
        )
    )
    t.add_condition(HAS_ALARM_EMAIL, Not(Equals(Ref(email), "")))
    topic = t.add_resource(
        Topic(
            "AlarmTopic",
            DisplayName=Sub("${AWS::StackName} alarms"),
            KmsMasterKeyId=GetAtt(encryption.key, "Arn"),
            Subscription=If(
                HAS_ALARM_EMAIL,
                [Subscription(Protocol="email", Endpoint=Ref(email))],
                Ref("AWS::NoValue"),
            ),
        )
    )

    lb_name = GetAtt(lb.load_balancer, "LoadBalancerFullName")

    def alarm(title: str, description: str, **props: Any) -> Alarm:
        """Unless told otherwise: one 60 s period, at or above the threshold, quiet without data."""
        props.setdefault("EvaluationPeriods", 1)
        if props.setdefault("Period", 60) is None:
            del props["Period"]  # metric math: the period is on each query
        props.setdefault("TreatMissingData", "notBreaching")
        props.setdefault("ComparisonOperator", "GreaterThanOrEqualToThreshold")
        return t.add_resource(
            Alarm(
                title,
                AlarmDescription=description,
                AlarmActions=[Ref(topic)],
                OKActions=[Ref(topic)],
                **props,
            )
        )

    alarm(
        "LoadBalancer5xxAlarm",
        "The ALB itself answers 5XX (no healthy target, or a target that fails)",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_ELB_5XX_Count",
        Dimensions=[MetricDimension(Name="LoadBalancer", Value=lb_name)],
        Statistic="Sum",
        Threshold=settings.elb_5xx_threshold,
    )
    # A progressive deployment swaps the roles of a service's two target groups: each alarm adds
    # up both (generator/core/release.py).
    for name in lb.target_groups:
        alarm(
            logical_id(name, "target-5xx-alarm"),
            f"The {name} service answers 5XX",
            Metrics=[
                *both_target_groups(lb, name, "HTTPCode_Target_5XX_Count", "Sum"),
                MetricDataQuery(Id="both", Expression="FILL(a, 0) + FILL(b, 0)", ReturnData=True),
            ],
            Period=None,
            Threshold=5,
        )
        alarm(
            logical_id(name, "unhealthy-hosts-alarm"),
            f"A {name} target fails its health check",
            Metrics=[
                *both_target_groups(lb, name, "UnHealthyHostCount", "Maximum"),
                MetricDataQuery(
                    Id="both", Expression="MAX([FILL(a, 0), FILL(b, 0)])", ReturnData=True
                ),
            ],
            Period=None,
            Threshold=1,
            EvaluationPeriods=2,
        )
    for name, app in services.by_name.items():
        ecs_dims = [
            MetricDimension(Name="ClusterName", Value=Ref(compute.cluster)),
            MetricDimension(Name="ServiceName", Value=GetAtt(app.service, "Name")),
        ]
        for metric, threshold in (
            ("CPUUtilization", settings.cpu_alarm_percent),
            ("MemoryUtilization", settings.memory_alarm_percent),
        ):
            alarm(
                logical_id(name, metric.removesuffix("Utilization").lower(), "alarm"),
                f"The {name} service's average {metric} stays >= {threshold} %",
                Condition=services.enabled,
                Namespace="AWS/ECS",
                MetricName=metric,
                Dimensions=ecs_dims,
                Statistic="Average",
                Threshold=threshold,
                EvaluationPeriods=3,
            )
    api_dims = [
        MetricDimension(Name="ApiId", Value=Ref(api.api)),
        MetricDimension(Name="Stage", Value=api.stage.StageName),
    ]
    alarm(
        "HttpApi5xxAlarm",
        "The API answers 5xx",
        Namespace="AWS/ApiGateway",
        MetricName="5xx",
        Dimensions=api_dims,
        Statistic="Sum",
        Threshold=5,
    )
    alarm(
        "HttpApiLatencyAlarm",
        f"The API's p90 latency stays above {settings.api_latency_p90_ms} ms",
        Namespace="AWS/ApiGateway",
        MetricName="Latency",
        Dimensions=api_dims,
        ExtendedStatistic="p90",
        Threshold=settings.api_latency_p90_ms,
        EvaluationPeriods=5,
        ComparisonOperator="GreaterThanThreshold",
    )
    for table in (data.todos_table, data.files_table):
        # ThrottledRequests is published per operation; the per-table throttle events add up.
        alarm(
            f"{table.title}ThrottleAlarm",
            f"DynamoDB throttles reads or writes on {table.title}",
            Metrics=[
                *(
                    MetricDataQuery(
                        Id=metric_id,
                        ReturnData=False,
                        MetricStat=MetricStat(
                            Metric=Metric(
                                Namespace="AWS/DynamoDB",
                                MetricName=metric,
                                Dimensions=[MetricDimension(Name="TableName", Value=Ref(table))],
                            ),
                            Period=60,
                            Stat="Sum",
                        ),
                    )
                    for metric_id, metric in (
                        ("reads", "ReadThrottleEvents"),
                        ("writes", "WriteThrottleEvents"),
                    )
                ),
                MetricDataQuery(
                    Id="throttles",
                    Expression="reads + writes",
                    Label="Throttle events",
                    ReturnData=True,
                ),
            ],
            Period=None,
            Threshold=1,
        )

    _add_dashboard(t, lb, services, api, data, compute)
    return topic


def _add_dashboard(
    t: Template,
    lb: LoadBalancing,
    services: Services,
    api: HttpApi,
    data: Data,
    compute: Compute,
) -> None:
    """The alarms' metrics; Fn::Sub fills the placeholders, so the generated body is stable."""
    variables: dict[str, Any] = {
        "LoadBalancerFullName": GetAtt(lb.load_balancer, "LoadBalancerFullName"),
        "ClusterName": Ref(compute.cluster),
        "ApiId": Ref(api.api),
    }
    elb = "AWS/ApplicationELB"
    lb_ref = "${LoadBalancerFullName}"
    # Both target groups of each service: a progressive deployment swaps their roles.
    groups = {
        **{f"{name}Tg": group for name, group in lb.target_groups.items()},
        **{f"{name}AltTg": group for name, group in lb.alternate_target_groups.items()},
    }
    widgets: list[dict[str, Any]] = []

    def widget(title: str, metrics: list[list[Any]], stat: str = "Sum") -> None:
        index = len(widgets)
        widgets.append(
            {
                "type": "metric",
                "x": (index % 2) * 12,
                "y": (index // 2) * 6,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": "${AWS::Region}",
                    "stat": stat,
                    "period": 60,
                    "view": "timeSeries",
                    "metrics": metrics,
                },
            }
        )

    widget(
        "ALB 5XX",
        [
            [elb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb_ref],
            *[
                [
                    elb,
                    "HTTPCode_Target_5XX_Count",
                    "LoadBalancer",
                    lb_ref,
                    "TargetGroup",
                    f"${{{group}}}",
                ]
                for group in groups
            ],
        ],
    )
    widget(
        "Unhealthy targets",
        [
            [elb, "UnHealthyHostCount", "LoadBalancer", lb_ref, "TargetGroup", f"${{{group}}}"]
            for group in groups
        ],
        stat="Maximum",
    )
    for group, target_group in groups.items():
        variables[group] = GetAtt(target_group, "TargetGroupFullName")
    for metric in ("CPUUtilization", "MemoryUtilization"):
        widget(
            f"Services {metric}",
            [
                [
                    "AWS/ECS",
                    metric,
                    "ClusterName",
                    "${ClusterName}",
                    "ServiceName",
                    f"${{{name}Service}}",
                ]
                for name in services.by_name
            ],
            stat="Average",
        )
    for name, app in services.by_name.items():
        # While the services are removed (a maintenance step) the widgets show no data.
        variables[f"{name}Service"] = If(services.enabled, GetAtt(app.service, "Name"), "none")
    widget(
        "API 5xx and latency (p90)",
        [
            ["AWS/ApiGateway", "5xx", "ApiId", "${ApiId}", "Stage", api.stage.StageName],
            [
                "AWS/ApiGateway",
                "Latency",
                "ApiId",
                "${ApiId}",
                "Stage",
                api.stage.StageName,
                {"stat": "p90", "yAxis": "right"},
            ],
        ],
    )
    widget(
        "DynamoDB throttle events",
        [
            ["AWS/DynamoDB", metric, "TableName", f"${{{table.title}Name}}"]
            for table in (data.todos_table, data.files_table)
            for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
        ],
    )
    for table in (data.todos_table, data.files_table):
        variables[f"{table.title}Name"] = Ref(table)

    body = json.dumps({"widgets": widgets}, sort_keys=True)
    t.add_resource(
        Dashboard(
            "Dashboard",
            DashboardName=Sub("${AWS::StackName}"),
            DashboardBody=Sub(body, **variables),
        )
    )
