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

# The guide's opening; the rest is templates/api/guide.md, which the document's description and /api/v1/docs carry.
GUIDE = """\
The Leucine Shop order API, for ERP systems and shops that buy L-Leucine from us. Money and masses are decimal
strings (`"1950.00"`), timestamps RFC 3339 in UTC. Bodies are JSON (else 415) of at most 1 MiB by default (else
413). Errors are `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`:
`validation-error` adds `errors` by field path (`lines.0.quantity`), `insufficient-stock` adds `short_lines`.
"""
GUIDE_TEMPLATE = "api/guide.md"

def register_api(app: Flask) -> None:
    """Register the /api/v1 resources on the app's flask-smorest Api."""
    from shop.api.catalog import batches_blp, products_blp
    from shop.api.company import company_blp
    from shop.api.complaints import complaints_blp
    from shop.api.docs import DOCS_PATH, docs_bp
    from shop.api.events import events_blp
    from shop.api.invoices import invoices_blp
    from shop.api.orders import orders_blp
    from shop.api.problem_pages import problems_bp
    from shop.api.quotes import quotes_blp
    from shop.api.samples import samples_blp
    from shop.api.specifications import specifications_blp
    from shop.api.webhooks import webhooks_blp

    _document_problems(app)
    for blp in (products_blp, batches_blp, orders_blp, quotes_blp, company_blp, specifications_blp, complaints_blp,
                webhooks_blp, events_blp, samples_blp, invoices_blp):
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
    guide = app.jinja_env.loader.get_source(app.jinja_env, GUIDE_TEMPLATE)[0]  # Markdown, with tested snippets
    spec.options["info"] = {"description": GUIDE + "\n" + guide + _problem_guide(),
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
    """Every API answer is for one key's company (or says how a key failed): no cache on the way keeps it, and
    one that ignores that still keys it by the API key (ETags stay usable: shop.platform.conditional)."""
    if not request.path.startswith("/api/"):
        return response
    response.vary.add("Authorization")
    return never_stored(response)


def _allow_header(response: Response) -> Response:
    """RFC 9110 wants `Allow` on a 405; the app-wide error handler that answers it for /api/ leaves it out."""
    if response.status_code == 405 and request.path.startswith("/api/") and "Allow" not in response.headers:
        methods = current_app.url_map.bind_to_environ(request.environ).allowed_methods()
        if methods:
            response.headers["Allow"] = ", ".join(sorted(methods))
    return response
