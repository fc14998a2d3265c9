"""The local stack on this repository: templates/core.yaml, app/ and website/ as they are."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from scripts.cfn.template import load_template
from scripts.local import LocalStack, Log, Ports, describe, sign_up
from scripts.local.alb import FixedResponse, Forward, LambdaTarget
from tests.local.conftest import ROOT, group_alive, raw_request


@pytest.fixture(scope="module")
def app_stack() -> Iterator[LocalStack]:
    with LocalStack(Ports(site=0, api=0, emulator=0), log=Log(quiet=True)) as stack:
        yield stack


def test_the_templates_listener_rules_send_files_paths_to_the_files_service() -> None:
    description = describe(
        load_template(ROOT / "templates" / "core.yaml"),
        app_dir=ROOT / "app",
        website_origin="http://x",
    )
    api, routing = description.api, description.routing
    actions = [rule.action for rule in routing.rules]
    # files rules are evaluated first
    assert actions.index(Forward("files")) < actions.index(Forward("main"))
    for path, service in [
        ("/todos", "main"),
        ("/todos/t", "main"),
        ("/todos/t/files", "files"),
        ("/todos/t/files/f", "files"),
    ]:
        assert routing.route(path) == Forward(service), path
    # Unmatched paths forward to the NotFoundFunction, run here from hooks/ as the ALB runs it.
    default = routing.route("/other")
    assert isinstance(default, LambdaTarget)
    answer = default.answer("GET", "/other", {}, {})
    assert isinstance(answer, FixedResponse)
    assert answer.status == 404
    assert answer.content_type == "application/json"
    assert '"not_found"' in answer.body
    assert all(route.authorizer is not None for route in api.routes)


def test_the_app_runs_end_to_end_and_stops_cleanly() -> None:
    with LocalStack(Ports(site=0, api=0, emulator=0), log=Log(quiet=True)) as stack:
        user = sign_up(stack)
        site = stack.site_url
        headers = {"Authorization": f"Bearer {user.id_token}", "Origin": site}

        created = requests.post(
            stack.api_url + "/todos", json={"title": "local"}, headers=headers, timeout=10
        )
        assert created.status_code == 201, created.text
        assert created.headers["Access-Control-Allow-Origin"] == site
        todo_id = created.json()["todoId"]
        one = requests.get(f"{stack.api_url}/todos/{todo_id}", headers=headers, timeout=10)
        assert one.json()["title"] == "local"
        # the list query needs the template's index: the services and the template must agree
        listed = requests.get(stack.api_url + "/todos", headers=headers, timeout=10)
        assert listed.status_code == 200, listed.text
        assert [item["todoId"] for item in listed.json()["items"]] == [todo_id]

        registered = requests.post(
            f"{stack.api_url}/todos/{todo_id}/files",
            json={"name": "a.txt", "contentType": "text/plain", "size": 5},
            headers=headers,
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        upload = registered.json()["upload"]
        assert upload["url"].startswith(stack.emulator_url + "/")  # the browser posts there
        stored = requests.post(
            upload["url"],
            data=upload["fields"],
            files={"file": ("a.txt", b"hello", "text/plain")},
            headers={"Origin": site},
            timeout=10,
        )
        assert stored.status_code in (200, 201, 204), stored.text
        files = requests.get(f"{stack.api_url}/todos/{todo_id}/files", headers=headers, timeout=10)
        (item,) = files.json()["items"]
        download = requests.get(item["downloadUrl"], headers={"Origin": site}, timeout=10)
        assert download.content == b"hello"

        deleted = requests.delete(f"{stack.api_url}/todos/{todo_id}", headers=headers, timeout=10)
        assert deleted.status_code == 204

        # the template's CORS and authorizer, as the browser meets them
        for origin, allowed in ((site, True), ("http://localhost:1", False)):
            preflight = requests.options(
                f"{stack.api_url}/todos/{todo_id}",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "PATCH",
                    "Access-Control-Request-Headers": "authorization,content-type",
                },
                timeout=10,
            )
            assert preflight.headers.get("Access-Control-Allow-Origin") == (
                origin if allowed else None
            )
        forged = user.id_token[:-4] + ("AAAA" if not user.id_token.endswith("AAAA") else "BBBB")
        refused = requests.get(
            stack.api_url + "/todos", headers={"Authorization": f"Bearer {forged}"}, timeout=10
        )
        assert refused.status_code == 401
        page = requests.get(site + "/", timeout=10)
        assert page.status_code == 200
        assert f"{stack.api_url} {stack.emulator_url}" in page.headers["Content-Security-Policy"]
        pids = stack.pids
        assert len(pids) == 3
    assert not [pid for pid in pids if group_alive(pid)]


ENCODED_PATHS = [
    b"/todos/%C3%A9",
    "/todos/é".encode(),
    b"/todos/%FF",
    b"/todos/%00",
    b"/todos/%20",
    b"/todos/{id}%0A",
    b"/todos/{id}%3Fx=1",
    b"/todos/{id}%23",
    b"/todos/{id}%2F",
    b"/todos/{id}/files/%00",
    b"/todos/{id}/files/..%2F..%2F{id}",
]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_no_encoded_path_gets_a_5xx_or_html_from_the_app(
    app_stack: LocalStack, method: str
) -> None:
    user = sign_up(app_stack)
    auth = {"Authorization": f"Bearer {user.id_token}"}
    created = requests.post(
        app_stack.api_url + "/todos", json={"title": "kept"}, headers=auth, timeout=10
    )
    todo_id = created.json()["todoId"]
    body = b'{"title": "changed"}' if method == "PATCH" else b""
    for path in ENCODED_PATHS:
        target = path.replace(b"{id}", todo_id.encode())
        response = raw_request(
            app_stack.api_url, method, target, {**auth, "Content-Type": "application/json"}, body
        )
        where = f"{method} {target!r}: {response.status} {response.body[:200]!r}"
        assert response.status < 500, where
        assert response.headers["Content-Type"].startswith("application/json"), where
        if response.status >= 400:
            assert set(json.loads(response.body)) in ({"error"}, {"message"}), where
    # no answer above changed the todo
    kept = requests.get(f"{app_stack.api_url}/todos/{todo_id}", headers=auth, timeout=10)
    assert (kept.status_code, kept.json()["title"]) == (200, "kept")
