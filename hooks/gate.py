"""The release gate: checks a new service revision through the ALB's test listener.

ECS invokes this function at the POST_TEST_TRAFFIC_SHIFT stage of a blue/green, linear or canary
deployment: the new (green) revision then receives all test traffic and no production traffic
("Lifecycle hooks for Amazon ECS service deployments", Amazon ECS Developer Guide). The stage is
chosen on purpose: the hooks of the test-traffic stage itself run again when a deployment rolls
back, and a gate that fails there would fail the rollback too.

The event carries no URL, so the test endpoint comes from the hook's `hookDetails`, which the
core template sets per service (generator/core/release.py):

    {"testUrl": "http://<internal ALB>:<test port>", "service": "main",
     "header": "x-release-gate-service", "protectedPath": "/todos"}

The test listener routes by that header to the service's test rule, so one listener serves every
service. Three checks, each against the service's own OpenAPI document:

1. `GET /health` answers 200 with the document's health body;
2. `GET /openapi.json` answers 200 with an OpenAPI 3 document;
3. `GET <protectedPath>` without a token answers 401 with the document's error body.

The function answers with the `hookStatus` ECS expects ("Lambda hooks for Amazon ECS service
deployments"): SUCCEEDED lets the deployment shift production traffic; FAILED rolls it back.
While the new revision cannot be reached yet (connection refused, or the ALB's 502/503/504
because no target is healthy yet) it answers IN_PROGRESS with `callBackDelay`, carrying its
attempt count in `hookDetails`, and gives up with FAILED after MAX_ATTEMPTS. Every check and the
verdict are logged as one JSON line each, which is what `make deploy-service` prints when the
gate stops a deployment.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_ATTEMPTS = 6
RETRY_SECONDS = 10
REQUEST_TIMEOUT_SECONDS = 5.0
# The ALB answers these itself while the target group has no healthy target.
NOT_READY_STATUSES = frozenset({502, 503, 504})


class GateConfigError(ValueError):
    """hookDetails lacks what the gate needs: a template error, never the revision's fault."""


class Unreachable(Exception):
    """The new revision cannot be reached yet: connection refused, timeout, or an ALB 5XX."""


@dataclass(frozen=True)
class Target:
    """Where the new revision answers test traffic, as the service's hookDetails say."""

    url: str
    service: str
    header: str
    protected_path: str
    attempt: int = 1

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> Target:
        missing = [
            k for k in ("testUrl", "service", "header", "protectedPath") if not details.get(k)
        ]
        if missing:
            raise GateConfigError(f"hookDetails lacks {', '.join(missing)}")
        url = str(details["testUrl"]).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise GateConfigError(f"hookDetails testUrl {url!r} is not an http(s) URL")
        return cls(
            url=url,
            service=str(details["service"]),
            header=str(details["header"]),
            protected_path=str(details["protectedPath"]),
            attempt=int(details.get("attempt", 1)),
        )

    def details(self, attempt: int) -> dict[str, Any]:
        """hookDetails for the next invocation: the same target, one attempt further."""
        return {
            "testUrl": self.url,
            "service": self.service,
            "header": self.header,
            "protectedPath": self.protected_path,
            "attempt": attempt,
        }


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


Fetch = Callable[[Target, str], Response]


def fetch(target: Target, path: str) -> Response:
    """GET `path` through the test listener, with the header that selects the service's rule."""
    request = urllib.request.Request(  # noqa: S310 - the URL is checked to be http(s)
        target.url + path,
        headers={target.header: target.service, "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as reply:  # noqa: S310
            return Response(reply.status, reply.read(), dict(reply.headers))
    except urllib.error.HTTPError as err:
        response = Response(err.code, err.read(), dict(err.headers or {}))
        if err.code in NOT_READY_STATUSES:
            raise Unreachable(f"GET {path}: the load balancer answered {err.code}") from err
        return response
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        reason = getattr(err, "reason", err)
        raise Unreachable(f"GET {path}: {reason}") from err


# --- the OpenAPI document: find an operation's response schema and check a body against it --


def operation(document: Mapping[str, Any], method: str, path: str) -> Mapping[str, Any] | None:
    """The document's operation for a concrete path (`/todos/abc/files` matches
    `/todos/{todoId}/files`), or None."""
    for template, item in (document.get("paths") or {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            found: Mapping[str, Any] = item[method.lower()]
            return found
    return None


def response_schema(
    document: Mapping[str, Any], method: str, path: str, status: int
) -> Mapping[str, Any]:
    """The JSON schema the document gives for that answer; a KeyError names what is missing."""
    op = operation(document, method, path)
    if op is None:
        raise KeyError(f"the OpenAPI document has no operation {method} {path}")
    response = (op.get("responses") or {}).get(str(status))
    if response is None:
        raise KeyError(f"the OpenAPI document declares no {status} answer for {method} {path}")
    try:
        schema: Mapping[str, Any] = response["content"]["application/json"]["schema"]
    except KeyError:
        raise KeyError(f"{method} {path} {status} has no application/json schema") from None
    return schema


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def violations(
    value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], at: str = "$"
) -> list[str]:
    """Where `value` breaks `schema`: the JSON Schema keywords the services' documents use
    ($ref, type, const, enum, properties, required, additionalProperties, items, anyOf, allOf)."""
    if "$ref" in schema:
        target: Any = document
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        return violations(value, target, document, at)
    found: list[str] = []
    kinds = schema.get("type")
    if kinds is not None:
        allowed = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_TYPES[k](value) for k in allowed if k in _TYPES):
            return [f"{at}: expected {' or '.join(allowed)}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{at}: expected {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{at}: {value!r} is not one of {schema['enum']!r}")
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                found.append(f"{at}: required property {name!r} is missing")
        for name, item in value.items():
            if name in properties:
                found += violations(item, properties[name], document, f"{at}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{at}: property {name!r} is not in the document")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += violations(item, schema["items"], document, f"{at}[{index}]")
    if "anyOf" in schema and all(
        violations(value, option, document, at) for option in schema["anyOf"]
    ):
        found.append(f"{at}: matches none of the anyOf alternatives")
    for part in schema.get("allOf") or []:
        found += violations(value, part, document, at)
    return found


# --- the checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def _body_check(
    name: str,
    response: Response,
    expected_status: int,
    document: Mapping[str, Any],
    method: str,
    path: str,
) -> Check:
    if response.status != expected_status:
        return Check(name, False, f"answered {response.status}, expected {expected_status}")
    try:
        body = response.json()
        schema = response_schema(document, method, path, expected_status)
    except (ValueError, KeyError) as err:
        return Check(name, False, str(err))
    problems = violations(body, schema, document)
    if problems:
        return Check(name, False, "the body does not match the OpenAPI document: " + problems[0])
    return Check(name, True, f"{expected_status}, body matches the OpenAPI document")


def run_checks(target: Target, get: Fetch = fetch) -> list[Check]:
    """The three checks, in order; raises Unreachable while the revision cannot be reached."""
    spec = get(target, "/openapi.json")
    if spec.status != 200:
        return [Check("openapi", False, f"GET /openapi.json answered {spec.status}, expected 200")]
    try:
        document = spec.json()
    except ValueError as err:
        return [Check("openapi", False, f"GET /openapi.json is not JSON: {err}")]
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        return [Check("openapi", False, "GET /openapi.json is not an OpenAPI 3 document")]
    checks = [Check("openapi", True, f"OpenAPI {document['openapi']} document")]
    checks.append(_body_check("health", get(target, "/health"), 200, document, "GET", "/health"))
    path = target.protected_path
    checks.append(_body_check("unauthenticated", get(target, path), 401, document, "GET", path))
    return checks


def log(record: Mapping[str, Any]) -> None:
    """One JSON line in the function's log group (Lambda writes stdout there)."""
    print(json.dumps(record, sort_keys=True), flush=True)


def evaluate(target: Target, get: Fetch = fetch) -> dict[str, Any]:
    """The hook's answer for one invocation."""
    try:
        checks = run_checks(target, get)
    except Unreachable as err:
        if target.attempt >= MAX_ATTEMPTS:
            log({"gate": "FAILED", "service": target.service, "reason": f"unreachable: {err}"})
            return {"hookStatus": "FAILED"}
        log(
            {
                "gate": "IN_PROGRESS",
                "service": target.service,
                "attempt": target.attempt,
                "reason": str(err),
            }
        )
        return {
            "hookStatus": "IN_PROGRESS",
            "callBackDelay": RETRY_SECONDS,
            "hookDetails": target.details(target.attempt + 1),
        }
    for check in checks:
        log(
            {
                "check": check.name,
                "passed": check.passed,
                "detail": check.detail,
                "service": target.service,
            }
        )
    failed = [c for c in checks if not c.passed]
    verdict = "FAILED" if failed else "SUCCEEDED"
    log(
        {
            "gate": verdict,
            "service": target.service,
            "reason": "; ".join(f"{c.name}: {c.detail}" for c in failed) or "all checks passed",
        }
    )
    return {"hookStatus": verdict}


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    details = event.get("hookDetails") or {}
    if isinstance(details, str):  # CloudFormation documents HookDetails as a JSON string
        details = json.loads(details)
    if not isinstance(details, dict):
        raise GateConfigError("hookDetails is not a JSON object")
    return details


def _revision(event: Mapping[str, Any]) -> Any:
    """The new revision's ARN: ECS sends it in `executionDetails` with the traffic weights."""
    return (event.get("executionDetails") or {}).get("targetServiceRevisionArn")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """ECS's entry point. A configuration error fails the deployment with the reason logged."""
    try:
        target = Target.from_details(_details(event))
    except (GateConfigError, ValueError) as err:
        log(
            {
                "gate": "FAILED",
                "reason": f"configuration: {err}",
                "serviceRevision": _revision(event),
            }
        )
        return {"hookStatus": "FAILED"}
    log(
        {
            "gate": "START",
            "service": target.service,
            "attempt": target.attempt,
            "serviceRevision": _revision(event),
        }
    )
    return evaluate(target)
