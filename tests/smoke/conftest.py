"""The local stack of this repository (templates, services, website) on the emulator, started
once for the tests that check the running app: the smoke test and the release gate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.local import LocalStack, Log, Ports


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    with LocalStack(Ports(site=0, api=0, emulator=0), log=Log(quiet=True)) as running:
        yield running
