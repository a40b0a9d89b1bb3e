"""Every problem type the API answers with, described for the people who integrate with it.

Each problem+json `type` ends in /problems/<name>, and that address serves the page made from the entry here
(shop/api/problem_pages.py). The shop's own problems are listed by hand; HTTP errors that a handler turns into
a problem (404 for an unknown path, 405, 413, ...) are named from Werkzeug's exceptions exactly as the handlers
name them, so every name the API can answer with has its page. tests/test_problem_pages.py reads the code for
names and checks each one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.exceptions import default_exceptions


@dataclass(frozen=True)
class ProblemType:
    name: str
    title: str
    status: int
    meaning: str
    what_to_do: str
    fields: tuple[tuple[str, str], ...] = ()  # members beyond type, title, status and detail: (name, meaning)
    example: dict[str, object] = field(default_factory=dict)  # `detail` and the members above, as answered

    @property
    def path(self) -> str:
        return f"/problems/{self.name}"


def problem_name(title: str) -> str:
    """The name an error handler gives an HTTP error: its title in lower case, words joined by '-'."""
    return title.lower().replace(" ", "-").replace("'", "")


_NOTHING_CHANGED = "Nothing was changed."
_RETRY_SAFE = ("A retry with the same `Idempotency-Key` is safe: it is answered from the first request and never "
               "places a second order.")

SHOP_PROBLEMS = (
    ProblemType(
        "validation-error", "Validation error", 422,
        "A field of the request breaks a rule: a missing or unknown SKU, a quantity that is not a whole number "
        "or is under the pack size's minimum order, an empty order, a SKU on two lines, a bad country code, an "
        "unknown query parameter or a damaged cursor. " + _NOTHING_CHANGED,
        "Correct every field named in `errors` (each path points at one field of what you sent, such as "
        "`lines.0.quantity` or `shipping_address.country`) and send the request again. Show the messages to "
        "the person who entered the data: they are written for them.",
        (("errors", "An object: for each field path (`lines.0.quantity`), the list of messages about it."),),
        {"detail": "lines.0.quantity: The minimum order for LEU-FEED-25KG is 2 units.",
         "errors": {"lines.0.quantity": ["The minimum order for LEU-FEED-25KG is 2 units."]}}),
    ProblemType(
        "insufficient-stock", "Insufficient stock", 409,
        "At least one line cannot be filled from released lots that expire late enough (respecting "
        "`min_remaining_shelf_life_days`). Orders are all or nothing: no unit was allocated.",
        "Reduce or drop each line in `short_lines` to at most its `available` units, or ask for a shorter "
        "minimum shelf life, then place the order again with a new `Idempotency-Key` (the refused key keeps "
        "its refusal). Availability is live on `GET /api/v1/products/{slug}`.",
        (("short_lines", "Every line that cannot be filled, each `{\"sku\", \"requested\", \"available\"}`: "
                         "`available` counts the units that could be allocated to this order now."),),
        {"detail": "Not enough stock for LEU-USP-25KG (requested 12, available 7)",
         "short_lines": [{"sku": "LEU-USP-25KG", "requested": 12, "available": 7}]}),
    ProblemType(
        "credit-limit-exceeded", "Credit limit exceeded", 409,
        "Your company buys on net terms with a credit limit, and this order's `total` (VAT included) is more "
        "than the credit still available: the limit less your open exposure (orders not cancelled and invoices "
        "not yet paid). Checked when an order is placed and again when it is approved. No order was placed "
        "(an approval leaves the order awaiting approval).",
        "Order for at most `available_credit`, or pay open invoices first: `GET /api/v1/company` shows your "
        "`open_exposure` and `available_credit` now. A retry with the same `Idempotency-Key` gets this refusal "
        "again; once there is room, place the order with a new key.",
        (("available_credit", "What your company may still order for, a decimal string in the order's "
                              "currency (never below zero)."),),
        {"detail": "This order (5,950.00 EUR) exceeds your company's available credit (2,380.00 EUR). Pay open "
                   "invoices, or order less.", "available_credit": "2380.00"}),
    ProblemType(
        "illegal-transition", "Not allowed in this status", 409,
        "The order's status does not allow the action: for example cancelling an order that has already "
        "shipped. " + _NOTHING_CHANGED,
        "Read the order (`GET /api/v1/orders/{number}`) to see its status. An order can be cancelled while it "
        "is pending or confirmed; after that, contact the seller."),
    ProblemType(
        "quote-not-open", "Quote not open", 409,
        "The quote cannot be accepted: it is not `answered` (still `requested`, or already accepted, declined, "
        "withdrawn or expired), or its `valid_until` day has passed. No order was placed.",
        "Read the quote (`GET /api/v1/quotes/{number}`) to see its status and `valid_until`. For a quote that "
        "has ended, request a new one (`POST /api/v1/quotes`); a quote still `requested` awaits our answer."),
    ProblemType(
        "order-not-paid", "Order not paid", 409,
        "The order is prepaid and is not paid in full yet, so it cannot ship. `detail` says how much is still to "
        "be paid. " + _NOTHING_CHANGED,
        "Pay the order's pro-forma invoice (its `proforma_url`); the seller's finance team records the payment, "
        "and the order ships once what was paid covers its `total`."),
    ProblemType(
        "not-found", "Not Found", 404,
        "Nothing is at that address for your key: an unknown product, lot or path, a lot that is not released, "
        "or an order of another company (which answers exactly as an unknown one).",
        "Check the identifier (order numbers look like `LS-261126-7KQ4M`) and the path against the API "
        "reference. Lists such as `GET /api/v1/orders` show what your key can see."),
    ProblemType(
        "unauthorized", "Unauthorized", 401,
        "The request carries no API key, or one that is unknown or revoked.",
        "Send `Authorization: Bearer <api key>` on every request. Ask the seller for a new key if yours was "
        "revoked; keys are shown once when they are made."),
    ProblemType(
        "malformed-json", "Malformed JSON", 400,
        "The body is not valid JSON. " + _NOTHING_CHANGED,
        "Send a JSON body with `Content-Type: application/json`, encoded as UTF-8."),
    ProblemType(
        "idempotency-key-reused", "Idempotency key reused", 422,
        "The `Idempotency-Key` was used before with a different request body.",
        "Use a new key for every new request. To get the first answer again, resend exactly the body first "
        "sent with the key."),
    ProblemType(
        "idempotency-in-flight", "Request in progress", 409,
        "A request with the same `Idempotency-Key` is still being processed.",
        "Wait for the seconds in the `Retry-After` header, then send the same request again: you will get the "
        "first request's answer."),
    ProblemType(
        "conflict", "Conflict", 409,
        "The request conflicts with the current state of the resource. " + _NOTHING_CHANGED,
        "Read the resource again and decide on the current state before retrying."),
    ProblemType(
        "domain-error", "Request refused", 400,
        "The shop refused the request for a reason given in `detail`. " + _NOTHING_CHANGED,
        "Read `detail`, correct the request and send it again."),
    ProblemType(
        "release-refused", "Release refused", 409,
        "A lot cannot be released because tests of its Certificate of Analysis are missing or out of "
        "specification (a staff action; the order API does not release lots).",
        "Record a result inside its limits for every test named in `detail`, then release again."),
    ProblemType(
        "second-person-required", "A second person must release", 409,
        "A release refused under the two-person rule: the signer recorded or last corrected one of the lot's "
        "results (a staff action; the order API does not release lots).",
        "Ask another quality user, one who did not record the lot's results, to sign the release."),
    ProblemType(
        "csrf-error", "CSRF check failed", 400,
        "A form-style request that relies on the browser's session carried no valid CSRF token.",
        "API clients authenticate with `Authorization: Bearer <api key>` and send JSON; they need no token."),
    ProblemType(
        "content-too-large", "Content Too Large", 413,
        "The request body is larger than the shop accepts (`MAX_CONTENT_LENGTH`, 1 MiB unless configured). "
        + _NOTHING_CHANGED,
        "Send a smaller body: split a very large order into several orders."),
    ProblemType(
        "unsupported-media-type", "Unsupported Media Type", 415,
        "The body is not sent as `application/json`. " + _NOTHING_CHANGED,
        "Send the body as JSON with `Content-Type: application/json`."),
    ProblemType(
        "too-many-requests", "Too Many Requests", 429,
        "More requests than the shop's rate limits allow: order placement per API key, or requests with a missing "
        "or wrong key per client address. " + _NOTHING_CHANGED,
        "Wait for the seconds in the `Retry-After` header, then send the request again. " + _RETRY_SAFE),
    ProblemType(
        "internal-error", "Internal Server Error", 500,
        "The server failed while answering. " + _NOTHING_CHANGED,
        "Retry after a moment. " + _RETRY_SAFE + " If it keeps failing, tell the seller the time of the "
        "request and its `X-Request-ID` header, if any."),
)

# What to do about the HTTP errors a client is likely to meet; the others get the general advice below.
_HTTP_ADVICE = {
    400: "The request could not be read: for example it held a NUL character or a broken header. Correct it "
         "and send it again.",
    403: "Your key may not do this. Ask the seller for a key with the role needed.",
    405: "Use one of the methods listed in the `Allow` header for this path.",
    406: "Accept `application/json` (answers) or `application/problem+json` (errors).",
    503: "The shop is briefly unavailable (maintenance or overload). Retry after the `Retry-After` seconds, "
         "or after a minute. " + _RETRY_SAFE,
}


def _http_problems() -> list[ProblemType]:
    problems = []
    for status, exception in sorted(default_exceptions.items()):
        if status < 400:
            continue
        server, title = status >= 500, exception().name  # `name` is a property of the instance
        problems.append(ProblemType(
            problem_name(title), title, status,
            f"HTTP {status} {title}: " + ("the server could not answer. " if server else
                                                     "the request cannot be answered as it was sent. ")
            + _NOTHING_CHANGED,
            _HTTP_ADVICE.get(status, "Retry after a moment. " + _RETRY_SAFE if server else
                             "Read `detail`, correct the request and send it again.")))
    return problems


def _catalogue() -> dict[str, ProblemType]:
    by_name = {p.name: p for p in _http_problems()}
    by_name.update({p.name: p for p in SHOP_PROBLEMS})  # the shop's own wording wins
    return dict(sorted(by_name.items()))


PROBLEM_TYPES = _catalogue()

