"""A token verified once is answered from memory until it expires or its key goes, never longer.

The full check runs for every token not yet seen (tests/services/test_web.py covers what it
refuses); these tests count the full checks and change the clock and the pool's keys.
"""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest

# app/ is on sys.path (tests/services/conftest.py), as in the services' containers.
from common import auth
from common.auth import LEEWAY_SECONDS, JwksCache, TokenVerifier, Unauthorized, VerifiedTokens
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "app-client"
KEYS = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kid in "ab"}


def jwks(*kids: str) -> dict[str, Any]:
    entries = []
    for kid in kids:
        entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEYS[kid].public_key()))
        entries.append({**entry, "kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": entries}


def token(kid: str = "a", **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT,
        "token_use": "id",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    return jwt.encode(payload, KEYS[kid], algorithm="RS256", headers={"kid": kid})


class Pool:
    """The pool's JWKS as the verifier fetches it, with a clock for the refetch limit."""

    def __init__(self, *kids: str) -> None:
        self.document = jwks(*kids)
        self.now = 1000.0

    def fetch(self, _: str) -> Any:
        return self.document

    def clock(self) -> float:
        return self.now


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full check (signature and claims) the verifier makes."""
    made: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        made.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(auth.jwt, "decode", counting)
    return made


def verifier(pool: Pool, clock: Any = time.time, size: int = 8) -> TokenVerifier:
    keys = JwksCache("https://example.invalid/jwks.json", fetch=pool.fetch, clock=pool.clock)
    return TokenVerifier(ISSUER, CLIENT, keys, VerifiedTokens(size=size, clock=clock))


def test_a_token_is_checked_in_full_once(checks: list[str]) -> None:
    check = verifier(Pool("a"))
    issued = token()
    assert [check.verify(issued)["sub"] for _ in range(5)] == ["user-1"] * 5
    assert checks == [issued]


def test_a_token_that_differs_in_one_character_is_checked_in_full(checks: list[str]) -> None:
    check = verifier(Pool("a"))
    issued = token()
    check.verify(issued)
    head, body, signature = issued.split(".")
    forged = f"{head}.{body}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    with pytest.raises(Unauthorized, match="invalid"):
        check.verify(forged)
    assert checks == [issued, forged]


def test_a_refused_token_is_not_remembered(checks: list[str]) -> None:
    check = verifier(Pool("a"))
    wrong = token(aud="another-client")
    for _ in range(2):
        with pytest.raises(Unauthorized, match="client"):
            check.verify(wrong)
    assert checks == [wrong, wrong]


def test_a_remembered_token_expires_with_its_exp(checks: list[str]) -> None:
    now = [time.time()]
    check = verifier(Pool("a"), clock=lambda: now[0])
    exp = int(time.time()) + 600
    issued = token(exp=exp)
    check.verify(issued)
    now[0] = exp + LEEWAY_SECONDS - 0.5
    check.verify(issued)
    assert checks == [issued]
    now[0] = exp + LEEWAY_SECONDS
    check.verify(issued)  # past its time in memory: checked in full (PyJWT's clock: still valid)
    assert checks == [issued, issued]


def test_a_token_expiring_in_real_time_is_refused() -> None:
    check = verifier(Pool("a"))
    # Valid for one more second thanks to the leeway, then expired.
    issued = token(iat=int(time.time()) - 60, exp=int(time.time()) - LEEWAY_SECONDS + 1)
    assert check.verify(issued)["sub"] == "user-1"
    time.sleep(1.5)
    with pytest.raises(Unauthorized, match="expired"):
        check.verify(issued)


def test_a_token_whose_key_left_the_pool_is_refused(checks: list[str]) -> None:
    pool = Pool("a")
    check = verifier(pool)
    issued = token("a")
    check.verify(issued)
    # The pool rotates: key b replaces key a; a token signed by b makes the verifier refetch.
    pool.document = jwks("b")
    pool.now += 60
    check.verify(token("b"))
    with pytest.raises(Unauthorized, match="unknown key"):
        check.verify(issued)


def test_memory_is_bounded(checks: list[str]) -> None:
    check = verifier(Pool("a"), size=2)
    first, second, third = (token(sub=f"user-{n}") for n in range(3))
    for issued in (first, second, third, third, second, first):
        check.verify(issued)
    # The first was dropped when the third came, and checked again; then the second went.
    assert checks == [first, second, third, first]
