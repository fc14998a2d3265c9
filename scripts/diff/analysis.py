"""From two prepared templates and the differ's findings to what a reviewer reads.

`diff_stack` judges one stack in one environment: resources added, removed and modified with
their changed property paths and replacement (replacement.py), the security section
(security.py) and the data section here. `parameter_changes` lists the parameter values that
differ and the resources each one feeds. `merge` folds environments whose diffs are equal into
one entry, so a change that looks the same in dev and prod is shown once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from scripts.deploy.changeset import consequence, is_stateful
from scripts.diff import security
from scripts.diff.prepare import Prepared
from scripts.diff.replacement import ALWAYS, CONDITIONALLY, PropertyChange, plan, references, same
from scripts.diff.security import (
    Exposure,
    ManagedPolicy,
    NetworkRule,
    Statement,
    compact,
)

# Properties that decide how long data is kept, per type: a change is listed in the data section.
RETENTION: Mapping[str, tuple[str, ...]] = {
    "AWS::DynamoDB::Table": (
        "DeletionProtectionEnabled",
        "PointInTimeRecoverySpecification",
        "TimeToLiveSpecification",
    ),
    "AWS::S3::Bucket": (
        "LifecycleConfiguration",
        "VersioningConfiguration",
        "ObjectLockConfiguration",
    ),
    "AWS::Logs::LogGroup": ("RetentionInDays",),
    "AWS::Cognito::UserPool": ("DeletionProtection",),
    "AWS::ECR::Repository": ("LifecyclePolicy",),
    "AWS::KMS::Key": ("PendingWindowInDays",),
}
POLICIES = ("DeletionPolicy", "UpdateReplacePolicy")


@dataclass(frozen=True)
class ResourceChange:
    action: str  # "add", "remove" or "modify"
    logical_id: str
    resource_type: str
    replacement: str | None
    changes: tuple[PropertyChange, ...] = ()
    other: tuple[str, ...] = ()  # changed attributes outside Properties (DeletionPolicy...)
    note: str = ""


@dataclass(frozen=True)
class DataChange:
    logical_id: str
    resource_type: str
    change: str
    consequence: str


@dataclass(frozen=True)
class OutputChange:
    action: str
    name: str


@dataclass(frozen=True)
class StackDiff:
    stack: str
    envs: tuple[str, ...]
    resources: tuple[ResourceChange, ...] = ()
    statements: tuple[Statement, ...] = ()
    managed_policies: tuple[ManagedPolicy, ...] = ()
    security_group_rules: tuple[NetworkRule, ...] = ()
    nacl_rules: tuple[NetworkRule, ...] = ()
    exposures: tuple[Exposure, ...] = ()
    data: tuple[DataChange, ...] = ()
    outputs: tuple[OutputChange, ...] = ()

    @property
    def security(self) -> tuple[object, ...]:
        return (*self.judged, *self.exposures)

    @property
    def judged(self) -> tuple[Statement | ManagedPolicy | NetworkRule, ...]:
        """The security rows that carry flags."""
        return (
            *self.statements,
            *self.managed_policies,
            *self.security_group_rules,
            *self.nacl_rules,
        )

    @property
    def flagged(self) -> int:
        """Rows a reviewer must look at: flagged changes, and what became reachable."""
        opened = sum(1 for e in self.exposures if e.change == "+")
        return sum(1 for row in self.judged if row.flags) + opened

    @property
    def empty(self) -> bool:
        return not (self.resources or self.security or self.data or self.outputs)

    def count(self, action: str) -> int:
        return sum(1 for r in self.resources if r.action == action)

    @property
    def replaced(self) -> tuple[ResourceChange, ...]:
        return tuple(r for r in self.resources if r.replacement)


@dataclass(frozen=True)
class ParameterChange:
    stack: str
    envs: tuple[str, ...]
    name: str
    old: str | None
    new: str | None
    source: str
    feeds: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    base: str
    head: str
    stacks: tuple[StackDiff, ...]
    parameters: tuple[ParameterChange, ...]
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.parameters and all(s.empty for s in self.stacks)


def _resources(prepared: Prepared | None) -> Mapping[str, Mapping[str, Any]]:
    return {} if prepared is None else prepared.compared["Resources"]


def _renames(
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    removed: Iterable[str],
    added: Iterable[str],
) -> dict[str, str]:
    """removed ID -> added ID, for resources that only changed their logical ID."""
    pairs: dict[str, str] = {}
    candidates = list(added)
    for gone in removed:
        for fresh in candidates:
            same_type = old[gone].get("Type") == new[fresh].get("Type")
            if same_type and same(old[gone].get("Properties"), new[fresh].get("Properties")):
                pairs[gone] = fresh
                candidates.remove(fresh)
                break
    return pairs


def _data_changes(
    change: ResourceChange,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    renamed_to: str | None,
) -> list[DataChange]:
    kind, found = change.resource_type, []
    if change.action == "remove" and before is not None and is_stateful(kind):
        text = consequence("Remove", "", str(before.get("DeletionPolicy", "Delete")))
        if renamed_to:
            text += f"; renamed to {renamed_to}, which CloudFormation creates new and empty"
        found.append(DataChange(change.logical_id, kind, "removed", text))
    replaced = change.action == "modify" and change.replacement and before is not None
    if replaced and before is not None and is_stateful(kind):
        conditional = change.replacement == CONDITIONALLY
        policy = "ReplaceAnd" + str(before.get("UpdateReplacePolicy", "Delete"))
        text = consequence("Modify", "Conditional" if conditional else "True", policy)
        what = "may be replaced" if conditional else "replaced"
        found.append(DataChange(change.logical_id, kind, what, text))
    if change.action == "modify" and before is not None and after is not None:
        for key in POLICIES:
            if key in change.other:
                old, new = before.get(key, "Delete"), after.get(key, "Delete")
                found.append(DataChange(change.logical_id, kind, f"{key}: {old} → {new}", ""))
        old_props, new_props = before.get("Properties") or {}, after.get("Properties") or {}
        for key in RETENTION.get(kind, ()):
            if not same(old_props.get(key), new_props.get(key)):
                text = f"{key}: {compact(old_props.get(key))} → {compact(new_props.get(key))}"
                found.append(DataChange(change.logical_id, kind, text, ""))
    return found


_ACTION_ORDER = {"remove": 0, "add": 1, "modify": 2}
_MODE_ORDER = {ALWAYS: 0, CONDITIONALLY: 1, None: 2}


def _resource_order(change: ResourceChange) -> tuple[int, int, str]:
    """Removals, additions, then replacements before in-place updates."""
    return (_ACTION_ORDER[change.action], _MODE_ORDER[change.replacement], change.logical_id)


def diff_stack(
    stack: str,
    env: str,
    old: Prepared | None,
    new: Prepared | None,
    found: Mapping[str, Any],
) -> StackDiff:
    """One stack in one environment: `found` is the differ's result for this pair."""
    before, after = _resources(old), _resources(new)
    plans = plan(before, after)
    listed = {r["logicalId"]: r for r in found.get("resources", [])}
    removed = [i for i, r in listed.items() if r["action"] == "remove"]
    added = [i for i, r in listed.items() if r["action"] == "add"]
    renames = _renames(before, after, removed, added)
    changes: list[ResourceChange] = []
    for logical_id in [*listed, *sorted(plans.keys() - listed.keys())]:
        entry = listed.get(logical_id, {"action": "modify", "other": []})
        action = entry["action"]
        kind = str((after.get(logical_id) or before.get(logical_id) or {}).get("Type"))
        if action == "modify":
            resource_plan = plans.get(logical_id)
            other = tuple(entry.get("other", []))
            if resource_plan is None and not other:
                continue  # the differ's own replacement guess, with nothing changed here
            changes.append(
                ResourceChange(
                    "modify",
                    logical_id,
                    kind,
                    resource_plan.mode if resource_plan else None,
                    resource_plan.changes if resource_plan else (),
                    other,
                )
            )
        elif action == "remove":
            note = f"renamed to {renames[logical_id]}?" if logical_id in renames else ""
            changes.append(ResourceChange("remove", logical_id, kind, None, note=note))
        else:
            was = next((g for g, f in renames.items() if f == logical_id), None)
            note = f"renamed from {was}?" if was else ""
            changes.append(ResourceChange("add", logical_id, kind, None, note=note))
    changes.sort(key=_resource_order)
    data = [
        item
        for change in changes
        for item in _data_changes(
            change,
            before.get(change.logical_id),
            after.get(change.logical_id),
            renames.get(change.logical_id),
        )
    ]
    identities = security.identity_ids(before, after)
    return StackDiff(
        stack=stack,
        envs=(env,),
        resources=tuple(changes),
        statements=tuple(security.statements(found.get("statements", []), identities)),
        managed_policies=tuple(security.managed_policies(found.get("managedPolicies", []))),
        security_group_rules=tuple(
            security.security_group_rules(found.get("securityGroupRules", []))
        ),
        nacl_rules=tuple(security.nacl_rules(before, after)),
        exposures=tuple(security.exposure_changes(before, after)),
        data=tuple(data),
        outputs=tuple(OutputChange(o["action"], o["name"]) for o in found.get("outputs", [])),
    )


def _if_conditions(value: Any) -> set[str]:
    if isinstance(value, list):
        return {c for item in value for c in _if_conditions(item)}
    if not isinstance(value, dict):
        return set()
    found = {c for item in value.values() for c in _if_conditions(item)}
    if set(value) == {"Fn::If"} and isinstance(value["Fn::If"], list) and value["Fn::If"]:
        found.add(str(value["Fn::If"][0]))
    return found


def _conditions_on(template: Mapping[str, Any], parameter: str) -> set[str]:
    """Conditions whose truth depends on `parameter`, directly or through other conditions."""
    conditions = template.get("Conditions") or {}

    def names(spec: Any) -> set[str]:
        if isinstance(spec, list):
            return {n for item in spec for n in names(item)}
        if not isinstance(spec, dict):
            return set()
        found = {n for item in spec.values() for n in names(item)}
        if set(spec) == {"Condition"}:
            found.add(str(spec["Condition"]))
        return found

    dependent = {
        name
        for name, spec in conditions.items()
        if any(n == parameter for _, n in references(spec))
    }
    growing = True
    while growing:
        more = {n for n, spec in conditions.items() if names(spec) & dependent} - dependent
        dependent |= more
        growing = bool(more)
    return dependent


def consumers(prepared: Prepared, parameter: str) -> list[tuple[str, str]]:
    """(logical ID, how) for each resource a parameter feeds: a property, or a condition."""
    fed: dict[str, set[str]] = {}
    for logical_id, resource in (prepared.shaped.get("Resources") or {}).items():
        for path, name in references(resource.get("Properties") or {}):
            if name == parameter and path:
                fed.setdefault(logical_id, set()).add(str(path[0]))
    conditions = _conditions_on(prepared.expanded, parameter)
    for logical_id, resource in (prepared.expanded.get("Resources") or {}).items():
        own = {str(resource["Condition"])} if "Condition" in resource else set()
        used = (own | _if_conditions(resource)) & conditions
        for condition in used:
            fed.setdefault(logical_id, set()).add(f"condition {condition}")
    return [(logical_id, ", ".join(sorted(how))) for logical_id, how in sorted(fed.items())]


PAST = {"add": "added", "remove": "removed"}


def parameter_changes(
    stack: str, env: str, old: Prepared | None, new: Prepared | None, diff: StackDiff
) -> list[ParameterChange]:
    """Parameters whose value differs, each with the resources it feeds (and their fate)."""
    before = dict(old.values) if old else {}
    after = dict(new.values) if new else {}
    fate = {r.logical_id: r for r in diff.resources}
    result = []
    for name in sorted(before.keys() | after.keys()):
        if before.get(name) == after.get(name):
            continue
        side = new if name in after and new is not None else old
        assert side is not None
        feeds = []
        for logical_id, how in consumers(side, name):
            change = fate.get(logical_id)
            text = f"{logical_id} ({how})"
            if change and change.replacement:
                text += f" → replaced ({change.replacement})"
            elif change and change.action != "modify":
                text += f" → {PAST[change.action]}"
            feeds.append(text)
        source = side.sources.get(name, "template default").replace(f"/{env}.json", "/<env>.json")
        result.append(
            ParameterChange(
                stack, (env,), name, before.get(name), after.get(name), source, tuple(feeds)
            )
        )
    return result


T = TypeVar("T", StackDiff, ParameterChange)


def merge(items: Sequence[T]) -> list[T]:
    """Items equal but for their environments, as one item naming all of them (first order)."""
    merged: dict[T, list[str]] = {}
    for item in items:
        merged.setdefault(dataclasses.replace(item, envs=()), []).extend(item.envs)
    return [dataclasses.replace(key, envs=tuple(envs)) for key, envs in merged.items()]
