"""A template as YAML: byte for byte what troposphere's `to_yaml(clean_up=True)` writes, faster.

`Template.to_yaml` hands `cfn_flip.to_yaml` the template as indented JSON, which cfn_flip reads
back into `cfn_tools.ODict` mappings, cleans up (Fn::Join to Fn::Sub), and dumps with its
`CleanDumper`. Three costs of that path repeat for every key and add up to more than the
generator's own work (`python -m scripts.bench generate`):

- `ODict.items()` returns `OdictItems`, which defines a new class per key (so that PyYAML's key
  sort leaves the order alone); PyYAML and cfn_clean call it for every mapping, once or twice;
- indented JSON goes through the json module's pure-Python encoder, not its C one;
- PyYAML's emitter analyses every scalar character by character, also the same `Ref`, `Type`
  or logical ID for the hundredth time.

Here the mappings are `_Mapping`, an ODict whose `items()` is the plain dict view; cfn_flip's
own mapping representer is reproduced with its pairs handed to PyYAML as a list (which PyYAML
never sorts, as the OdictItems trick intended); the JSON is unindented (the same data); and the
emitter remembers its analysis of each scalar, a pure function of the scalar's text and type.
Everything else is cfn_flip's: its clean-up, its literal parser, its dumper, its scalar
representers. tests/generator/test_golden.py compares the output with cfn_flip's own.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import yaml
from cfn_clean import cfn_literal_parser, clean
from cfn_flip.yaml_dumper import CONVERTED_SUFFIXES, FN_PREFIX, CleanDumper
from cfn_tools._config import config
from cfn_tools.odict import ODict
from troposphere import Template

TAG_MAP = "tag:yaml.org,2002:map"
_items = OrderedDict.items


class _Mapping(ODict):  # type: ignore[misc]
    """A JSON object as cfn_flip reads it (an ODict), with the plain, class-free items()."""

    items = _items


def _pairs(value: Any) -> Any:
    """A mapping's items as a list, which PyYAML represents in order without sorting."""
    return list(_items(value)) if isinstance(value, ODict) else value


def _function(dumper: yaml.Dumper, name: str, value: Any) -> yaml.Node:
    """cfn_flip's fn_representer: `{"Fn::GetAtt": [a, b]}` as `!GetAtt a.b`, and so on."""
    tag = "!" + name
    if tag == "!GetAtt" and isinstance(value, list):
        value = ".".join(value)
    if isinstance(value, list):
        return dumper.represent_sequence(tag, value)
    if isinstance(value, dict):
        return dumper.represent_mapping(tag, _pairs(value))
    return dumper.represent_scalar(tag, value)


def _mapping(dumper: yaml.Dumper, value: Any) -> yaml.Node:
    """cfn_flip's map_representer: a one-key mapping of an intrinsic function in short form."""
    pairs = list(_items(value))
    if len(pairs) == 1:
        key, inner = pairs[0]
        if key in CONVERTED_SUFFIXES:
            return _function(dumper, key, inner)
        if key.startswith(FN_PREFIX):
            return _function(dumper, key[len(FN_PREFIX) :], inner)
    return dumper.represent_mapping(TAG_MAP, pairs, flow_style=False)


class _Dumper(CleanDumper):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._analyses: dict[tuple[type, str], Any] = {}

    def analyze_scalar(self, scalar: str) -> Any:
        key = (type(scalar), scalar)
        found = self._analyses.get(key)
        if found is None:
            found = self._analyses[key] = super().analyze_scalar(scalar)
        return found


_Dumper.add_representer(ODict, _mapping)
_Dumper.add_representer(_Mapping, _mapping)


def to_yaml(template: Template) -> str:
    """The template as `template.to_yaml(clean_up=True, long_form=False)` writes it."""
    data = json.loads(template.to_json(indent=None), object_pairs_hook=_Mapping)
    text: str = yaml.dump(
        cfn_literal_parser(clean(data)),
        Dumper=_Dumper,
        default_flow_style=False,
        allow_unicode=True,
        width=config.max_col_width,
    )
    return text
