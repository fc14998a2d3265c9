"""The user pool's signing keys for a private stack (`Egress=None`), read when it deploys.

With no route to the internet the services cannot fetch the pool's JWKS from Cognito's public
endpoint, so `make deploy STACK=core` and `make deploy-service` read it here (the deploying
machine has the internet) and pass it as the core stack's `UserPoolJwks` parameter; the services
then verify tokens against it (generator/core/auth.py says why). The tooling owns the parameter:
in the NAT profiles it is left empty and the services fetch the keys themselves.

Cognito serves a pool's keys at `<its API endpoint>/<pool id>/.well-known/jwks.json` ("Verifying a
JSON Web Token", Cognito Developer Guide); the emulator serves them at the same path, so the
endpoint is the cognito-idp client's own.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from scripts.deploy.aws import Client
from scripts.deploy.errors import ConfigError, DeployFailed

PARAMETER = "UserPoolJwks"
EGRESS = "Egress"
PRIVATE = "None"
USER_POOL_OUTPUT = "UserPoolId"
MAX_CHARS = 4096  # a CloudFormation parameter value's limit (the template's MaxLength too)
TIMEOUT_SECONDS = 10.0

ReadUrl = Callable[[str], bytes]


def read_url(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        body: bytes = response.read(MAX_CHARS * 4)
        return body


def jwks_url(cognito: Client, pool_id: str) -> str:
    return f"{str(cognito.meta.endpoint_url).rstrip('/')}/{pool_id}/.well-known/jwks.json"


def compact_jwks(body: bytes, source: str) -> str:
    """The JWKS document as one line of JSON, checked: RSA signing keys, each with a `kid`."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise DeployFailed(f"{source} is not JSON: {exc}") from exc
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise DeployFailed(f"{source} holds no keys")
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") != "RSA" or not key.get("kid"):
            raise DeployFailed(f"{source} holds a key that is not an RSA key with a kid: {key!r}")
    text = json.dumps({"keys": keys}, separators=(",", ":"), sort_keys=True)
    if len(text) > MAX_CHARS:
        raise DeployFailed(
            f"{source} is {len(text)} characters, over the {MAX_CHARS} a CloudFormation "
            "parameter holds"
        )
    return text


def read_pool_keys(cognito: Client, pool_id: str, read: ReadUrl = read_url) -> str:
    url = jwks_url(cognito, pool_id)
    try:
        body = read(url)
    except OSError as exc:
        raise DeployFailed(f"cannot read the user pool's signing keys from {url}: {exc}") from exc
    return compact_jwks(body, url)


def effective_egress(
    values: Mapping[str, str], live: Mapping[str, str], declared: Mapping[str, Any]
) -> str:
    """The Egress this deploy leaves the stack with: set here, else kept, else the default."""
    default = str((declared.get(EGRESS) or {}).get("Default", ""))
    return values.get(EGRESS) or live.get(EGRESS) or default


def keys_for(
    egress: str,
    outputs: Mapping[str, str] | None,
    cognito: Callable[[], Client],
    read: ReadUrl = read_url,
) -> str:
    """The value `UserPoolJwks` gets: the pool's keys on a private stack whose pool exists;
    empty in the NAT profiles (the services fetch them) and before the pool exists (no service
    runs yet: the image tags are still `bootstrap`)."""
    if egress != PRIVATE or not outputs or USER_POOL_OUTPUT not in outputs:
        return ""
    return read_pool_keys(cognito(), outputs[USER_POOL_OUTPUT], read)


def refuse_a_configured_value(values: Mapping[str, str], source: str) -> None:
    if PARAMETER in values:
        raise ConfigError(
            f"{source} sets {PARAMETER}, which make deploy fills from the user pool itself "
            "(Egress=None); remove it"
        )


def key_ids(jwks: str) -> list[str]:
    if not jwks:
        return []
    return sorted(str(k.get("kid")) for k in json.loads(jwks).get("keys", []))
