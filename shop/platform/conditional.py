"""Conditional GET: a strong `ETag` that hashes the very body sent, and `304 Not Modified` to a client that
already holds that body (`If-None-Match`); an HTML page's weak one hashes its body without the form token.

The tag is computed from the answer after it was rendered for this request, never from a version number kept
beside the data: it cannot name stale content (live availability, a new price, a recall all change the bytes),
and a 304 only ever tells a client to keep bytes it would have received anyway. Whether a cache may keep the
answer at all is decided apart from this (security_headers: `no-store` for signed-in visitors and the API).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from flask import Response, current_app, g, make_response, request, session
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


def conditional_page(view: Callable) -> Callable:
    """`conditional` for an HTML page whose forms carry a CSRF token, which Flask-WTF signs anew every second:
    the weak ETag hashes the body without the token, bound to what the token a client keeps stays valid with, so
    that a 304 only ever tells it to keep a page whose forms still work:
    - the session's token secret: another session's page, or a page from before the session changed, is never
      "not modified";
    - the half of the tokens' lifetime (CSRF_TIME_LIMIT_SECONDS) the page was made in: a kept token has at least
      half its lifetime left when a 304 tells the client to keep it; after that the page is sent anew.
    Everything else the page shows (a price, availability, a lot, who is signed in, a message) is in the hash.
    A page with a token is its session's own: `private, no-cache` (a browser keeps it and asks again; a shared cache
    never hands one visitor's token to another), unless the answer already says more (no-store when signed in)."""

    @wraps(view)
    def answer(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        field = current_app.config["WTF_CSRF_FIELD_NAME"]
        body, token = response.get_data(), g.get(field)
        if token:
            body = body.replace(token.encode(), b"")
        half_life = (current_app.config["WTF_CSRF_TIME_LIMIT"] or 0) // 2
        bound = f"{session.get(field, '')} {int(time.time()) // half_life if half_life else 0}"
        response.set_etag(generate_etag(body + b"\0" + bound.encode()), weak=True)
        if "Cache-Control" not in response.headers:
            response.cache_control.no_cache = True
            response.cache_control.private = bool(token)
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
