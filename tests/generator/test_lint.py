"""Every committed template passes cfn-lint (informational rules included) and checkov.

checkov skips are allowed only in the skipped resource's Metadata, each with a reason, so a
reviewer sees every exception next to the resource it excuses. Every Dockerfile passes hadolint.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from scripts.cfn import sam
from scripts.cfn.template import load_template

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


KNOWN_BAD = "known-bad.yaml"
# A public-read bucket (checkov) next to a table without retain policies (cfn-lint's I3011).
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


@functools.cache
def _scanned() -> tuple[dict[str, list[str]], dict[str, dict[str, list[dict[str, Any]]]]]:
    """cfn-lint's and checkov's findings per template, each tool run once over every template
    plus a known-bad one (the tools start slowly; the bad one proves the gates can fail)."""
    if not CHECKOV.exists():
        pytest.fail(f"{_rel(CHECKOV)} is missing: run `make venv`")
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / KNOWN_BAD
        bad.write_text(BAD_TEMPLATE)
        paths = [*TEMPLATES, bad]
        names = {str(p.resolve()): _label(p) for p in paths}

        lint = subprocess.run(
            [
                str(CFN_LINT),
                "--include-checks",
                "I",
                "--format",
                "parseable",
                "--",
                *map(str, paths),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert lint.returncode in (0, 2, 4, 6, 8, 10, 12, 14), f"cfn-lint crashed:\n{lint.stderr}"
        lint_findings: dict[str, list[str]] = {name: [] for name in names.values()}
        for line in (lint.stdout + lint.stderr).splitlines():
            if line.strip():
                file_name = str(Path(line.split(":", 1)[0]).resolve())
                lint_findings[names.get(file_name, "?")].append(line)

        # No network: no guideline download from the vendor, no update check against PyPI.
        env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
        files = [arg for p in paths for arg in ("-f", str(p))]
        options = ["--output", "json", "--quiet", "--skip-download"]
        scan = subprocess.run(
            [str(CHECKOV), "--framework", "cloudformation", *files, *options],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            check=False,
        )
    assert scan.returncode in (0, 1), f"checkov crashed:\n{scan.stderr}"
    report = json.loads(scan.stdout)
    if isinstance(report, list):  # one report per framework; only one is asked for
        (report,) = report
    checks: dict[str, dict[str, list[dict[str, Any]]]] = {
        name: {"failed_checks": [], "skipped_checks": []} for name in names.values()
    }
    for kind in ("failed_checks", "skipped_checks"):
        for check in report.get("results", {}).get(kind, []):
            file_name = str(Path(check["file_abs_path"]).resolve())
            checks[names.get(file_name, "?")][kind].append(check)
    return lint_findings, checks


def _label(path: Path) -> str:
    return KNOWN_BAD if path.name == KNOWN_BAD else _rel(path)


def cfn_lint_findings(path: Path) -> list[str]:
    return _scanned()[0][_label(path)]


def checkov(path: Path) -> dict[str, list[dict[str, Any]]]:
    return _scanned()[1][_label(path)]


@pytest.mark.parametrize("path", TEMPLATES, ids=_rel)
def test_cfn_lint_reports_nothing(path: Path) -> None:
    findings = cfn_lint_findings(path)
    assert not findings, f"cfn-lint -c I {_rel(path)}:\n" + "\n".join(findings)


@pytest.mark.parametrize("path", TEMPLATES, ids=_rel)
def test_checkov_finds_no_failed_checks(path: Path) -> None:
    failed = checkov(path)["failed_checks"]
    summary = "\n".join(f"  {c['check_id']} {c['resource']}: {c['check_name']}" for c in failed)
    assert not failed, f"checkov: {len(failed)} failed check(s) in {_rel(path)}:\n{summary}"


@pytest.mark.parametrize("path", TEMPLATES, ids=_rel)
def test_every_checkov_skip_is_in_resource_metadata_with_a_reason(path: Path) -> None:
    template = load_template(path)
    declared: set[tuple[str, str]] = set()
    for logical_id, resource in template.get("Resources", {}).items():
        skips = (resource.get("Metadata") or {}).get("checkov", {}).get("skip", [])
        for skip in skips:
            assert set(skip) == {"id", "comment"}, f"{logical_id}: {skip}"
            assert str(skip["comment"]).strip(), f"{logical_id} skips {skip['id']} without reason"
            declared.add((logical_id, skip["id"]))
    assert "checkov:skip" not in path.read_text(), "skip in resource Metadata, not in comments"

    for check in checkov(path)["skipped_checks"]:
        logical_id = check["resource"].split(".", 1)[1]
        assert (logical_id, check["check_id"]) in declared, (
            f"{check['check_id']} on {logical_id} was skipped outside its Metadata"
        )


def test_the_lint_gates_catch_a_public_bucket_and_an_unretained_table() -> None:
    bad = Path(KNOWN_BAD)
    assert any(":I3011:" in line for line in cfn_lint_findings(bad)), cfn_lint_findings(bad)
    failed = {c["check_id"] for c in checkov(bad)["failed_checks"]}
    assert {"CKV_AWS_20", "CKV_AWS_21"} <= failed, failed  # public-read ACL, no versioning


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


# hadolint must be able to fail too.


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


# cfn-lint 1.58 no longer expands SAM: the functions would only be checked as AWS::Serverless::
# Function. The expanded template (aws-sam-translator, scripts/cfn/sam.py) is linted too, next to
# an expansion whose function names a runtime Lambda does not have.


@functools.cache
def _expanded_findings() -> dict[str, list[str]]:
    template = load_template(ROOT / "templates" / "core.yaml")
    broken = copy.deepcopy(template)
    broken["Resources"]["ReleaseGateFunction"]["Properties"]["Runtime"] = "python2.0"
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, source in (("core", template), ("broken", broken)):
            paths[name] = Path(tmp) / f"{name}.expanded.json"
            paths[name].write_text(json.dumps(sam.expand(source, {"Environment": "dev"})))
        lint = subprocess.run(
            [str(CFN_LINT), "--include-checks", "I", "--format", "parseable", "--"]
            + [str(p) for p in paths.values()],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
    assert lint.returncode in (0, 2, 4, 6, 8, 10, 12, 14), f"cfn-lint crashed:\n{lint.stderr}"
    found: dict[str, list[str]] = {name: [] for name in paths}
    for line in lint.stdout.splitlines():
        for name, path in paths.items():
            if line.startswith(str(path)):
                found[name].append(line)
    return found


def test_cfn_lint_reports_nothing_on_the_expanded_sam_template() -> None:
    findings = _expanded_findings()["core"]
    assert not findings, "cfn-lint -c I on core.yaml after the SAM transform:\n" + "\n".join(
        findings
    )


def test_the_expanded_lint_catches_a_bad_function() -> None:
    findings = _expanded_findings()["broken"]
    assert any("ReleaseGateFunction" in line or "python2.0" in line for line in findings), findings
