"""`make changeset` warns when nobody hears of alarms and failures: against the emulator's SNS."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from scripts.deploy.subscribers import configured, warn_without_subscriber
from tests.scripts import fakes


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"AlarmEmail": "ops@example.com"}, True),
        ({"SlackWorkspaceId": "T0123", "SlackChannelId": "C0456"}, True),
        ({"SlackWorkspaceId": "T0123", "SlackChannelId": ""}, False),
        ({"AlarmEmail": ""}, False),
        ({}, False),
    ],
)
def test_an_address_or_a_whole_slack_channel_counts(values: dict[str, str], expected: bool) -> None:
    assert configured(values, {}) is expected


def test_the_live_value_counts_when_this_deploy_leaves_it() -> None:
    assert configured({}, {"AlarmEmail": "ops@example.com"})
    assert not configured({"AlarmEmail": ""}, {"AlarmEmail": "ops@example.com"})


def live(topic: str | None) -> dict[str, Any]:
    outputs = {"AlarmTopicArn": topic} if topic else {}
    (stack,) = fakes.stack("todo-dev-core", "UPDATE_COMPLETE", outputs=outputs)["Stacks"]
    described: dict[str, Any] = stack
    return described


def warned(topic: str | None) -> tuple[bool, str]:
    console, out = fakes.console()
    said = warn_without_subscriber(
        console, lambda: boto3.client("sns"), "dev", {"AlarmEmail": ""}, live(topic)
    )
    return said, " ".join(out.getvalue().split())


def test_a_new_environment_without_an_address_is_warned() -> None:
    said, text = warned(None)
    assert said
    assert "Nobody hears of alarms, failed deployments or crashed tasks in dev" in text
    assert "config/dev.json" in text


def test_a_topic_nobody_confirmed_is_named(aws_env: dict[str, str]) -> None:
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="todo-dev-core-AlarmTopic-X")["TopicArn"]
    said, text = warned(topic)
    assert said
    assert f"no confirmed subscription to {topic}" in text


def test_a_subscription_added_by_hand_is_enough(aws_env: dict[str, str]) -> None:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="todo-dev-core-AlarmTopic-X")["TopicArn"]
    queue = sqs.create_queue(QueueName="pager")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    said, text = warned(topic)
    assert not said
    assert text == ""
