"""The local gateway: API Gateway + ALB on one port, the website (CloudFront + S3) on another.

`ApiGateway` answers CORS preflights itself, matches the HTTP API's routes, verifies the JWT as the
route's authorizer is configured, applies the integration's header mappings (the verified `sub`
overwrites `x-user-sub`), then routes by the ALB listener rules and proxies to the service,
streaming both bodies. With `drop_cors_on_401` the authorizer's 401 answers carry no CORS headers:
API Gateway documents CORS headers only on integration responses, and a browser shows such a 401
to the page as a network error (docs/website.md); the website must recover from both.

`Website` serves website/ and a generated config.js with the website
stack's security headers. Both are plain WSGI apps run by werkzeug's threaded server.
"""

from __future__ import annotations

import http.client
import io
import json
import mimetypes
import re
import selectors
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from werkzeug.security import safe_join
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_input_stream

from scripts.cfn.website_config import config_script
from scripts.local.alb import FixedResponse, LambdaTarget, Routing
from scripts.local.apigateway import Api, ApiRoute, Cors, RequestTarget
from scripts.local.authorizer import Claims, JwtVerifier, Unauthorized
from scripts.local.processes import Log, printable

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Hop-by-hop headers (RFC 9110 7.6.1) end at each proxy.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # the HTTP API payload limit
_CHUNK = 65536  # what the gateway reads or sends of a body at a time
INTEGRATION_TIMEOUT_SECONDS = 30.0  # the HTTP API integration limit


class AuthorizerRefusal(Response):
    """The JWT authorizer's 401, which never reached an integration."""


def _json(
    status: int,
    body: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    kind: type[Response] = Response,
) -> Response:
    response = kind(json.dumps(body), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@dataclass(frozen=True)
class Upstream:
    host: str
    port: int


class ApiGateway:
    """WSGI app playing the HTTP API (CORS, routes, JWT authorizer) in front of the ALB rules."""

    def __init__(
        self,
        api: Api,
        routing: Routing,
        upstreams: Mapping[str, Upstream],
        verifiers: Mapping[str, JwtVerifier],
        log: Log,
        timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        drop_cors_on_401: bool = False,
    ) -> None:
        self.api = api
        self.routing = routing
        self.upstreams = upstreams
        self.verifiers = verifiers
        self.log = log
        self.timeout = timeout
        self.drop_cors_on_401 = drop_cors_on_401

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        request = Request(environ)
        target = RequestTarget.parse(raw_target(environ))
        request_id = uuid.uuid4().hex[:16]
        response = self._handle(request, target, request_id)
        response.headers["apigw-requestid"] = request_id
        self._add_cors(request, response)
        status = response.status_code
        # Say why a token was refused: the browser only sees the status.
        why = re.search(
            r'error_description="([^"]*)"', response.headers.get("WWW-Authenticate", "")
        )

        def log_when_done() -> None:
            elapsed = (time.monotonic() - started) * 1000
            shown = target.path + (f"?{target.query}" if target.query else "")
            line = f"{request.method} {shown} {status} {elapsed:.0f} ms"
            # The path, query and reason come from the client: escaped, they cannot forge a line.
            self.log.line("gateway", printable(f"{line} ({why.group(1)})" if why else line))

        response.call_on_close(log_when_done)
        return response(environ, start_response)

    # --- CORS, as API Gateway applies its CorsConfiguration -----------------------------------

    def _allowed_origin(self, cors: Cors, origin: str | None) -> str | None:
        if origin is None:
            return None
        if "*" in cors.allow_origins:
            return "*" if not cors.allow_credentials else origin
        return origin if origin in cors.allow_origins else None

    def _preflight(self, request: Request) -> Response:
        cors = self.api.cors
        response = Response(status=204)
        assert cors is not None
        origin = self._allowed_origin(cors, request.headers.get("Origin"))
        method = request.headers.get("Access-Control-Request-Method", "").upper()
        wanted = [
            h.strip().lower()
            for h in request.headers.get("Access-Control-Request-Headers", "").split(",")
            if h.strip()
        ]
        methods_ok = "*" in cors.allow_methods or method in cors.allow_methods
        headers_ok = "*" in cors.allow_headers or all(h in cors.allow_headers for h in wanted)
        if origin is None or not methods_ok or not headers_ok:
            return response  # no CORS headers: the browser refuses the request
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = ",".join(cors.allow_methods)
        if cors.allow_headers:
            response.headers["Access-Control-Allow-Headers"] = ",".join(cors.allow_headers)
        if cors.max_age is not None:
            response.headers["Access-Control-Max-Age"] = str(cors.max_age)
        if cors.allow_credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    def _add_cors(self, request: Request, response: Response) -> None:
        cors = self.api.cors
        if cors is None or (request.method == "OPTIONS" and response.status_code == 204):
            return
        for name in list(response.headers.keys()):
            if name.lower().startswith("access-control-"):
                del response.headers[name]  # API Gateway ignores the integration's CORS headers
        if self.drop_cors_on_401 and isinstance(response, AuthorizerRefusal):
            return
        origin = self._allowed_origin(cors, request.headers.get("Origin"))
        if origin is None:
            return
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
        if cors.expose_headers:
            response.headers["Access-Control-Expose-Headers"] = ",".join(cors.expose_headers)
        if cors.allow_credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"

    # --- routes, authorizer, ALB ------------------------------------------------------------

    def _handle(self, request: Request, target: RequestTarget, request_id: str) -> Response:
        route = self.api.match(request.method, target.path)
        # API Gateway answers a CORS preflight itself only when no route takes OPTIONS: an `ANY`
        # route behind an authorizer gets the preflight, without a token, and refuses it.
        if (
            route is None
            and request.method == "OPTIONS"
            and self.api.cors is not None
            and "Origin" in request.headers
            and "Access-Control-Request-Method" in request.headers
        ):
            return self._preflight(request)
        if route is None:
            return _json(404, {"message": "Not Found"})
        claims: Claims | None = None
        if route.authorizer is not None:
            verifier = self.verifiers[route.authorizer.name]
            try:
                claims = verifier.verify(request.headers.get(route.authorizer.header), route.scopes)
            except Unauthorized as err:
                challenge = f'Bearer scope="" error="invalid_token" error_description="{err}"'
                return _json(
                    401,
                    {"message": "Unauthorized"},
                    {"WWW-Authenticate": challenge},
                    kind=AuthorizerRefusal,
                )
        if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
            return _json(413, {"message": "Request Entity Too Large"})
        # The ALB matches the path it receives: the integration request's.
        action = self.routing.route(target.integration_path)
        if isinstance(action, LambdaTarget):
            action = action.answer(
                request.method,
                target.integration_path,  # an ALB gives a Lambda the path still encoded
                request.args,
                dict(request.headers.items()),
            )
        if isinstance(action, FixedResponse):
            response = Response(action.body, status=action.status)
            response.headers["Content-Type"] = action.content_type
            return response
        headers = self._integration_headers(request, route, claims, request_id)
        timeout = min(self.timeout, route.timeout_ms / 1000) if route.timeout_ms else self.timeout
        return self._proxy(
            request, target.integration_target, self.upstreams[action.service], headers, timeout
        )

    def _integration_headers(
        self, request: Request, route: ApiRoute, claims: Claims | None, request_id: str
    ) -> dict[str, str]:
        headers = {
            name.lower(): value
            for name, value in request.headers.items()
            if name.lower() not in _HOP_BY_HOP
        }
        forwarded_for = request.remote_addr or "127.0.0.1"
        headers["x-forwarded-for"] = forwarded_for
        headers["x-forwarded-proto"] = request.scheme
        headers["x-forwarded-port"] = str(request.server[1] if request.server else "")
        headers["x-amzn-trace-id"] = f"Root=1-{int(time.time()):08x}-{request_id:0<24}"
        for mapping in route.mappings:
            if mapping.operation == "remove":
                headers.pop(mapping.header, None)
                continue
            value = _mapping_value(mapping.value, request, claims, request_id)
            if mapping.operation == "append" and mapping.header in headers:
                headers[mapping.header] = f"{headers[mapping.header]},{value}"
            else:
                headers[mapping.header] = value
        return headers

    def _proxy(
        self,
        request: Request,
        target: str,
        upstream: Upstream,
        headers: dict[str, str],
        timeout: float,
    ) -> Response:
        stream: IO[bytes] = get_input_stream(request.environ)
        length = request.content_length
        if length is None:  # chunked: API Gateway needs the whole payload to check its size
            body = stream.read(MAX_PAYLOAD_BYTES + 1)
            if len(body) > MAX_PAYLOAD_BYTES:
                return _json(413, {"message": "Request Entity Too Large"})
            stream, length = io.BytesIO(body), len(body)
            if not body and request.method not in ("POST", "PUT", "PATCH"):
                length = None
        if length is not None:
            headers["content-length"] = str(length)
        connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=timeout)
        try:
            taken = _send(connection, request.method, target, headers, stream, length or 0)
            upstream_response = connection.getresponse()
        except TimeoutError:
            connection.close()
            return _json(504, {"message": "Endpoint request timed out"})
        except (ConnectionError, OSError, http.client.HTTPException):
            connection.close()
            return _json(503, {"message": "Service Unavailable"})
        if not taken:
            # The service answered before it took the whole body (a 413, say) and will close.
            # Read the rest from the client, so that it is still listening when the answer comes.
            while stream.read(_CHUNK):
                pass

        def chunks() -> Iterator[bytes]:
            try:
                while chunk := upstream_response.read1(_CHUNK):
                    yield chunk
            except (TimeoutError, OSError, http.client.HTTPException):
                return
            finally:
                connection.close()

        response = Response(chunks(), status=upstream_response.status)
        # A body the server never reads (204, HEAD) still ends the upstream connection.
        response.call_on_close(connection.close)
        response.headers.clear()
        for name, value in upstream_response.getheaders():
            # The local server writes its own Date and Server; a second copy would be invalid.
            if name.lower() not in _HOP_BY_HOP and name.lower() not in ("date", "server"):
                response.headers.add(name, value)
        return response


def _send(
    connection: http.client.HTTPConnection,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: IO[bytes],
    length: int,
) -> bool:
    """Send a request, its body streamed; False when the service answered before taking it all.

    A service that refuses a body by its Content-Length answers at once and closes without
    reading the rest (Flask's 413, then gunicorn's close): sending on would fail with a broken
    pipe, and the answer waiting on the socket would be lost. So the body goes in pieces, and
    the first byte of an answer stops it. The answer stays readable after the service's reset.
    """
    connection.putrequest(
        method,
        target,
        skip_host="host" in headers,
        skip_accept_encoding="accept-encoding" in headers,
    )
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    sock = connection.sock
    assert sock is not None  # endheaders() connected it
    timeout = sock.gettimeout()
    pending, remaining = b"", length
    sock.setblocking(False)  # a blocking send would wait for the whole piece
    watch = selectors.DefaultSelector()
    watch.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    try:
        while pending or remaining:
            if not pending:
                pending = body.read(min(_CHUNK, remaining))
                if not pending:
                    return True  # the client sent less than it announced; the service decides
                remaining -= len(pending)
            events = [mask for _, mask in watch.select(timeout)]
            if any(mask & selectors.EVENT_READ for mask in events):
                return False
            if not events:
                raise TimeoutError("the service took no more of the body")
            try:
                pending = pending[sock.send(pending) :]
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                return False
    finally:
        watch.close()
        sock.settimeout(timeout)
    return True


def raw_target(environ: Mapping[str, Any]) -> bytes:
    """The request-target exactly as the client sent it.

    werkzeug's server keeps it in RAW_URI, as the latin-1 reading of the UTF-8 encoding of the
    request line's latin-1 reading; PATH_INFO is decoded already, which loses bytes that are not
    UTF-8 and misreads raw non-ASCII.
    """
    raw = environ.get("RAW_URI")
    if raw is None:  # another WSGI server: rebuild it from the decoded path
        path = quote(str(environ.get("PATH_INFO", "/")).encode("latin-1"), safe="/")
        query = str(environ.get("QUERY_STRING", ""))
        return (path + (f"?{query}" if query else "")).encode("latin-1")
    return str(raw).encode("latin-1").decode("utf-8").encode("latin-1")


def _mapping_value(template: str, request: Request, claims: Claims | None, request_id: str) -> str:
    """API Gateway's parameter mapping values: `$context...`, `$request...` or static text."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name.startswith("context.authorizer.claims."):
            claim = name[len("context.authorizer.claims.") :]
            return str(claims.values.get(claim, "")) if claims else ""
        if name == "context.requestId":
            return request_id
        if name.startswith("request.header."):
            return request.headers.get(name[len("request.header.") :], "")
        if name.startswith("request.querystring."):
            return request.args.get(name[len("request.querystring.") :], "")
        raise ValueError(f"parameter mapping value ${name} is not emulated")

    return re.sub(r"\$\{([\w.:-]+)\}|\$([\w.:-]+)", replace, template)


class Website:
    """WSGI app serving a directory plus a generated config.js, with the site's security headers."""

    def __init__(self, root: Path, config: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        self.root = root.resolve()
        self.config_js = config_script(config).encode()
        self.headers = dict(headers)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self._handle(request)
        for name, value in self.headers.items():
            response.headers[name] = value
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("method not allowed\n", status=405, headers={"Allow": "GET, HEAD"})
        path = request.path.lstrip("/")
        if path == "config.js":
            response = Response(self.config_js, content_type="text/javascript; charset=utf-8")
            response.headers["Cache-Control"] = "no-cache"
            return response
        joined = safe_join(str(self.root), path) if path else str(self.root)
        if joined is None:
            return Response("not found\n", status=404, content_type="text/plain; charset=utf-8")
        file = Path(joined)
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            return Response("not found\n", status=404, content_type="text/plain; charset=utf-8")
        response = Response(file.read_bytes(), content_type=content_type(file))
        # Local edits show on the next load: every file revalidates (the ETag makes that cheap).
        response.headers["Cache-Control"] = "no-cache"
        response.add_etag()
        return response.make_conditional(request)


_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
}


def content_type(path: Path) -> str:
    kind = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    kind = kind or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


class _QuietHandler(WSGIRequestHandler):
    """The gateway logs each request itself, once, in the stack's log format."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log(self, type: str, message: str, *args: Any) -> None:
        return


class Server:
    """A threaded werkzeug server for one WSGI app, running in a background thread."""

    def __init__(self, host: str, port: int, app: WsgiApp) -> None:
        self.server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
