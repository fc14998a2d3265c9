"""Notifications layer: what goes wrong at 3 a.m. reaches the alarm topic, in words.

EventBridge rules send the alarm topic (generator/core/observability.py) a readable message, shaped
by an input transformer, when ECS fails a deployment of a service or stops a task because its
essential container exited, it never started, or it failed its load balancer or container health
check. A failed or rolled-back operation of this stack cannot be reported by a rule inside it (a
failed creation takes the rule with it): that rule lives in the CI stack (generator/ci.py).

The topic is encrypted with the data key, whose policy admits EventBridge
(generator/core/encryption.py); the topic's policy admits CloudWatch's alarms and only these
rules. Slack is optional, through AWS Chatbot (still `AWS::Chatbot::*` in CloudFormation): with
`SlackWorkspaceId` and `SlackChannelId` set, the channel receives the alarm topic and the CI
stack's stack-events topic (docs/operations.md, "Notifications", has the one-time workspace
authorisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awacs import sns
from awacs.aws import (
    Allow,
    Bool,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import And, Equals, GetAtt, Not, Parameter, Ref, Sub, Template
from troposphere.chatbot import SlackChannelConfiguration
from troposphere.events import InputTransformer, Rule, Target
from troposphere.iam import Role
from troposphere.sns import Topic, TopicPolicy

from generator.common import add_output, arn, assumed_by, rules_publish_to_topic
from generator.config import Settings
from generator.core.compute import Compute
from generator.core.environment import Environment
from generator.naming import stack_events_topic_name

HAS_SLACK = "HasSlackChannel"
# Why ECS stops a task that nobody meant to stop ("Amazon ECS task state change events",
# stopCode; "Troubleshooting service load balancers": the reasons ECS writes).
CRASH_STOP_CODES = ["EssentialContainerExited", "TaskFailedToStart"]
HEALTH_CHECK_REASONS = ["Task failed ELB health checks", "Task failed container health checks"]


@dataclass(frozen=True)
class Notifications:
    rules: dict[str, Rule]


def deployment_failed_pattern(compute: Compute) -> dict[str, Any]:
    """ECS's deployment circuit breaker (or a deployment alarm) failed a service's deployment."""
    return {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Deployment State Change"],
        "resources": [
            {
                "prefix": Sub(
                    "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/"
                    f"${{{compute.cluster.title}}}/"
                )
            }
        ],
        "detail": {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]},
    }


def task_stopped_pattern(compute: Compute) -> dict[str, Any]:
    """A task of this cluster stopped because it crashed, never started, or failed a health
    check; tasks a deployment or a scale-in replaces stop with ServiceSchedulerInitiated and
    another reason, and do not match."""
    return {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "clusterArn": [GetAtt(compute.cluster, "Arn")],
            "lastStatus": ["STOPPED"],
            "$or": [
                {"stopCode": CRASH_STOP_CODES},
                {"stoppedReason": [{"prefix": reason} for reason in HEALTH_CHECK_REASONS]},
            ],
        },
    }


def _rule(
    t: Template, title: str, description: str, pattern: dict[str, Any], topic: Topic, **message: Any
) -> Rule:
    return t.add_resource(
        Rule(
            title,
            Description=description,
            State="ENABLED",
            EventPattern=pattern,
            Targets=[
                Target(
                    Id="AlarmTopic",
                    Arn=Ref(topic),
                    InputTransformer=InputTransformer(**message),
                )
            ],
        )
    )


def _topic_policy(t: Template, topic: Topic, rules: list[Rule]) -> None:
    t.add_resource(
        TopicPolicy(
            "AlarmTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="CloudWatchAlarmsOfThisAccount",
                        Effect=Allow,
                        Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                        Action=[sns.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(
                            StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))
                        ),
                    ),
                    rules_publish_to_topic("OnlyThisStacksEventRules", topic, rules),
                    Statement(
                        Sid="OnlyOverTls",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[sns.Publish, sns.Subscribe],
                        Resource=[Ref(topic)],
                        Condition=Condition(Bool("aws:SecureTransport", "false")),
                    ),
                ],
            ),
        )
    )


def _add_slack(t: Template, settings: Settings, environment: Environment, topic: Topic) -> None:
    workspace = t.add_parameter(
        Parameter(
            "SlackWorkspaceId",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[0-9A-Z]{1,255}$",
            Description="Slack workspace ID authorised once in the AWS Chatbot console "
            "(empty: no Slack); docs/operations.md, Notifications",
        )
    )
    channel = t.add_parameter(
        Parameter(
            "SlackChannelId",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[A-Za-z0-9]+$",
            Description="Slack channel ID that receives the alarms and stack events (empty: none)",
        )
    )
    t.add_condition(
        HAS_SLACK,
        And(Not(Equals(Ref(workspace), "")), Not(Equals(Ref(channel), ""))),
    )
    # Chatbot reads the alarms it posts; its guardrail caps whatever the role could do.
    role = t.add_resource(
        Role(
            "ChatbotRole",
            Condition=HAS_SLACK,
            AssumeRolePolicyDocument=assumed_by("chatbot.amazonaws.com", this_account_only=True),
            PermissionsBoundary=environment.boundary,
        )
    )
    t.add_resource(
        SlackChannelConfiguration(
            "SlackChannel",
            Condition=HAS_SLACK,
            ConfigurationName=Sub("${AWS::StackName}-alarms"),
            IamRoleArn=GetAtt(role, "Arn"),
            SlackWorkspaceId=Ref(workspace),
            SlackChannelId=Ref(channel),
            SnsTopicArns=[
                Ref(topic),
                arn(
                    "sns:${AWS::Region}:${AWS::AccountId}:"
                    + stack_events_topic_name(settings.project)
                ),
            ],
            GuardrailPolicies=[arn("iam::aws:policy/CloudWatchReadOnlyAccess")],
            LoggingLevel="ERROR",
            UserRoleRequired=False,
        )
    )


def add_notifications(
    t: Template,
    settings: Settings,
    environment: Environment,
    compute: Compute,
    topic: Topic,
) -> Notifications:
    deployments = _rule(
        t,
        "DeploymentFailedRule",
        "An ECS deployment of a service failed (and rolled back)",
        deployment_failed_pattern(compute),
        topic,
        InputPathsMap={
            "service": "$.resources[0]",
            "deployment": "$.detail.deploymentId",
            "reason": "$.detail.reason",
            "time": "$.time",
        },
        InputTemplate=Sub(
            "ECS deployment <deployment> of <service> FAILED at <time>: <reason>. The circuit "
            "breaker rolls the service back to the revision that ran before; "
            "make status ENV=${Environment} shows it."
        ),
    )
    tasks = _rule(
        t,
        "TaskStoppedRule",
        "A task crashed, did not start, or failed its health check",
        task_stopped_pattern(compute),
        topic,
        InputPathsMap={
            "task": "$.detail.taskArn",
            "group": "$.detail.group",
            "code": "$.detail.stopCode",
            "reason": "$.detail.stoppedReason",
            "time": "$.time",
        },
        InputTemplate=Sub(
            "ECS task <task> (<group>) STOPPED at <time>, <code>: <reason>. Its service's last "
            "log lines: make logs SERVICE=main|files ENV=${Environment}."
        ),
    )
    rules = [deployments, tasks]
    _topic_policy(t, topic, rules)
    add_output(t, "AlarmTopicArn", Ref(topic), "Topic of the alarms and the ECS failure rules")
    _add_slack(t, settings, environment, topic)
    return Notifications(rules={r.title: r for r in rules})
