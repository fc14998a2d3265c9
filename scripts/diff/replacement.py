"""Which property changes replace a resource, read from CloudFormation's resource provider schemas.

A change inside a property the schema lists in `createOnlyProperties` replaces the resource
("Always"); one in `conditionalCreateOnlyProperties` may ("Conditionally": DynamoDB's `KeySchema`
is there). A few properties are understated by their schema; `OVERRIDES` names them, each with
its reason and AWS's page. Replacement then spreads: a new resource has a new ID and ARN, so a
property that refers to a replaced resource changes too, and replaces its own resource when it
is create-only (a task definition that names a replaced table becomes a new revision).
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from scripts.cfn.schemas import PropertyPath, SchemaNotFound, resource_schema

ALWAYS = "Always"
CONDITIONALLY = "Conditionally"

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Override:
    mode: str
    reason: str
    reference: str


_COGNITO_LOCKED = (
    "Cognito cannot change it on an existing user pool; the change needs a new pool, which "
    "starts without users. The schema lists no create-only properties for user pools."
)
_COGNITO_PAGE = (
    "https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-updating.html"
)

OVERRIDES: Mapping[tuple[str, PropertyPath], Override] = {
    ("AWS::Cognito::UserPool", ("UsernameAttributes",)): Override(
        ALWAYS, _COGNITO_LOCKED, _COGNITO_PAGE
    ),
    ("AWS::Cognito::UserPool", ("AliasAttributes",)): Override(
        ALWAYS, _COGNITO_LOCKED, _COGNITO_PAGE
    ),
    ("AWS::Cognito::UserPool", ("UsernameConfiguration",)): Override(
        ALWAYS, _COGNITO_LOCKED, _COGNITO_PAGE
    ),
}


@dataclass(frozen=True)
class Verdict:
    mode: str | None  # ALWAYS, CONDITIONALLY or None (updated in place)
    why: str


def _starred(path: Path) -> PropertyPath:
    return tuple("*" if isinstance(part, int) else part for part in path)


def verdict(resource_type: str, path: Path) -> Verdict:
    """Whether changing `path` (inside Properties) replaces a resource of this type."""
    starred = _starred(path)
    for (kind, prefix), override in OVERRIDES.items():
        if kind == resource_type and starred[: len(prefix)] == prefix:
            return Verdict(override.mode, f"override: {override.reason} {override.reference}")
    try:
        mode = resource_schema(resource_type).replaces_on_change(starred)
    except SchemaNotFound:
        return Verdict(None, "no provider schema: update behaviour unknown")
    if mode == ALWAYS:
        return Verdict(ALWAYS, "createOnlyProperties")
    if mode == CONDITIONALLY:
        return Verdict(CONDITIONALLY, "conditionalCreateOnlyProperties")
    return Verdict(None, "")


def strongest(*modes: str | None) -> str | None:
    if ALWAYS in modes:
        return ALWAYS
    return CONDITIONALLY if CONDITIONALLY in modes else None


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(all properties)"


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key in ("Ref", "Condition") or str(key).startswith("Fn::")


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        number = float(value)
        return str(int(number)) if math.isfinite(number) and number.is_integer() else str(number)
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if math.isfinite(number) and number.is_integer() else text


def same(old: Any, new: Any) -> bool:
    """Equal as CloudFormation sees it: "10" is 10 and "true" is true."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(same(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, dict | list) or isinstance(new, dict | list):
        return False
    if old is None or new is None:
        return old is new
    return _scalar_text(old) == _scalar_text(new)


def changed_paths(old: Any, new: Any, path: Path = ()) -> list[Path]:
    """The deepest paths where `old` and `new` differ (a list of another length, as a whole)."""
    if same(old, new):
        return []
    if _is_intrinsic(old) or _is_intrinsic(new):
        return [path]
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[Path] = []
        for key in sorted(old.keys() | new.keys()):
            if key not in old or key not in new:
                found.append((*path, key))
            else:
                found.extend(changed_paths(old[key], new[key], (*path, key)))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            p
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for p in changed_paths(a, b, (*path, i))
        ]
    return [path]


_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")


def _referenced(node: dict[str, Any]) -> set[str]:
    """Logical IDs (or parameter names) one intrinsic node refers to directly."""
    ((key, arg),) = node.items()
    if key == "Ref":
        return {str(arg)}
    if key == "Fn::GetAtt":
        name = arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
        return {str(name)}
    if key == "Fn::Sub":
        text, local = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
        names = {m.strip().split(".", 1)[0] for m in _SUB_NAME.findall(str(text))}
        return {n for n in names if n not in local}
    return set()


def references(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """(path, name) of every Ref, Fn::GetAtt and `${name}` in Fn::Sub inside `value`."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from references(item, (*path, i))
    elif isinstance(value, dict):
        if _is_intrinsic(value):
            for name in sorted(_referenced(value)):
                if not name.startswith("AWS::"):
                    yield path, name
        for key, item in value.items():
            yield from references(item, (*path, key) if not _is_intrinsic(value) else path)


@dataclass(frozen=True)
class PropertyChange:
    path: str
    mode: str | None
    why: str


@dataclass(frozen=True)
class Plan:
    """What happens to one resource that exists on both sides."""

    changes: tuple[PropertyChange, ...]
    mode: str | None


def plan(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> dict[str, Plan]:
    """Property changes and replacement of every resource present on both sides (by logical ID),
    including the changes that follow from another resource's replacement."""
    changes: dict[str, list[PropertyChange]] = {}
    for logical_id in old.keys() & new.keys():
        before, after = old[logical_id], new[logical_id]
        kind = str(after.get("Type"))
        if before.get("Type") != kind:
            changes[logical_id] = [PropertyChange("Type", ALWAYS, "the resource type changed")]
            continue
        found = []
        for path in changed_paths(before.get("Properties") or {}, after.get("Properties") or {}):
            v = verdict(kind, path)
            found.append(PropertyChange(format_path(path), v.mode, v.why))
        changes[logical_id] = found

    def mode_of(logical_id: str) -> str | None:
        return strongest(*(c.mode for c in changes[logical_id]))

    spreading = True
    while spreading:
        spreading = False
        replaced = {i: m for i in changes if (m := mode_of(i)) is not None}
        for logical_id, found in changes.items():
            kind = str(new[logical_id].get("Type"))
            known = {c.path for c in found}
            for path, name in references(new[logical_id].get("Properties") or {}):
                text = format_path(path)
                if name not in replaced or name == logical_id or text in known:
                    continue
                v = verdict(kind, path)
                mode = v.mode and (CONDITIONALLY if replaced[name] == CONDITIONALLY else v.mode)
                why = f"{name} is replaced" + (f"; {v.why}" if v.why else "")
                found.append(PropertyChange(text, mode, why))
                known.add(text)
                spreading = spreading or mode is not None
    return {
        logical_id: Plan(tuple(found), mode_of(logical_id))
        for logical_id, found in changes.items()
        if found
    }
