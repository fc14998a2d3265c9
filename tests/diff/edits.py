"""Deliberate generator changes for the diff tests.

A "generator change" here is the generator rendered with other Settings, or its output patched in
memory; nothing under generator/, templates/ or config/ is touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from scripts.cfn.template import parse_template
from scripts.diff.sources import Revision


def with_templates(base: Revision, label: str, templates: Mapping[str, str]) -> Revision:
    return Revision(label, {**base.templates, **templates}, base.configs)


def patched(base: Revision, stack: str, edit: Callable[[dict[str, Any]], None]) -> Revision:
    """`base` with one template parsed, edited in place and written back (as JSON)."""
    template = parse_template(base.templates[stack])
    edit(template)
    return with_templates(base, f"{stack} patched", {stack: json.dumps(template)})
