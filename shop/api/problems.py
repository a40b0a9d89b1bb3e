"""problem+json (RFC 9457) responses for the JSON API."""
from __future__ import annotations

from typing import Any

from flask import Response, json, request

PROBLEM_BASE = "/problems/"


def problem_response(status: int, name: str, title: str, detail: str | None = None,
                     **extra: Any) -> Response:
    """Build an application/problem+json response; `extra` adds members such as `errors`."""
    body: dict[str, Any] = {
        "type": request.host_url.rstrip("/") + PROBLEM_BASE + name if request else PROBLEM_BASE + name,
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
