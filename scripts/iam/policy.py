"""Decide whether AWS would allow a request made by an IAM role (or user) inside one account.

The evaluator follows AWS's documented policy evaluation logic; the tests replay the examples
printed on these pages, with the outcome each page states:

- evaluation logic and requests within a single account:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
- permissions boundaries:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
- the Principal element (account, role, role-session and `*` principals):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
- condition operators, several keys or values, set operators:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
- policy variables: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
- KMS key policies: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
  and https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html

The decision, in AWS's order:

1. An applicable Deny statement in any policy (identity, boundary, resource) denies: explicit deny.
2. An applicable Allow in the resource-based policy whose Principal names
   - the caller's role-session ARN, the caller's IAM user ARN, or `*`: allows on its own; neither
     the identity policies nor the permissions boundary limit it;
   - the caller's role ARN: allows without an identity policy, but an implicit deny in the
     permissions boundary still denies ("limited by an implicit deny in a permissions boundary");
   - the caller's account (`arn:aws:iam::ID:root` or the bare ID): grants nothing itself; it
     delegates to the account's identity policies. For a KMS key policy
     (`resource_policy_required=True`) that delegation is the only way identity policies count:
     "Without this permission, IAM policies that allow access to the key are ineffective".
3. Otherwise an identity policy must allow, and so must the permissions boundary when there is
   one: the effective permissions are the intersection.
4. Otherwise: implicit deny.

Conditions (each rule has a test):

- A key missing from the request makes a condition false, except for negated operators
  (StringNotEquals, StringNotLike, ArnNotLike, NumericNotEquals, DateNotEquals, NotIpAddress, ...),
  which are then TRUE ("If the policy condition requires that the key is not matched ... and the
  right key is not present, the condition is true"). So a Deny with a negated operator on a
  missing key denies, and an Allow with one allows.
- `...IfExists`: a missing key makes the condition true, whatever the operator.
- `Null`: "true" holds when the key is absent, "false" when it is present.
- `ForAllValues:` holds when the key is missing or its value set is empty; `ForAnyValue:` does not.
- Several operators in a block, and several keys under one operator, are ANDed; several values
  for a key are ORed, and NORed under a negated operator.
- Key names are case-insensitive; values are case-sensitive except under `...IgnoreCase`. (`Bool`
  compares "true"/"false" ignoring case; the pages show only JSON booleans and lowercase strings.)
- Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, `${*}`, `${?}`,
  `${$}`) are substituted only in `"Version": "2012-10-17"` policies, in the resource part of
  Resource/NotResource and in String, ARN and Bool condition values. A variable with no value
  matches nothing (a negated operator is then true). Text substituted for a variable is literal:
  its `*` is not a wildcard.

When a principal is given, the request context gains `aws:PrincipalArn` and `aws:PrincipalAccount`
(and `aws:username` for a user) unless the caller's context sets them: AWS always includes them
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).

Where the pages say nothing, the evaluator raises a named error instead of deciding: a list-valued
context key under an operator without `ForAnyValue:`/`ForAllValues:` (AmbiguousCondition),
`NotPrincipal` (UnsupportedPolicy; AWS recommends `ArnNotEquals` on `aws:PrincipalArn` instead),
an unknown operator (UnknownConditionOperator) and any malformed document (MalformedPolicy).
Out of scope: SCPs, RCPs, session policies, VPC endpoint policies, KMS grants, cross-account access.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from operator import eq, ge, gt, le, lt
from typing import Any

Scalar = str | bool | int | float
ContextValue = Scalar | list[str] | tuple[str, ...]

POLICY_VARIABLES_VERSION = "2012-10-17"
_VERSIONS = (POLICY_VARIABLES_VERSION, "2008-10-17")


class PolicyError(ValueError):
    """A policy that cannot be evaluated faithfully: never turned into an allow or a deny."""


class MalformedPolicy(PolicyError):
    """The document does not follow the IAM policy grammar."""


class UnknownConditionOperator(MalformedPolicy):
    """A Condition block names an operator IAM does not define."""


class UnsupportedPolicy(PolicyError):
    """Valid IAM, but outside what this evaluator models (for example NotPrincipal)."""


class AmbiguousCondition(PolicyError):
    """The request and the condition combine in a way AWS's pages leave undefined."""


class RequestError(ValueError):
    """The request itself is malformed (action, principal, or a context value's type)."""


class Effect(Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True)
class Decision:
    effect: Effect
    reason: str  # one line naming the request and the policy/statement that decided it

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW


_PRINCIPAL_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):(role|user)/(?:[^/]+/)*([^/]+)")
_ACTION = re.compile(r"[a-z0-9-]+:[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Request:
    """One API call: `action` as "service:Operation", `resource` an ARN or "*".

    `context` maps condition keys (any case) to values; a list or tuple is a multivalued key.
    `principal` is the caller's role (or user) ARN, needed when a resource policy is evaluated;
    `session_name` completes a role's session ARN for resource policies that name the session.
    """

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    principal: str | None = None
    session_name: str | None = None

    def __post_init__(self) -> None:
        if not _ACTION.fullmatch(self.action):
            raise RequestError(f"action {self.action!r} is not of the form service:Operation")
        if not self.resource:
            raise RequestError(f"{self.action}: resource is empty (use '*' for no resource type)")
        if self.principal is not None:
            caller = _caller(self.principal, self.session_name)
            if caller.kind == "user" and self.session_name is not None:
                raise RequestError(f"{self.principal} is an IAM user: users have no role session")
        elif self.session_name is not None:
            raise RequestError("session_name needs the role ARN in principal")
        seen: dict[str, str] = {}
        for key, value in self.context.items():
            folded = key.casefold()
            if folded in seen:
                raise RequestError(f"context keys {seen[folded]!r} and {key!r} differ only in case")
            seen[folded] = key
            _context_values(key, value)


@dataclass(frozen=True)
class _Caller:
    arn: str
    partition: str
    account: str
    kind: str  # "role" or "user"
    name: str
    session_arn: str | None


def _caller(principal: str, session_name: str | None) -> _Caller:
    match = _PRINCIPAL_ARN.fullmatch(principal)
    if match is None:
        raise RequestError(f"principal {principal!r} is not an IAM role or user ARN")
    partition, account, kind, name = match.groups()
    session = None
    if kind == "role" and session_name is not None:
        session = f"arn:{partition}:sts::{account}:assumed-role/{name}/{session_name}"
    return _Caller(principal, partition, account, kind, name, session)


def _context_values(key: str, value: object) -> tuple[tuple[Scalar, ...], bool]:
    """(values, is_list) for one context entry; raises RequestError on a type IAM cannot carry."""
    is_list = isinstance(value, list | tuple)
    items: tuple[object, ...] = tuple(value) if isinstance(value, list | tuple) else (value,)
    scalars: list[Scalar] = []
    for item in items:
        if not isinstance(item, str | bool | int | float):
            raise RequestError(f"context key {key!r}: {item!r} is not a string, number or boolean")
        scalars.append(item)
    return tuple(scalars), is_list


# --- policy text: wildcards and variables ---------------------------------------------------

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"\s*([^,'\s][^,']*?)\s*(?:,\s*'([^']*)'\s*)?")
_SPECIAL = {"*", "?", "$"}

Chunks = tuple[tuple[str, bool], ...]  # (text, wildcards active in it)


@dataclass(frozen=True)
class _Var:
    key: str | None  # casefolded condition key; None for ${*}, ${?} and ${$}
    default: str | None  # the fixed character for those


@dataclass(frozen=True)
class _Text:
    """A string from a policy: literal text with `*`/`?` wildcards, and `${...}` variables."""

    raw: str
    parts: tuple[str | _Var, ...]  # str: policy text; _Var: a variable to substitute

    @property
    def has_variables(self) -> bool:
        return any(isinstance(p, _Var) for p in self.parts)

    def resolve(self, context: _Context) -> Chunks | None:
        """The text with variables substituted (as literals), or None if one has no value."""
        chunks: list[tuple[str, bool]] = []
        for part in self.parts:
            if isinstance(part, str):
                chunks.append((part, True))
                continue
            value = None if part.key is None else context.variable(part.key)
            if value is None:
                value = part.default
            if value is None:
                return None
            chunks.append((value, False))
        return tuple(chunks)


def _text(raw: str, variables: bool, where: str) -> _Text:
    if not variables:
        return _Text(raw, (raw,))
    parts: list[str | _Var] = []
    position = 0
    for match in _VARIABLE.finditer(raw):
        if match.start() > position:
            parts.append(raw[position : match.start()])
        body = match.group(1)
        if body in _SPECIAL:
            parts.append(_Var(None, body))  # a fixed character: ${*} is a plain asterisk
        else:
            parsed = _VARIABLE_BODY.fullmatch(body)
            if parsed is None:
                raise MalformedPolicy(f"{where}: cannot read policy variable ${{{body}}}")
            parts.append(_Var(parsed.group(1).casefold(), parsed.group(2)))
        position = match.end()
    if position < len(raw):
        parts.append(raw[position:])
    return _Text(raw, tuple(parts))


@functools.lru_cache(maxsize=8192)
def _regex(chunks: Chunks, ignore_case: bool) -> re.Pattern[str]:
    pieces = []
    for text, wild in chunks:
        for char in text:
            if wild and char == "*":
                pieces.append(".*")
            elif wild and char == "?":
                pieces.append(".")
            else:
                pieces.append(re.escape(char))
    return re.compile("".join(pieces), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _like(chunks: Chunks, value: str, *, ignore_case: bool = False) -> bool:
    return _regex(chunks, ignore_case).fullmatch(value) is not None


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` matches any run of characters, `?` one; nothing else is special."""
    return _like(((pattern, True),), value, ignore_case=ignore_case)


def _plain(chunks: Chunks) -> str:
    return "".join(text for text, _ in chunks)


def _split(chunks: Chunks, parts: int) -> list[Chunks]:
    """Split at ':' into at most `parts` segments (colons are never wildcards)."""
    segments: list[list[tuple[str, bool]]] = [[]]
    for text, wild in chunks:
        pieces = text.split(":")
        for index, piece in enumerate(pieces):
            if index and len(segments) < parts:
                segments.append([])
            elif index:
                segments[-1].append((":", False))
            segments[-1].append((piece, wild))
    return [tuple(segment) for segment in segments]


# --- conditions -------------------------------------------------------------------------------

# base operator -> (family, negated)
_OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("equals", False),
    "StringNotEquals": ("equals", True),
    "StringEqualsIgnoreCase": ("iequals", False),
    "StringNotEqualsIgnoreCase": ("iequals", True),
    "StringLike": ("like", False),
    "StringNotLike": ("like", True),
    "ArnEquals": ("arn", False),
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "NumericEquals": ("number ==", False),
    "NumericNotEquals": ("number ==", True),
    "NumericLessThan": ("number <", False),
    "NumericLessThanEquals": ("number <=", False),
    "NumericGreaterThan": ("number >", False),
    "NumericGreaterThanEquals": ("number >=", False),
    "DateEquals": ("date ==", False),
    "DateNotEquals": ("date ==", True),
    "DateLessThan": ("date <", False),
    "DateLessThanEquals": ("date <=", False),
    "DateGreaterThan": ("date >", False),
    "DateGreaterThanEquals": ("date >=", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary", False),
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
    "Null": ("null", False),
}
_VARIABLE_FAMILIES = {"equals", "iequals", "like", "arn", "bool"}
_COMPARE = {"==": eq, "<": lt, "<=": le, ">": gt, ">=": ge}
_SET_OPERATORS = ("ForAnyValue", "ForAllValues")


@dataclass(frozen=True)
class Condition:
    operator: str  # as written, e.g. "ForAllValues:StringLikeIfExists"
    key: str  # as written
    family: str
    negated: bool
    set_operator: str | None  # "ForAnyValue", "ForAllValues" or None
    if_exists: bool
    values: tuple[_Text, ...]


def _parse_operator(operator: str, where: str) -> tuple[str, bool, str | None, bool]:
    set_operator = None
    base = operator
    prefix, colon, rest = operator.partition(":")
    if colon:
        if prefix not in _SET_OPERATORS:
            raise UnknownConditionOperator(f"{where}: unknown condition operator {operator!r}")
        set_operator, base = prefix, rest
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base.removesuffix("IfExists")
    if base not in _OPERATORS:
        raise UnknownConditionOperator(f"{where}: unknown condition operator {operator!r}")
    family, negated = _OPERATORS[base]
    if family == "null" and (if_exists or set_operator):
        raise UnknownConditionOperator(
            f"{where}: {operator!r}: Null takes no IfExists or set operator"
        )
    return family, negated, set_operator, if_exists


def _policy_scalar(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedPolicy(f"{where}: condition value {value!r} is not a string, number or boolean")


def _parse_condition(block: object, variables: bool, where: str) -> tuple[Condition, ...]:
    if not isinstance(block, Mapping):
        raise MalformedPolicy(f"{where}: Condition must be an object of operators")
    conditions = []
    for operator, keys in block.items():
        family, negated, set_operator, if_exists = _parse_operator(operator, where)
        if not isinstance(keys, Mapping) or not keys:
            raise MalformedPolicy(f"{where}: {operator} must map condition keys to values")
        for key, raw in keys.items():
            items = raw if isinstance(raw, list) else [raw]
            if not items:
                raise MalformedPolicy(f"{where}: {operator} {key}: empty list of values")
            texts = tuple(
                _text(
                    _policy_scalar(item, where), variables and family in _VARIABLE_FAMILIES, where
                )
                for item in items
            )
            for text in texts:
                _check_value(family, text, f"{where}: {operator} {key}")
            conditions.append(
                Condition(operator, key, family, negated, set_operator, if_exists, texts)
            )
    return tuple(conditions)


def _check_value(family: str, text: _Text, where: str) -> None:
    """Reject a condition value its operator cannot compare, when the policy is read."""
    if text.has_variables:
        return
    try:
        if family.startswith("number"):
            _number(text.raw)
        elif family.startswith("date"):
            _date(text.raw)
        elif family == "ip":
            ipaddress.ip_network(text.raw, strict=False)
        elif family in ("bool", "null") and text.raw.lower() not in ("true", "false"):
            raise ValueError("not true or false")
        elif family == "arn":
            _arn_segments(((text.raw, True),), where)
    except ValueError as err:
        raise MalformedPolicy(f"{where}: value {text.raw!r}: {err}") from err


def _number(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _date(text: str) -> dt.datetime:
    """ISO 8601 (W3C profile) or epoch seconds, as the Date operators accept."""
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return dt.datetime.fromtimestamp(float(text), tz=dt.UTC)
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _arn_segments(chunks: Chunks, where: str) -> list[Chunks]:
    segments = _split(chunks, 6)
    if len(segments) != 6 or _plain(segments[0]) != "arn":
        raise MalformedPolicy(f"{where}: {_plain(chunks)!r} is not an ARN (arn:partition:...)")
    return segments


def _as_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_matches(condition: Condition, value: Scalar, policy: _Text, context: _Context) -> bool:
    """Whether one request value matches one policy value (before negation)."""
    family = condition.family
    where = f"{condition.operator} {condition.key}"
    if family.startswith(("number", "date")):
        kind, op = family.split()
        parse = _number if kind == "number" else _date
        try:
            left = parse(_as_text(value))
        except ValueError as err:
            raise RequestError(f"context key {condition.key!r}: {value!r} is not a {kind}") from err
        return bool(_COMPARE[op](left, parse(policy.raw)))
    if family == "ip":
        try:
            address = ipaddress.ip_address(_as_text(value))
        except ValueError as err:
            raise RequestError(f"context key {condition.key!r}: {value!r} is no IP") from err
        return address in ipaddress.ip_network(policy.raw, strict=False)
    if family == "binary":
        return _as_text(value) == policy.raw
    chunks = policy.resolve(context)
    if chunks is None:  # a policy variable without a value matches nothing
        return False
    text = _as_text(value)
    if family == "equals":
        return text == _plain(chunks)
    if family == "iequals":
        return text.casefold() == _plain(chunks).casefold()
    if family == "like":
        return _like(chunks, text)
    if family == "bool":
        return text.lower() == _plain(chunks).lower()
    # ARN operators compare the six colon-separated parts separately, each with wildcards.
    pattern = _arn_segments(chunks, where)
    actual = text.split(":", 5)
    if len(actual) != 6 or actual[0] != "arn":
        return False
    return all(_like(p, a) for p, a in zip(pattern, actual, strict=True))


def _condition_holds(condition: Condition, context: _Context) -> bool:
    found = context.lookup(condition.key)
    if condition.family == "null":
        absent = found is None or (found[1] and not found[0])
        return any((text.raw.lower() == "true") == absent for text in condition.values)
    if found is not None and found[1] and condition.set_operator is None:
        raise AmbiguousCondition(
            f"{condition.operator} on {condition.key!r}: the request gives a list of values; "
            "AWS defines a multivalued key only under ForAnyValue: or ForAllValues:"
        )
    values = found[0] if found is not None else ()
    if not values:
        if condition.if_exists:
            return True
        if condition.set_operator == "ForAllValues":
            return True
        if condition.set_operator == "ForAnyValue":
            return False
        return condition.negated

    def holds(value: Scalar) -> bool:
        matched = any(_value_matches(condition, value, text, context) for text in condition.values)
        return not matched if condition.negated else matched

    if condition.set_operator == "ForAllValues":
        return all(holds(value) for value in values)
    return any(holds(value) for value in values)


class _Context:
    """Condition keys of one request, looked up case-insensitively."""

    def __init__(self, entries: Mapping[str, ContextValue], caller: _Caller | None) -> None:
        self._entries: dict[str, tuple[tuple[Scalar, ...], bool]] = {}
        if caller is not None:
            self._entries["aws:principalarn"] = ((caller.arn,), False)
            self._entries["aws:principalaccount"] = ((caller.account,), False)
            if caller.kind == "user":
                self._entries["aws:username"] = ((caller.name,), False)
        for key, value in entries.items():
            self._entries[key.casefold()] = _context_values(key, value)

    def lookup(self, key: str) -> tuple[tuple[Scalar, ...], bool] | None:
        return self._entries.get(key.casefold())

    def variable(self, key: str) -> str | None:
        found = self.lookup(key)
        if found is None or not found[0]:
            return None
        values, is_list = found
        if is_list:
            raise AmbiguousCondition(f"policy variable ${{{key}}}: a multivalued key cannot be one")
        return _as_text(values[0])


# --- statements and policies ------------------------------------------------------------------

_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
}
_PRINCIPAL_KINDS = {"AWS", "Service", "Federated", "CanonicalUser"}


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: str  # "Allow" or "Deny"
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[_Text, ...] | None  # None: no Resource element (trust policies)
    not_resource: bool
    principals: tuple[tuple[str, str], ...] | None  # (kind, value); None: no Principal element
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"


def _strings(value: object, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise MalformedPolicy(f"{where}: expected a non-empty string or list of strings")
    return tuple(items)


def _one_of(statement: Mapping[str, Any], names: tuple[str, str], where: str) -> str | None:
    present = [name for name in names if name in statement]
    if len(present) > 1:
        raise MalformedPolicy(f"{where}: has both {names[0]} and {names[1]}")
    return present[0] if present else None


def _parse_principal(value: object, where: str) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("AWS", "*"),)
    if not isinstance(value, Mapping) or not value:
        raise MalformedPolicy(f'{where}: Principal must be "*" or an object such as {{"AWS": ...}}')
    principals: list[tuple[str, str]] = []
    for kind, names in value.items():
        if kind not in _PRINCIPAL_KINDS:
            raise MalformedPolicy(f"{where}: unknown principal type {kind!r}")
        principals.extend((kind, name) for name in _strings(names, f"{where} Principal {kind}"))
    return tuple(principals)


def _check_resource_variables(text: _Text, where: str) -> None:
    """Variables may stand only in the resource part, after the ARN's fifth colon."""
    if not text.has_variables:
        return
    prefix = ""
    for part in text.parts:
        if isinstance(part, _Var):
            break
        prefix += part
    if prefix.count(":") < 5:
        raise MalformedPolicy(f"{where}: {text.raw!r}: a policy variable before the resource part")


def _parse_statement(index: int, raw: object, variables: bool, name: str) -> Statement:
    where = f"policy {name!r} statement #{index + 1}"
    if not isinstance(raw, Mapping):
        raise MalformedPolicy(f"{where}: a statement must be an object")
    if raw.get("Sid") is not None:
        where = f"policy {name!r} statement {raw['Sid']!r}"
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise MalformedPolicy(f"{where}: unknown element(s) {sorted(unknown)}")
    if raw.get("Effect") not in ("Allow", "Deny"):
        raise MalformedPolicy(
            f'{where}: Effect must be "Allow" or "Deny", not {raw.get("Effect")!r}'
        )
    if "NotPrincipal" in raw:
        raise UnsupportedPolicy(
            f"{where}: NotPrincipal is not evaluated here; AWS recommends ArnNotEquals on "
            "aws:PrincipalArn instead (reference_policies_elements_notprincipal)"
        )
    action_key = _one_of(raw, ("Action", "NotAction"), where)
    if action_key is None:
        raise MalformedPolicy(f"{where}: needs Action or NotAction")
    actions = _strings(raw[action_key], f"{where} {action_key}")
    for action in actions:
        if action != "*" and ":" not in action:
            raise MalformedPolicy(f"{where}: action {action!r} is not service:Operation or *")
    resource_key = _one_of(raw, ("Resource", "NotResource"), where)
    resources = None
    if resource_key is not None:
        resources = tuple(
            _text(item, variables, where) for item in _strings(raw[resource_key], where)
        )
        for text in resources:
            _check_resource_variables(text, where)
    principals = _parse_principal(raw["Principal"], where) if "Principal" in raw else None
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicy(f"{where}: Sid must be a string")
    return Statement(
        index=index,
        sid=sid,
        effect=raw["Effect"],
        actions=actions,
        not_action=action_key == "NotAction",
        resources=resources,
        not_resource=resource_key == "NotResource",
        principals=principals,
        conditions=_parse_condition(raw.get("Condition", {}), variables, where),
    )


@dataclass(frozen=True)
class Policy:
    """A named policy document (a plain JSON dict), parsed and checked when it is created."""

    name: str
    document: Mapping[str, Any]
    statements: tuple[Statement, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        document = self.document
        if not isinstance(document, Mapping):
            raise MalformedPolicy(f"policy {self.name!r}: the document must be a JSON object")
        unknown = set(document) - {"Version", "Id", "Statement"}
        if unknown:
            raise MalformedPolicy(f"policy {self.name!r}: unknown element(s) {sorted(unknown)}")
        # Without a Version, IAM reads the policy as 2008-10-17, where ${...} is plain text.
        version = document.get("Version", "2008-10-17")
        if version not in _VERSIONS:
            raise MalformedPolicy(f"policy {self.name!r}: unknown Version {version!r}")
        raw = document.get("Statement")
        items = raw if isinstance(raw, list) else [raw] if raw is not None else []
        if not items:
            raise MalformedPolicy(f"policy {self.name!r}: no Statement")
        variables = version == POLICY_VARIABLES_VERSION
        statements = tuple(
            _parse_statement(index, item, variables, self.name) for index, item in enumerate(items)
        )
        object.__setattr__(self, "statements", statements)


# --- evaluation -------------------------------------------------------------------------------


class _Grant(IntEnum):
    """How a resource-policy statement's Principal relates to the caller (weakest first)."""

    NONE = 0
    ACCOUNT = 1  # delegates to the account's identity policies
    ROLE = 2  # the role itself: limited by an implicit deny in its permissions boundary
    DIRECT = 3  # the session, the user, or "*": limited by nothing but an explicit deny


def _grant(statement: Statement, caller: _Caller) -> _Grant:
    best = _Grant.NONE
    for kind, value in statement.principals or ():
        if kind != "AWS":
            continue  # Service, Federated and CanonicalUser principals are never an IAM role
        if value == "*" or value in (
            caller.session_arn,
            caller.arn if caller.kind == "user" else None,
        ):
            grant = _Grant.DIRECT
        elif value == caller.arn:
            grant = _Grant.ROLE
        elif value in (caller.account, f"arn:{caller.partition}:iam::{caller.account}:root"):
            grant = _Grant.ACCOUNT
        else:
            continue
        best = max(best, grant)
    return best


def _applies(statement: Statement, request: Request, context: _Context) -> bool:
    action = any(wildcard_match(p, request.action, ignore_case=True) for p in statement.actions)
    if action == statement.not_action:
        return False
    if statement.resources is not None:
        resource = False
        for text in statement.resources:
            chunks = text.resolve(context)
            # A Resource with a variable that has no value matches no resource.
            if chunks is not None and _like(chunks, request.resource):
                resource = True
                break
        if resource == statement.not_resource:
            return False
    return all(_condition_holds(condition, context) for condition in statement.conditions)


@dataclass(frozen=True)
class _Scope:
    title: str  # "identity policy 'X'"
    policy: Policy
    resource_based: bool


def _first(scope: _Scope, effect: str, request: Request, context: _Context) -> Statement | None:
    for statement in scope.policy.statements:
        if statement.effect == effect and _applies(statement, request, context):
            return statement
    return None


def _check_kind(scope: _Scope) -> None:
    for statement in scope.policy.statements:
        if scope.resource_based and statement.principals is None:
            raise MalformedPolicy(
                f"{scope.title} {statement.label}: a resource policy needs Principal"
            )
        if not scope.resource_based and statement.principals is not None:
            raise MalformedPolicy(
                f"{scope.title} {statement.label}: Principal in an identity policy"
            )
        if not scope.resource_based and statement.resources is None:
            raise MalformedPolicy(f"{scope.title} {statement.label}: needs Resource or NotResource")


def evaluate(
    request: Request,
    identity: Sequence[Policy],
    *,
    boundary: Policy | None = None,
    resource_policy: Policy | None = None,
    resource_policy_required: bool = False,
) -> Decision:
    """AWS's decision on `request` by a role with `identity` policies and an optional boundary.

    `resource_policy` is the policy on the resource (bucket policy, key policy, ...). With
    `resource_policy_required=True` (KMS key policies) identity policies count only through a
    key-policy statement that allows the caller's account.
    """
    if isinstance(identity, Policy):
        raise TypeError("identity takes a sequence of policies, not one Policy")
    if resource_policy_required and resource_policy is None:
        raise ValueError("resource_policy_required=True needs the resource (key) policy")
    identities = [_Scope(f"identity policy {p.name!r}", p, False) for p in identity]
    bound = (
        None
        if boundary is None
        else _Scope(f"permissions boundary {boundary.name!r}", boundary, False)
    )
    held = (
        None
        if resource_policy is None
        else _Scope(f"resource policy {resource_policy.name!r}", resource_policy, True)
    )
    scopes = [*identities, *(s for s in (bound, held) if s is not None)]
    for scope in scopes:
        _check_kind(scope)
    caller = None if request.principal is None else _caller(request.principal, request.session_name)
    if held is not None and caller is None:
        raise RequestError("a resource policy names principals: set Request.principal")
    context = _Context(request.context, caller)
    subject = f"{request.action} on {request.resource}"

    def decision(effect: Effect, why: str) -> Decision:
        return Decision(effect, f"{subject}: {why}")

    for scope in scopes:
        for statement in scope.policy.statements:
            if statement.effect != "Deny" or not _names_caller(scope, statement, caller):
                continue
            if _applies(statement, request, context):
                return decision(
                    Effect.EXPLICIT_DENY, f"explicitly denied by {scope.title} {statement.label}"
                )

    boundary_denies = bound is not None and _first(bound, "Allow", request, context) is None
    limited = ""
    delegated = False
    if held is not None and caller is not None:
        grants = [
            (grant, statement)
            for statement in held.policy.statements
            if statement.effect == "Allow"
            and (grant := _grant(statement, caller)) is not _Grant.NONE
            and _applies(statement, request, context)
        ]
        strongest, chosen = max(grants, key=lambda g: g[0], default=(_Grant.NONE, None))
        if chosen is not None and (
            strongest is _Grant.DIRECT or (strongest is _Grant.ROLE and not boundary_denies)
        ):
            return decision(Effect.ALLOW, f"allowed by {held.title} {chosen.label}")
        if chosen is not None and strongest is _Grant.ROLE and bound is not None:
            limited = (
                f"; {held.title} {chosen.label} names the role, "
                f"but the {bound.title} does not allow it"
            )
        delegated = any(g is _Grant.ACCOUNT for g, _ in grants)
        if resource_policy_required and not delegated:
            return decision(
                Effect.IMPLICIT_DENY,
                f"{held.title} neither allows the caller nor lets IAM policies allow it "
                f"(no applicable Allow for the account principal){limited}",
            )

    for scope in identities:
        allowing = _first(scope, "Allow", request, context)
        if allowing is None:
            continue
        if bound is not None and boundary_denies:
            return decision(
                Effect.IMPLICIT_DENY,
                f"{scope.title} {allowing.label} allows it, but the {bound.title} does not",
            )
        return decision(Effect.ALLOW, f"allowed by {scope.title} {allowing.label}")
    return decision(Effect.IMPLICIT_DENY, f"no identity policy statement allows it{limited}")


def _names_caller(scope: _Scope, statement: Statement, caller: _Caller | None) -> bool:
    """Whether a statement concerns the caller: always in identity policies and boundaries."""
    if not scope.resource_based:
        return True
    return caller is not None and _grant(statement, caller) is not _Grant.NONE
