"""The files service: attachments. Gunicorn loads `files_service:create_app()`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.config import ServiceConfig
from common.factory import build_app
from flask import Blueprint, Flask

from files_service import files


def _blueprints(_: ServiceConfig) -> list[Blueprint]:
    return [files.bp]


def _document_size_limit(document: dict[str, Any], settings: ServiceConfig) -> None:
    # The limit is deployment configuration, so the document states the configured value.
    size = document["components"]["schemas"]["FileRegister"]["properties"]["size"]
    size["maximum"] = settings.max_upload_bytes


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    return build_app(
        __name__,
        config,
        title="todo files service",
        description="Attachments of the caller's todos, uploaded and downloaded with presigned "
        "S3 requests. Identity is the `sub` of a verified Cognito token.",
        operations=files.OPERATIONS,
        blueprints=_blueprints,
        document_hook=_document_size_limit,
    )
