"""CloudFormation's resource provider schemas, as cfn-lint ships them (one per resource type).

A schema is AWS's own description of a resource type in the CloudFormation registry:
https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html

What the project reads from it:

- `handlers.<create|update|delete>.permissions`: the IAM actions CloudFormation calls, as the
  stack's execution role, to create, update and delete a resource of the type;
- `createOnlyProperties`: a change of one of these replaces the resource;
  `conditionalCreateOnlyProperties`: a change may replace it (DynamoDB's `KeySchema` is here);
- `tagging`: whether stack-level tags reach the resource.

cfn-lint pins a copy per release (the `constraints.txt` pin decides which), so a check built on it
changes only when the pin does. The schemas are per region; the project's reference region is
us-east-1.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

REFERENCE_REGION = "us-east-1"
HANDLERS = ("create", "read", "update", "delete", "list")

PropertyPath = tuple[str, ...]


class SchemaNotFound(LookupError):
    """No provider schema exists for this resource type (a typo, or a type cfn-lint lacks)."""


@dataclass(frozen=True)
class ResourceSchema:
    type_name: str
    permissions: Mapping[str, tuple[str, ...]]  # handler -> IAM actions CloudFormation calls
    create_only: tuple[PropertyPath, ...]
    conditional_create_only: tuple[PropertyPath, ...]
    read_only: tuple[PropertyPath, ...]
    taggable: bool
    raw: Mapping[str, Any]

    def handler_permissions(self, handler: str) -> tuple[str, ...]:
        return self.permissions.get(handler, ())

    def replaces_on_change(self, path: PropertyPath) -> str | None:
        """'Always' or 'Conditionally' when changing `path` replaces the resource, else None.

        A change inside a create-only property (or of a parent of one) counts as a change of it.
        """

        def hits(paths: tuple[PropertyPath, ...]) -> bool:
            return any(_overlaps(path, p) for p in paths)

        if hits(self.create_only):
            return "Always"
        if hits(self.conditional_create_only):
            return "Conditionally"
        return None


def _overlaps(changed: PropertyPath, create_only: PropertyPath) -> bool:
    shorter = min(len(changed), len(create_only))
    return changed[:shorter] == create_only[:shorter]


def _paths(schema: Mapping[str, Any], key: str) -> tuple[PropertyPath, ...]:
    """'/properties/A/B' -> ('A', 'B'); JSON pointers into arrays ('/*') keep their '*'."""
    paths = []
    for pointer in schema.get(key, ()):
        parts = [p for p in str(pointer).split("/") if p]
        if parts and parts[0] == "properties":
            paths.append(tuple(parts[1:]))
    return tuple(paths)


_SCHEMAS = "cfnlint.data.schemas"


@functools.cache
def _provider_index(region: str) -> Mapping[str, str]:
    try:
        text = resources.files(_SCHEMAS).joinpath("providers", f"{region}.json").read_text()
    except ModuleNotFoundError as err:
        raise SchemaNotFound("cfn-lint is not installed: run `make venv`") from err
    except FileNotFoundError as err:
        raise SchemaNotFound(f"cfn-lint has no provider schemas for region {region}") from err
    index: dict[str, str] = json.loads(text)
    return index


@functools.cache
def resource_schema(type_name: str, region: str = REFERENCE_REGION) -> ResourceSchema:
    """The provider schema of `type_name` (for example AWS::ECS::Service) in `region`."""
    digest = _provider_index(region).get(type_name)
    if digest is None:
        raise SchemaNotFound(f"no CloudFormation provider schema for {type_name} in {region}")
    raw = json.loads(resources.files(_SCHEMAS).joinpath("resources", f"{digest}.json").read_text())
    handlers = raw.get("handlers") or {}
    return ResourceSchema(
        type_name=type_name,
        permissions={
            name: tuple(handlers[name].get("permissions", ()))
            for name in HANDLERS
            if name in handlers
        },
        create_only=_paths(raw, "createOnlyProperties"),
        conditional_create_only=_paths(raw, "conditionalCreateOnlyProperties"),
        read_only=_paths(raw, "readOnlyProperties"),
        taggable=bool(
            (raw.get("tagging") or {}).get("taggable", "Tags" in raw.get("properties", {}))
        ),
        raw=raw,
    )
