"""IAM's size quotas, which a template can exceed without cfn-lint or checkov noticing.

"IAM and AWS STS quotas" (IAM User Guide): a role's inline policies together at most 10,240
characters, a managed policy at most 6,144, a trust policy at most 2,048 (whitespace not counted),
and at most 10 managed policies attached to a role (the default quota). CloudFormation would
fail the stack at the role, after everything before it was created.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from scripts.iam.stack_roles import RolePolicies
from tests.aws.conftest import ENVIRONMENTS, ci_roles, core_roles

INLINE_TOTAL = 10_240
MANAGED = 6_144
TRUST = 2_048
ATTACHED = 10


def size(document: Mapping[str, Any]) -> int:
    return len(re.sub(r"\s", "", json.dumps(document, separators=(",", ":"))))


def roles(environment: str) -> dict[str, RolePolicies]:
    return {**ci_roles(environment), **core_roles(environment)}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_role_fits_iams_quotas(environment: str) -> None:
    for name, role in roles(environment).items():
        inline = [d for n, d in role.policies if not n.startswith("arn:")]
        managed = [(n, d) for n, d in role.policies if n.startswith("arn:")]
        assert sum(size(d) for d in inline) <= INLINE_TOTAL, name
        assert len(managed) <= ATTACHED, name
        for arn, document in managed:
            if ":aws:policy/" not in arn:  # AWS's own policies have AWS's limits
                assert size(document) <= MANAGED, f"{name}: {arn} is {size(document)}"
        if role.boundary is not None:
            assert size(role.boundary[1]) <= MANAGED, name
        assert size(role.trust) <= TRUST, name


def test_the_quota_check_sees_an_oversized_policy() -> None:
    role = ci_roles("dev")["CloudFormationExecutionRole"]
    documents = [d for _, d in role.policies]
    merged = {"Version": "2012-10-17", "Statement": [s for d in documents for s in d["Statement"]]}
    assert size(merged) > INLINE_TOTAL  # why the execution role's permissions are four policies
