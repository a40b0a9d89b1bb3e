"""Security headers on every response (Flask-Talisman): a strict Content-Security-Policy, no framing, HSTS."""
from __future__ import annotations

from flask import Flask
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
