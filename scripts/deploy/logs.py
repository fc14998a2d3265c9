"""The `logs` verb: a service's CloudWatch log events, optionally followed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from scripts.deploy.aws import Client
from scripts.deploy.errors import ConfigError

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str) -> int:
    """`10m` -> 600 (seconds)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ConfigError(f"--since {text!r}: use a number and a unit, e.g. 30s, 10m, 2h, 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def fetch(logs: Client, group: str, start_ms: int) -> list[dict[str, Any]]:
    """Every event since start_ms, across all pages, oldest first."""
    events: list[dict[str, Any]] = []
    for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=start_ms
    ):
        events.extend(page.get("events", []))
    events.sort(key=lambda e: (e["timestamp"], str(e.get("eventId", ""))))
    return events


def print_events(console: Console, events: list[dict[str, Any]]) -> None:
    for event in events:
        when = datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
        stream = str(event.get("logStreamName", "")).rsplit("/", 1)[-1][:8]
        console.print(
            f"{when:%H:%M:%S} {stream} {str(event['message']).rstrip()}",
            markup=False,
            highlight=False,
        )


def tail(
    logs: Client,
    console: Console,
    group: str,
    *,
    since_seconds: int,
    follow: bool,
    poll_seconds: float = 2.0,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Print events since `since_seconds` ago; with follow, keep polling until interrupted."""
    start_ms = int((now() - since_seconds) * 1000)
    seen: set[str] = set()
    printed = 0
    while True:
        events = [e for e in fetch(logs, group, start_ms) if str(e.get("eventId")) not in seen]
        print_events(console, events)
        printed += len(events)
        if events:
            newest = max(e["timestamp"] for e in events)
            # Events that share the newest millisecond are fetched again; the seen-set drops them.
            seen = {str(e.get("eventId")) for e in events if e["timestamp"] == newest}
            start_ms = newest
        if not follow:
            return printed
        sleep(poll_seconds)
