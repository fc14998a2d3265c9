"""Read a CloudFormation/SAM template, and resolve it as CloudFormation would for given parameters.

One loader (`load_template`, `parse_template`) turns short-form tags (`!Ref`, `!If`...) into their
long form, so every reader sees the same plain dicts and lists. Two ways to resolve, one evaluator
of Conditions behind both:

- `deployed(template, parameters)` applies only what decides a stack's shape: each resource's
  Condition, `Fn::If` and `AWS::NoValue`. Every other intrinsic (`Ref`, `Fn::GetAtt`, `Fn::Sub`)
  stays as written, so invariant tests, the lifecycle checks and the template diff can follow
  references between resources.
- `Resolver.resolve` turns a property value into plain data with values for parameters and pseudo
  parameters (the local stack's view). A `Ref` or `Fn::GetAtt` of a resource named `later` (one
  the local stack creates, whose ID the emulator picks) becomes a `Deferred` string, bound to the
  real IDs once they exist; a `Ref` to any other resource becomes a `LogicalRef`, which callers
  follow through the template (listener rule -> target group -> ECS service). Anything else raises
  `UnsupportedTemplate` with the path of the value, so the message names the resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "If": "Fn::If",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "ImportValue": "Fn::ImportValue",
    "GetAZs": "Fn::GetAZs",
    "Base64": "Fn::Base64",
    "Cidr": "Fn::Cidr",
    "Length": "Fn::Length",
    "ToJsonString": "Fn::ToJsonString",
    "Transform": "Fn::Transform",
}


class UnsupportedTemplate(Exception):
    """The template uses something the local stack cannot emulate; the message names where."""


class _TemplateLoader(yaml.SafeLoader):
    """A safe loader that turns CloudFormation short-form tags into their long form."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _SHORT_TAGS.get(tag_suffix)
    if name is None:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown CloudFormation tag !{tag_suffix}", node.start_mark
        )
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a template file (short or long intrinsic forms) into plain dicts and lists."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UnsupportedTemplate(f"cannot read the template: {err.strerror}") from err
    return parse_template(text)


def parse_template(text: str) -> dict[str, Any]:
    """Parse a template's text (YAML or JSON, short or long intrinsic forms)."""
    try:
        data = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        raise UnsupportedTemplate(f"not a readable template: {err}") from err
    if not isinstance(data, dict):
        raise UnsupportedTemplate("not a template (its top level is not a mapping)")
    return data


@dataclass(frozen=True)
class LogicalRef:
    """A `Ref` to a resource that exists only in the template (a listener, a target group...)."""

    logical_id: str


@dataclass(frozen=True)
class Physical:
    """What a created resource answers to `Ref` and `Fn::GetAtt`."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Placeholder:
    """`Ref` (attribute None) or `Fn::GetAtt` of a resource that does not exist yet."""

    logical_id: str
    attribute: str | None = None


@dataclass(frozen=True)
class Deferred:
    """A string that names resources created later: literal text and placeholders, in order."""

    parts: tuple[str | Placeholder, ...]

    @property
    def resources(self) -> frozenset[str]:
        return frozenset(p.logical_id for p in self.parts if isinstance(p, Placeholder))

    def bind(self, physical: Mapping[str, Physical]) -> str:
        """The string, with each placeholder replaced by what that resource answers."""
        text: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            created = physical.get(part.logical_id)
            if created is None:
                raise UnsupportedTemplate(f"{part.logical_id} has not been created")
            if part.attribute is None:
                text.append(created.ref)
            elif part.attribute in created.attributes:
                text.append(created.attributes[part.attribute])
            else:
                raise UnsupportedTemplate(
                    f"Fn::GetAtt {part.logical_id}.{part.attribute} has no local value"
                )
        return "".join(text)


Text = str | Deferred


def bind(value: Any, physical: Mapping[str, Physical]) -> Any:
    """`value` with every `Deferred` inside it (mappings, lists) bound to the created resources."""
    if isinstance(value, Deferred):
        return value.bind(physical)
    if isinstance(value, Mapping):
        return {k: bind(v, physical) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(bind(v, physical) for v in value)
    return value


def _concat(pieces: list[Text]) -> Text:
    if all(isinstance(p, str) for p in pieces):
        return "".join(p for p in pieces if isinstance(p, str))
    parts: list[str | Placeholder] = []
    for piece in pieces:
        for part in (piece,) if isinstance(piece, str) else piece.parts:
            if isinstance(part, str) and parts and isinstance(parts[-1], str):
                parts[-1] += part  # adjacent text stays one part
            elif part != "":
                parts.append(part)
    return Deferred(tuple(parts))


class _NoValue:
    """`AWS::NoValue`: the property disappears from its mapping or list."""


NO_VALUE = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Resolves intrinsic functions of one template with local values."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str],
        pseudo: Mapping[str, str],
        later: frozenset[str] = frozenset(),
    ) -> None:
        self.template = template
        self.pseudo = dict(pseudo)
        self.parameters = self._parameter_values(parameters)
        self.physical: dict[str, Physical] = {}
        self.later = later  # resources whose Ref and GetAtt resolve to Deferred strings
        self._conditions: dict[str, bool] = {}

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        resources = self.template.get("Resources") or {}
        assert isinstance(resources, dict)
        return resources

    def resource(self, logical_id: str) -> Mapping[str, Any]:
        resource = self.resources.get(logical_id)
        if resource is None:
            raise UnsupportedTemplate(f"Resources.{logical_id}: no such resource in the template")
        return resource

    def of_type(self, *types: str) -> list[str]:
        """Logical IDs of the resources of these types whose Condition holds, in template order."""
        return [
            logical_id
            for logical_id, resource in self.resources.items()
            if resource.get("Type") in types and self._resource_condition(logical_id)
        ]

    def properties(self, logical_id: str) -> Mapping[str, Any]:
        props = self.resource(logical_id).get("Properties") or {}
        assert isinstance(props, dict)
        return props

    def prop(self, logical_id: str, name: str, default: Any = None) -> Any:
        """One resolved property of a resource (default when absent)."""
        props = self.properties(logical_id)
        if name not in props:
            return default
        value = self.resolve(props[name], f"Resources.{logical_id}.Properties.{name}")
        return default if value is NO_VALUE else value

    def _parameter_values(self, local: Mapping[str, str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for name, spec in (self.template.get("Parameters") or {}).items():
            if name in local:
                values[name] = local[name]
            elif isinstance(spec, dict) and "Default" in spec:
                values[name] = str(spec["Default"])
        return values

    def _resource_condition(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(str(condition), f"Resources.{logical_id}")

    def condition(self, name: str, where: str) -> bool:
        if name not in self._conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise UnsupportedTemplate(f"{where}: unknown condition {name}")
            self._conditions[name] = bool(self.resolve(spec, f"Conditions.{name}"))
        return self._conditions[name]

    def resolve(self, value: Any, where: str) -> Any:
        """Plain data for `value`; `where` is the value's path in the template, for messages."""
        if isinstance(value, list):
            items = [self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value)]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" or key == "Condition" or key.startswith("Fn::"):
                return self._intrinsic(key, arg, f"{where}.{key}")
        resolved = {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def chosen(self, value: Any, where: str) -> Any | None:
        """`value` with its top-level `Fn::If` decided, left unresolved below; None where the
        branch taken is `AWS::NoValue` (a list item or property CloudFormation leaves out)."""
        while isinstance(value, dict) and set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            value = when_true if self.condition(str(name), where) else when_false
        return None if value == NO_VALUE_REF else value

    def text(self, value: Any, where: str) -> str:
        """Resolve `value` and insist on a string known now."""
        resolved = self.later_text(value, where)
        if isinstance(resolved, Deferred):
            names = ", ".join(sorted(resolved.resources))
            raise UnsupportedTemplate(f"{where}: needs a value before {names} exists")
        return resolved

    def later_text(self, value: Any, where: str) -> Text:
        """Resolve `value` and insist on a string, now or once the `later` resources exist."""
        resolved = self.resolve(value, where)
        if isinstance(resolved, bool | int | float):
            return str(resolved).lower() if isinstance(resolved, bool) else str(resolved)
        if not isinstance(resolved, str | Deferred):
            raise UnsupportedTemplate(
                f"{where}: needs a string locally but resolves to {_describe(resolved)}"
            )
        return resolved

    def _intrinsic(self, key: str, arg: Any, where: str) -> Any:
        if key == "Ref":
            return self._ref(str(arg), where)
        if key == "Condition":
            return self.condition(str(arg), where)
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if not isinstance(parts, list) or len(parts) != 2:
                raise UnsupportedTemplate(f"{where}: malformed Fn::GetAtt {arg!r}")
            return self._get_att(self.text(parts[0], where), self.text(parts[1], where), where)
        if key == "Fn::Sub":
            return self._sub(arg, where)
        if key == "Fn::Join":
            delimiter, items = arg
            values = self.resolve(items, where)
            if not isinstance(values, list):
                raise UnsupportedTemplate(f"{where}: Fn::Join needs a list")
            pieces: list[Text] = []
            for i, v in enumerate(values):
                pieces += [str(delimiter)] if i else []
                pieces.append(self.later_text(v, where))
            return _concat(pieces)
        if key == "Fn::If":
            name, when_true, when_false = arg
            chosen = when_true if self.condition(str(name), where) else when_false
            return self.resolve(chosen, where)
        if key == "Fn::Equals":
            left, right = (self.resolve(v, where) for v in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.resolve(arg[0], where)
        if key == "Fn::And":
            return all(self.resolve(v, where) for v in arg)
        if key == "Fn::Or":
            return any(self.resolve(v, where) for v in arg)
        if key == "Fn::Select":
            index, items = arg
            values = self.resolve(items, where)
            return values[int(self.resolve(index, where))]
        if key == "Fn::Split":
            delimiter, source = arg
            return self.text(source, where).split(str(delimiter))
        if key == "Fn::FindInMap":
            name, top, second = (self.text(v, where) for v in arg[:3])
            try:
                return self.resolve(self.template["Mappings"][name][top][second], where)
            except KeyError as err:
                raise UnsupportedTemplate(
                    f"{where}: no mapping entry {name}/{top}/{second}"
                ) from err
        if key == "Fn::Base64":
            import base64

            return base64.b64encode(self.text(arg, where).encode()).decode()
        if key == "Fn::ToJsonString":
            import json

            return json.dumps(self.resolve(arg, where), separators=(",", ":"))
        raise UnsupportedTemplate(f"{where}: {key} is not supported by the local stack")

    def _ref(self, name: str, where: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name.startswith("AWS::"):
            raise UnsupportedTemplate(f"{where}: pseudo parameter {name} has no local value")
        if name in self.parameters:
            return self.parameters[name]
        if name in (self.template.get("Parameters") or {}):
            raise UnsupportedTemplate(
                f"{where}: parameter {name} has no Default and no local value"
            )
        if name in self.physical:
            return self.physical[name].ref
        if name in self.later:
            return Deferred((Placeholder(name),))
        if name in self.resources:
            return LogicalRef(name)
        raise UnsupportedTemplate(f"{where}: Ref to unknown name {name}")

    def _get_att(self, logical_id: str, attribute: str, where: str) -> Text:
        physical = self.physical.get(logical_id)
        if physical is None and logical_id in self.later:
            return Deferred((Placeholder(logical_id, attribute),))
        if physical is None:
            kind = self.resources.get(logical_id, {}).get("Type", "unknown")
            raise UnsupportedTemplate(
                f"{where}: Fn::GetAtt {logical_id}.{attribute}: {logical_id} ({kind}) "
                "is not created by the local stack"
            )
        if attribute not in physical.attributes:
            raise UnsupportedTemplate(
                f"{where}: Fn::GetAtt {logical_id}.{attribute} has no local value"
            )
        return physical.attributes[attribute]

    def _sub(self, arg: Any, where: str) -> Text:
        if isinstance(arg, list):
            source, variables = arg[0], arg[1]
            local = {k: self.later_text(v, f"{where}.{k}") for k, v in variables.items()}
        else:
            source, local = arg, {}

        def variable(name: str) -> Text:
            if name in local:
                return local[name]
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self._get_att(logical_id, attribute, where)
            return self.later_text({"Ref": name}, where)

        pieces: list[Text] = []
        text = str(source)
        position = 0
        for match in _SUB_VARIABLE.finditer(text):
            pieces.append(text[position : match.start()].replace("${!", "${"))
            pieces.append(variable(match.group(1).strip()))
            position = match.end()
        pieces.append(text[position:].replace("${!", "${"))
        return _concat(pieces)


def _describe(value: Any) -> str:
    if isinstance(value, LogicalRef):
        return f"the resource {value.logical_id}, which the local stack does not create"
    return type(value).__name__


NO_VALUE_REF = {"Ref": "AWS::NoValue"}


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    """Every parameter's value: `given`, else its Default. A parameter with neither is an error."""
    declared = template.get("Parameters") or {}
    values = {name: spec.get("Default") for name, spec in declared.items()}
    values.update({k: v for k, v in given.items() if k in declared})
    missing = sorted(name for name, value in values.items() if value is None)
    if missing:
        raise UnsupportedTemplate(f"no value for the parameters {', '.join(missing)}")
    return {name: str(value) for name, value in values.items()}


def deployed(
    template: Mapping[str, Any], parameters: Mapping[str, str], pseudo: Mapping[str, str]
) -> dict[str, Any]:
    """The template as CloudFormation creates it for these parameter values.

    Resources and Outputs whose Condition is false are gone; `Fn::If` is replaced by the branch
    its condition picks; `AWS::NoValue` removes its key or list item. Nothing else is resolved.
    `Parameters` becomes a flat map of every parameter's value, `Conditions` of each condition's
    truth.
    """
    values = parameter_values(template, parameters)
    resolver = Resolver(template, values, pseudo)
    truth = {
        name: resolver.condition(name, f"Conditions.{name}")
        for name in template.get("Conditions") or {}
    }

    def keep(section: str) -> dict[str, Any]:
        return {
            name: _pick_branches({k: v for k, v in item.items() if k != "Condition"}, truth)
            for name, item in (template.get(section) or {}).items()
            if truth.get(item.get("Condition", ""), True)
        }

    shaped = {k: v for k, v in template.items() if k not in ("Resources", "Outputs")}
    shaped.update(
        Resources=keep("Resources"), Outputs=keep("Outputs"), Parameters=values, Conditions=truth
    )
    return shaped


def _pick_branches(value: Any, truth: Mapping[str, bool]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            return _pick_branches(when_true if truth[name] else when_false, truth)
        picked = {k: _pick_branches(v, truth) for k, v in value.items()}
        return {k: v for k, v in picked.items() if v != NO_VALUE_REF}
    if isinstance(value, list):
        return [p for p in (_pick_branches(v, truth) for v in value) if p != NO_VALUE_REF]
    return value


def references(value: Any) -> Iterator[str]:
    """Names a value refers to: `Ref`, `Fn::GetAtt`, and `${X}` / `${X.Attr}` in `Fn::Sub`
    (parameters and pseudo parameters included; callers keep the resources)."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        elif "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            yield str(att[0] if isinstance(att, list) else att.split(".")[0])
        elif "Fn::Sub" in value:
            arg = value["Fn::Sub"]
            text = arg[0] if isinstance(arg, list) else arg
            local = set(arg[1]) if isinstance(arg, list) else set()
            for name in re.findall(r"\$\{([^}!.]+)(?:\.[^}]*)?\}", str(text)):
                if name not in local:
                    yield name
            if isinstance(arg, list):
                yield from references(arg[1])
        else:
            for v in value.values():
                yield from references(v)
    elif isinstance(value, list):
        for v in value:
            yield from references(v)
