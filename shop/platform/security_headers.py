"""Security headers on every response (Flask-Talisman): a strict Content-Security-Policy, no framing, HSTS; and
`Cache-Control: no-store` on every answer that holds a secret or someone's account."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, request, session
from flask_talisman import Talisman

# Pages load their styles, scripts and images from this site only, and nothing inline: no template has a
# <style> block, a style="" attribute, an inline <script> or an on*= handler (tests/test_security_headers.py
# checks every template). data: images are the empty favicon of base.html.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    # No other page may frame ours (clickjacking: a framed "Cancel order" button); X-Frame-Options for old browsers.
    "frame-ancestors": "'none'",
}


def init_security_headers(app: Flask) -> None:
    """Send the security headers on every response of `app`, errors and the API included."""
    # One Talisman per app: it keeps the app and its options on itself.
    app.extensions["talisman"] = Talisman(
        app,
        # HTTPS is the proxy's job; HSTS is sent on requests that arrived over HTTPS (see PROXY_COUNT).
        force_https=False,
        strict_transport_security=True,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="strict-origin-when-cross-origin",
        # Talisman would force Secure session cookies outside debug mode; SESSION_COOKIE_SECURE decides.
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
    app.after_request(_private_pages)


def no_store(view: Callable) -> Callable:
    """Mark a page that holds a secret even for a visitor who is not signed in (a sign-in or password form, a
    reset or invitation link): no browser history, back button cache or proxy keeps it. Put it right under the
    route decorator."""
    view.no_store = True  # type: ignore[attr-defined]
    return view


def never_stored(response: Response) -> Response:
    """`Cache-Control: private, no-store` on the answer: what a shared computer's browser or a proxy must not
    keep. `private` says the same to a shared cache that does not know no-store; it replaces any public max-age
    a download was sent with."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _private_pages(response: Response) -> Response:
    """Pages to a signed-in person (their company, orders, keys; a staff member's work) and pages marked no_store
    are never stored; the catalog and static files to visitors are left to caches."""
    if request.endpoint == "static":
        return response
    view = current_app.view_functions.get(request.endpoint or "")
    # Flask-Login's key in the session: who is signed in, read without loading the account (an error page
    # after a lost database connection must not need it).
    if getattr(view, "no_store", False) or session.get("_user_id") is not None:
        return never_stored(response)
    return response
