"""The release gate (hooks/gate.py) against the running services of the local stack.

ECS invokes the gate with the hook's `hookDetails` (a JSON object, which CloudFormation's
HookDetails property takes as a string) and acts on the `hookStatus` it returns ("Lambda hooks
for Amazon ECS service deployments", Amazon ECS Developer Guide). Here the details are the core
template's own, with the test listener's URL bound to where the local stack runs each service:
the real services must pass, and a revision that answers but breaks its OpenAPI document, one
that is not up yet, and a gate configured wrongly must not.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from generator.config import Settings
from generator.naming import logical_id
from hooks import gate
from scripts.cfn.template import load_template
from scripts.local import LocalStack
from scripts.local.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES = [service.name for service in Settings().services]


def template_hook_details(service: str) -> dict[str, Any]:
    """The service's gate hookDetails as templates/core.yaml declares them."""
    resources = load_template(ROOT / "templates" / "core.yaml")["Resources"]
    definition = resources[logical_id(service, "service")]
    assert definition["Type"] == "AWS::ECS::Service"
    hooks = definition["Properties"]["DeploymentConfiguration"]["LifecycleHooks"]
    _, (hook,), _ = hooks["Fn::If"]  # progressive strategies only; ROLLING has no hooks
    assert hook["LifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    details: dict[str, Any] = dict(hook["HookDetails"])
    assert details["testUrl"] == {"Fn::Sub": "http://${LoadBalancer.DNSName}:9000"}
    return details


REVISIONS = "arn:aws:ecs:us-east-1:123456789012:service-revision/todo-dev/main/"
GREEN, BLUE = REVISIONS + "2", REVISIONS + "1"


def event(details: dict[str, Any] | str) -> dict[str, Any]:
    """An invocation as ECS makes it at POST_TEST_TRAFFIC_SHIFT ("Lifecycle hooks for Amazon ECS
    service deployments": the weights are keyed by service revision)."""
    return {
        "executionId": "0123456789abcdef",
        "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "resourceArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/todo-dev/main/d",
        "executionDetails": {
            "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/todo-dev/main",
            "targetServiceRevisionArn": GREEN,
            "testTrafficWeights": {GREEN: 100, BLUE: 0},
            "productionTrafficWeights": {GREEN: 0, BLUE: 100},
        },
        "hookDetails": details,
    }


def log_lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("service", SERVICES)
def test_the_running_services_pass_the_gate_with_the_templates_hook_details(
    stack: LocalStack, service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    details = {**template_hook_details(service), "testUrl": stack.service_url(service)}
    answer = gate.handler(event(json.dumps(details)), None)
    lines = log_lines(capsys.readouterr().out)
    assert answer == {"hookStatus": "SUCCEEDED"}, lines
    checks = {line["check"]: line for line in lines if "check" in line}
    assert set(checks) == {"openapi", "health", "unauthenticated"}
    assert all(line["passed"] for line in checks.values())
    assert lines[-1] == {"gate": "SUCCEEDED", "reason": "all checks passed", "service": service}


def test_a_protected_path_that_does_not_answer_401_fails_the_gate(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """main's protected path, asked of the files service: 404, not the document's 401."""
    details = {**template_hook_details("main"), "testUrl": stack.service_url("files")}
    assert gate.handler(event(details), None) == {"hookStatus": "FAILED"}
    verdict = log_lines(capsys.readouterr().out)[-1]
    assert verdict["gate"] == "FAILED"
    assert "unauthenticated: answered 404, expected 401" in verdict["reason"]


Route = Callable[[str], tuple[int, bytes]]


@pytest.fixture
def revision() -> Iterator[Callable[[Route], str]]:
    """A revision that answers test traffic as `route` says; returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def serve(route: Route) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = route(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_revision_whose_health_body_breaks_the_openapi_document_fails_the_gate(
    stack: LocalStack, revision: Callable[[Route], str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It starts and answers 200 on /health (so the ALB calls it healthy), but its body is not
    the document's: the gate, not the health check, stops it."""
    real = stack.service_url("main")
    document = requests.get(real + "/openapi.json", timeout=10).content
    unauthorized = requests.get(real + "/todos", timeout=10)
    assert unauthorized.status_code == 401

    def broken(path: str) -> tuple[int, bytes]:
        if path == "/openapi.json":
            return 200, document
        if path == "/health":
            return 200, b'{"status": "degraded"}'
        return 401, unauthorized.content

    details = {**template_hook_details("main"), "testUrl": revision(broken)}
    assert gate.handler(event(details), None) == {"hookStatus": "FAILED"}
    lines = log_lines(capsys.readouterr().out)
    checks = {line["check"]: line for line in lines if "check" in line}
    assert checks["openapi"]["passed"]
    assert checks["unauthenticated"]["passed"]
    assert not checks["health"]["passed"]
    assert "$.status: expected 'ok', got 'degraded'" in checks["health"]["detail"]
    assert lines[-1]["gate"] == "FAILED"


def test_the_website_is_not_an_api_and_fails_the_gate(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    details = {**template_hook_details("main"), "testUrl": stack.site_url}
    assert gate.handler(event(details), None) == {"hookStatus": "FAILED"}
    assert "openapi" in log_lines(capsys.readouterr().out)[-1]["reason"]


@pytest.mark.parametrize("how", ["refused", "load balancer 503"])
def test_a_revision_not_up_yet_is_asked_again_then_failed(
    revision: Callable[[Route], str], how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if how == "refused":
        url = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    else:
        url = revision(lambda _: (503, b"<html>503 Service Temporarily Unavailable</html>"))
    details = {**template_hook_details("main"), "testUrl": url}
    answer = gate.handler(event(details), None)
    assert answer["hookStatus"] == "IN_PROGRESS"
    assert answer["callBackDelay"] == gate.RETRY_SECONDS
    # ECS passes the returned hookDetails to the next invocation: the attempt counts up.
    assert answer["hookDetails"] == {**details, "attempt": 2}
    for attempt in range(2, gate.MAX_ATTEMPTS):
        answer = gate.handler(event(answer["hookDetails"]), None)
        assert answer["hookDetails"]["attempt"] == attempt + 1
    assert gate.handler(event(answer["hookDetails"]), None) == {"hookStatus": "FAILED"}
    verdict = log_lines(capsys.readouterr().out)[-1]
    assert verdict["gate"] == "FAILED"
    assert verdict["reason"].startswith("unreachable: GET /openapi.json")


@pytest.mark.parametrize(
    ("details", "reason"),
    [
        ({}, "hookDetails lacks testUrl, service, header, protectedPath"),
        (
            '{"testUrl": "ftp://x", "service": "main", "header": "h", "protectedPath": "/p"}',
            "is not an http(s) URL",
        ),
        ("[1, 2]", "hookDetails is not a JSON object"),
        ("{not json", "configuration: "),
    ],
    ids=["missing", "not-http", "not-an-object", "not-json"],
)
def test_a_wrongly_configured_gate_fails_the_deployment_and_says_why(
    details: dict[str, Any] | str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gate.handler(event(details), None) == {"hookStatus": "FAILED"}
    verdict = log_lines(capsys.readouterr().out)[-1]
    assert verdict["gate"] == "FAILED"
    assert reason in verdict["reason"]
    assert verdict["serviceRevision"] == GREEN
