"""The smoke user: an ordinary app user whose password lives only in Secrets Manager.

`make smoke-user ENV=…` creates it once per environment, with administrator credentials (like
the CI stack): a Cognito user `smoke-test@<env>.smoke.invalid` (e-mail verified, no message
sent, never a human's address), with a random password that nobody types or sees, stored as the
secret `todo/<env>/smoke-user` ({"username", "password"}). `ROTATE=1` sets a new password in
Cognito, then in the secret. Only the environment's deploy role may read the secret
(templates/ci.yaml), and what the user can reach is what any user can: its own todos and files,
since the services answer every request with the caller's own data only (tests/services/
test_isolation.py). The local stack creates the same user in the emulator (`todo/local/…`).
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from scripts.deploy.aws import Client, error_message

PASSWORD_LENGTH = 40
# Cognito's symbol set ("User pool password policies"): one of each class is always included.
SYMBOLS = "^$*.[]{}()?-!@#%&/,><:;|_~+="


class SmokeUserError(Exception):
    """The smoke user's password changed in Cognito but not in its secret."""


@dataclass(frozen=True)
class SmokeUser:
    username: str
    password: str


def secret_name(env: str) -> str:
    return f"todo/{env}/smoke-user"


def username(env: str) -> str:
    return f"smoke-test@{env}.smoke.invalid"


def new_password() -> str:
    """Random, and valid under any Cognito password policy up to this length."""
    alphabet = string.ascii_letters + string.digits + SYMBOLS
    body = [secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH - 4)]
    classes = [
        secrets.choice(string.ascii_uppercase),
        secrets.choice(string.ascii_lowercase),
        secrets.choice(string.digits),
        secrets.choice(SYMBOLS),
    ]
    chars = body + classes
    # A shuffle that draws from the CSPRNG, so the class characters' places are not fixed.
    for i in range(len(chars) - 1, 0, -1):
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def read_secret(secrets_client: Client, secret_id: str) -> SmokeUser | None:
    """The smoke user's credentials, or None when the secret does not exist."""
    try:
        value = secrets_client.get_secret_value(SecretId=secret_id)["SecretString"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    data = json.loads(value)
    return SmokeUser(str(data["username"]), str(data["password"]))


def _user_exists(cognito: Client, pool_id: str, name: str) -> bool:
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "UserNotFoundException":
            return False
        raise
    return True


def _set_password(cognito: Client, pool_id: str, user: SmokeUser) -> None:
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=user.username, Password=user.password, Permanent=True
    )


def _write_secret(secrets_client: Client, secret_id: str, user: SmokeUser, env: str) -> None:
    value = json.dumps({"username": user.username, "password": user.password})
    try:
        secrets_client.put_secret_value(SecretId=secret_id, SecretString=value)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        secrets_client.create_secret(
            Name=secret_id,
            Description=f"Password of the {env} smoke user (make smoke-user; never a person's)",
            SecretString=value,
            Tags=[{"Key": "todo:environment", "Value": env}],
        )


def ensure_smoke_user(
    cognito: Client, secrets_client: Client, pool_id: str, env: str, *, rotate: bool = False
) -> tuple[SmokeUser, str]:
    """Create the smoke user and its secret if missing; with `rotate`, a new password.

    Returns the user and what was done. A password is set in Cognito before it is written to
    the secret: if the secret write fails, the next run (with ROTATE=1) repairs both."""
    secret_id = secret_name(env)
    stored = read_secret(secrets_client, secret_id)
    user = SmokeUser(username(env), new_password())
    exists = _user_exists(cognito, pool_id, user.username)
    if stored is not None and exists and not rotate:
        return stored, "exists"
    if not exists:
        attributes: list[dict[str, Any]] = [
            {"Name": "email", "Value": user.username},
            {"Name": "email_verified", "Value": "true"},
        ]
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=user.username,
            UserAttributes=attributes,
            TemporaryPassword=new_password(),
            MessageAction="SUPPRESS",
        )
    if stored is not None and not rotate and not exists:
        user = stored  # the secret survived the user: give the user the stored password
    _set_password(cognito, pool_id, user)
    try:
        _write_secret(secrets_client, secret_id, user, env)
    except ClientError as exc:
        raise SmokeUserError(
            f"the smoke user's new password is set in Cognito but could not be stored in "
            f"{secret_id} ({error_message(exc)}): run `make smoke-user ENV={env} ROTATE=1` again"
        ) from exc
    action = "rotated" if rotate and exists else "created"
    return user, action
