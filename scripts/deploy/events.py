"""Stream stack events while CloudFormation works, and find the first failure's reason.

DescribeStackEvents returns the newest events first, in pages. A poll reads pages until it
meets an event it has already seen, then prints the new ones oldest first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scripts.deploy.aws import Client, error_message
from scripts.deploy.changeset import rollback_complete_advice
from scripts.deploy.errors import DeployFailed
from scripts.deploy.params import stack_missing

SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
_FAILED_SUFFIXES = ("_FAILED",)
# Cancelled resources are a consequence of the real failure, never its cause.
_CONSEQUENTIAL = ("cancelled", "canceled")
NESTED_STACK = "AWS::CloudFormation::Stack"
_SETTLE_POLLS = 6


@dataclass
class EventStream:
    """`stack` names the stack in messages; calls use `stack_id` (its ARN) when known.

    DescribeStacks and DescribeStackEvents answer a deleted stack only by its unique ID: by name
    they raise ValidationError "Stack with id ... does not exist" once it is DELETE_COMPLETE.
    """

    cfn: Client
    stack: str
    stack_id: str | None = None
    seen: set[str] = field(default_factory=set)
    started: datetime | None = None

    @property
    def ref(self) -> str:
        return self.stack_id or self.stack

    def mark_seen(self) -> None:
        """Remember the events that exist now, so only newer ones are printed."""
        page = self._call("describe_stack_events").get("StackEvents", [])
        self.seen.update(e["EventId"] for e in page)

    def describe(self) -> dict[str, Any]:
        return dict(self._call("describe_stacks")["Stacks"][0])

    def _call(self, operation: str) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.cfn, operation)(StackName=self.ref)
        except ClientError as exc:
            self._raise_if_gone(exc)
            raise
        return result

    def _pages(self, paginator: Any) -> Iterator[dict[str, Any]]:
        try:
            yield from paginator.paginate(StackName=self.ref)
        except ClientError as exc:
            self._raise_if_gone(exc)
            raise

    def _raise_if_gone(self, exc: ClientError) -> None:
        """Without the stack's ID a deleted stack is only a ValidationError: say so plainly."""
        if stack_missing(exc):
            raise DeployFailed(
                f"stack {self.stack} no longer exists: it was deleted while this command "
                f"watched it ({error_message(exc)})"
            ) from exc

    def poll(self) -> list[dict[str, Any]]:
        """The events not seen before, oldest first."""
        new: list[dict[str, Any]] = []
        paginator = self.cfn.get_paginator("describe_stack_events")
        done = False
        for page in self._pages(paginator):
            for event in page.get("StackEvents", []):
                if event["EventId"] in self.seen:
                    done = True
                    break
                new.append(event)
            if done:
                break
        new.reverse()
        self.seen.update(e["EventId"] for e in new)
        if new and self.started is None:
            self.started = new[0]["Timestamp"]
        return new


def _status_style(status: str) -> str:
    if status.endswith("_FAILED") or "ROLLBACK" in status:
        return "red"
    if status.endswith("_COMPLETE"):
        return "green"
    return "yellow"


def print_event(console: Console, event: dict[str, Any], elapsed: float) -> None:
    minutes, seconds = divmod(int(elapsed), 60)
    line = Text(f"+{minutes:02d}:{seconds:02d} ", style="dim")
    line.append(event["Timestamp"].strftime("%H:%M:%S "))
    status = event.get("ResourceStatus", "")
    line.append(f"{status:<36}", style=_status_style(status))
    line.append(f" {event.get('ResourceType', ''):<40} {event.get('LogicalResourceId', '')}")
    if event.get("ResourceStatusReason"):
        line.append(f"  {event['ResourceStatusReason']}", style="dim")
    console.print(line, soft_wrap=True)


def _is_failure(event: dict[str, Any]) -> bool:
    status = event.get("ResourceStatus", "")
    reason = (event.get("ResourceStatusReason") or "").lower()
    return status.endswith(_FAILED_SUFFIXES) and not any(c in reason for c in _CONSEQUENTIAL)


def first_failure(
    cfn: Client, events: list[dict[str, Any]], since: datetime | None, depth: int = 0
) -> str | None:
    """The reason of the first failed resource, following nested stacks down to the cause.

    `events` are oldest first. For a failed AWS::CloudFormation::Stack resource the nested
    stack's own events carry the real reason, so they are read too.
    """
    for event in events:
        if not _is_failure(event):
            continue
        reason = event.get("ResourceStatusReason") or "no reason given"
        label = f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}): {reason}"
        nested_id = event.get("PhysicalResourceId") or ""
        if (
            event.get("ResourceType") == NESTED_STACK
            and event.get("LogicalResourceId") != event.get("StackName")
            and nested_id.startswith("arn:")
            and depth < 5
        ):
            nested_events = all_events(cfn, nested_id, since)
            inner = first_failure(cfn, nested_events, since, depth + 1)
            if inner:
                return f"{event.get('LogicalResourceId')} (nested stack) > {inner}"
        return label
    return None


def stack_level_reason(events: list[dict[str, Any]]) -> str | None:
    """Why the stack itself started rolling back, when no resource failed.

    Some failures have no *_FAILED resource event: e.g. "Export ... cannot be updated as it is
    in use by ..." shows only as the reason of the stack's own UPDATE_ROLLBACK_IN_PROGRESS.
    """
    for event in events:
        status = event.get("ResourceStatus", "")
        reason = event.get("ResourceStatusReason") or ""
        if (
            event.get("ResourceType") == NESTED_STACK
            and event.get("LogicalResourceId") == event.get("StackName")
            and (status.endswith("ROLLBACK_IN_PROGRESS") or status.endswith("_FAILED"))
            and reason
            and reason != "User Initiated"
        ):
            return f"{event.get('LogicalResourceId')} ({status}): {reason}"
    return None


def all_events(cfn: Client, stack: str, since: datetime | None) -> list[dict[str, Any]]:
    """A stack's events at or after `since`, oldest first."""
    collected: list[dict[str, Any]] = []
    paginator = cfn.get_paginator("describe_stack_events")
    for page in paginator.paginate(StackName=stack):
        for event in page.get("StackEvents", []):
            if since is not None and event["Timestamp"] < since:
                collected.reverse()
                return collected
            collected.append(event)
    collected.reverse()
    return collected


@dataclass(frozen=True)
class WaitResult:
    status: str
    stack: dict[str, Any]


def wait_for_stack(
    cfn: Client,
    stream: EventStream,
    console: Console,
    *,
    poll_seconds: float = 5.0,
    timeout_seconds: float = 3 * 3600,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    change_set: str | None = None,
    success: frozenset[str] = SUCCESS,
) -> WaitResult:
    """Print events until the stack leaves *_IN_PROGRESS; raise DeployFailed with the first
    failure's reason unless it ends in one of `success` (by default CREATE, UPDATE or
    IMPORT_COMPLETE; DELETE_COMPLETE for a stack delete)."""
    label = f"stack {stream.stack}" + (f" (change set {change_set})" if change_set else "")
    start = clock()
    all_new: list[dict[str, Any]] = []
    polls = 0
    while True:
        new = stream.poll()
        all_new.extend(new)
        for event in new:
            print_event(console, event, clock() - start)
        stack = stream.describe()
        status = stack["StackStatus"]
        polls += 1
        # ExecuteChangeSet starts the operation asynchronously: until its first event shows up
        # the stack may still report the previous operation's final status.
        started = bool(all_new) or polls > _SETTLE_POLLS
        if started and not status.endswith("_IN_PROGRESS"):
            for event in stream.poll():  # the final events may land after the status flips
                all_new.append(event)
                print_event(console, event, clock() - start)
            break
        if clock() - start > timeout_seconds:
            raise DeployFailed(
                f"{label} still {status} after {timeout_seconds:.0f} s: watch it in the console"
            )
        sleep(poll_seconds)
    elapsed = clock() - start
    if status in success:
        console.print(f"[green]{stream.stack}: {status}[/green] in {elapsed:.0f} s")
        return WaitResult(status, stack)
    reason = (
        first_failure(cfn, all_new, stream.started)
        or stack_level_reason(all_new)
        or stack.get("StackStatusReason")
        or "no reason given"
    )
    message = f"{label} ended {status} after {elapsed:.0f} s. First failure: {reason}"
    if status == "DELETE_COMPLETE":
        message += (
            f"\nThe stack was deleted while it was being deployed (delete-stack, or "
            f"OnStackFailure DELETE); deploy it again to create {stream.stack} anew."
        )
    if status == "ROLLBACK_COMPLETE":
        message += "\n" + rollback_complete_advice(stream.stack)
    raise DeployFailed(message)


def render_outputs(console: Console, stack: dict[str, Any]) -> None:
    outputs = stack.get("Outputs") or []
    if not outputs:
        console.print(f"{stack['StackName']} has no outputs.")
        return
    table = Table(title=f"Outputs of {stack['StackName']}", title_justify="left")
    table.add_column("Key")
    table.add_column("Value", overflow="fold")
    table.add_column("Export", overflow="fold")
    for output in sorted(outputs, key=lambda o: o["OutputKey"]):
        table.add_row(output["OutputKey"], output["OutputValue"], output.get("ExportName", ""))
    console.print(table)
