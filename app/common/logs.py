"""JSON logs: one line per request, and every other record as JSON too."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from common.aws import current_calls, start_counting

# Checked with fullmatch, like every identifier: `$` also matches before a final newline.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=-]{1,128}")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str) -> None:
    JsonFormatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # botocore logs every credential lookup at INFO; keep the request lines readable.
    logging.getLogger("botocore").setLevel(max(logging.WARNING, root.level))


def init_app(app: Flask, *, expose_aws_calls: bool) -> None:
    access = logging.getLogger("app.request")

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.user_sub = None
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        start_counting()

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.get("started", time.perf_counter())
        calls = current_calls()
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if expose_aws_calls:
            response.headers["X-Aws-Calls"] = json.dumps(dict(sorted(calls.items())))
        access.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": g.get("request_id"),
                    "user_sub": g.get("user_sub"),
                    "aws_calls": sum(calls.values()),
                }
            },
        )
        return response
