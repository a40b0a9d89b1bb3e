"""/api/v1/quotes: ask for a price (and stock set aside), read the answer, accept it into an order or decline it."""
from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from marshmallow import RAISE

from shop import sales
from shop.api import idempotency
from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.schemas import (
    AcceptQuoteInSchema,
    DeclineQuoteInSchema,
    IdempotencyHeaderSchema,
    OrderSchema,
    QuoteInSchema,
    QuotePageSchema,
    QuoteQuerySchema,
    QuoteSchema,
)
from shop.platform import metrics
from shop.platform.errors import DomainError

quotes_blp = ApiBlueprint(
    "quotes", __name__, url_prefix="/api/v1/quotes",
    description="Quotes: ask for a price for your quantities, the shelf life you need and a date; our sales team "
                "answers with a unit price per line valid until a day and may set the stock aside (a hold) until "
                "then. Accept the answer into an order at those prices, or decline it. Each answer is a "
                "`quote.answered` event and an e-mail; a quote not accepted in time is `quote.expired`.")

LOCATION_HEADER = {"description": "URL of the new quote.", "schema": {"type": "string"}}
ORDER_LOCATION_HEADER = {"description": "URL of the order the acceptance placed.", "schema": {"type": "string"}}
_QUOTE_SCHEMA = QuoteSchema()


@quotes_blp.route("")
class Quotes(MethodView):
    @quotes_blp.doc(operationId="listQuotes")
    @quotes_blp.arguments(QuoteQuerySchema(), location="query", unknown=RAISE)
    @quotes_blp.response(200, QuotePageSchema)
    def get(self, args):
        """List your company's quotes, newest first

        Cursor-paginated. Every status is listed, from `requested` to `accepted`, `declined`, `expired` and
        `withdrawn`.
        """
        page = sales.list_quotes(current_customer().company_id, args["limit"], args.get("cursor") or None)
        return {"items": page.rows, "next_cursor": page.next_cursor}

    @quotes_blp.doc(operationId="requestQuote")
    @quotes_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @quotes_blp.arguments(QuoteInSchema(), description="The lines to be quoted, and what the goods must meet.")
    @quotes_blp.response(201, QuoteSchema, headers={"Location": LOCATION_HEADER, **idempotency.RESPONSE_HEADERS},
                         description="Requested: `requested`, without prices until our sales team answers.")
    def post(self, headers, data):
        """Request a quote

        Unknown SKUs, quantities that are not whole numbers of at least 1, a SKU on two lines, no lines, a
        `needed_by` in the past and an overlong `note` answer 422 with `errors` by field path, and nothing is
        requested. Send an `Idempotency-Key` so that a retry never requests a second quote.
        """
        command = sales.RequestQuote(current_customer(), data["lines"], data.get("min_remaining_shelf_life_days"),
                                     data.get("needed_by"), data.get("note"))
        try:
            outcome = sales.request_quote(command, idempotency_key=headers.get("key"))
        except DomainError as error:
            return idempotency.refusal(error)
        number = outcome.quote["number"]
        return idempotency.answer(outcome.quote, 201, replayed=outcome.replayed,
                                  location=url_for("quotes.QuoteDetail", number=number))


@quotes_blp.route("/<string:number>")
class QuoteDetail(MethodView):
    @quotes_blp.doc(operationId="getQuote")
    @quotes_blp.response(200, QuoteSchema)
    @quotes_blp.alt_response(404, response="NOT_FOUND")
    def get(self, number: str):
        """Get one of your company's quotes

        `unit_price`, `line_total` and `valid_until` are null until our sales team answers; `held_quantity`
        says how many units of each line are set aside for you. Another company's quote is 404.
        """
        return sales.get_quote(number, current_customer().company_id)


@quotes_blp.route("/<string:number>/accept")
class QuoteAccept(MethodView):
    @quotes_blp.doc(operationId="acceptQuote")
    @quotes_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @quotes_blp.arguments(AcceptQuoteInSchema(), description="Where to ship the order, and your reference.")
    @quotes_blp.response(201, OrderSchema, headers={"Location": ORDER_LOCATION_HEADER,
                                                    **idempotency.RESPONSE_HEADERS},
                         description="Accepted: the order, at the quoted prices, drawn from the held lots where "
                                     "units were held.")
    @quotes_blp.alt_response(404, response="NOT_FOUND")
    @quotes_blp.alt_response(409, response="CONFLICT")
    def post(self, headers, data, number: str):
        """Accept an answered quote: place its order

        The order has the quote's lines at the quoted unit prices; held units are the order's allocation, and
        units not held are allocated first-expired-first-out within the quote's shelf life, else 409
        `insufficient-stock` with the short lines. A quote that is not `answered`, or whose `valid_until` has
        passed, is 409 `quote-not-open`. Approval and credit rules apply as to any order: above your company's
        approval threshold, a buyer's order awaits approval. Send an `Idempotency-Key` so that a retry never
        places a second order.
        """
        try:
            placed = sales.accept_quote(number, current_customer(), data["shipping_address"],
                                        data.get("purchase_order"), idempotency_key=headers.get("key"))
        except DomainError as error:
            return idempotency.refusal(error)
        if not placed.replayed:
            metrics.order_placed("api")
        return idempotency.answer(placed.order, 201, replayed=placed.replayed,
                                  location=url_for("orders.OrderDetail", number=placed.number))


@quotes_blp.route("/<string:number>/decline")
class QuoteDecline(MethodView):
    @quotes_blp.doc(operationId="declineQuote")
    @quotes_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @quotes_blp.arguments(DeclineQuoteInSchema(), required=False, description="No body, or `{}`.")
    @quotes_blp.response(200, QuoteSchema, headers=idempotency.RESPONSE_HEADERS,
                         description="Declined; any units held for it are back in stock.")
    @quotes_blp.alt_response(404, response="NOT_FOUND")
    @quotes_blp.alt_response(409, response="CONFLICT")
    def post(self, headers, _body, number: str):
        """Decline a quote

        Allowed while it is `answered` and through `valid_until`, as accepting is; otherwise (still `requested`,
        closed, or past `valid_until`) 409 `quote-not-open`. Units held for it are released at once.
        """
        customer = current_customer()

        def decline() -> object:
            return _QUOTE_SCHEMA.dump(sales.decline_quote(number, customer))

        return idempotency.respond(customer.company_id, headers.get("key"), decline, 200)
