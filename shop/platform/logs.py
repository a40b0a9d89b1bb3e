"""JSON logs, one object a line, each carrying the id of its request, which X-Request-ID also sends back; no line
holds the token of a password-reset or invitation link."""
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
# The path segment after /password-reset/, /join/, /register/ and /staff/reset/ is a live token: whoever reads it in a
# log can set the password, join the company or open the account (and a registration's names its address). Every
# route with a token in its path is one of these (a test checks the URL map), and gunicorn's access log
# (gunicorn.conf.py) redacts with the same pattern.
_LINK_TOKEN = re.compile(r"(/(?:password-reset|join|register|reset)/)[^/?#\s\"']+")


def redact_tokens(text: str) -> str:
    """`text` (a path, a URL, a request line or a whole log message) with every link token replaced."""
    return _LINK_TOKEN.sub(r"\1[redacted]", text)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class _RedactingFilter(logging.Filter):
    """Redact link tokens from every message, whichever logger wrote it (werkzeug's development server logs each
    request line; an unexpected error names the path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
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
        handler.addFilter(_RedactingFilter())
        root.addHandler(handler)
        # On werkzeug's logger itself too: a handler that werkzeug adds of its own (it does when it logs before any
        # handler exists) then gets the request line redacted as well.
        logging.getLogger("werkzeug").addFilter(_RedactingFilter())
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
                "method": request.method, "path": redact_tokens(request.path), "endpoint": request.endpoint,
                "status": response.status_code, "client": request.remote_addr,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 2)})
        return response
