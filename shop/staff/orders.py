"""Fulfilment: the order list, one order, its life-cycle actions, its shipments, and the printable packing slips."""
from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from shop import fulfilment, ordering
from shop.accounts.models import StaffRole
from shop.fulfilment import billing
from shop.invoicing.models import Payment, Refund
from shop.invoicing.payments import PaymentInput
from shop.ordering import documents as order_documents
from shop.ordering import packing, shortages
from shop.ordering.cancellation import preview_cancellation
from shop.ordering.models import AllocationStatus, OrderStatus, Shipment
from shop.ordering.packing import SlipLot
from shop.ordering.views import shipment_lines
from shop.platform.errors import DomainError, InvalidInput, NotFound
from shop.platform.tx import run_in_transaction
from shop.platform.wording import money, units
from shop.quality import recall
from shop.quality import trace as tracing
from shop.reporting import reports
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.forms import (
    ActionForm,
    AttentionForm,
    CancelForm,
    HandAllocationForm,
    OrderFilterForm,
    PaymentForm,
    RefundForm,
    ShipForm,
    posted_ship_form,
    ship_form,
)
from shop.staff.helpers import filtered_page, or_404, page_link_args, show_errors


@bp.get("/orders")
@role_required(StaffRole.FULFILMENT)
def order_list():
    """Orders newest first, filtered by status, customer and date; keyset pages."""
    form = OrderFilterForm(request.args)
    page, status = filtered_page(form, lambda: reports.order_page(
        OrderStatus(form.status.data) if form.status.data else None, form.customer.data or "",
        form.date_from.data, form.date_to.data, attention_only=bool(form.attention.data),
        cursor=request.args.get("cursor")))
    return render_template("staff/orders.html", form=form, page=page, args=page_link_args()), status


def _load_order(number: str):
    """The order with its lines' pack sizes and products, so the template triggers no query per line."""
    return or_404(ordering.get_order, number, with_products=True)


def _render_order(number: str, *, ship=None, cancel=None, attention=None, hand=None, payment=None, refund=None,
                  status=200):
    order = _load_order(number)
    short = shortages.missing_now(order)
    lots = shortages.hand_lots(order) if short else {}
    hand_forms = {}
    for line in short:
        form = hand if hand is not None and hand.position.data == str(line.position) else \
            HandAllocationForm(formdata=None, position=str(line.position))
        form.lot_number.choices = [
            SelectChoice(lot.lot_number, f"{lot.lot_number}: {lot.free} free, {lot.date_kind.dated(lot.expires_on)}"
                                         + (" (sold only on request)" if lot.on_request else ""))
            for lot in lots.get(line.position, [])]
        hand_forms[line.position] = form
    holdings = fulfilment.holdings(order)
    return render_template("staff/order.html", order=order, rows=tracing.order_trace_rows(order.id),
                           ship=ship_form(holdings, ship) if ship else ship_form(holdings, formdata=None),
                           holdings=holdings,
                           shipment_lines=shipment_lines, cancel=cancel or CancelForm(formdata=None),
                           attention=attention or AttentionForm(formdata=None), short=short, hand=hand_forms,
                           action=ActionForm(formdata=None), OrderStatus=OrderStatus,
                           recalled=shortages.recalled(order) if order.needs_attention else "",
                           nothing_fits={line.position: shortages.nothing_fits(order, line) for line in order.lines
                                         if line.position in hand_forms},
                           unpaid=billing.unpaid_before_shipping(order), owed=billing.order_due(order).total,
                           payment=payment or PaymentForm(formdata=None, paid_on=billing.today()),
                           refundable=billing.refundable(order),
                           refund=refund or RefundForm(formdata=None, paid_on=billing.today()),
                           may_record_payment=current_staff().has_role(StaffRole.FINANCE),
                           documents=order_documents.recorded(order)), status


@bp.get("/orders/<number>")
@role_required(StaffRole.FULFILMENT, StaffRole.FINANCE)
def order(number: str):
    """One order: customer, lines with their lots, status history, and what can be done next (finance: record what
    a prepaid order's buyer paid)."""
    return _render_order(number)


def _act(number: str, work, done, form=None, fields=None):
    """Run one life-cycle step and say `done` ('Order {number} confirmed.') with the order's own number, however
    the URL spelled it, or what `done(result)` says; an illegal transition is a message, never an error page. An
    unknown order is 404, from the service's own look-up (or from the page shown again for bad input). `fields`
    maps the service's field paths to the form's fields where they differ."""
    form = form or ActionForm()
    if not form.validate_on_submit():
        return _render_order(number, **_form_kw(form), status=422)
    try:
        result = run_in_transaction(work)
    except NotFound as exc:
        abort(404, description=exc.message)
    except InvalidInput as exc:
        for message in show_errors(form, exc.errors, fields):
            flash(message, "error")
        return _render_order(number, **_form_kw(form), status=422)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.order", number=number))
    number = ordering.canonical_number(number)
    flash(done(result) if callable(done) else done.format(number=number), "success")
    return redirect(url_for("staff.order", number=number))


def _form_kw(form) -> dict:
    if isinstance(form, HandAllocationForm):
        return {"hand": form}
    if isinstance(form, ShipForm):
        return {"ship": form}
    if isinstance(form, CancelForm):
        return {"cancel": form}
    if isinstance(form, AttentionForm):
        return {"attention": form}
    if isinstance(form, PaymentForm):
        return {"payment": form}
    if isinstance(form, RefundForm):
        return {"refund": form}
    return {}


@bp.post("/orders/<number>/confirm")
@role_required(StaffRole.FULFILMENT)
def confirm(number: str):
    return _act(number, lambda: ordering.confirm_order(number, staff=current_staff()), "Order {number} confirmed.")


@bp.post("/orders/<number>/payments")
@role_required(StaffRole.FINANCE)
def record_order_payment(number: str):
    """Record money paid ahead against the order (a prepaid order ships once paid in full); an amount that is not
    plain ("1,500"), negative or more than is still to pay is shown beside its field, and nothing is recorded."""
    return _record_money(number, PaymentForm(), billing.record_payment,
                         "Payment of {amount} recorded against order {number}.")


@bp.post("/orders/<number>/refunds")
@role_required(StaffRole.FINANCE)
def record_refund(number: str):
    """Record money paid back to the buyer, of what the order's payments hold that no invoice has taken (a credit
    note gave back part of a paid invoice, or a prepaid order was cancelled); an amount that is not plain, negative
    or more than that is shown beside its field, and nothing is recorded."""
    return _record_money(number, RefundForm(), billing.record_refund, "Refund of {amount} recorded for order {number}.")


def _record_money(number: str, form: PaymentForm | RefundForm, record, said: str):
    """Record a payment or refund of the order as the form gives it (`record`: billing's), saying `said`."""

    def work() -> Payment | Refund:
        given = PaymentInput(form.amount.data, form.paid_on.data, form.reference.data or "")
        return record(number, given, current_staff())

    def done(moved: Payment | Refund) -> str:
        order = ordering.get_order(number)
        return said.format(amount=money(moved.amount, order.currency), number=order.number)

    return _act(number, work, done, form)


@bp.post("/orders/<number>/ship")
@role_required(StaffRole.FULFILMENT)
def ship(number: str):
    """Ship the units posted per line, each line from the lot chosen or earliest expiry first, as the order's next
    shipment; a post that names no line (a script) ships everything allocated and not shipped."""
    positions = sorted({int(m[1]) for key in request.form if (m := _POSTED_LINE.fullmatch(key))})
    form = posted_ship_form(positions)

    def work() -> Shipment:
        if not positions:
            return fulfilment.ship_order(number, form.tracking_reference.data, staff=current_staff(),
                                         carrier=form.carrier.data).shipments[-1]
        picks = [fulfilment.Pick(p, form[f"units_{p}"].data or 0, form[f"lot_{p}"].data or None) for p in positions]
        return fulfilment.ship(number, picks, tracking_reference=form.tracking_reference.data,
                               carrier=form.carrier.data, staff=current_staff())

    fields = {"lines": f"units_{positions[0]}"} if positions else {}
    for p in positions:
        fields |= {f"lines.{p}.quantity": f"units_{p}", f"lines.{p}.lot_number": f"lot_{p}"}
    return _act(number, work, _shipped, form, fields)


_POSTED_LINE = re.compile(r"(?:units|lot)_(\d{1,9})")


def _shipped(shipment: Shipment) -> str:
    """What staff are told of a shipment: its number and units, and whether the order is done."""
    order, count = shipment.order, units(sum(a.quantity for a in shipment.allocations))
    if order.status == OrderStatus.SHIPPED:
        return f"Order {order.number} shipped. Shipment {shipment.number}: {count}."
    return f"Shipment {shipment.number} shipped ({count}); order {order.number} is partially shipped."


@bp.post("/orders/<number>/deliver")
@role_required(StaffRole.FULFILMENT)
def deliver(number: str):
    return _act(number, lambda: ordering.deliver_order(number, staff=current_staff()),
                "Order {number} marked delivered.")


@bp.post("/orders/<number>/cancel")
@role_required(StaffRole.FULFILMENT)
def cancel(number: str):
    """Cancel in two steps: the order page's form shows what will happen (units back to stock per lot, the
    total not charged); only the confirmation it leads to cancels."""
    form = CancelForm()
    if request.form.get("confirmed") != "1":
        if not form.validate_on_submit():
            return _render_order(number, cancel=form, status=422)
        order = _load_order(number)
        if order.status not in (OrderStatus.PENDING, OrderStatus.CONFIRMED):
            flash(f"Order {order.number} is {order.status} and cannot be cancelled.", "error")
            return redirect(url_for("staff.order", number=order.number))
        return render_template("staff/cancel.html", order=order, form=form, preview=preview_cancellation(order))
    return _act(number, lambda: ordering.cancel_order(number, staff=current_staff(),
                                                    reason=(form.reason.data or "").strip()),
                "Order {number} cancelled; its units are back in stock.", form)


@bp.get("/orders/short")
@role_required(StaffRole.FULFILMENT)
def short_order_list():
    """Open orders short of units, oldest first, with what each misses and a one-click allocation."""
    try:
        page = shortages.short_orders(cursor=request.args.get("cursor"))
    except InvalidInput as exc:
        abort(400, description=" ".join(m for msgs in exc.errors.values() for m in msgs))
    return render_template("staff/short_orders.html", short=page, args=page_link_args())


@bp.post("/orders/<number>/fill")
@role_required(StaffRole.FULFILMENT)
def fill_short(number: str):
    """Allocate a short order's missing units from released stock, first-expired-first-out, in one action."""
    back = request.form.get("next", "")
    if not back.startswith("/staff/") or "//" in back or "\\" in back:
        back = url_for("staff.order", number=number)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        filled = run_in_transaction(shortages.fill_short_order, number, current_staff())
    except NotFound as exc:
        abort(404, description=exc.message)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    done = "; ".join(f"{n} × {sku} from lot {lot}" for sku, lot, n in filled.allocated)
    still = "; ".join(map(str, filled.still_short))
    number = ordering.canonical_number(number)
    flash(f"Order {number}: allocated {done}." + (f" Still short: {still}." if still else " It is no longer short."),
          "success" if not still else "warning")
    return redirect(back)


@bp.post("/orders/<number>/cancel-short")
@role_required(StaffRole.FULFILMENT)
def cancel_short(number: str):
    """Cancel the units a short order misses, so that it can go ahead with what it holds."""
    return _act(number, lambda: shortages.cancel_short_units(number, current_staff()),
                "Order {number}: the missing units are cancelled; it goes ahead with what it holds.")


@bp.post("/orders/<number>/allocate")
@role_required(StaffRole.FULFILMENT)
def allocate_by_hand(number: str):
    """Allocate units of a chosen lot to a short line by hand (also a lot sold only on request)."""
    form = HandAllocationForm()
    form.lot_number.choices = [SelectChoice(request.form.get("lot_number", ""), "")]  # the service checks it
    position = form.position.data or ""
    if not position.isdigit():
        abort(400, description="Say which line to allocate to.")
    return _act(number, lambda: shortages.allocate_by_hand(number, int(position), form.lot_number.data,
                                                           form.quantity.data, current_staff()),
                "Order {number}: allocated by hand.", form)


@bp.post("/orders/<number>/attention")
@role_required(StaffRole.FULFILMENT)
def clear_attention(number: str):
    """Mark an order a recall flagged as handled, with a note of what was done; the note goes to the audit log."""
    form = AttentionForm()
    return _act(number, lambda: recall.clear_attention(number, form.note.data, staff=current_staff()),
                "Order {number} marked as handled.", form)


@bp.get("/orders/<number>/packing-slip")
@role_required(StaffRole.FULFILMENT, StaffRole.WAREHOUSE)
def packing_slip(number: str):
    """A printable packing slip: each line with the lots (and expiry dates) to pick, what it holds now (allocated
    or shipped)."""
    order = _load_order(number)
    if order.status == OrderStatus.CANCELLED:
        abort(409, description=f"Order {order.number} is cancelled: there is nothing to pack.")
    rows = tracing.order_trace_rows(order.id)
    # Once part of the order has left, its slip is the pick list of the rest: the units shipped are on their
    # shipments' slips, and a picker must not pick them again.
    rest = order.status == OrderStatus.PARTIALLY_SHIPPED
    lots = [[SlipLot(r.lot_number, r.date_kind, r.expires_on, r.quantity) for r in rows
             if r.sku == line.sku and (r.allocation_status == AllocationStatus.ALLOCATED if rest
                                       else r.allocation_status.live)] for line in order.lines]
    notes = [packing.line_note(line.quantity, line.cancelled_quantity, sum(lot.quantity for lot in held),
                               order.needs_attention, shipped=line.shipped_quantity if rest else 0)
             for line, held in zip(order.lines, lots, strict=True)]
    return _slip(order, None, list(zip(order.lines, lots, notes, strict=True)), rest=rest)


@bp.get("/orders/<number>/shipments/<int:sequence>/packing-slip")
@role_required(StaffRole.FULFILMENT, StaffRole.WAREHOUSE)
def shipment_packing_slip(number: str, sequence: int):
    """The packing slip of one shipment: only its lines, lots and units, and what of each line is still to come."""
    order = _load_order(number)
    shipment = next((s for s in order.shipments if s.sequence == sequence), None)
    if shipment is None:
        abort(404, description=f"Order {order.number} has no shipment {sequence}.")
    lots: dict[int, dict[str, SlipLot]] = {}
    for a in shipment.allocations:
        b, held = a.stock.batch, lots.setdefault(a.order_line_id, {})
        was = held.get(b.lot_number)
        held[b.lot_number] = SlipLot(b.lot_number, b.date_kind, b.expires_on, a.quantity + (was.quantity if was else 0))
    slip = [(line, list(lots[line.id].values()), packing.to_follow(line.wanted - _shipped_by(line, sequence)))
            for line in order.lines if line.id in lots]
    return _slip(order, shipment, slip)


def _shipped_by(line, sequence: int) -> int:
    """Units of the line shipped by the shipment of `sequence` and those before it (the slip reads as it was)."""
    return sum(a.quantity for a in line.allocations if a.shipment is not None and a.shipment.sequence <= sequence)


def _slip(order, shipment: Shipment | None, lines: list, rest: bool = False) -> str:
    """Render a packing slip of (order line, its lots to pick, the note under it) with their weights (`rest`: the
    order's slip of what is left to ship after its shipments so far)."""
    packed = packing.shipment((line.sku, line.variant.pack_size_kg, line.variant.tare_kg,
                               sum(lot.quantity for lot in held)) for line, held, _ in lines)
    return render_template("staff/packing_slip.html", order=order, shipment=shipment, lines=lines, packed=packed,
                           rest=rest)
