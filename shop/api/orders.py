"""/api/v1/orders: place (idempotently), list, read and cancel the caller's orders."""
from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, url_for
from flask.views import MethodView
from marshmallow import RAISE

from shop import fulfilment, ordering
from shop.api import idempotency
from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.files import binary_answer, file_response
from shop.api.pagination import encode_cursor
from shop.api.schemas import (
    CancelInSchema,
    DecisionInSchema,
    IdempotencyHeaderSchema,
    OrderInSchema,
    OrderPageSchema,
    OrderQuerySchema,
    OrderSchema,
)
from shop.fulfilment import proforma
from shop.ordering import approvals
from shop.ordering.views import has_proforma
from shop.platform import metrics
from shop.platform.database import utcnow
from shop.platform.errors import DomainError, NotFound
from shop.platform.ratelimits import order_rate

orders_blp = ApiBlueprint("orders", __name__, url_prefix="/api/v1/orders",
                          description="Your orders: place them (idempotently), follow and cancel them.")

LOCATION_HEADER = {"description": "URL of the new order.", "schema": {"type": "string"}}


# One instance for every response: a schema instance (and its nested ones) costs more to build than to dump.
_ORDER_SCHEMA = OrderSchema()


# The argument schemas below are instances, not classes: given a class, webargs builds a new instance (and
# its nested ones) on every request.
@orders_blp.route("")
class Orders(MethodView):
    # An unknown parameter is refused: silently ignoring a typo (`?statuss=`) would answer an unfiltered list.
    @orders_blp.doc(operationId="listOrders")
    @orders_blp.arguments(OrderQuerySchema(), location="query", unknown=RAISE)
    @orders_blp.response(200, OrderPageSchema)
    @orders_blp.doc(operationId="listOrders")
    def get(self, args):
        """List your orders, newest first, or those changed since a time, oldest change first

        Filter with `?status=`; cursor-paginated. With `?updated_since=` the list is the company's orders changed
        at or after that time, ascending by `updated_at`: what an ERP asks after an outage (see also
        `GET /api/v1/events`).
        """
        limit, company_id = args["limit"], current_customer().company_id
        if "updated_since" in args:
            until = utcnow() - timedelta(seconds=current_app.config["EVENTS_FEED_SETTLE_SECONDS"])
            rows = ordering.list_changed_orders(company_id, args["updated_since"], until, limit + 1,
                                                args.get("cursor"), args.get("status"))
            key = ("changed-orders", "updated_at")
        else:
            rows = ordering.list_orders(company_id, args.get("status"), limit + 1, args.get("cursor"))
            key = ("orders", "placed_at")
        page, more = rows[:limit], len(rows) > limit
        next_cursor = encode_cursor(key[0], getattr(page[-1], key[1]), page[-1].id) if more else None
        return {"items": page, "next_cursor": next_cursor}

    @order_rate  # per API key (RATELIMIT_ORDERS): 429 with Retry-After beyond it
    @orders_blp.doc(operationId="placeOrder")
    @orders_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @orders_blp.arguments(OrderInSchema(), description="The lines to order and where to ship them.")
    @orders_blp.response(201, OrderSchema, headers={"Location": LOCATION_HEADER, **idempotency.RESPONSE_HEADERS},
                         description="Placed: every line priced and allocated from lots, first-expired-first-out.")
    @orders_blp.alt_response(409, response="CONFLICT")
    @orders_blp.alt_response(429,
                             description="More orders than RATELIMIT_ORDERS allows this key (by default 120 a "
                                         "minute); `Retry-After` says when to try again.")
    def post(self, headers, data):
        """Place an order

        All or nothing, unless `allow_backorder` is true: when any line is short, nothing is allocated and the
        409 `insufficient-stock` problem lists every short line in `short_lines` (`sku`, `requested`,
        `available`; for a grade your company has
        a specification of, `outside_your_specification`; for a pinned line, `lot_number` and `reason`). Each
        line draws only from lots that meet your company's specification of its grade, if any; a line with
        `lot_number` only from that lot, and with `single_lot` each line from one lot. Unknown SKUs, quantities
        under the minimum, a SKU on two lines and a `lot_number` that is no sellable lot of the line's product
        answer 422 with the field path. With `allow_backorder`, the order takes what there is and each short
        line's `backordered_quantity` waits for the next released lot (201). The order bears VAT by
        `vat_rule` (from our country, where it ships and your company's VAT ID) and is on your company's
        `payment_terms`; on net terms with a credit limit, an order whose `total` exceeds the available credit
        (`GET /api/v1/company`) is 409 `credit-limit-exceeded` with `available_credit`. Send an `Idempotency-Key`
        so that a retry never places a second order.
        """
        command = ordering.PlaceOrder(current_customer(), data["lines"], data["shipping_address"],
                                      data.get("purchase_order"), data.get("min_remaining_shelf_life_days"),
                                      data.get("single_lot", False), data.get("allow_backorder", False))
        try:
            placed = ordering.place(command, idempotency_key=headers.get("key"))
        except DomainError as error:
            return idempotency.refusal(error)
        if not placed.replayed:
            metrics.order_placed("api")
        return idempotency.answer(placed.order, 201, replayed=placed.replayed,
                                  location=url_for("orders.OrderDetail", number=placed.number))


@orders_blp.route("/<string:number>")
class OrderDetail(MethodView):
    @orders_blp.doc(operationId="getOrder")
    @orders_blp.response(200, OrderSchema)
    @orders_blp.alt_response(404, response="NOT_FOUND")
    def get(self, number: str):
        """Get one of your orders

        With its lines, prices and the lots allocated to each line. Another customer's order is 404.
        """
        return ordering.get_order(number, current_customer().company_id)


@orders_blp.route("/<string:number>/cancel")
class OrderCancel(MethodView):
    @orders_blp.doc(operationId="cancelOrder")
    @orders_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @orders_blp.arguments(CancelInSchema(), required=False,
                          description="No body, or `{}`: a cancellation takes no members yet.")
    @orders_blp.response(200, OrderSchema, headers=idempotency.RESPONSE_HEADERS,
                         description="Cancelled; its allocated units are back in stock.")
    @orders_blp.alt_response(404, response="NOT_FOUND")
    @orders_blp.alt_response(409, response="CONFLICT")
    def post(self, headers, _body, number: str):
        """Cancel one of your orders

        Allowed while the order is awaiting approval (it is withdrawn, and the company's approvers and admins are
        e-mailed), pending or confirmed; otherwise 409 `illegal-transition`. A body member the
        shop does not know (such as `reason`) is 422 `validation-error` and cancels nothing. The cancelled
        order keeps its amounts (`line_total`, `total`) as they stood; nothing of it is delivered or charged.
        """
        customer = current_customer()

        def cancel() -> object:
            return _ORDER_SCHEMA.dump(ordering.cancel_order(number, customer=customer))

        return idempotency.respond(customer.company_id, headers.get("key"), cancel, 200)


@orders_blp.route("/<string:number>/cancel-backorder")
class OrderCancelBackorder(MethodView):
    @orders_blp.doc(operationId="cancelBackorder")
    @orders_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @orders_blp.arguments(CancelInSchema(), required=False, description="No body, or `{}`.")
    @orders_blp.response(200, OrderSchema, headers=idempotency.RESPONSE_HEADERS,
                         description="The backordered units are cancelled; the allocated and shipped units stay.")
    @orders_blp.alt_response(404, response="NOT_FOUND")
    @orders_blp.alt_response(409, response="CONFLICT")
    def post(self, headers, _body, number: str):
        """Cancel the backordered rest of one of your orders

        Each line's `backordered_quantity` becomes part of its `cancelled_quantity`, and `line_total` and
        `total` drop by their amount; what is allocated or has shipped stays, and ships as usual. An order
        that has nothing else left is cancelled; a partially shipped one whose other units have all shipped
        becomes `shipped`. An order without backordered units, or one that is no longer open, answers 409
        `illegal-transition`. Announced as `order.changed` (cause `backorder_cancelled`).
        """
        customer = current_customer()

        def cancel() -> object:
            return _ORDER_SCHEMA.dump(fulfilment.cancel_backorder(number, customer=customer))

        return idempotency.respond(customer.company_id, headers.get("key"), cancel, 200)


@orders_blp.route("/<string:number>/proforma.pdf")
class OrderProforma(MethodView):
    @orders_blp.doc(operationId="getOrderProforma", responses=binary_answer(
        "application/pdf", "The pro-forma invoice: what to pay, and where, before a prepaid order ships.",
        "%PDF-1.4 …"))
    @orders_blp.alt_response(404, response="NOT_FOUND")
    def get(self, number: str):
        """Get the pro-forma invoice of one of your prepaid orders

        A PDF, not a tax invoice (it has no number of the invoice series): pay it, and the order ships. An order
        on net terms, one awaiting approval or cancelled has none (404), and neither has another company's order.
        """
        order = ordering.get_order(number, current_customer().company_id, with_products=True)
        if not has_proforma(order):
            raise NotFound(f"Order {order.number} has no pro-forma invoice: it is on {order.payment_terms} terms, "
                           "awaits approval or was cancelled.")
        return file_response(proforma.proforma_pdf_of(order), "application/pdf", f"{order.number}-proforma.pdf")


def _decision(number: str, idempotency_key: str | None, note: str, approve: bool) -> Response:
    customer = current_customer()
    work = approvals.approve if approve else approvals.reject

    def decide() -> object:
        return _ORDER_SCHEMA.dump(work(number, customer, note))

    # The buyer is told by e-mail as a consequence of the decision's event (order.approved, order.rejected).
    return idempotency.respond(customer.company_id, idempotency_key, decide, 200)


def _decision_view(operation_id: str, description: str):
    """The arguments, answer and problems of the approve and reject views (`description`: what the 200 means)."""
    decorators = (
        orders_blp.doc(operationId=operation_id),
        orders_blp.arguments(IdempotencyHeaderSchema(), location="headers"),
        orders_blp.arguments(DecisionInSchema(), description="An optional note to the buyer."),
        orders_blp.response(200, OrderSchema, headers=idempotency.RESPONSE_HEADERS, description=description),
        orders_blp.alt_response(403, description="A buyer key, or a key of the member who placed the order "
                                                 "(four eyes): `forbidden`, nothing decided."),
        orders_blp.alt_response(404, response="NOT_FOUND"),
        orders_blp.alt_response(409, response="CONFLICT"),
    )

    def decorate(view):
        for decorator in reversed(decorators):  # as if stacked above the view, first on top
            view = decorator(view)
        return view

    return decorate


@orders_blp.route("/<string:number>/approve")
class OrderApprove(MethodView):
    @_decision_view("approveOrder", "Approved: the order is pending, for us to confirm.")
    def post(self, headers, data, number: str):
        """Approve an order of your company that awaits approval

        Needs an approver key (a key acts at most as its maker now may); a buyer key gets 403, and so does a
        key of the member who placed the order (four eyes). An order that does not await approval (approved or
        rejected already) is 409 `illegal-transition`; one that your company's credit no longer has room for
        (net terms with a credit limit) is 409 `credit-limit-exceeded` and keeps waiting. The buyer who placed
        it is told.
        """
        return _decision(number, headers.get("key"), data["note"], approve=True)


@orders_blp.route("/<string:number>/reject")
class OrderReject(MethodView):
    @_decision_view("rejectOrder", "Rejected: the order is cancelled and its stock released.")
    def post(self, headers, data, number: str):
        """Reject an order of your company that awaits approval

        Needs an approver key; a buyer key gets 403, and so does a key of the member who placed the order (who
        may withdraw it with `cancel` instead). The order is cancelled and its stock released; a second decision
        is 409 `illegal-transition`. The buyer who placed it is told. Webhooks get `order.rejected` with the
        `note` (not `order.cancelled`).
        """
        return _decision(number, headers.get("key"), data["note"], approve=False)
