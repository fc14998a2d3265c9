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
from dataclasses import dataclass
from typing import Any

import jwt
from flask import Flask, current_app, g, request

from common.config import Settings
from common.errors import ApiError, Unavailable

JWKS_TIMEOUT_SECONDS = 3.0
# An unknown kid triggers a refetch (keys rotate), but at most this often: forged kids can't
# make the service hammer the JWKS endpoint.
JWKS_MIN_REFETCH_SECONDS = 30.0
LEEWAY_SECONDS = 5


class Unauthorized(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, message)


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310
        return json.load(response)


class JwksCache:
    """Keys by kid, fetched lazily, refetched on an unknown kid at most every few seconds."""

    def __init__(self, url: str, fetch: Callable[[str], Any] = _fetch_json) -> None:
        self._url = url
        self._fetch = fetch
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            document = self._fetch(self._url)
        except (OSError, ValueError) as error:
            raise Unavailable("the identity provider's keys are unavailable") from error
        keys: dict[str, Any] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if entry.get("kty") == "RSA" and entry.get("kid") and entry.get("use", "sig") == "sig":
                keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256").key
        self._keys = keys
        self._fetched_at = time.monotonic()

    def key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys:
                stale = (
                    self._fetched_at is None
                    or time.monotonic() - self._fetched_at >= JWKS_MIN_REFETCH_SECONDS
                )
                if stale:
                    self._refresh()
            found = self._keys.get(kid)
        if found is None:
            raise Unauthorized("token signed by an unknown key")
        return found


@dataclass(frozen=True)
class TokenVerifier:
    issuer: str
    client_id: str
    keys: JwksCache

    def verify(self, token: str) -> dict[str, Any]:
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
        return claims


def init_app(app: Flask, settings: Settings) -> None:
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
