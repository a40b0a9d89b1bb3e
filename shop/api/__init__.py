"""JSON API /api/v1: flask-smorest blueprints, bearer-key auth, problem+json errors."""
from __future__ import annotations

import http

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface

from shop.api.auth import SECURITY_SCHEME
from shop.api.openapi import ShopOpenAPIPlugin, webhook_payloads
from shop.api.problems import PROBLEM_MIMETYPE
from shop.api.schemas import ProblemSchema
from shop.platform.extensions import csrf, rest_api
from shop.platform.security_headers import never_stored

GUIDE = """\
The Leucine Shop order API, for ERP systems and shops that buy L-Leucine from us.

* **Auth**: every request sends `Authorization: Bearer <api key>`; a key acts for its own company only.
* **Errors** are `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`;
  `validation-error` adds `errors` by field path (`lines.0.quantity`), `insufficient-stock` adds `short_lines`.
* **Lists** are cursor-paginated: `?limit=` (1-100, default 20) and `?cursor=` taken from `next_cursor` (empty:
  the first page).
* **Idempotency**: send `Idempotency-Key` on POST; a retry with the same key and body gets the first answer
  again (`Idempotent-Replayed: true`), the same key with another body gets 422, and a retry while the first
  request is still running gets 409. Keys are kept 24 hours and are your company's, across operations: any of
  its API keys may retry with one, and another company's keys never meet it. A request refused for what it
  sent (400, 413, 415, 422) keeps nothing, so the corrected request may use the same key; a refusal found by
  running it (a 409 such as `insufficient-stock`, a 403 or 404) is kept and replayed: use a new key to retry.
* Money and masses are decimal strings (`"1950.00"`), timestamps ISO 8601 in UTC.
* **Limits**: bodies are JSON (else 415) of at most 1 MiB by default (else 413); each key may place 120 orders a
  minute by default, and an address sending unknown keys is slowed down: beyond a limit the answer is 429
  `too-many-requests` with `Retry-After` (seconds). An answer to which a limit applied says so in the IETF draft's
  `RateLimit-Policy` (`"orders";q=120;w=60`: requests per window of seconds) and `RateLimit`
  (`"orders";r=119;t=60`: requests left, seconds until the window is whole again).
"""

def register_api(app: Flask) -> None:
    """Register the /api/v1 resources on the app's flask-smorest Api."""
    from shop.api.catalog import batches_blp, products_blp
    from shop.api.company import company_blp
    from shop.api.docs import DOCS_PATH, docs_bp
    from shop.api.events import events_blp
    from shop.api.orders import orders_blp
    from shop.api.problem_pages import problems_bp
    from shop.api.webhooks import webhooks_blp

    _document_problems(app)
    for blp in (products_blp, batches_blp, orders_blp, company_blp, webhooks_blp, events_blp):
        rest_api.register_blueprint(blp)
        # Bearer keys, not cookies, authenticate these requests: a cross-site form cannot forge them.
        csrf.exempt(blp)
    app.register_blueprint(docs_bp)
    app.register_blueprint(problems_bp)
    app.after_request(_allow_header)
    app.after_request(_never_stored_on_the_api)
    app.session_interface = _NoCookieSessionOnTheApi(DOCS_PATH)


class _NoCookieSessionOnTheApi(SecureCookieSessionInterface):
    """API requests authenticate with a bearer key: they neither read nor set the session cookie, and do not
    pay for opening it (a signing serializer per request). The docs page is an HTML page like the others."""

    def __init__(self, docs_path: str) -> None:
        self.docs_path = docs_path

    def open_session(self, app: Flask, request):
        if request.path.startswith("/api/") and request.path != self.docs_path:
            return self.null_session_class()
        return super().open_session(app, request)


def _document_problems(app: Flask) -> None:
    """Describe every error response as problem+json, the bearer-key security, where the API is served and the
    webhooks in the OpenAPI document; the plugin applies the rules of every operation as blueprints register."""
    spec = rest_api.spec
    plugin = ShopOpenAPIPlugin()
    plugin.init_spec(spec)
    spec.plugins.append(plugin)
    spec.options["servers"] = [{"url": app.config["PUBLIC_BASE_URL"], "description": "This shop"}]
    spec.options["webhooks"] = webhook_payloads()
    base = app.config["PUBLIC_BASE_URL"]
    spec.options["info"] = {"description": GUIDE + _problem_guide(),
                            "contact": {"name": app.config["SHOP_NAME"], "url": f"{base}/contact"},
                            "license": {"name": "Proprietary: for the shop's customers, under its terms",
                                        "url": f"{base}/terms"}}
    spec.options["externalDocs"] = {"description": "Every problem type: what it means and what to do",
                                    "url": f"{base}/problems/"}
    spec.components.schema("Problem", schema=ProblemSchema)
    # flask-smorest registered these lazily with its own error schema; re-registering a lazy component
    # replaces it, so every "$ref: #/components/responses/NOT_FOUND" ... says problem+json.
    for status in http.HTTPStatus:
        if status >= 400:
            spec.components.response(status.name, {"description": status.phrase,
                                                   "content": {PROBLEM_MIMETYPE: {"schema": "Problem"}}}, lazy=True)
    # flask-smorest's own error and page-number schemas: this API uses neither.
    spec.components.schemas.pop("Error", None)
    spec.components.schemas.pop("PaginationMetadata", None)
    spec.components.security_scheme("bearerAuth", SECURITY_SCHEME)
    spec.options["security"] = [{"bearerAuth": []}]


def _problem_guide() -> str:
    """The guide's list of the problem types, each linked to its page."""
    from shop.api.problem_types import SHOP_PROBLEMS

    items = "\n".join(f"* [{p.name}]({p.path}) ({p.status}): {p.title}" for p in SHOP_PROBLEMS)
    return ("\nEach problem's `type` ends in its name and opens a page that says what it means and what to do "
            "([every problem type](/problems/), HTTP errors included):\n\n" + items + "\n")


def _never_stored_on_the_api(response: Response) -> Response:
    """Every API answer is for one key's company (or says how a key failed): no cache on the way keeps it."""
    return never_stored(response) if request.path.startswith("/api/") else response


def _allow_header(response: Response) -> Response:
    """RFC 9110 wants `Allow` on a 405; the app-wide error handler that answers it for /api/ leaves it out."""
    if response.status_code == 405 and request.path.startswith("/api/") and "Allow" not in response.headers:
        methods = current_app.url_map.bind_to_environ(request.environ).allowed_methods()
        if methods:
            response.headers["Allow"] = ", ".join(sorted(methods))
    return response
