"""Fixtures: the local stack on a small fixture repository (tests/local/fixture) and its users."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.local import LocalStack, Log, Ports

FIXTURE = Path(__file__).parent / "fixture"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The local stack on the fixture repository: echo services instead of the app's."""
    with LocalStack(
        Ports(site=0, api=0, emulator=0),
        root=FIXTURE,
        website_template=ROOT / "templates" / "website.yaml",
        log=Log(quiet=True),
    ) as running:
        yield running


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is left (each child of the stack leads its own)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
