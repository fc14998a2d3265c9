"""boto3 clients, made once per process (they are thread-safe), plus a per-request call count."""

from __future__ import annotations

import contextvars
from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from common.attribute_values import ParserFactory
from common.config import ServiceConfig

_calls: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar(
    "aws_calls", default=None
)


def start_counting() -> Counter[str]:
    counter: Counter[str] = Counter()
    _calls.set(counter)
    return counter


def current_calls() -> Counter[str]:
    return _calls.get() or Counter()


def _count_call(model: Any, **_: Any) -> None:
    # before-call fires once per API call (retries of that call are not new calls).
    counter = _calls.get()
    if counter is not None:
        counter[f"{model.service_model.service_id}.{model.name}"] += 1


@dataclass(frozen=True)
class AwsClients:
    dynamodb: Any
    s3: Any


def make_clients(settings: ServiceConfig) -> AwsClients:
    core = botocore.session.get_session()
    # DynamoDB's item attributes parsed without botocore's per-member walk (attribute_values.py).
    core.register_component("response_parser_factory", ParserFactory())
    session = boto3.session.Session(botocore_session=core, region_name=settings.region)
    base = Config(
        retries={"mode": "standard", "max_attempts": settings.aws_max_attempts},
        connect_timeout=settings.aws_connect_timeout,
        read_timeout=settings.aws_read_timeout,
        max_pool_connections=32,
    )
    dynamodb = session.client("dynamodb", endpoint_url=settings.endpoint_url, config=base)
    if settings.endpoint_url:
        s3_config = base.merge(Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
        s3_endpoint = settings.endpoint_url
    else:
        # Presigned URLs name the regional virtual-hosted endpoint, the one the website's CSP
        # and the bucket's CORS rules expect: https://<bucket>.s3.<region>.amazonaws.com/
        s3_config = base.merge(Config(s3={"addressing_style": "virtual"}, signature_version="s3v4"))
        s3_endpoint = f"https://s3.{settings.region}.amazonaws.com"
    s3 = session.client("s3", endpoint_url=s3_endpoint, config=s3_config)
    for client in (dynamodb, s3):
        client.meta.events.register("before-call.*.*", _count_call)
    return AwsClients(dynamodb=dynamodb, s3=s3)
