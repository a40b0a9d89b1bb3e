"""My orders: the signed-in customer's orders, newest first, one order's detail, confirmation and cancel."""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for

from shop import fulfilment, ordering
from shop.ordering import documents as order_documents
from shop.ordering import shortages
from shop.ordering.cancellation import preview_cancellation
from shop.ordering.models import Order, OrderStatus
from shop.ordering.views import has_proforma, shipment_lines
from shop.platform.bounds import is_plain_date, is_row_id
from shop.platform.errors import IllegalTransition, NotFound
from shop.platform.tx import run_in_transaction
from shop.storefront import bp
from shop.storefront.cart import add_order_to_cart, load_cart
from shop.storefront.common import current_customer, customer_required

PAGE_SIZE = 20
CANCELLABLE = (OrderStatus.AWAITING_APPROVAL, OrderStatus.PENDING, OrderStatus.CONFIRMED)


def _cursor(order: Order) -> str:
    return f"{order.placed_at.isoformat()}_{order.id}"


def _parse_cursor(raw: str) -> tuple[datetime, int]:
    stamp, _, ident = raw.rpartition("_")
    try:
        moment, row_id = datetime.fromisoformat(stamp), int(ident) if ident.isdigit() and len(ident) <= 10 else 0
    except ValueError:
        moment, row_id = None, 0
    if moment is None or not is_row_id(row_id) or not is_plain_date(moment.date()):
        abort(400, description="That page link is damaged. Start again from My orders.")
    return moment, row_id


@bp.get("/orders")
@customer_required()
def order_list():
    """The customer's orders, newest first, keyset-paginated on (placed_at, id)."""
    after = _parse_cursor(request.args["after"]) if request.args.get("after") else None
    rows = ordering.list_orders(company_id=current_customer().company_id, limit=PAGE_SIZE + 1, after=after)
    next_cursor = _cursor(rows[PAGE_SIZE - 1]) if len(rows) > PAGE_SIZE else None
    return render_template("storefront/orders.html", orders=rows[:PAGE_SIZE], next_cursor=next_cursor,
                           first_page=after is None)


def _own_order(number: str) -> Order:
    """The order if it is the signed-in customer's; anyone else's is a plain 404, as if it did not exist."""
    try:
        return ordering.get_order(number, company_id=current_customer().company_id, with_products=True)
    except NotFound:
        abort(404, description=f"You have no order {number}.")


def _render_order(number: str, *, confirmation: bool):
    order = _own_order(number)
    return render_template("storefront/order.html", order=order, confirmation=confirmation,
                           cancellable=order.status in CANCELLABLE, short=shortages.missing_now(order),
                           backordered=sum(line.backordered_quantity for line in order.lines)
                           if order.status in shortages.OPEN_STATUSES else 0,
                           documents=order_documents.recorded(order), shipment_lines=shipment_lines,
                           to_come=fulfilment.to_come(order), has_proforma=has_proforma(order))


@bp.get("/orders/<number>")
@customer_required()
def order_detail(number: str):
    """One order: lines, prices, allocated lots with expiry and CoA links, and its status history."""
    return _render_order(number, confirmation=False)


@bp.get("/orders/<number>/confirmation")
@customer_required()
def order_confirmation(number: str):
    """The page shown right after checkout: the order number and the lots allocated to it."""
    return _render_order(number, confirmation=True)


@bp.post("/orders/<number>/reorder")
@customer_required()
def order_again(number: str):
    """Order again: the order's pack sizes and quantities into the cart, at today's prices and availability; the
    cart then flags what changed (price, stock, minimum order) and what is no longer sold."""
    order = _own_order(number)
    added, withdrawn = add_order_to_cart(order)
    if added:
        check = " Check the lines flagged below before you check out." if load_cart().flagged else ""
        flash(f"The {len(added)} line{'s' if len(added) != 1 else ''} of order {order.number} "
              f"{'are' if len(added) != 1 else 'is'} in your cart at today's prices.{check}", "success")
    if withdrawn:
        flash(f"No longer sold, so not added: {', '.join(withdrawn)}.", "error")
    return redirect(url_for("storefront.cart"))


def _cannot_cancel(number: str):
    flash(f"Order {number} can no longer be cancelled: it has left the warehouse or was cancelled already. "
          "Contact us if something is wrong.", "error")
    return redirect(url_for("storefront.order_detail", number=number))


@bp.get("/orders/<number>/cancel")
@customer_required()
def order_cancel_confirm(number: str):
    """Before cancelling: what will happen (the units that go back to stock), and a button to confirm."""
    order = _own_order(number)
    if order.status not in CANCELLABLE:
        return _cannot_cancel(order.number)
    return render_template("storefront/cancel.html", order=order, preview=preview_cancellation(order))


@bp.post("/orders/<number>/cancel")
@customer_required()
def order_cancel(number: str):
    """Cancel the order while it is pending or confirmed, once confirmed on the page that says what happens;
    its units go back to stock. A post that did not come from that page is sent to it."""
    if request.form.get("confirm") != "yes":
        return redirect(url_for("storefront.order_cancel_confirm", number=number), 303)
    try:
        order = run_in_transaction(ordering.cancel_order, number, customer=current_customer(),
                                   reason="Cancelled by the customer on the storefront")
    except NotFound:
        abort(404, description=f"You have no order {number}.")
    except IllegalTransition:
        return _cannot_cancel(ordering.canonical_number(number))
    flash(f"Order {order.number} is cancelled. Nothing will be shipped or invoiced.", "success")
    return redirect(url_for("storefront.order_detail", number=order.number))


@bp.post("/orders/<number>/cancel-backorder")
@customer_required()
def order_cancel_backorder(number: str):
    """Cancel the units the order still waits for (its backordered units); what it holds stays."""
    try:
        order = run_in_transaction(fulfilment.cancel_backorder, number, customer=current_customer())
    except NotFound:
        abort(404, description=f"You have no order {number}.")
    except IllegalTransition:
        flash(f"Order {ordering.canonical_number(number)} has no backordered units to cancel any more.", "error")
        return redirect(url_for("storefront.order_detail", number=ordering.canonical_number(number)))
    if order.status == OrderStatus.CANCELLED:
        flash(f"Order {order.number} is cancelled: it was waiting for nothing but the backordered units.", "success")
    else:
        flash(f"The backordered units of order {order.number} are cancelled; the rest of the order goes ahead.",
              "success")
    return redirect(url_for("storefront.order_detail", number=order.number))
