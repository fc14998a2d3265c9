"""The smoke checks: the site's headers and config.js, the API's refusals, and a round trip.

Every check talks to the stack the way a browser does: the site URL (CloudFront, or the local
site), its config.js, Cognito's JSON API at the endpoint config.js names, and the HTTP API with
the site's origin. The round trip, as the smoke user, creates a todo, reads it, finds it by
search, attaches a small file through the presigned POST, downloads it, and deletes the todo
(which deletes its file), so nothing is left behind; leftovers of an interrupted run (titles
starting with `smoke-`) are deleted first.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scripts.smoke.user import SmokeUser

TIMEOUT_SECONDS = 15.0
TITLE_PREFIX = "smoke-"
FOREIGN_ORIGIN = "https://smoke-foreign-origin.invalid"
CONFIG_PATTERN = re.compile(r"window\.TODO_CONFIG\s*=\s*(\{.*\})\s*;?\s*$", re.S)
CONFIG_KEYS = ("apiUrl", "region", "userPoolId", "userPoolClientId", "cognitoEndpoint")
# The core stack's outputs that config.js must repeat (scripts/deploy/website.py).
OUTPUT_OF = {
    "apiUrl": "ApiUrl",
    "region": "Region",
    "userPoolId": "UserPoolId",
    "userPoolClientId": "UserPoolClientId",
}


class CheckFailed(Exception):
    """One check's failure: the message says what was expected and what came."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as err:
            raise CheckFailed(f"expected JSON, got {self.body[:120]!r}") from err


def http(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> Response:
    """One HTTP exchange; an error status is an answer, not an exception."""
    if not url.startswith(("http://", "https://")):
        raise CheckFailed(f"not an http(s) URL: {url}")
    request = urllib.request.Request(  # noqa: S310 - checked to be http(s) above
        url, data=body, method=method, headers=dict(headers or {})
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:  # noqa: S310
            return Response(reply.status, _lower(reply.headers), reply.read())
    except urllib.error.HTTPError as err:
        return Response(err.code, _lower(err.headers), err.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        raise CheckFailed(f"{method} {url}: {getattr(err, 'reason', err)}") from err


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class SiteConfig:
    """What config.js assigns to window.TODO_CONFIG."""

    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> str:
        return str(self.values[key])

    @property
    def local(self) -> bool:
        return bool(self.values.get("local"))


def read_config(site_url: str, get: Callable[..., Response] = http) -> SiteConfig:
    answer = get("GET", site_url.rstrip("/") + "/config.js")
    if answer.status != 200:
        raise CheckFailed(f"GET config.js answered {answer.status}")
    match = CONFIG_PATTERN.search(answer.body.decode("utf-8"))
    if match is None:
        raise CheckFailed("config.js does not assign window.TODO_CONFIG = {...}")
    values = json.loads(match.group(1))
    missing = [k for k in CONFIG_KEYS if not values.get(k)]
    if missing:
        raise CheckFailed(f"config.js lacks {', '.join(missing)}")
    return SiteConfig(values)


@dataclass
class Run:
    """One smoke run: where the stack is, who signs in, and what the round trip made."""

    site_url: str
    config: SiteConfig
    user: SmokeUser | None
    outputs: Mapping[str, str] | None = None  # the core stack's, when run with ENV
    get: Callable[..., Response] = http
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    token: str | None = None
    todo_id: str | None = None
    file_bytes: bytes = b""

    @property
    def api(self) -> str:
        return self.config["apiUrl"].rstrip("/")

    @property
    def site_origin(self) -> str:
        return origin(self.site_url)

    def call(self, method: str, path: str, body: Any = None) -> Response:
        """An API call as the website makes it: the site's origin, the smoke user's token."""
        if self.token is None:
            raise CheckFailed("not signed in (the sign-in check failed)")
        headers = {"Authorization": f"Bearer {self.token}", "Origin": self.site_origin}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        return self.get(method, self.api + path, headers=headers, body=data)


def _expect(answer: Response, status: int, what: str) -> Response:
    if answer.status != status:
        raise CheckFailed(
            f"{what} answered {answer.status}, expected {status}: {answer.body[:200]!r}"
        )
    return answer


def _directives(csp: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


# --- the checks: each returns a detail for the table, or raises CheckFailed -----------------


def website_headers(run: Run) -> str:
    answer = _expect(run.get("GET", run.site_url.rstrip("/") + "/"), 200, "GET /")
    headers = answer.headers
    expected = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
    }
    wrong = [f"{k}: {headers.get(k)!r}" for k, v in expected.items() if headers.get(k) != v]
    if not headers.get("referrer-policy"):
        wrong.append("referrer-policy missing")
    if run.site_url.startswith("https://"):
        hsts = headers.get("strict-transport-security", "")
        age = re.search(r"max-age=(\d+)", hsts)
        if not age or int(age.group(1)) < 31536000:
            wrong.append(f"strict-transport-security: {hsts!r}")
    csp = _directives(headers.get("content-security-policy", ""))
    for name, value in (
        ("default-src", ["'self'"]),
        ("frame-ancestors", ["'none'"]),
        ("object-src", ["'none'"]),
    ):
        if csp.get(name) != value:
            wrong.append(f"CSP {name} {csp.get(name)}")
    if any(s == "*" or "'unsafe-inline'" in s for v in csp.values() for s in v):
        wrong.append("CSP allows * or 'unsafe-inline'")
    if wrong:
        raise CheckFailed("; ".join(wrong))
    hsts = ", HSTS" if run.site_url.startswith("https://") else " (http: no HSTS)"
    return "nosniff, frame DENY, referrer policy, CSP" + hsts


def csp_connections(run: Run) -> str:
    """connect-src names the API and Cognito, which config.js points the site at."""
    answer = _expect(run.get("GET", run.site_url.rstrip("/") + "/"), 200, "GET /")
    connect = _directives(answer.headers.get("content-security-policy", "")).get("connect-src")
    if not connect:
        raise CheckFailed("the CSP has no connect-src")
    sources = {s.rstrip("/") for s in connect}
    needed = {origin(run.config["apiUrl"]), origin(run.config["cognitoEndpoint"])}
    missing = sorted(n for n in needed if n not in sources)
    if missing:
        raise CheckFailed(f"connect-src {' '.join(connect)} lacks {', '.join(missing)}")
    return f"connect-src {' '.join(connect)}"


def config_js(run: Run) -> str:
    if run.outputs is None:
        # A URL alone: config.js must at least agree with itself.
        if not run.config["userPoolId"].startswith(run.config["region"] + "_"):
            raise CheckFailed(
                f"userPoolId {run.config['userPoolId']} is not in region {run.config['region']}"
            )
        return "consistent (no stack outputs to compare with: run with ENV=… for that)"
    wrong = [
        f"{key} {run.config[key]!r} != output {output} {run.outputs.get(output)!r}"
        for key, output in OUTPUT_OF.items()
        if run.outputs.get(output) != run.config[key]
    ]
    if wrong:
        raise CheckFailed("; ".join(wrong))
    return "apiUrl, region, userPoolId, userPoolClientId match the core stack's outputs"


def api_refuses_without_token(run: Run) -> str:
    answer = run.get("GET", run.api + "/todos", headers={"Origin": run.site_origin})
    _expect(answer, 401, "GET /todos without a token")
    return "401 without a token"


def cors_for_the_site_only(run: Run) -> str:
    def preflight(site: str) -> Response:
        return run.get(
            "OPTIONS",
            run.api + "/todos",
            headers={
                "Origin": site,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )

    own = preflight(run.site_origin).headers.get("access-control-allow-origin")
    if own != run.site_origin:
        raise CheckFailed(f"the site's preflight got Access-Control-Allow-Origin {own!r}")
    foreign = preflight(FOREIGN_ORIGIN).headers.get("access-control-allow-origin")
    if foreign is not None:
        raise CheckFailed(f"a foreign origin got Access-Control-Allow-Origin {foreign!r}")
    return f"allows {run.site_origin} only"


def sign_in(run: Run) -> str:
    if run.user is None:
        raise CheckFailed("no smoke user credentials (make smoke-user ENV=…)")
    answer = run.get(
        "POST",
        run.config["cognitoEndpoint"],
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        body=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": run.config["userPoolClientId"],
                "AuthParameters": {"USERNAME": run.user.username, "PASSWORD": run.user.password},
            }
        ).encode(),
    )
    _expect(answer, 200, "Cognito InitiateAuth")
    result = answer.json().get("AuthenticationResult") or {}
    if not result.get("IdToken"):
        raise CheckFailed(f"Cognito answered no token: {answer.body[:200]!r}")
    run.token = str(result["IdToken"])
    return f"as {run.user.username}"


def leftovers(run: Run) -> str:
    """Delete what an interrupted earlier run left (its todos, with their files)."""
    answer = _expect(run.call("GET", f"/todos?search={TITLE_PREFIX}&limit=100"), 200, "list")
    stale = [t["todoId"] for t in answer.json()["items"] if t["title"].startswith(TITLE_PREFIX)]
    for todo_id in stale:
        _expect(run.call("DELETE", f"/todos/{todo_id}"), 204, f"delete leftover {todo_id}")
    return f"{len(stale)} left by an earlier run, deleted" if stale else "none"


def create(run: Run) -> str:
    title = f"{TITLE_PREFIX}{run.run_id}"
    answer = _expect(
        run.call("POST", "/todos", {"title": title, "description": "smoke test"}), 201, "create"
    )
    if answer.headers.get("access-control-allow-origin") != run.site_origin:
        raise CheckFailed("the API's answer carries no CORS header for the site")
    run.todo_id = str(answer.json()["todoId"])
    return title


def read(run: Run) -> str:
    todo = _expect(run.call("GET", f"/todos/{run.todo_id}"), 200, "read").json()
    if todo["title"] != f"{TITLE_PREFIX}{run.run_id}":
        raise CheckFailed(f"read back the title {todo['title']!r}")
    return "read back"


def search(run: Run) -> str:
    page = _expect(run.call("GET", f"/todos?search={run.run_id.upper()}"), 200, "search").json()
    if [t["todoId"] for t in page["items"]] != [run.todo_id]:
        raise CheckFailed(f"search for {run.run_id.upper()!r} found {page['items']!r}")
    return "found, case-insensitively"


def _multipart(fields: Mapping[str, str], content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="smoke.txt"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def attach(run: Run) -> str:
    run.file_bytes = f"smoke {run.run_id}\n".encode()
    registered = _expect(
        run.call(
            "POST",
            f"/todos/{run.todo_id}/files",
            {"name": "smoke.txt", "contentType": "text/plain", "size": len(run.file_bytes)},
        ),
        201,
        "register a file",
    ).json()
    upload = registered["upload"]
    body, content_type = _multipart(upload["fields"], run.file_bytes, "text/plain")
    answer = run.get("POST", upload["url"], headers={"Content-Type": content_type}, body=body)
    if answer.status not in (200, 201, 204):
        raise CheckFailed(f"the presigned upload answered {answer.status}: {answer.body[:200]!r}")
    return f"{len(run.file_bytes)} bytes through the presigned POST"


def download(run: Run) -> str:
    files = _expect(run.call("GET", f"/todos/{run.todo_id}/files"), 200, "list files").json()
    items = files["items"]
    if len(items) != 1:
        raise CheckFailed(f"expected the one file, listed {len(items)}")
    content = _expect(run.get("GET", items[0]["downloadUrl"]), 200, "download").body
    if content != run.file_bytes:
        raise CheckFailed(f"downloaded {content!r}, uploaded {run.file_bytes!r}")
    return "same bytes back"


def delete(run: Run) -> str:
    _expect(run.call("DELETE", f"/todos/{run.todo_id}"), 204, "delete")
    _expect(run.call("GET", f"/todos/{run.todo_id}"), 404, "read after delete")
    _expect(run.call("GET", f"/todos/{run.todo_id}/files"), 404, "files after delete")
    run.todo_id = None
    return "todo and file gone (404)"


CHECKS: tuple[tuple[str, Callable[[Run], str]], ...] = (
    ("website security headers", website_headers),
    ("CSP connect-src", csp_connections),
    ("config.js", config_js),
    ("API without a token", api_refuses_without_token),
    ("CORS", cors_for_the_site_only),
    ("sign in (smoke user)", sign_in),
    ("earlier leftovers", leftovers),
    ("create a todo", create),
    ("read it", read),
    ("search for it", search),
    ("attach a file", attach),
    ("download it", download),
    ("delete the todo", delete),
)


@dataclass(frozen=True)
class Result:
    name: str
    passed: bool
    detail: str
    millis: int


def run_checks(run: Run, clock: Callable[[], float] = time.monotonic) -> list[Result]:
    """Every check in order; a failure does not stop the rest. Whatever the round trip created
    is deleted at the end, also after a failure."""
    results = []
    for name, check in CHECKS:
        start = clock()
        try:
            detail, passed = check(run), True
        except CheckFailed as err:
            detail, passed = str(err), False
        except (KeyError, TypeError, ValueError) as err:
            detail, passed = f"unexpected answer: {type(err).__name__}: {err}", False
        results.append(Result(name, passed, detail, int((clock() - start) * 1000)))
    if run.todo_id is not None and run.token is not None:
        with contextlib.suppress(CheckFailed):  # else the next run deletes it (leftovers)
            run.call("DELETE", f"/todos/{run.todo_id}")
    return results
