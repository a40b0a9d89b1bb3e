"""problem+json (RFC 9457) responses for the JSON API."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, has_app_context, json
from werkzeug.exceptions import HTTPException

from shop.api.problem_types import problem_name
from shop.platform.errors import DomainError

PROBLEM_BASE = "/problems/"
PROBLEM_MIMETYPE = "application/problem+json"


def problem_response(status: int, name: str, title: str, detail: str | None = None,
                     **extra: Any) -> Response:
    """Build an application/problem+json response; `extra` adds members such as `errors`."""
    # From the configured public address: the request's Host header is the client's to choose.
    base = current_app.config["PUBLIC_BASE_URL"] if has_app_context() else ""
    body: dict[str, Any] = {
        "type": base + PROBLEM_BASE + name,
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error messages into {"lines.0.quantity": [...]}, the shape the API promises."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            # marshmallow files errors about the object itself under "_schema"; they belong to the parent path.
            path = prefix if key == "_schema" and prefix else f"{prefix}.{key}" if prefix else str(key)
            for sub_path, sub_messages in flatten_errors(value, path).items():
                flat.setdefault(sub_path, []).extend(sub_messages)
        return flat
    if isinstance(messages, list | tuple):
        texts: list[str] = []
        flat = {}
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                for sub_path, sub_messages in flatten_errors(item, prefix).items():
                    flat.setdefault(sub_path, []).extend(sub_messages)
            else:
                texts.append(str(item))
        if texts:
            flat.setdefault(prefix or "_schema", []).extend(texts)
        return flat
    return {prefix or "_schema": [str(messages)]}


def validation_problem(errors: dict[str, list[str]], detail: str | None = None) -> Response:
    """422 validation-error with the field paths a client can show next to its own fields."""
    return problem_response(422, "validation-error", "Validation error",
                            detail or "The request has invalid fields; see `errors`.", errors=errors)


def domain_problem(error: DomainError) -> Response:
    """Translate a service's domain error into problem+json: its details (`errors` of a validation error,
    `short_lines` of a stock shortfall) as members of the problem."""
    return problem_response(error.status, error.problem, error.title, error.message, **error.details())


def http_problem(error: HTTPException) -> Response:
    """Translate an HTTP error raised inside an API view, including webargs' 400/422 parse errors."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    code = error.code or 500
    if code == 400 and isinstance(messages, Mapping) and "json" in messages:
        return problem_response(400, "malformed-json", "Malformed JSON",
                                "The request body is not valid JSON; nothing was changed.")
    if code == 422 and isinstance(messages, Mapping):
        # webargs keys errors by location ("json", "query", "headers"); the field path is what a client needs.
        errors: dict[str, list[str]] = {}
        for location_messages in messages.values():
            for path, texts in flatten_errors(location_messages).items():
                errors.setdefault(path, []).extend(texts)
        return validation_problem(errors)
    return with_error_headers(problem_response(code, problem_name(error.name or "error"), error.name,
                                               error.description), error)


def with_error_headers(response: Response, error: HTTPException) -> Response:
    """`response` with the headers the HTTP error carries (`Allow` of a 405, `Retry-After` of a 503, ...)."""
    for header, value in error.get_headers():
        if header.lower() != "content-type":
            response.headers[header] = value
    return response
