"""One error shape for every failure: {"error": {"code", "message"[, "field"]}}."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger("app.errors")

RETRY_AFTER_SECONDS = 1
# Codes AWS answers when it sheds load or is briefly unavailable: the client should retry.
UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
        "ServiceUnavailable",
        "InternalServerError",
        "InternalError",
        # A write that met a transaction in progress on the same item.
        "TransactionConflictException",
    }
)
HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or HTTP_CODES.get(status, "error")
        self.message = message
        self.field = field
        self.headers = headers or {}


class NotFound(ApiError):
    def __init__(self, what: str = "resource") -> None:
        super().__init__(404, f"{what} not found")


class Unavailable(ApiError):
    def __init__(self, message: str = "a backing service is unavailable, retry later") -> None:
        super().__init__(503, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def is_unavailable(error: BaseException) -> bool:
    """True for AWS throttling and connection failures: transient, worth a retry by the client."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in UNAVAILABLE_CODES or status in (502, 503, 504)
    return isinstance(error, ConnectionError | HTTPClientError)


def error_response(error: ApiError) -> Response:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.field is not None:
        body["field"] = error.field
    response = jsonify({"error": body})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return error_response(ApiError(500, "internal error", code="internal"))
    api_error = ApiError(status, error.description or error.name)
    allow = error.get_response().headers.get("Allow")
    if allow:
        api_error.headers["Allow"] = allow
    if status == 401:
        api_error.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return error_response(api_error)


def _api_error(error: ApiError) -> Response:
    if error.status == 401:
        error.headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')
    return error_response(error)


def _aws_error(error: BotoCoreError | ClientError) -> Response:
    if is_unavailable(error):
        log.warning("aws unavailable: %s", error)
        return error_response(Unavailable())
    log.exception("aws call failed")
    return error_response(ApiError(500, "internal error", code="internal"))


def _unexpected(error: Exception) -> Response:
    # A bug, not an input: log the trace for operators, never send it to the client.
    log.exception("unhandled error")
    return error_response(ApiError(500, "internal error", code="internal"))


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ClientError, _aws_error)
    app.register_error_handler(BotoCoreError, _aws_error)
    app.register_error_handler(Exception, _unexpected)
