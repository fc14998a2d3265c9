"""The shipped command refuses to start without its configuration, and says what is missing."""

from __future__ import annotations

import subprocess

import pytest

from scripts.servicerun import Service


@pytest.mark.parametrize("name", ["main", "files"])
def test_gunicorn_exits_naming_the_missing_variables(name: str) -> None:
    service = Service(name, {"AWS_REGION": "us-east-1", "TODOS_TABLE": "t"}, log=subprocess.PIPE)
    service.spawn()
    assert service.process is not None
    output, errors = service.process.communicate(timeout=60)
    assert service.process.returncode != 0
    text = output.decode() + errors.decode()
    assert "missing required environment variables: FILES_TABLE, FILES_BUCKET" in text
    assert "COGNITO_USER_POOL_ID, COGNITO_APP_CLIENT_ID" in text
