"""The website reads the API by the field names of the services' OpenAPI documents.

website/js/model.js names the fields of the API's JSON, and the views read a to-do's, a file's
and an upload's fields as plain properties (`todo.title`, `file.size`, `upload.fields`). Every
such name must be a property of the schema it reads, so a field renamed in a service fails here,
before a browser shows `undefined`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scripts.local.stack import ROOT

JS = ROOT / "website" / "js"
# The services need their settings to build; none of these is called for /openapi.json.
SETTINGS = {
    "AWS_REGION": "us-east-1",
    "TODOS_TABLE": "todos",
    "FILES_TABLE": "files",
    "FILES_BUCKET": "bucket",
    "COGNITO_USER_POOL_ID": "us-east-1_example",
    "COGNITO_APP_CLIENT_ID": "client",
    "LOG_LEVEL": "WARNING",
}
# The variable names the website gives each schema's objects, and where it reads them.
READERS = {
    "todo": ("Todo",),
    "current": ("Todo",),
    "deleting": ("Todo",),
    "created": ("Todo",),
    "updated": ("Todo",),
    "file": ("DownloadableFile", "File"),
    "upload": ("Upload",),
}
# model.js's accessors of the list and registration answers: data.<field>, data.upload.<field>.
ENVELOPES = {"data": ("TodoPage", "FileList", "RegisteredFile"), "data.upload": ("Upload",)}


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    from files_service import create_app as files_app
    from main_service import create_app as main_app

    found: dict[str, dict[str, Any]] = {}
    for create in (main_app, files_app):
        document = create(SETTINGS).test_client().get("/openapi.json").get_json()
        found.update(document["components"]["schemas"])
    return found


def properties(schemas: dict[str, dict[str, Any]], *names: str) -> set[str]:
    return {p for name in names for p in schemas[name].get("properties", {})}


def reads(path: Path, variable: str) -> set[str]:
    """Every `<variable>.<field>` the file reads (not method calls such as `.size()`)."""
    # Quoted strings ("todo.email", a storage key) are text; template literals keep their code.
    code = re.sub(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', '""', path.read_text())
    pattern = rf"(?<![\w.]){re.escape(variable)}\??\.([A-Za-z_]\w*)\b(?!\s*\()"
    return set(re.findall(pattern, code))


@pytest.mark.parametrize("path", sorted(JS.glob("*.js")), ids=lambda p: p.name)
def test_every_field_the_website_reads_is_in_the_openapi_documents(
    schemas: dict[str, dict[str, Any]], path: Path
) -> None:
    for variable, names in READERS.items():
        unknown = reads(path, variable) - properties(schemas, *names)
        assert not unknown, f"{path.name} reads {variable}.{sorted(unknown)}, not in {names}"


def test_model_reads_the_envelopes_by_their_openapi_names(
    schemas: dict[str, dict[str, Any]],
) -> None:
    model = JS / "model.js"
    for variable, names in ENVELOPES.items():
        used = reads(model, variable)
        assert used, f"model.js reads nothing of {variable}: the test no longer sees it"
        unknown = used - properties(schemas, *names)
        assert not unknown, f"model.js reads {variable}.{sorted(unknown)}, not in {names}"
    # The identifiers of a to-do and a file are the documents' own.
    assert reads(model, "todo") == {"todoId"}
    assert reads(model, "file") == {"fileId", "name", "size", "downloadUrl"}


def test_the_check_catches_a_renamed_field(
    schemas: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    drifted = tmp_path / "model.js"
    drifted.write_text((JS / "model.js").read_text().replace("todo.todoId", "todo.todoID"))
    assert reads(drifted, "todo") - properties(schemas, "Todo") == {"todoID"}
