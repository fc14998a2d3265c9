"""Gunicorn settings for both services (the Dockerfile CMD and the local stack load this file)."""

import os

# The ALB reaches the container on $PORT; BIND_HOST lets local runs stay on 127.0.0.1.
bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"  # noqa: S104
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Each worker builds its own app and boto3 clients (no preload: clients are not fork-safe).
preload_app = False
timeout = 30
# ALB deregistration delay is 30 s: finish in-flight requests well inside it.
graceful_timeout = 20
# Longer than the ALB's 60 s idle timeout, so the ALB closes idle connections, not gunicorn.
keepalive = 65
# The heartbeat file must live on a writable tmpfs when the root filesystem is read-only.
worker_tmp_dir = "/tmp"  # noqa: S108
# The app writes one JSON line per request; gunicorn's own access log would duplicate it.
accesslog = None
# No control socket: nothing uses it, its default path ($HOME/.gunicorn) is not writable on a
# read-only root filesystem, and services on one machine would take it from each other.
control_socket_disable = True
errorlog = "-"
# gunicorn's format, with every record on one line and control characters escaped.
logger_class = "common.gunicorn_log.OneLineLogger"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# API Gateway and the ALB bound request sizes before traffic gets here; gunicorn's own 4 KiB
# request-line cap would answer an HTML 414 instead of the API's JSON 400 for a long query.
limit_request_line = 0
