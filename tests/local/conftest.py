"""Fixtures: the local stack on a small fixture repository (tests/local/fixture) and its users."""

from __future__ import annotations

import gzip
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import moto
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


def emulator_signed(stack: LocalStack, **claims: Any) -> str:
    """A token signed with the emulator's own Cognito key (to make expired or foreign tokens)."""
    key_file = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-private.json.gz"
    key = jwt.PyJWK.from_dict(json.loads(gzip.decompress(key_file.read_bytes()))).key
    now = int(time.time())
    payload = {
        "iss": f"https://cognito-idp.{stack.region}.amazonaws.com/{stack.user_pool_id}",
        "sub": str(uuid.uuid4()),
        "aud": stack.user_pool_client_id,
        "token_use": "id",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "dummy"})
