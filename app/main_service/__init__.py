"""The main service: todos. Gunicorn loads `main_service:create_app()`."""

from __future__ import annotations

from collections.abc import Mapping

from common.config import ServiceConfig
from common.factory import build_app
from flask import Blueprint, Flask

from main_service import todos


def _blueprints(_: ServiceConfig) -> list[Blueprint]:
    return [todos.bp]


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    return build_app(
        __name__,
        config,
        title="todo main service",
        description="The caller's todos. Identity is the `sub` of a verified Cognito token.",
        operations=todos.OPERATIONS,
        blueprints=_blueprints,
    )
