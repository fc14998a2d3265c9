"""Logs layer: the log groups, created early because the IAM, services and API layers write to them.

Each is encrypted with the stack's key and kept when the stack goes (its events still expire
after the retention period). `exec_sessions` receives every ECS Exec session, its commands and
their output (the cluster's ExecuteCommandConfiguration, generator/core/compute.py): CloudTrail
records only that a session started.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Template
from troposphere.logs import LogGroup

from generator.common import add_output, retain
from generator.config import Settings
from generator.core.encryption import Encryption
from generator.naming import logical_id


@dataclass(frozen=True)
class Logs:
    services: dict[str, LogGroup]  # service name -> log group
    api_access: LogGroup
    exec_sessions: LogGroup


def encrypted_log_group(
    t: Template, settings: Settings, encryption: Encryption, title: str
) -> LogGroup:
    """A log group encrypted with the stack's key, kept when the stack goes (its events still
    expire after the retention period)."""
    return t.add_resource(
        retain(
            LogGroup(
                title,
                RetentionInDays=settings.log_retention_days,
                KmsKeyId=GetAtt(encryption.key, "Arn"),
            )
        )
    )


def add_logs(t: Template, settings: Settings, encryption: Encryption) -> Logs:
    def log_group(title: str) -> LogGroup:
        return encrypted_log_group(t, settings, encryption, title)

    services = {s.name: log_group(logical_id(s.name, "log-group")) for s in settings.services}
    for name, group in services.items():
        add_output(
            t, logical_id(name, "log-group-name"), Ref(group), f"Log group of the {name} service"
        )
    exec_sessions = log_group("ExecSessionLogGroup")
    add_output(
        t,
        "ExecSessionLogGroupName",
        Ref(exec_sessions),
        "Log group of every ECS Exec session (commands and output)",
    )
    return Logs(
        services=services,
        api_access=log_group("HttpApiAccessLogGroup"),
        exec_sessions=exec_sessions,
    )
