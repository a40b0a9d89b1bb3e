"""Paying prepaid orders in tests, as finance would: a prepaid order (the default terms) ships only once paid in
full, so a test that ships one and is not about payment pays it first."""
from __future__ import annotations

from shop import fulfilment, ordering
from shop.fulfilment import billing
from shop.invoicing.payments import PaymentInput
from shop.ordering.models import Order
from shop.ordering.queries import get_order
from shop.platform.extensions import db
from tests.support.factories import make_lot
from tests.support.staff import place

DRUM = "LEU-USP-25KG"


def pay_in_full(number: str) -> None:
    """Record a payment of everything still due on the order (nothing when nothing is), and commit."""
    order = get_order(number)
    due = billing.unpaid_before_shipping(order)
    if due > 0:
        billing.record_payment(number, PaymentInput(str(due), billing.today(), "test payment"))
    db.session.commit()


def ship_paid(number: str, tracking_reference: str, staff=None, carrier: str = "") -> Order:
    """Pay the order in full, then ship everything it has allocated (fulfilment.ship_order; the caller commits)."""
    pay_in_full(number)
    return fulfilment.ship_order(number, tracking_reference, staff=staff, carrier=carrier)


def five_drums_confirmed(product, customer) -> Order:
    """Five drums of `product` placed by `customer` and confirmed, not paid (prepaid, the default terms): 2 from
    L-EARLY (expires first) and 3 from L-LATE, first-expired-first-out."""
    make_lot(product, "L-EARLY", {DRUM: 2}, expires_in_days=300)
    make_lot(product, "L-LATE", {DRUM: 6}, expires_in_days=600)
    order = place(customer, DRUM, 5)
    ordering.confirm_order(order.number)
    db.session.commit()
    return order
