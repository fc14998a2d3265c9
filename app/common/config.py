"""ServiceConfig: the environment, read once at start-up; a missing required value stops it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

REQUIRED = (
    "AWS_REGION",
    "TODOS_TABLE",
    "FILES_TABLE",
    "FILES_BUCKET",
    "COGNITO_USER_POOL_ID",
    "COGNITO_APP_CLIENT_ID",
)
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ConfigError(RuntimeError):
    """The environment lacks a required value or holds an invalid one."""


@dataclass(frozen=True)
class ServiceConfig:
    region: str
    todos_table: str
    files_table: str
    files_bucket: str
    user_pool_id: str
    app_client_id: str
    issuer: str
    jwks_url: str
    endpoint_url: str | None
    max_upload_bytes: int
    log_level: str
    aws_connect_timeout: float
    aws_read_timeout: float
    aws_max_attempts: int
    expose_aws_calls: bool
    list_index: str


def _number(
    values: Mapping[str, str], name: str, default: str, kind: type[float] | type[int]
) -> float:
    raw = values.get(name) or default
    try:
        number = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if number <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return number


def load_settings(overrides: Mapping[str, str] | None = None) -> ServiceConfig:
    """Read settings from the environment; `overrides` (a test config) wins over it."""
    values: dict[str, str] = dict(os.environ)
    values.update(overrides or {})
    missing = [name for name in REQUIRED if not values.get(name)]
    if missing:
        raise ConfigError("missing required environment variables: " + ", ".join(missing))
    region = values["AWS_REGION"]
    pool = values["COGNITO_USER_POOL_ID"]
    issuer = values.get("COGNITO_ISSUER") or f"https://cognito-idp.{region}.amazonaws.com/{pool}"
    return ServiceConfig(
        region=region,
        todos_table=values["TODOS_TABLE"],
        files_table=values["FILES_TABLE"],
        files_bucket=values["FILES_BUCKET"],
        user_pool_id=pool,
        app_client_id=values["COGNITO_APP_CLIENT_ID"],
        issuer=issuer.rstrip("/"),
        jwks_url=values.get("COGNITO_JWKS_URL") or f"{issuer.rstrip('/')}/.well-known/jwks.json",
        endpoint_url=values.get("AWS_ENDPOINT_URL") or None,
        max_upload_bytes=int(
            _number(values, "MAX_UPLOAD_BYTES", str(DEFAULT_MAX_UPLOAD_BYTES), int)
        ),
        log_level=(values.get("LOG_LEVEL") or "INFO").upper(),
        aws_connect_timeout=_number(values, "AWS_CONNECT_TIMEOUT", "2", float),
        aws_read_timeout=_number(values, "AWS_READ_TIMEOUT", "5", float),
        aws_max_attempts=int(_number(values, "AWS_MAX_ATTEMPTS", "3", int)),
        expose_aws_calls=values.get("EXPOSE_AWS_CALLS") == "1",
        list_index=values.get("TODOS_LIST_INDEX") or "listOrder",
    )
