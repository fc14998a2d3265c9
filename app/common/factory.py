"""What both services' application factories share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, BinaryIO
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue

from common import auth, errors, logs
from common.aws import AwsClients, make_clients
from common.config import ServiceConfig, load_settings
from common.openapi import Operation, build_document, common_operations
from common.validation import JSON_FRAME_BYTES, guard_query_parameters, json_body_limit

# The largest body that can reach a service: API Gateway's HTTP API payload quota, 10 MB
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
FRONT_DOOR_MAX_BYTES = 10 * 1024 * 1024
_READ_CHUNK = 64 * 1024


def read_unread_body(wsgi_app: WSGIApplication) -> WSGIApplication:
    """Read to its end, before answering, any body the app refused without reading.

    gunicorn reads at most 64 KiB of a body the app left unread, then closes the connection;
    a peer still sending gets a TCP reset instead of the answer. Behind an ALB that is a 502
    ("the target closed the connection ... while the load balancer had an outstanding request",
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html),
    counted by the 5XX alarm that doubles the tasks, where the answer was a 413 or a 415.
    Reading stops past FRONT_DOOR_MAX_BYTES: no such body comes through API Gateway.
    """

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = wsgi_app(environ, start_response)
        stream: BinaryIO = environ["wsgi.input"]
        read = 0
        while read <= FRONT_DOOR_MAX_BYTES and (chunk := stream.read(_READ_CHUNK)):
            read += len(chunk)
        return answer

    return app


def build_app(
    import_name: str,
    config: Mapping[str, str] | None,
    *,
    title: str,
    description: str,
    operations: list[Operation],
    blueprints: Callable[[ServiceConfig], list[Blueprint]],
    document_hook: Callable[[dict[str, Any], ServiceConfig], None] | None = None,
) -> Flask:
    settings = load_settings(config)
    logs.configure(settings.log_level)
    app = Flask(import_name, static_folder=None)  # an API: no /static route
    # Any body within the documented field limits is accepted, however it is escaped; a larger
    # one is refused with 413 before it is read.
    app.config["MAX_CONTENT_LENGTH"] = max(
        [json_body_limit(op.body) for op in operations if op.body is not None],
        default=JSON_FRAME_BYTES,
    )
    # gunicorn decodes the path, so an encoded `/` inside an ID arrives as a doubled slash.
    # Werkzeug would answer that with an HTML 308 to the merged path (the files list for
    # `/todos/<id>%2F/files`); unmerged, it matches no route and is the JSON 404.
    app.url_map.merge_slashes = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["settings"] = settings
    app.extensions["aws"] = make_clients(settings)
    errors.init_app(app)
    auth.init_app(app, settings)
    logs.init_app(app, expose_aws_calls=settings.expose_aws_calls)

    everything = common_operations() + operations
    document = build_document(title, description, everything)
    if document_hook is not None:
        document_hook(document, settings)

    @app.get("/health")
    def health() -> ResponseReturnValue:
        return jsonify({"status": "ok"})

    @app.get("/openapi.json")
    def openapi() -> ResponseReturnValue:
        return jsonify(document)

    for blueprint in blueprints(settings):
        app.register_blueprint(blueprint)
    guard_query_parameters(app, everything)
    app.wsgi_app = read_unread_body(app.wsgi_app)
    return app


def clients(app: Flask) -> AwsClients:
    found: AwsClients = app.extensions["aws"]
    return found


def settings_of(app: Flask) -> ServiceConfig:
    found: ServiceConfig = app.extensions["settings"]
    return found
