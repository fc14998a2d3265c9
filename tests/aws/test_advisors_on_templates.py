"""parliament and cloudsplaining over every identity policy of the CI and core stacks.

Both are advisory: cloudsplaining skips any statement with a condition or a resource other than
`*`, and neither evaluates a request (scripts/iam/advisors.py). The gate is the concrete requests
of test_escalation.py and test_handler_permissions.py. What they report still has to be read: each
finding that stands is explained in the Metadata of the resource that holds the policy
(`iam-advisors`: tool, issue, reason), as checkov's skips are, and an explanation with no finding
left behind fails too.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts.iam.advisors import findings
from scripts.iam.stack_roles import policy_documents
from tests.aws.conftest import ENVIRONMENTS, GITHUB_REPOSITORY, core_parameters, deployment


def advisor_findings(
    template: dict[str, Any], layer: str, parameters: dict[str, str], environment: str
) -> dict[str, set[tuple[str, str]]]:
    """(tool, issue) per resource that holds identity policies."""
    found: dict[str, set[tuple[str, str]]] = {}
    for logical_id, documents in policy_documents(
        template, layer, deployment(environment), parameters
    ).items():
        found[logical_id] = {(f.tool, f.issue) for d in documents for f in findings(d)}
    return found


def notes(template: dict[str, Any], logical_id: str) -> dict[tuple[str, str], str]:
    metadata = template["Resources"][logical_id].get("Metadata") or {}
    return {(n["tool"], n["issue"]): n["reason"] for n in metadata.get("iam-advisors", [])}


def stacks(
    rendered: dict[str, dict[str, Any]], environment: str
) -> list[tuple[dict[str, Any], str, dict[str, str]]]:
    ci = {"Environment": environment, "GitHubRepository": GITHUB_REPOSITORY}
    return [
        (rendered["ci"], "ci", ci),
        (rendered["core"], "core", core_parameters(environment, EnableExec="true")),
    ]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_advisor_finding_is_explained_where_the_policy_lives(
    rendered: dict[str, dict[str, Any]], environment: str
) -> None:
    unexplained = []
    for template, layer, parameters in stacks(rendered, environment):
        for logical_id, found in advisor_findings(template, layer, parameters, environment).items():
            explained = notes(template, logical_id)
            for tool, issue in sorted(found - set(explained)):
                unexplained.append(f"{layer}/{logical_id}: {tool} {issue}")
            assert all(reason.strip() for reason in explained.values()), logical_id
    assert not unexplained, "unexplained IAM advisor findings:\n  " + "\n  ".join(unexplained)


def test_no_explanation_outlives_its_finding(rendered: dict[str, dict[str, Any]]) -> None:
    stale = []
    found_anywhere: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for environment in ENVIRONMENTS:
        for template, layer, parameters in stacks(rendered, environment):
            for logical_id, found in advisor_findings(
                template, layer, parameters, environment
            ).items():
                found_anywhere.setdefault((layer, logical_id), set()).update(found)
    for template, layer, _ in stacks(rendered, "dev"):
        for logical_id in template["Resources"]:
            for key in notes(template, logical_id):
                if key not in found_anywhere.get((layer, logical_id), set()):
                    stale.append(f"{layer}/{logical_id}: {key}")
    assert not stale, f"explanations of findings that no longer occur: {stale}"


def test_an_escalation_the_advisors_see_is_reported(rendered: dict[str, dict[str, Any]]) -> None:
    """The check is live: a task role given iam:PassRole and ec2:RunInstances on `*` is flagged,
    and no explanation in the template covers it."""
    documents = policy_documents(
        rendered["core"], "core", deployment("dev"), core_parameters("dev")
    )["MainTaskRole"]
    widened = {
        "Version": "2012-10-17",
        "Statement": [
            *documents[0]["Statement"],
            {"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"},
        ],
    }
    issues = {(f.tool, f.issue) for f in findings(widened)}
    assert ("cloudsplaining", "PrivilegeEscalation") in issues
    assert ("cloudsplaining", "PrivilegeEscalation") not in notes(rendered["core"], "MainTaskRole")
