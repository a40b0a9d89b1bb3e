"""Leucine Shop: catalog and ordering backend for L-Leucine powder (create_app lives here)."""
from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge, SecurityError, ServiceUnavailable
from werkzeug.middleware.proxy_fix import ProxyFix

from shop import jobs
from shop.platform.bounds import RowIdConverter, is_row_id
from shop.platform.config import load_config
from shop.platform.errors import NotReady
from shop.platform.extensions import csrf, db, limiter, login_manager, mailman, migrate, rest_api
from shop.platform.json_limits import MAX_DEPTH, MAX_NUMBER_LENGTH, BoundedJSONProvider
from shop.platform.logs import register_logging
from shop.platform.metrics import init_metrics
from shop.platform.queue import init_queue
from shop.platform.ratelimits import register_rate_limit_errors, register_rate_limit_headers
from shop.platform.security_headers import init_security_headers
from shop.platform.storage import init_storage
from shop.platform.uploads import init_uploads

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the application."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    given = test_config or {}
    app.config.from_mapping(load_config(app.instance_path, secret_key=given.get("SECRET_KEY"),
                                        mail_backend=given.get("MAIL_BACKEND")))
    if test_config:
        app.config.from_mapping(test_config)
    app.json = BoundedJSONProvider(app)
    app.url_map.converters["id"] = RowIdConverter
    app.wsgi_app = _lower_case_host(app.wsgi_app)
    if app.config["PROXY_COUNT"]:
        # Behind PROXY_COUNT proxies: the client address (rate limits, logs), scheme (HSTS) and host they report.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_input_guard(app)
    register_commands(app)
    register_template_helpers(app)
    return app


def _lower_case_host(wsgi_app):
    """Host names are case-insensitive (RFC 3986), Werkzeug's TRUSTED_HOSTS check is not: the Host header (or the
    forwarded one, which ProxyFix, wrapped around this, put there) is lower-cased before the check."""

    def lower_case_host(environ, start_response):
        if "HTTP_HOST" in environ:
            environ["HTTP_HOST"] = environ["HTTP_HOST"].lower()
        return wsgi_app(environ, start_response)

    return lower_case_host


def register_extensions(app: Flask) -> None:
    """Bind the extension objects to the app."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    init_uploads(app)  # before CSRF protection reads an upload form's token: the view's body limit comes first
    init_storage(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.blueprint_login_views = {"staff": "staff.login", "storefront": "storefront.login"}
    login_manager.login_view = "storefront.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_user)
    rest_api.init_app(app)
    limiter.init_app(app)
    init_security_headers(app)
    init_metrics(app)
    mailman.init_app(app)
    init_queue(app)
    jobs.register(app)


def _load_user(user_id: str):
    """Load the signed-in customer or staff user from the id that get_id() wrote.

    The id carries the user's session token: signing out, changing the password or being deactivated gives
    the user a new one, and every session still holding the old id is signed out by this check.
    """
    from sqlalchemy.orm import joinedload

    from shop.accounts.models import Customer, StaffUser

    kind, _, rest = user_id.partition(":")
    raw, _, token = rest.partition(":")
    model = {"customer": Customer, "staff": StaffUser}.get(kind)
    if model is None or not raw.isdigit() or not token or len(raw) > 10 or not is_row_id(int(raw)):
        return None
    # A customer's company is on every page (its name in the header): loaded in the same statement.
    options = [joinedload(Customer.company)] if model is Customer else []
    user = db.session.get(model, int(raw), options=options)
    if user is None or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def register_blueprints(app: Flask) -> None:
    """Mount the storefront, the staff pages, the JSON API and the health checks."""
    from shop.api import register_api
    from shop.invoicing import vat
    from shop.platform.health import health_bp, register_readiness_check
    from shop.staff import bp as staff_bp
    from shop.storefront import bp as storefront_bp

    app.register_blueprint(storefront_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(health_bp)
    # SHOP_COUNTRY is checked as a country code at start-up; whether vat_rate has its rate, only once migrated.
    register_readiness_check(app, "vat_rate", lambda: vat.seller_rate_check(app.config["SHOP_COUNTRY"]))
    register_api(app)


def register_errorhandlers(app: Flask) -> None:
    """Answer errors with an HTML page, or problem+json under /api/; never a traceback."""
    from shop.api.problems import http_problem, problem_response, with_error_headers

    def wants_problem() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if wants_problem():
            return problem_response(400, "csrf-error", "CSRF check failed", error.description)
        # A staff page's form keeps the staff navigation (staff/error.html), as the staff pages' other errors do.
        page = "staff/error.html" if request.blueprint == "staff" else "error.html"
        return render_template(page, code=400, title="Form expired",
                               message="The form was too old or not sent from this site. "
                                       "Go back, reload the page and try again."), 400

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError):
        # A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page either; a plain answer.
        return Response("400 Bad Request: this host name is not served here.\n", status=400, mimetype="text/plain")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge):
        limit = request.max_content_length or app.config["MAX_CONTENT_LENGTH"]  # an upload view's own limit
        detail = f"The request body is larger than {limit:,} bytes; nothing was changed."
        if wants_problem():
            return problem_response(413, "content-too-large", "Content Too Large", detail)
        return render_template("error.html", code=413, title="Too much data", message=detail), 413

    register_rate_limit_errors(app, problem_response)
    register_rate_limit_headers(app)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_problem():
            return http_problem(error)
        return with_error_headers(make_response(render_template("error.html", code=error.code, title=error.name,
                                                                message=error.description), error.code), error)

    @app.errorhandler(NotReady)
    def not_ready(error: NotReady):
        # The operator's log names what to mend; the buyer is told that nothing happened and to come back.
        log.error("Not ready on %s %s: %s", request.method, request.path, error)
        db.session.rollback()
        return http_error(ServiceUnavailable("The shop cannot take this request right now; nothing was changed. "
                                             "Please try again later.", retry_after=60))

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if wants_problem():
            return problem_response(500, "internal-error", "Internal Server Error",
                                    "The server could not complete the request; nothing was changed.")
        return render_template("error.html", code=500, title="Something went wrong",
                               message="We could not complete that request and nothing was changed. "
                                       "Please try again."), 500


_FORM_MIMETYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def register_input_guard(app: Flask) -> None:
    """Refuse, before any view runs, JSON that is malformed or out of bounds and text no column can store."""

    @app.before_request
    def refuse_unstorable_text():
        """PostgreSQL text cannot hold the NUL character (U+0000), and no text can hold half of a UTF-16
        surrogate pair (which JSON can smuggle in as a lone escape such as \\ud800). No field of the shop needs either,
        so a request carrying one in the path, the query, a form or a JSON body gets 400 and changes nothing,
        instead of failing at the database."""
        if request.is_json and request.get_data(cache=True):
            malformed = _malformed_json()
            if malformed is not None:
                return malformed
        if ("\x00" in request.path
                or any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True))
                or (request.mimetype in _FORM_MIMETYPES
                    and any("\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)))
                or (request.is_json and _json_has_unstorable_text(request.get_data(cache=True)))):
            abort(400, description="The request contains a NUL character (U+0000) or an unpaired surrogate, "
                                   "which no field accepts; nothing was changed.")
        return None


def _malformed_json():
    """A 400 for a JSON body that does not parse within the bounds of json_limits (parsed once, then cached)."""
    try:
        request.get_json()
    except BadRequest as exc:
        if isinstance(exc, RequestEntityTooLarge):
            raise
        detail = ("The request body is not valid JSON, nests deeper than "
                  f"{MAX_DEPTH} levels or has a number longer than {MAX_NUMBER_LENGTH} characters; nothing was "
                  "changed.")
        if request.path.startswith("/api/"):
            from shop.api.problems import problem_response

            return problem_response(400, "malformed-json", "Malformed JSON", detail)
        abort(400, description=detail)
    return None


def _json_has_unstorable_text(raw: bytes) -> bool:
    """Whether a JSON body holds a NUL or a lone surrogate; both can only be written as \\u escapes."""
    if b"\\u0000" in raw:
        return True
    if b"\\ud" not in raw.lower():  # the common case: no surrogate escapes at all
        return False

    def unstorable(value: Any) -> bool:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
            return False
        if isinstance(value, dict):
            return any(unstorable(k) or unstorable(v) for k, v in value.items())
        if isinstance(value, list):
            return any(unstorable(v) for v in value)
        return False

    return unstorable(request.get_json(silent=True))


def register_commands(app: Flask) -> None:
    """Add the `flask shop ...` commands."""
    from shop.cli import shop_cli

    app.cli.add_command(shop_cli)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals every template can use."""
    from shop.platform.templating import init_templating

    init_templating(app)
