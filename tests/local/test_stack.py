"""A whole start and stop of LocalStack, and the gateway when a service fails."""

from __future__ import annotations

import io
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from rich.console import Console
from werkzeug.test import Client

from scripts.cfn.template import load_template
from scripts.local import LocalStack, Log, PortInUse, Ports, StartupError
from scripts.local.alb import Forward, Routing
from scripts.local.apigateway import Api, ApiRoute, Authorizer, Cors
from scripts.local.authorizer import JwtVerifier
from scripts.local.gateway import ApiGateway, Upstream
from scripts.local.processes import free_port
from scripts.local.users import sign_up
from tests.local.conftest import FIXTURE, group_alive


def test_start_serve_and_stop_leaves_nothing_behind() -> None:
    stack = LocalStack(Ports(site=0, api=0, emulator=0), root=FIXTURE, log=Log(quiet=True))
    with stack:
        user = sign_up(stack)
        response = requests.post(
            stack.api_url + "/todos/t1/files",
            json={"name": "a.txt"},
            headers={"Authorization": user.id_token, "Origin": stack.site_url},
            timeout=10,
        )
        assert response.status_code == 200
        seen = response.json()
        assert seen["service"] == "files"
        assert seen["todosKeys"] == ["userID", "todoID"]  # the service asked the emulator
        assert response.headers["Access-Control-Allow-Origin"] == stack.site_url
        pids = stack.pids
        assert len(pids) == 3  # emulator, main, files (each leads its own process group)
        assert all(group_alive(pid) for pid in pids)
        ports = [stack.site_url, stack.api_url, stack.emulator_url]
    assert not [pid for pid in pids if group_alive(pid)]
    for url in ports:
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)
    stack.stop()  # a second stop is harmless


def test_failed_start_up_stops_what_it_started() -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    stack = LocalStack(Ports(site=port, api=0, emulator=0), root=FIXTURE, log=Log(quiet=True))
    with busy, pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 \\(the website\\)"):
        stack.start()
    assert stack.pids == []

    missing = LocalStack(
        Ports(site=0, api=0, emulator=0),
        root=FIXTURE,
        log=Log(quiet=True),
        template=FIXTURE / "missing.yaml",
    )
    with pytest.raises(StartupError, match=r"missing\.yaml: cannot read the template"):
        missing.start()  # the templates are read before anything starts
    assert missing.started_pids == []


def test_a_start_up_that_fails_after_the_emulator_started_stops_it(tmp_path: Path) -> None:
    template = load_template(FIXTURE / "templates" / "core.yaml")
    template["Resources"]["FilesTable"]["Properties"]["KeySchema"][1]["KeyType"] = "SORT"
    refused = tmp_path / "core.yaml"
    refused.write_text(yaml.safe_dump(template))
    stack = LocalStack(
        Ports(site=0, api=0, emulator=0), root=FIXTURE, log=Log(quiet=True), template=refused
    )
    with pytest.raises(StartupError, match=r"FilesTable \(AWS::DynamoDB::Table\): the emulator"):
        stack.start()  # creating the resources, after the emulator started
    assert len(stack.started_pids) == 1
    assert stack.pids == []
    assert not group_alive(stack.started_pids[0])


# --- the gateway when the integration fails -----------------------------------------------------


@pytest.fixture
def silent_upstream() -> Iterator[int]:
    """A service that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    for connection in accepted:
        connection.close()
    listener.close()


def gateway(port: int, timeout: float, route_timeout_ms: int | None = None) -> Client:
    route = ApiRoute("ANY", "/todos", None, timeout_ms=route_timeout_ms)
    api = Api((route,), None, "Listener")
    routing = Routing((), Forward("main"))
    upstreams = {"main": Upstream("127.0.0.1", port)}
    return Client(ApiGateway(api, routing, upstreams, {}, Log(quiet=True), timeout=timeout))


def test_an_unreachable_service_is_503() -> None:
    response = gateway(free_port(), 1.0).get("/todos")
    assert response.status_code == 503
    assert response.json == {"message": "Service Unavailable"}


def test_a_slow_service_is_504(silent_upstream: int) -> None:
    response = gateway(silent_upstream, 0.3).get("/todos")
    assert response.status_code == 504
    assert response.json == {"message": "Endpoint request timed out"}


def test_the_integrations_own_timeout_applies(silent_upstream: int) -> None:
    response = gateway(silent_upstream, 30.0, route_timeout_ms=300).get("/todos")
    assert response.status_code == 504


def test_the_gateway_logs_each_request_and_why_a_token_was_refused() -> None:
    output = io.StringIO()
    log = Log(Console(file=output, width=200, color_system=None))
    authorizer = Authorizer("jwt", "https://issuer.invalid/pool", ("client",))
    route = ApiRoute("ANY", "/todos", authorizer)
    verifier = JwtVerifier("https://issuer.invalid/pool", ("client",), "http://127.0.0.1:9/unused")
    app = ApiGateway(
        Api((route,), None, "L"), Routing((), Forward("main")), {}, {"jwt": verifier}, log
    )
    response = Client(app).get("/todos?limit=1")
    assert response.status_code == 401
    response.close()
    assert re.fullmatch(
        r" gateway \| GET /todos\?limit=1 401 \d+ ms \(no token\)\n", output.getvalue()
    )


@pytest.mark.parametrize(("method", "status"), [("ANY", 401), ("GET", 204)])
def test_a_preflight_is_answered_only_when_no_route_takes_options(method: str, status: int) -> None:
    # As on API Gateway: an ANY route behind a JWT authorizer swallows the browser's preflight.
    authorizer = Authorizer("jwt", "https://issuer.invalid/pool", ("client",))
    route = ApiRoute(method, "/todos", authorizer)
    verifier = JwtVerifier("https://issuer.invalid/pool", ("client",), "http://127.0.0.1:9/unused")
    cors = Cors(allow_origins=("http://site.test",), allow_methods=("GET",))
    app = ApiGateway(
        Api((route,), cors, "L"),
        Routing((), Forward("main")),
        {},
        {"jwt": verifier},
        Log(quiet=True),
    )
    headers = {"Origin": "http://site.test", "Access-Control-Request-Method": "GET"}
    response = Client(app).options("/todos", headers=headers)
    assert response.status_code == status
    response.close()


# --- the option that drops CORS headers from the authorizer's 401 -------------------------------


def cors_gateway(drop_cors_on_401: bool, upstream_port: int) -> Client:
    authorizer = Authorizer("jwt", "https://issuer.invalid/pool", ("client",))
    route = ApiRoute("ANY", "/todos", authorizer)
    verifier = JwtVerifier("https://issuer.invalid/pool", ("client",), "http://127.0.0.1:9/unused")
    cors = Cors(allow_origins=("http://site.test",), allow_methods=("GET",))
    app = ApiGateway(
        Api((route,), cors, "L"),
        Routing((), Forward("main")),
        {"main": Upstream("127.0.0.1", upstream_port)},
        {"jwt": verifier},
        Log(quiet=True),
        drop_cors_on_401=drop_cors_on_401,
    )
    return Client(app)


@pytest.mark.parametrize("drop", [False, True])
def test_the_authorizers_401_drops_cors_headers_only_when_asked(drop: bool) -> None:
    response = cors_gateway(drop, free_port()).get("/todos", headers={"Origin": "http://site.test"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    allowed = response.headers.get("Access-Control-Allow-Origin")
    assert allowed == (None if drop else "http://site.test")
    response.close()


def test_the_option_leaves_the_preflight_its_cors_headers() -> None:
    gateway = cors_gateway(True, free_port())
    preflight = gateway.options(
        "/elsewhere",
        headers={"Origin": "http://site.test", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://site.test"
    preflight.close()


def test_make_up_takes_the_option_from_a_flag_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scripts.local.__main__ import parse_args

    monkeypatch.delenv("TODO_DROP_CORS_ON_401", raising=False)
    assert parse_args([]).drop_cors_on_401 is False  # off by default
    assert parse_args(["--drop-cors-on-401"]).drop_cors_on_401 is True
    monkeypatch.setenv("TODO_DROP_CORS_ON_401", "1")
    assert parse_args([]).drop_cors_on_401 is True
