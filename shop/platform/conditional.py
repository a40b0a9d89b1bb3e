"""Conditional GET: a strong `ETag` that hashes the very body sent, and `304 Not Modified` to a client that
already holds that body (`If-None-Match`).

The tag is computed from the answer after it was rendered for this request, never from a version number kept
beside the data: it cannot name stale content (live availability, a new price, a recall all change the bytes),
and a 304 only ever tells a client to keep bytes it would have received anyway. Whether a cache may keep the
answer at all is decided apart from this (security_headers: `no-store` for signed-in visitors and the API).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Response, make_response, request
from werkzeug.http import generate_etag


def conditional(view: Callable) -> Callable:
    """Answer a GET or HEAD with the ETag of its body, or 304 when `If-None-Match` names it. An answer that says
    nothing about caching gets `no-cache`: a cache may keep it but must ask again (and gets a 304) before reuse.

    Put it right under the route decorator (for a MethodView, on `get`); errors and redirects pass untouched."""

    @wraps(view)
    def answer(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        # A send_file stream is not read here: such a view gives send_file the file_etag() of its bytes instead.
        if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough:
            return response
        response.add_etag()
        if "Cache-Control" not in response.headers:
            response.cache_control.no_cache = True
        return response.make_conditional(request)

    return answer


def rendered_from(view: Callable[[], Response], source: object) -> Response:
    """A download rendered anew on each request (a PDF, whose bytes carry the time it was made): its weak ETag is
    a hash of `source`, the data it is rendered from (same data, same document); a client that names it gets a 304
    before anything is rendered, else `view()` renders it."""
    tag = generate_etag(repr(source).encode())
    response = Response(status=304) if request.if_none_match.contains_weak(tag) else view()
    response.set_etag(tag, weak=True)
    response.cache_control.no_cache = True
    return response


def file_etag(data: bytes) -> str:
    """The ETag of a download's bytes, for `send_file(..., etag=file_etag(data))` (which answers the 304 itself):
    the same hash `conditional` gives a rendered body."""
    return generate_etag(data)
