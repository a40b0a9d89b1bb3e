"""Billing what ships: each shipment is invoiced as it leaves, for the units it carried and their lots; payments are
recorded against an order under its lock; a prepaid order ships only once it is paid in full.

Invoicing numbers, totals and stores the documents; this module reads the order and hands over the facts."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import current_app

from shop.accounts.models import PREPAID, StaffUser
from shop.invoicing import issuing, payments
from shop.invoicing.issuing import InvoiceFacts, LineFacts, Party, get_document, issue_invoice, unapplied_payments
from shop.invoicing.models import Invoice, Payment, Refund, VatRule
from shop.invoicing.payments import OrderDue, PaymentInput, due_on_order, record_order_payment
from shop.ordering.announce import touch, touch_all
from shop.ordering.models import Order, OrderLine, Shipment
from shop.ordering.queries import get_order
from shop.ordering.totals import owed
from shop.platform import mail
from shop.platform.errors import OrderNotPaid
from shop.platform.extensions import db
from shop.platform.wording import kg, money


def today() -> date:
    """The day documents are dated and payments checked against: today in UTC."""
    return datetime.now(UTC).date()


def bill_shipment(order: Order, shipment: Shipment, staff: StaffUser | None = None, *,
                  on: date | None = None) -> Invoice:
    """Issue the shipment's invoice, dated the day it left (`on`, today by default): one line per order line it
    carried, its units and their lots (in the order they were shipped), at the line's unit price. The caller holds
    the order's lock and commits."""
    invoice = issue_invoice(invoice_facts(order, shipment, staff), shipped_lines(shipment), on or today())
    # The order's documents and payments as loaded before: read again, so that the shipment's event lists it.
    db.session.expire(order, ["invoices", "payments"])
    return invoice


def invoice_facts(order: Order, shipment: Shipment | None = None, staff: StaffUser | None = None) -> InvoiceFacts:
    """What an invoice of the order says besides its lines: the company as it is now, the order's terms and VAT
    (an order placed before VAT existed has had its VAT decided when it shipped: ordering.totals.decide_missing_vat)."""
    company = order.company
    buyer = Party(company.name, company.vat_id, *buyer_address(order))
    return InvoiceFacts(
        company_id=order.company_id, buyer=buyer, order_id=order.id, order_number=order.number,
        purchase_order=order.purchase_order, payment_terms=order.payment_terms, currency=order.currency,
        vat_rule=VatRule(order.vat_rule), vat_rate=order.vat_rate, ship_country=order.ship_country,
        shipment_id=shipment.id if shipment else None, shipment_number=shipment.number if shipment else None,
        staff_id=staff.id if staff else None)


def buyer_address(order: Order) -> tuple[str, str, str, str, str]:
    """Where an invoice or pro-forma bills the order's company: its billing address (line 1, line 2, city, postal
    code, country), or, while the company has none (a billing address is whole or empty), the order's ship-to
    address, rather than a name and a country alone."""
    company = order.company
    if company.billing_country:
        return (company.billing_line1, company.billing_line2, company.billing_city, company.billing_postal_code,
                company.billing_country)
    return order.ship_line1, order.ship_line2, order.ship_city, order.ship_postal_code, order.ship_country


def shipped_lines(shipment: Shipment) -> list[LineFacts]:
    """The shipment's units per order line (in the order's line order), with the lots they came from."""
    units: dict[int, int] = defaultdict(int)
    lots: dict[int, list[str]] = defaultdict(list)
    lines: dict[int, OrderLine] = {}
    for allocation in shipment.allocations:
        line = allocation.line
        lines[line.position] = line
        units[line.position] += allocation.quantity
        lot = allocation.stock.batch.lot_number
        if lot not in lots[line.position]:
            lots[line.position].append(lot)
    return [LineFacts(line.id, line.sku, describe(line), units[position], line.unit_price, tuple(lots[position]))
            for position, line in sorted(lines.items())]


def describe(line: OrderLine) -> str:
    """An invoice line's words as the order page and acknowledgement say them: the product (its name names the
    grade) and the pack size ("L-Leucine USP, 25 kg pack")."""
    return f"{line.variant.product.name}, {kg(line.variant.pack_size_kg)} pack"


def order_due(order: Order) -> OrderDue:
    """What the order's payments are held to: its total (for an order placed before VAT existed, with the VAT it
    owes once it ships: ordering.totals.owed)."""
    _, money = owed(order, current_app.config["SHOP_COUNTRY"])
    return OrderDue(order.id, order.number, order.company_id, money.gross, order.currency, order.placed_at.date())


def record_payment(number: str, given: PaymentInput, staff: StaffUser | None = None) -> Payment:
    """Record money paid against an order (the order's number in any case), under the order's lock: two payments at
    once never pay more than its total. InvalidInput by field, nothing written, as invoicing.payments says."""
    order = get_order(number, lock=True)
    payment = record_order_payment(order_due(order), given, today(), staff.id if staff else None)
    db.session.expire(order, ["payments"])
    touch(order)  # its amount_paid changed: `?updated_since=` finds it (the buyer's page and API show it)
    _tell_buyer(order, payment)
    return payment


def record_refund(number: str, given: PaymentInput, staff: StaffUser | None = None) -> Refund:
    """Record money paid back to the order's buyer (the order's number in any case), under the order's lock: at most
    what its payments hold that no invoice has taken (invoicing.payments.record_refund)."""
    order = get_order(number, lock=True)
    refund = payments.record_refund(order_due(order), given, today(), staff.id if staff else None)
    db.session.expire(order, ["refunds"])
    touch(order)
    _tell_buyer(order, refund)
    return refund


def refundable(order: Order) -> Decimal:
    """What the order's payments hold that no invoice has taken: paid ahead, or given back by a credit note."""
    return max(unapplied_payments(order.id), Decimal("0.00"))


def record_invoice_payment(number: str, given: PaymentInput, staff: StaffUser | None = None) -> Payment:
    """Record money paid against an invoice (its number in any case), dated no earlier than the day its order was
    placed: invoicing.payments.record_invoice_payment, given that day."""
    document = get_document(number)
    order = db.session.get(Order, document.order_id)
    payment = payments.record_invoice_payment(number, given, order.placed_at.date(), today(),
                                              staff.id if staff else None)
    touch_all([payment.order_id])  # the order's amount_paid changed
    db.session.expire(order, ["payments"])
    _tell_buyer(order, payment, invoice=document.number)
    return payment


def _tell_buyer(order: Order, moved: Payment | Refund, invoice: str = "") -> None:
    """E-mail the member who placed the order that money came in or went back, and what it has paid so far: written
    in the transaction that records it (the mail outbox sends it once it commits)."""
    mail.send(order.customer.email,
              f"Refund for order {order.number}" if isinstance(moved, Refund)
              else f"Payment received for order {order.number}",
              "money_moved", order=order, refund=isinstance(moved, Refund), amount=moved.amount,
              paid_on=moved.paid_on, reference=moved.reference, invoice=invoice)


def issue_credit_note(number: str, lines: Mapping[int, object] | None, staff: StaffUser | None = None) -> Invoice:
    """Issue a credit note of an invoice, dated today (invoicing.issuing.issue_credit_note, which announces it as
    invoice.issued); its order, whose invoices and what it owes changed, is touched for `?updated_since=`."""
    note = issuing.issue_credit_note(number, lines, today(), staff.id if staff else None)
    touch_all([note.order_id])
    return note


def unpaid_before_shipping(order: Order) -> Decimal:
    """What a prepaid order still needs paid before it may ship (0 once paid in full, and for orders on net
    terms): the staff page says it in place of the ship form."""
    if order.payment_terms != PREPAID:
        return Decimal("0.00")
    return max(due_on_order(order_due(order)), Decimal("0.00"))


def refuse_unless_paid(order: Order) -> None:
    """A prepaid order ships only once paid in full (OrderNotPaid, a 409, saying what is still to pay)."""
    due = unpaid_before_shipping(order)
    if due > 0:
        raise OrderNotPaid(f"Order {order.number} is prepaid and {money(due, order.currency)} of its "
                           f"{money(order.total, order.currency)} is still to be paid: it ships once paid in full.")
