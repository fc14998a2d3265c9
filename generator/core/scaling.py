"""Scaling layer: a scalable target per service, the original 5XX step rule and CPU tracking."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Ref, Sub, Template
from troposphere.applicationautoscaling import (
    PredefinedMetricSpecification,
    ScalableTarget,
    ScalingPolicy,
    StepAdjustment,
    StepScalingPolicyConfiguration,
    TargetTrackingScalingPolicyConfiguration,
)
from troposphere.cloudwatch import Alarm, MetricDimension

from generator.config import Settings
from generator.core.compute import Compute
from generator.core.loadbalancer import LoadBalancing
from generator.core.services import Services
from generator.naming import logical_id


@dataclass(frozen=True)
class Scaling:
    targets: dict[str, ScalableTarget]
    step_policies: dict[str, ScalingPolicy]
    elb_5xx_alarm: Alarm


def add_scaling(
    t: Template, settings: Settings, compute: Compute, lb: LoadBalancing, services: Services
) -> Scaling:
    targets: dict[str, ScalableTarget] = {}
    step_policies: dict[str, ScalingPolicy] = {}
    for name, app in services.by_name.items():
        service = app.service
        # While the service bootstraps (no image yet) neither policy may start a task: with
        # Min = Max = 0 the step policy's doubling (at least +1 task) is capped at 0 tasks.
        bootstrapping = app.bootstrapping
        target = t.add_resource(
            ScalableTarget(
                logical_id(name, "scalable-target"),
                Condition=services.enabled,
                ServiceNamespace="ecs",
                ScalableDimension="ecs:service:DesiredCount",
                ResourceId=Sub(f"service/${{{compute.cluster.title}}}/${{{service.title}.Name}}"),
                MinCapacity=If(bootstrapping, 0, Ref(app.min_tasks)),
                MaxCapacity=If(bootstrapping, 0, Ref(app.max_tasks)),
            )
        )
        # The original rule: too many ALB 5XX responses double the number of tasks.
        step_policies[name] = t.add_resource(
            ScalingPolicy(
                logical_id(name, "elb-5xx-step-scaling"),
                Condition=services.enabled,
                PolicyName=Sub(f"${{AWS::StackName}}-{name}-elb-5xx-double"),
                PolicyType="StepScaling",
                ScalingTargetId=Ref(target),
                StepScalingPolicyConfiguration=StepScalingPolicyConfiguration(
                    AdjustmentType="PercentChangeInCapacity",
                    Cooldown=settings.scale_cooldown,
                    MetricAggregationType="Maximum",
                    MinAdjustmentMagnitude=1,
                    StepAdjustments=[
                        StepAdjustment(
                            MetricIntervalLowerBound=0,
                            ScalingAdjustment=settings.elb_5xx_scale_out_percent,
                        )
                    ],
                ),
            )
        )
        t.add_resource(
            ScalingPolicy(
                logical_id(name, "cpu-target-tracking"),
                Condition=services.enabled,
                PolicyName=Sub(f"${{AWS::StackName}}-{name}-cpu"),
                PolicyType="TargetTrackingScaling",
                ScalingTargetId=Ref(target),
                TargetTrackingScalingPolicyConfiguration=TargetTrackingScalingPolicyConfiguration(
                    PredefinedMetricSpecification=PredefinedMetricSpecification(
                        PredefinedMetricType="ECSServiceAverageCPUUtilization"
                    ),
                    TargetValue=settings.cpu_target_percent,
                    ScaleInCooldown=settings.scale_cooldown * 5,
                    ScaleOutCooldown=settings.scale_cooldown,
                ),
            )
        )
        targets[name] = target

    elb_5xx_alarm = t.add_resource(
        Alarm(
            "LoadBalancer5xxScaleOutAlarm",
            Condition=services.enabled,
            AlarmDescription=(
                f"ALB answered >= {settings.elb_5xx_threshold} 5XX within "
                f"{settings.elb_5xx_period} s: double the tasks of every service"
            ),
            Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_ELB_5XX_Count",
            Dimensions=[
                MetricDimension(
                    Name="LoadBalancer",
                    Value=GetAtt(lb.load_balancer, "LoadBalancerFullName"),
                )
            ],
            Statistic="Sum",
            Period=settings.elb_5xx_period,
            EvaluationPeriods=1,
            Threshold=settings.elb_5xx_threshold,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[Ref(policy) for policy in step_policies.values()],
        )
    )
    return Scaling(targets=targets, step_policies=step_policies, elb_5xx_alarm=elb_5xx_alarm)
