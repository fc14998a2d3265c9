"""The shipped command refuses to start without its configuration, and says what is missing."""

from __future__ import annotations

import pytest

from scripts.cfn.template import load_template
from scripts.local import Log, describe
from scripts.local.services import start_service
from scripts.local.stack import ROOT


@pytest.mark.parametrize("name", ["main", "files"])
def test_gunicorn_exits_naming_the_missing_variables(name: str) -> None:
    description = describe(
        load_template(ROOT / "templates" / "core.yaml"),
        app_dir=ROOT / "app",
        website_origin="http://127.0.0.1:8000",
    )
    env = {"AWS_REGION": "us-east-1", "TODOS_TABLE": "t", "PORT": "0"}
    child = start_service(description.service(name), ROOT / "app", env, Log(quiet=True))
    assert child.process.wait(timeout=60) != 0
    child.stop()  # reaps it and joins the output reader
    text = "\n".join(child.recent)
    assert "missing required environment variables: FILES_TABLE, FILES_BUCKET" in text
    assert "COGNITO_USER_POOL_ID, COGNITO_APP_CLIENT_ID" in text
