"""AWS CDK's template differ, `@aws-cdk/cloudformation-diff`, run under Node.js.

The library is what `cdk diff` is built on: it pairs resources by logical ID, ignores what
CloudFormation ignores (key order, `DependsOn` order, "10" against 10) and turns IAM policies and
security-group rules into comparable statements and rules. `make venv` installs it, pinned by
tools/cfndiff/package-lock.json, into .venv-cfndiff; tools/cfndiff/cfndiff.cjs runs it on every
pair in one Node process and prints JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.diff.errors import ToolFailed, ToolMissing

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "cfndiff" / "cfndiff.cjs"
MODULE = ROOT / ".venv-cfndiff" / "node_modules" / "@aws-cdk" / "cloudformation-diff"
TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Pair:
    key: str
    old: Mapping[str, Any]
    new: Mapping[str, Any]


def compare(pairs: Sequence[Pair], module: Path = MODULE) -> dict[str, dict[str, Any]]:
    """The differ's findings per pair key (see tools/cfndiff/cfndiff.cjs for their shape)."""
    if not pairs:
        return {}
    node = shutil.which("node")
    if node is None:
        raise ToolMissing("Node.js is required for the template diff (apt-get install nodejs)")
    if not (module / "package.json").exists():
        raise ToolMissing(f"{module} is missing: run `make venv` (npm ci from tools/cfndiff/)")
    payload = json.dumps([{"key": p.key, "old": p.old, "new": p.new} for p in pairs])
    try:
        result = subprocess.run(
            [node, str(SCRIPT)],
            input=payload,
            env={**os.environ, "CFNDIFF_MODULE": str(module)},
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as err:
        raise ToolFailed(f"the template differ did not finish within {TIMEOUT_SECONDS} s") from err
    if result.returncode != 0:
        raise ToolFailed(f"the template differ failed:\n{result.stderr.strip()}")
    try:
        found: list[dict[str, Any]] = json.loads(result.stdout)
    except json.JSONDecodeError as err:
        raise ToolFailed(f"the template differ printed no JSON: {result.stdout[:200]!r}") from err
    return {item["key"]: item for item in found}
