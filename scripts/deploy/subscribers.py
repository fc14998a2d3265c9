"""`make changeset` warns when nobody would hear of an alarm, a failed deployment or a crash.

The core stack's alarm topic reaches people through `AlarmEmail`, a Slack channel
(`SlackWorkspaceId` and `SlackChannelId`), or a subscription someone added by hand. With none of
them the alarms and the EventBridge rules fire into the void, so the change set says so (it is a
warning: an environment may be quiet on purpose).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console

from scripts.deploy.aws import Client, error_message

TOPIC_OUTPUT = "AlarmTopicArn"
PENDING = "PendingConfirmation"


def configured(values: Mapping[str, str], live: Mapping[str, str]) -> bool:
    """Whether this deploy leaves the stack with an e-mail address or a Slack channel."""

    def value(key: str) -> str:
        return values.get(key, live.get(key, ""))

    return bool(value("AlarmEmail")) or bool(value("SlackWorkspaceId") and value("SlackChannelId"))


def confirmed_subscribers(sns: Client, topic_arn: str) -> int:
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
    return sum(
        1
        for page in pages
        for subscription in page["Subscriptions"]
        if subscription.get("SubscriptionArn") != PENDING
    )


def warn_without_subscriber(
    console: Console,
    sns: Callable[[], Client],
    env: str,
    values: Mapping[str, str],
    live_stack: Mapping[str, Any] | None,
) -> bool:
    """Print a warning when nobody is subscribed; True if it did."""
    live = {
        p["ParameterKey"]: p.get("ParameterValue", "")
        for p in (live_stack or {}).get("Parameters") or []
    }
    if configured(values, live):
        return False
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (live_stack or {}).get("Outputs") or []}
    topic = outputs.get(TOPIC_OUTPUT)
    if topic:
        try:
            if confirmed_subscribers(sns(), topic):
                return False
        except ClientError as exc:
            console.print(
                f"[yellow]Could not list the alarm topic's subscribers: "
                f"{error_message(exc)}[/yellow]"
            )
    console.print(
        f"[yellow]Nobody hears of alarms, failed deployments or crashed tasks in {env}: no "
        f"AlarmEmail, no Slack channel (SlackWorkspaceId, SlackChannelId) in config/{env}.json"
        + (f", and no confirmed subscription to {topic}" if topic else "")
        + ". Failed stack operations go to the CI stack's NotificationEmail "
        "(docs/operations.md, Notifications).[/yellow]"
    )
    return True
