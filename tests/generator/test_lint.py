"""Every committed template passes cfn-lint (informational rules included) and checkov.

checkov skips are allowed only in the skipped resource's Metadata, each with a reason, so a
reviewer sees every exception next to the resource it excuses. Every Dockerfile passes hadolint.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CFN_LINT = BIN / "cfn-lint"
HADOLINT = BIN / "hadolint"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"

# Collected at import time, so a new template or Dockerfile is covered without editing this file.
TEMPLATES = sorted(ROOT.glob("templates/*.yaml"))
DOCKERFILES = sorted(ROOT.glob("app/*/Dockerfile"))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, ...) as plain values."""


def _tagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _tagged)


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CFN_LINT), "--include-checks", "I", "--", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@functools.cache
def checkov(path: Path) -> dict[str, Any]:
    """checkov's JSON report for one template (cached: several tests read it)."""
    if not CHECKOV.exists():
        pytest.fail(f"{_rel(CHECKOV)} is missing: run `make venv`")
    # No network: no guideline download from the vendor, no update check against PyPI.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
    result = subprocess.run(
        [
            str(CHECKOV),
            "--framework",
            "cloudformation",
            "-f",
            str(path),
            "--output",
            "json",
            "--quiet",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode in (0, 1), f"checkov crashed:\n{result.stderr}"
    report = json.loads(result.stdout)
    # A single framework gives one report; an empty template gives a bare summary.
    if isinstance(report, list):
        (report,) = report
    results: dict[str, Any] = report.get("results", {})
    return results


@pytest.mark.parametrize("path", TEMPLATES, ids=_rel)
def test_cfn_lint_reports_nothing(path: Path) -> None:
    result = cfn_lint(path)
    output = (result.stdout + result.stderr).strip()
    assert not output, f"cfn-lint -c I {_rel(path)}:\n{output}"
    assert result.returncode == 0


@pytest.mark.parametrize("path", TEMPLATES, ids=_rel)
def test_checkov_finds_no_failed_checks(path: Path) -> None:
    failed = checkov(path).get("failed_checks", [])
    summary = "\n".join(f"  {c['check_id']} {c['resource']}: {c['check_name']}" for c in failed)
    assert not failed, f"checkov: {len(failed)} failed check(s) in {_rel(path)}:\n{summary}"


@pytest.mark.parametrize("path", TEMPLATES, ids=_rel)
def test_every_checkov_skip_is_in_resource_metadata_with_a_reason(path: Path) -> None:
    template = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 (SafeLoader subclass)
    declared: set[tuple[str, str]] = set()
    for logical_id, resource in template.get("Resources", {}).items():
        skips = (resource.get("Metadata") or {}).get("checkov", {}).get("skip", [])
        for skip in skips:
            assert set(skip) == {"id", "comment"}, f"{logical_id}: {skip}"
            assert str(skip["comment"]).strip(), f"{logical_id} skips {skip['id']} without reason"
            declared.add((logical_id, skip["id"]))
    assert "checkov:skip" not in path.read_text(), "skip in resource Metadata, not in comments"

    for check in checkov(path).get("skipped_checks", []):
        logical_id = check["resource"].split(".", 1)[1]
        assert (logical_id, check["check_id"]) in declared, (
            f"{check['check_id']} on {logical_id} was skipped outside its Metadata"
        )


@pytest.mark.parametrize("path", DOCKERFILES, ids=_rel)
def test_hadolint_reports_nothing(path: Path) -> None:
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    assert not output, f"hadolint {_rel(path)}:\n{output}"
    assert result.returncode == 0


# The gates themselves must be able to fail: each tool flags a known-bad input.

BAD_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      AccessControl: PublicRead
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"""


def test_the_lint_gates_catch_a_public_bucket_and_an_unretained_table(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_TEMPLATE)
    lint = cfn_lint(bad)
    assert lint.returncode != 0
    assert "I3011" in lint.stdout, "the stateful-resource rule is enabled"
    failed = {c["check_id"] for c in checkov(bad).get("failed_checks", [])}
    assert {"CKV_AWS_20", "CKV_AWS_21"} <= failed, failed  # public-read ACL, no versioning


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && apt-get install gcc\n")
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout, result.stdout  # the `latest` tag
