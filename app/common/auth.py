"""Identity: the `sub` of a Cognito JWT that this service verifies itself.

The gateway verified the token too, but a service trusts only its own check: signature by the
pool's JWKS (RS256 only), issuer, expiry, token use, and the app client (the `aud` of an ID
token, the `client_id` of an access token).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from flask import Flask, current_app, g, request

from common.config import ServiceConfig
from common.errors import RETRY_AFTER_SECONDS, ApiError, Unavailable

JWKS_TIMEOUT_SECONDS = 3.0
# An unknown kid triggers a refetch (keys rotate), but at most this often: forged kids can't
# make the service hammer the JWKS endpoint.
JWKS_MIN_REFETCH_SECONDS = 30.0
# After a failed fetch, the next attempt waits this long: while the endpoint is down or slow,
# requests answer 503 at once instead of each waiting out another fetch. Equal to the 503's
# Retry-After, so a client that waits as told finds the next attempt allowed.
JWKS_RETRY_SECONDS = float(RETRY_AFTER_SECONDS)
LEEWAY_SECONDS = 5
# Tokens this process has verified, kept until they expire (VerifiedTokens); a worker serves a
# few hundred users at most, each with one ID or access token an hour.
VERIFIED_TOKENS = 1024


class Unauthorized(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, message)


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310
        return json.load(response)


def _signing_keys(document: Any) -> dict[str, Any]:
    """The RSA signing keys of a JWKS document by kid; entries of any other shape are skipped."""
    keys: dict[str, Any] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig" or not entry["kid"]:
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256").key
        except jwt.PyJWTError:
            continue
    return keys


class JwksCache:
    """Keys by kid, fetched lazily, refetched on an unknown kid at most every few seconds.

    A known kid is answered without the lock, so a fetch in progress (up to the fetch timeout)
    never holds up requests signed by a key already known. Every attempt, failed or not, counts
    towards the refetch limit.
    """

    def __init__(
        self,
        url: str,
        fetch: Callable[[str], Any] = _fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._attempted_at: float | None = None
        self._failed = False
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        self._attempted_at = self._clock()
        try:
            document = self._fetch(self._url)
        except (OSError, ValueError) as error:
            self._failed = True
            raise Unavailable("the identity provider's keys are unavailable") from error
        self._failed = False
        # One assignment: readers without the lock see the old dict or the new one.
        self._keys = _signing_keys(document)

    def _may_refetch(self) -> bool:
        if self._attempted_at is None:
            return True
        wait = JWKS_RETRY_SECONDS if self._failed else JWKS_MIN_REFETCH_SECONDS
        return self._clock() - self._attempted_at >= wait

    def known(self, kid: str) -> Any:
        """The key for `kid` if it is known now, else None; never fetches."""
        return self._keys.get(kid)

    def key(self, kid: str) -> Any:
        found = self._keys.get(kid)
        if found is not None:
            return found
        with self._lock:
            found = self._keys.get(kid)
            if found is None and self._may_refetch():
                self._refresh()
                found = self._keys.get(kid)
            failed = self._failed
        if found is None:
            if failed:
                raise Unavailable("the identity provider's keys are unavailable")
            raise Unauthorized("token signed by an unknown key")
        return found


@dataclass(frozen=True)
class _Verified:
    claims: dict[str, Any]
    kid: str
    key: Any
    valid_until: float  # exp + leeway: the first instant at which the token is expired


class VerifiedTokens:
    """Tokens that passed every check, with their claims, until they expire.

    A client sends the same token on every request until it refreshes it (Cognito's ID and
    access tokens last an hour), and the full check (base64 and JSON decoding, the RS256
    signature, the claims) costs a fifth of a millisecond each time. A token that passed it
    stays valid while two things hold, and a hit re-checks exactly those: its `exp` plus the
    leeway has not passed (`iat` and `nbf` only become more valid with time), and its key is
    still the pool's key for its `kid` (a refetch that drops or replaces the key ends it, as it
    would for a token never seen). The key is the exact token text, so a token that differs in
    one character is checked in full. Bounded: past `size` entries the oldest is dropped.
    """

    def __init__(self, size: int = VERIFIED_TOKENS, clock: Callable[[], float] = time.time):
        self._size = size
        self._clock = clock
        self._entries: dict[str, _Verified] = {}
        self._lock = threading.Lock()

    def get(self, token: str, keys: JwksCache) -> dict[str, Any] | None:
        found = self._entries.get(token)
        if found is None:
            return None
        if self._clock() >= found.valid_until or keys.known(found.kid) is not found.key:
            with self._lock:
                self._entries.pop(token, None)
            return None
        return found.claims

    def add(self, token: str, claims: dict[str, Any], kid: str, key: Any) -> None:
        entry = _Verified(claims, kid, key, int(claims["exp"]) + LEEWAY_SECONDS)
        with self._lock:
            while len(self._entries) >= self._size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[token] = entry


@dataclass(frozen=True)
class TokenVerifier:
    issuer: str
    client_id: str
    keys: JwksCache
    verified: VerifiedTokens = field(default_factory=VerifiedTokens)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, once it passed every check (or it passed them before and they
        still hold: VerifiedTokens); raises Unauthorized or Unavailable otherwise."""
        claims = self.verified.get(token, self.keys)
        if claims is None:
            claims, kid, key = self._check(token)
            self.verified.add(token, claims, kid, key)
        return claims

    def _check(self, token: str) -> tuple[dict[str, Any], str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthorized("malformed token") from None
        if header.get("alg") != "RS256":
            raise Unauthorized("token algorithm must be RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("token has no key id")
        key = self.keys.key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("token issuer mismatch") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("invalid token") from None
        use = claims.get("token_use")
        if use == "id":
            audience = claims.get("aud")
            valid_client = audience == self.client_id or (
                isinstance(audience, list) and audience == [self.client_id]
            )
        elif use == "access":
            valid_client = claims.get("client_id") == self.client_id
        else:
            raise Unauthorized("token_use must be id or access")
        if not valid_client:
            raise Unauthorized("token issued for another client")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 128:
            raise Unauthorized("token has no subject")
        return claims, kid, key


def init_app(app: Flask, settings: ServiceConfig) -> None:
    app.extensions["token_verifier"] = TokenVerifier(
        issuer=settings.issuer,
        client_id=settings.app_client_id,
        keys=JwksCache(settings.jwks_url),
    )


def authenticate() -> None:
    """before_request hook of every protected blueprint: sets g.user_sub or answers 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    verifier: TokenVerifier = current_app.extensions["token_verifier"]
    g.user_sub = verifier.verify(token.strip())["sub"]


def current_user() -> str:
    sub: str = g.user_sub
    return sub
