"""Users of the local stack's user pool, signed in through the emulator's Cognito."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt
import moto

PASSWORD = "Local-Passw0rd!"  # noqa: S105 - emulator-only accounts


class HasUserPool(Protocol):
    """What signing up needs from a running local stack."""

    @property
    def region(self) -> str: ...

    @property
    def user_pool_id(self) -> str: ...

    @property
    def user_pool_client_id(self) -> str: ...

    def client(self, service: str) -> Any: ...


@dataclass(frozen=True)
class User:
    email: str
    sub: str
    id_token: str
    access_token: str
    refresh_token: str

    def headers(self, use_access_token: bool = False) -> dict[str, str]:
        value = self.access_token if use_access_token else self.id_token
        return {"Authorization": f"Bearer {value}"}


def sign_up(
    stack: HasUserPool,
    email: str | None = None,
    *,
    client_id: str | None = None,
    password: str = PASSWORD,
) -> User:
    """A confirmed user of the stack's pool (a new address unless `email`), and its tokens."""
    cognito = stack.client("cognito-idp")
    email = email or f"{uuid.uuid4().hex[:10]}@example.com"
    pool = stack.user_pool_id
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=email, Password=password, Permanent=True
    )
    tokens = cognito.initiate_auth(
        ClientId=client_id or stack.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]
    sub = jwt.decode(tokens["IdToken"], options={"verify_signature": False})["sub"]
    return User(
        email, str(sub), tokens["IdToken"], tokens["AccessToken"], tokens.get("RefreshToken", "")
    )


def emulator_signed(stack: HasUserPool, **claims: Any) -> str:
    """An ID token signed with the emulator's own Cognito key: the claims a token of the stack's
    pool and app client has (valid for 10 minutes), changed by `claims` (an `exp` in the past
    makes an expired token the gateway and the services refuse)."""
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
