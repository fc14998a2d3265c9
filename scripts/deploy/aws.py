"""The one place that creates AWS clients, and reads the message of their errors.

boto3 reads credentials, region and AWS_ENDPOINT_URL (an emulator) from the environment by
itself; nothing here passes endpoint_url. The clients use botocore's standard retry mode instead
of hand-written retry loops.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})

# boto3 ships without type information here; clients are dynamically generated objects.
Client = Any


class AwsClients:
    """Lazily creates and caches one client per service, all from one session."""

    def __init__(self, session: boto3.session.Session | None = None, **preset: Client) -> None:
        self._session = session
        self._clients: dict[str, Client] = dict(preset)

    def __call__(self, service: str) -> Client:
        if service not in self._clients:
            if self._session is None:
                self._session = boto3.session.Session()
            self._clients[service] = self._session.client(service, config=RETRY_CONFIG)
        return self._clients[service]

    @property
    def region(self) -> str:
        return str(self("cloudformation").meta.region_name)


def error_message(exc: ClientError) -> str:
    """The service's own message (`Stack with id ... does not exist`), else botocore's text."""
    return str(exc.response.get("Error", {}).get("Message", exc))
