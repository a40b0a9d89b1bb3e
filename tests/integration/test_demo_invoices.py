"""The demo's invoicing history: a company on net_30 with a credit limit whose invoices fill every ageing bucket,
with a partial payment and a credit note, every invoice of a shipped order and no order left to invoice again; a
finance user; loading the demo again adds nothing."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from shop.accounts.models import Company, Customer, StaffUser
from shop.demo import DEMO_NET_CUSTOMER, seed_demo
from shop.invoicing import ageing, views
from shop.invoicing.models import DocumentKind, Invoice, Payment
from shop.ordering.models import Order, OrderStatus
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent

TODAY = date(2026, 12, 6)


def test_the_net_terms_company_owes_in_every_ageing_bucket(app):
    added = seed_demo(TODAY)
    db.session.commit()
    assert added["invoices"] == 5
    company = db.session.scalar(select(Company).where(Company.name == DEMO_NET_CUSTOMER[1]))
    assert (company.payment_terms, company.credit_limit) == ("net_30", Decimal("60000.00"))
    summary = ageing.ageing_summary(TODAY)
    [row] = [c for c in summary.companies if c.company_id == company.id]
    assert all(amount > 0 for amount in row.buckets), row.buckets
    documents = views.list_documents(company_id=company.id, limit=50)
    notes = [d for d in documents if d.kind == DocumentKind.CREDIT_NOTE]
    assert len(notes) == 1 and notes[0].corrects.amount_credited == notes[0].gross
    [payment] = db.session.scalars(select(Payment).where(Payment.company_id == company.id)).all()
    assert 0 < payment.amount < db.session.get(Invoice, payment.invoice_id).gross  # a partial payment
    orders = db.session.scalars(select(Order).where(Order.company_id == company.id)).all()
    assert {o.status for o in orders} == {OrderStatus.SHIPPED}  # nothing left that shipping would invoice again
    assert {d.order_id for d in documents} == {o.id for o in orders}
    for order in orders:  # a history in order: placed, then shipped and invoiced that day
        [shipment] = order.shipments
        assert order.placed_at < shipment.shipped_at
        assert order.number.startswith(f"LS-{order.placed_at:%y%m%d}-")  # the day it was placed, not today
        assert [change.at for change in order.history] == sorted(change.at for change in order.history)
        assert [d.issued_on for d in documents if d.shipment_id == shipment.id
                and d.kind == DocumentKind.INVOICE] == [shipment.shipped_at.date()]
        for allocation in shipment.allocations:  # its lots were tested, then released, before they left
            batch = allocation.stock.batch
            assert max(r.recorded_at for r in batch.results) < batch.released_at < shipment.shipped_at, batch.lot_number
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "finance@leucine.example")).has_role("finance")


def test_each_demo_order_event_shows_the_order_as_that_step_left_it(app):
    """The demo places, confirms and ships each order in one transaction; its events still tell each step."""
    seed_demo(TODAY)
    db.session.commit()
    company = db.session.scalar(select(Company).where(Company.name == DEMO_NET_CUSTOMER[1]))
    events = db.session.scalars(select(OutboxEvent).join(Customer, Customer.id == OutboxEvent.customer_id)
                                .where(Customer.company_id == company.id, OutboxEvent.type.like("order.%"))
                                .order_by(OutboxEvent.id)).all()
    told: dict[str, list[tuple[str, str, int]]] = {}
    for e in events:
        data = json.loads(e.data)
        told.setdefault(data["number"], []).append((e.type, data["status"], data["version"]))
    assert len(told) == 5
    for steps in told.values():
        assert sorted(steps, key=lambda step: step[2]) == [("order.placed", "pending", 1),
                                                           ("order.confirmed", "confirmed", 2),
                                                           ("order.shipped", "shipped", 3)], steps


def test_loading_the_demo_again_adds_no_invoice(app):
    seed_demo(TODAY)
    db.session.commit()
    count = db.session.scalar(select(func.count(Invoice.id)))
    assert seed_demo(TODAY)["invoices"] == 0
    db.session.commit()
    assert db.session.scalar(select(func.count(Invoice.id))) == count
