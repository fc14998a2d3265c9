"""Verify a JWT the way an HTTP API JWT authorizer does.

API Gateway checks: RS256 signature by a key of the issuer's JWKS (matched by `kid`), `iss` equal to
the configured issuer, `aud` (ID tokens) or `client_id` (access tokens) in the configured audience,
`exp`/`nbf`/`iat`, and the route's scopes. The local stack fetches the JWKS from the emulator,
which serves it at `/<pool id>/.well-known/jwks.json` while its tokens name the AWS issuer URL.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt


class Unauthorized(Exception):
    """The token is missing or invalid; the message is API Gateway's error description."""


@dataclass(frozen=True)
class Claims:
    values: Mapping[str, Any]

    @property
    def sub(self) -> str:
        return str(self.values["sub"])


class JwtVerifier:
    """Verifies tokens for one authorizer's issuer and audience, with keys fetched from
    `jwks_url` (cached by kid)."""

    def __init__(
        self, issuer: str, audience: tuple[str, ...], jwks_url: str, leeway: int = 0
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self.leeway = leeway
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys:
                with urllib.request.urlopen(self.jwks_url, timeout=5) as response:  # noqa: S310
                    document = json.load(response)
                self._keys = {
                    str(k.get("kid")): jwt.PyJWK.from_dict(k).key for k in document.get("keys", [])
                }
            if kid not in self._keys:
                raise Unauthorized("the token's signing key is unknown")
            return self._keys[kid]

    def verify(self, header_value: str | None, scopes: tuple[str, ...] = ()) -> Claims:
        if not header_value:
            raise Unauthorized("no token")
        token = header_value
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as err:
            raise Unauthorized("the token is malformed") from err
        if header.get("alg") != "RS256":
            raise Unauthorized("the token's algorithm is not RS256")
        key = self._key(str(header.get("kid")))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"verify_aud": False, "require": ["exp", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError as err:
            raise Unauthorized("the token has expired") from err
        except jwt.InvalidIssuerError as err:
            raise Unauthorized("the token's issuer is not the authorizer's issuer") from err
        except jwt.PyJWTError as err:
            raise Unauthorized(f"the token is invalid: {err}") from err
        audience = claims.get("aud") if "aud" in claims else claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(a in self.audience for a in audiences):
            raise Unauthorized("the token's audience is not the authorizer's audience")
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if not granted.intersection(scopes):
                raise Unauthorized("the token lacks the route's scopes")
        return Claims(claims)
