"""JSON logs, one object a line, each carrying the id of its request, which X-Request-ID also sends back."""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

access_log = logging.getLogger("shop.access")
# An id a proxy or client sent along is kept when it is short and plain; anything else gets a new one.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class _JsonHandler(logging.StreamHandler):
    """The process's one JSON handler on the root logger (installed once, whatever the number of apps); it writes
    to sys.stderr as it is at the time, so that a harness that swaps it (pytest's capsys) gets the lines."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _install_handler(level: str) -> None:
    root = logging.getLogger()
    if not any(isinstance(handler, _JsonHandler) for handler in root.handlers):
        handler = _JsonHandler()
        handler.setFormatter(JsonFormatter("{asctime}{levelname}{name}{message}", style="{",
                                           rename_fields={"asctime": "time", "levelname": "level",
                                                          "name": "logger"}))
        handler.addFilter(_RequestIdFilter())
        root.addHandler(handler)
    root.setLevel(level)


def register_logging(app: Flask) -> None:
    """Log as JSON to stderr, give every request an id (X-Request-ID) and log one line per request."""
    _install_handler(app.config["LOG_LEVEL"])

    @app.before_request
    def start_request() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _PLAIN_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def finish_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
            access_log.info("request", extra={
                "method": request.method, "path": request.path, "endpoint": request.endpoint,
                "status": response.status_code, "client": request.remote_addr,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 2)})
        return response
