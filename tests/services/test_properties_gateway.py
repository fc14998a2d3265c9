"""The property suites (tests/properties) through the local gateway, as a browser reaches the API.

The gateway plays API Gateway and the ALB (scripts/local): it checks the JWT, decodes the path
once, routes by the template's rules and passes bodies on. No input through it may give a 5xx
either; where the gateway answers itself (no route, no token), its answer has API Gateway's own
shape, `{"message": ...}`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.properties.suites import ApiProperties
from tests.properties.target import Target
from tests.services.conftest import running_stack
from tests.services.test_properties import seeded_target


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with running_stack() as stack:
        yield seeded_target(stack, through_gateway=True)


class TestThroughTheGateway(ApiProperties):
    """Every property suite, each request sent to the local gateway."""
