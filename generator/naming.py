"""Logical IDs, made in one place: PascalCase nouns prefixed by their owner."""

from __future__ import annotations

import re


def logical_id(*parts: str) -> str:
    """`logical_id("main", "task-role")` -> "MainTaskRole"."""
    words = (w for part in parts for w in re.split(r"[^A-Za-z0-9]+", part) if w)
    return "".join(w[:1].upper() + w[1:] for w in words)


def workload_boundary_name(project: str) -> str:
    """The permissions boundary policy that the CI stack creates and every core role carries
    (`${Environment}` is filled by both stacks' `Environment` parameter)."""
    return f"{project}-${{Environment}}-workload-boundary"


def stack_events_topic_name(project: str) -> str:
    """The CI stack's topic for failed stack operations (named, so that the core stack's Slack
    channel can subscribe to it; `${Environment}` is filled by both stacks' parameter)."""
    return f"{project}-${{Environment}}-stack-events"


# The logical IDs, parameters and outputs of one app service that the deploy tooling reads from
# the core stack, spelled with the same parts the generator's modules pass to `logical_id`; a
# test checks each one against templates/core.yaml, so a rename here or there fails a test.
CLUSTER_NAME_OUTPUT = "ClusterName"
GATE_LOG_GROUP_OUTPUT = "ReleaseGateLogGroupName"


def task_definition_id(service: str) -> str:
    return logical_id(service, "task-definition")


def service_id(service: str) -> str:
    return logical_id(service, "service")


def scalable_target_id(service: str) -> str:
    return logical_id(service, "scalable-target")


# The image-tag default on the first creation: the stack creates the ECR repositories, so no image
# can exist yet. While a service's tag is this value, the service runs no task and cannot scale.
BOOTSTRAP_TAG = "bootstrap"


def image_digest_parameter(service: str) -> str:
    """The image a service runs, by digest (`sha256:…`); tags are for people only."""
    return logical_id(service, "service-image-digest")


def service_name_output(service: str) -> str:
    return logical_id(service, "service-name")


def repository_uri_output(service: str) -> str:
    return logical_id(service, "repository-uri")


def target_group_arn_output(service: str) -> str:
    return logical_id(service, "target-group-arn")


def log_group_name_output(service: str) -> str:
    return logical_id(service, "log-group-name")
