"""Invoices and credit notes as the buyer's accounts department sees them: numbered without gaps (across a rollback,
and under concurrent issuing on PostgreSQL), totalled exactly, due on the terms' day; payments add up and a wrong
one (too much, negative, "1,500") is refused and changes nothing; credit notes lower what is due and never credit
more than was invoiced or is still due."""
from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from shop import ordering
from shop.accounts import companies
from shop.fulfilment import billing
from shop.invoicing import views
from shop.invoicing.issuing import LineFacts, get_document, issue_credit_note, issue_invoice
from shop.invoicing.models import DocumentKind, Invoice, Payment, Refund, VatRule
from shop.invoicing.money import cents
from shop.invoicing.payments import PaymentInput, record_invoice_payment
from shop.invoicing.statement import company_statement
from shop.ordering.exposure import open_exposure
from shop.ordering.models import Order
from shop.platform.errors import Conflict, InvalidInput
from shop.platform.extensions import db
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.staff import place

DRUM = "LEU-USP-25KG"
PLACED = date(2026, 3, 1)  # what these tests call the order's day (the order is placed today)
ISSUED = date(2026, 3, 2)
PAID = date(2026, 3, 5)


@pytest.fixture
def order(app, product, customer) -> Order:
    """Four drums of L-Leucine, confirmed, on net 30 at the German rate."""
    make_lot(product, "L-ONE", {DRUM: 10})
    companies.set_terms(customer.company, payment_terms="net_30")
    db.session.commit()
    placed = place(customer, DRUM, 4)  # to Hamburg: domestic
    ordering.confirm_order(placed.number)
    db.session.commit()
    assert (placed.payment_terms, placed.vat_rule, placed.vat_rate) == ("net_30", VatRule.DOMESTIC, Decimal("19"))
    assert placed.total == placed.subtotal + cents(placed.subtotal * Decimal("0.19"))
    return placed


def _issue(order: Order, units: int | None = None, on: date = ISSUED) -> Invoice:
    """An invoice of `units` drums of the order's line (all by default), from lot L-ONE."""
    line = order.lines[0]
    facts = [LineFacts(line.id, line.sku, billing.describe(line), units or line.quantity, line.unit_price,
                       ("L-ONE",))]
    return issue_invoice(billing.invoice_facts(order), facts, on)


def _committed(work):
    result = work()
    db.session.commit()
    return result


def test_an_invoice_is_numbered_totalled_and_due_on_its_terms(order):
    invoice = _committed(lambda: _issue(order))
    unit = order.lines[0].unit_price
    assert invoice.number == "INV-2026-000001" and invoice.kind == DocumentKind.INVOICE
    assert invoice.net == 4 * unit and invoice.vat == (4 * unit * Decimal("0.19")).quantize(Decimal("0.01"))
    assert invoice.gross == invoice.net + invoice.vat == invoice.amount_due
    assert invoice.due_on == ISSUED + timedelta(days=30)
    assert invoice.buyer_name == "Acme Nutrition" and invoice.order_number == order.number
    assert [(line.sku, line.quantity, line.lot_numbers) for line in invoice.lines] == [(DRUM, 4, "L-ONE")]
    assert "25 kg" in invoice.lines[0].description


def test_numbers_run_on_without_a_gap_after_a_rolled_back_issue(order):
    first = _committed(lambda: _issue(order, 1)).number
    _issue(order, 1)
    db.session.rollback()  # the shipment failed after its invoice took a number: the number comes back
    second = _committed(lambda: _issue(order, 1)).number
    assert (first, second) == ("INV-2026-000001", "INV-2026-000002")
    next_year = _committed(lambda: _issue(order, 1, on=date(2027, 1, 4))).number
    assert next_year == "INV-2027-000001"


_years = itertools.count(2030)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["invoice", "credit_note"]), st.booleans()), min_size=1, max_size=10))
def test_any_interleaving_of_issues_and_rollbacks_numbers_each_series_one_to_n(order, steps):
    """Each step issues an invoice (of one drum) or a credit note (of an invoice not credited yet, else an invoice)
    and commits (True) or rolls back (False): in each series the numbers that stayed are exactly 1..n of the year,
    in the order issued. (A year of its own per example.)"""
    year = next(_years)
    on = date(year, 6, 1)
    kept: dict[str, list[str]] = {"INV": [], "CN": []}
    uncredited: list[str] = []
    for kind, commit in steps:
        credits = kind == "credit_note" and uncredited
        number = (issue_credit_note(uncredited[-1], None, on) if credits else _issue(order, 1, on=on)).number
        if not commit:
            db.session.rollback()
            continue
        db.session.commit()
        kept[number[:number.index("-")]].append(number)
        if credits:
            uncredited.pop()
        else:
            uncredited.append(number)
    for series, numbers_kept in kept.items():
        assert numbers_kept == [f"{series}-{year}-{n:06d}" for n in range(1, len(numbers_kept) + 1)]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_concurrent_issuing_gives_every_invoice_its_own_number_without_gaps(make_app, backend):
    issuers = 8
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": issuers + 2, "max_overflow": 0, "pool_timeout": 60})
    with app.app_context():
        make_lot(make_product(), "L-ONE", {DRUM: 50})
        placed = place(make_customer(), DRUM, issuers)
        number = placed.number
        barrier = threading.Barrier(issuers)

        def issue(i: int) -> str:
            with app.app_context():
                order = ordering.get_order(number)
                barrier.wait()
                invoice = _issue(order, 1)
                if i % 3 == 2:  # some issuing transactions fail after taking their number
                    db.session.rollback()
                    db.session.remove()
                    return ""
                db.session.commit()
                issued = invoice.number
                db.session.remove()
                return issued

        with ThreadPoolExecutor(max_workers=issuers) as pool:
            issued = [n for n in pool.map(issue, range(issuers)) if n]
        kept = sorted(db.session.scalars(select(Invoice.number)))
        assert len(issued) == issuers - issuers // 3
        assert sorted(issued) == kept == [f"INV-2026-{n:06d}" for n in range(1, len(issued) + 1)]


def test_payments_add_up_and_pay_the_invoice(order):
    invoice = _committed(lambda: _issue(order))
    half = (invoice.gross / 2).quantize(Decimal("0.01"))
    _committed(lambda: record_invoice_payment(invoice.number, PaymentInput(str(half), PAID, "SEPA 1"), PLACED, PAID))
    assert get_document(invoice.number).amount_due == invoice.gross - half
    rest = str(invoice.gross - half)
    _committed(lambda: record_invoice_payment(invoice.number.lower(), PaymentInput(rest, PAID, "SEPA 2"), PLACED, PAID))
    assert get_document(invoice.number).amount_due == 0
    db.session.expire_all()  # as the next request reads it
    assert ordering.get_order(order.number).amount_paid == invoice.gross


@pytest.mark.parametrize("amount", ["1,500", "-10", "0", "1e3", "12.345", 12.5, "abc", ""])
def test_a_payment_that_is_not_a_plain_positive_amount_is_refused_and_changes_nothing(order, amount):
    invoice = _committed(lambda: _issue(order))
    with pytest.raises(InvalidInput) as refused:
        record_invoice_payment(invoice.number, PaymentInput(amount, PAID), PLACED, PAID)
    assert "1,500 is refused" in refused.value.errors["amount"][0]
    db.session.rollback()
    assert get_document(invoice.number).amount_paid == 0 and db.session.scalar(select(func.count(Payment.id))) == 0


def test_paying_more_than_is_due_is_refused_and_changes_nothing(order):
    invoice = _committed(lambda: _issue(order))
    too_much = str(invoice.gross + Decimal("0.01"))
    with pytest.raises(InvalidInput) as refused:
        record_invoice_payment(invoice.number, PaymentInput(too_much, PAID), PLACED, PAID)
    assert f"more than the {invoice.gross:,.2f} EUR still due on {invoice.number}" in refused.value.errors["amount"][0]
    with pytest.raises(InvalidInput) as refused:
        record_invoice_payment(invoice.number, PaymentInput("1.00", PAID + timedelta(days=1)), PLACED, PAID)
    assert "no later than today" in refused.value.errors["paid_on"][0]
    db.session.rollback()
    assert get_document(invoice.number).amount_paid == 0 and db.session.scalar(select(func.count(Payment.id))) == 0


def test_a_payment_dated_before_its_order_was_placed_is_refused_and_changes_nothing(order):
    # A year mistyped (2025 for 2026) is refused, not booked where the statement and the ageing would show it.
    invoice = _committed(lambda: _issue(order))
    with pytest.raises(InvalidInput) as refused:
        record_invoice_payment(invoice.number, PaymentInput("1.00", PLACED - timedelta(days=1)), PLACED, PAID)
    assert refused.value.errors["paid_on"] == [f"Give the day the money arrived: not before the order was placed, "
                                               f"on {PLACED.isoformat()}."]
    db.session.rollback()
    placed_on = order.placed_at.date()
    with pytest.raises(InvalidInput) as refused:
        billing.record_payment(order.number, PaymentInput("1.00", placed_on - timedelta(days=365)))
    assert f"not before the order was placed, on {placed_on.isoformat()}" in refused.value.errors["paid_on"][0]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    _committed(lambda: billing.record_payment(order.number, PaymentInput("1.00", placed_on)))  # the day itself


def test_an_order_paid_ahead_has_its_invoices_take_the_money_up_to_their_gross(order):
    _committed(lambda: billing.record_payment(order.number, PaymentInput("100.00", billing.today())))
    with pytest.raises(InvalidInput) as refused:
        billing.record_payment(order.number, PaymentInput(str(order.total), billing.today()))
    assert "still due on order" in refused.value.errors["amount"][0]
    db.session.rollback()
    _committed(lambda: billing.record_payment(order.number, PaymentInput(str(order.total - 100), billing.today())))
    first = _committed(lambda: _issue(order, 1))
    second = _committed(lambda: _issue(order, 3))
    assert first.amount_paid == first.gross and first.amount_due == 0
    assert second.amount_paid == min(second.gross, order.total - first.gross)
    assert ordering.get_order(order.number).amount_paid == order.total


def test_a_whole_credit_note_corrects_the_invoice_in_its_own_series(order):
    invoice = _committed(lambda: _issue(order))
    note = _committed(lambda: issue_credit_note(invoice.number, None, ISSUED + timedelta(days=3)))
    assert note.number == "CN-2026-000001" and note.kind == DocumentKind.CREDIT_NOTE and note.corrects == invoice
    assert (note.net, note.vat, note.gross) == (invoice.net, invoice.vat, invoice.gross)
    assert [(line.position, line.quantity, line.lot_numbers) for line in note.lines] == [(1, 4, "L-ONE")]
    assert get_document(invoice.number).amount_due == 0
    with pytest.raises(InvalidInput, match="credited already"):
        issue_credit_note(invoice.number, None, ISSUED)


def test_partial_credit_notes_lower_what_is_due_and_never_credit_more_than_was_invoiced(order):
    invoice = _committed(lambda: _issue(order))
    one = _committed(lambda: issue_credit_note(invoice.number, {1: 1}, ISSUED))
    assert get_document(invoice.number).amount_due == invoice.gross - one.gross
    for lines, field, said in (({1: 4}, "lines.1.quantity", "Only 3 units of line 1"),
                               ({2: 1}, "lines.2.quantity", "no line 2"),
                               ({1: 0}, "lines.1.quantity", "whole number"),
                               ({1: "2"}, "lines.1.quantity", "whole number"),
                               ({}, "lines", "at least one line")):
        with pytest.raises(InvalidInput) as refused:
            issue_credit_note(invoice.number, lines, ISSUED)
        assert said in refused.value.errors[field][0], lines
        db.session.rollback()
    two = _committed(lambda: issue_credit_note(invoice.number, {1: 2}, ISSUED))
    assert two.number == "CN-2026-000002"
    assert get_document(invoice.number).amount_credited == one.gross + two.gross


def test_a_credit_note_of_what_was_paid_gives_the_money_back_to_refund(order):
    invoice = _committed(lambda: _issue(order))
    unit = order.lines[0].unit_price
    paid = invoice.gross - unit  # all but one drum's net is paid
    _committed(lambda: record_invoice_payment(invoice.number, PaymentInput(str(paid), PAID), PLACED, PAID))
    note = _committed(lambda: issue_credit_note(invoice.number, {1: 2}, ISSUED))  # two drums back, VAT included
    given_back = note.gross - unit  # what the note credits beyond what was still due
    invoice = get_document(invoice.number)
    assert (invoice.amount_credited, invoice.amount_paid, invoice.amount_due) == (note.gross, paid - given_back, 0)
    assert views.status(invoice) == "paid"  # nothing due, and not all of it credited
    assert open_exposure(order.company_id) == -given_back  # the company is owed that much back
    assert billing.refundable(ordering.get_order(order.number)) == given_back

    too_much = PaymentInput(str(given_back + Decimal("0.01")), billing.today(), "SEPA refund")
    with pytest.raises(InvalidInput) as refused:
        billing.record_refund(order.number, too_much)
    assert refused.value.errors["amount"] == [f"That is more than the {given_back:,.2f} EUR that can be refunded on "
                                              f"order {order.number}."]
    db.session.rollback()
    for amount in ("1,500", "-5", ""):
        with pytest.raises(InvalidInput):
            billing.record_refund(order.number, PaymentInput(amount, billing.today()))
        db.session.rollback()
    assert db.session.scalar(select(func.count(Refund.id))) == 0

    _committed(lambda: billing.record_refund(order.number, PaymentInput(str(given_back), billing.today(), "SEPA")))
    assert open_exposure(order.company_id) == 0 and billing.refundable(ordering.get_order(order.number)) == 0
    assert ordering.get_order(order.number).amount_paid == paid - given_back
    balance = company_statement(order.company_id, PLACED, billing.today())
    assert [(line.entry.kind, line.entry.debit or -line.entry.credit) for line in balance.lines] == [
        ("invoice", invoice.gross), ("credit_note", -note.gross), ("payment", -paid), ("refund", given_back)]
    assert balance.balance == 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drums=st.integers(1, 4), paid_share=st.fractions(0, 1), credited=st.integers(1, 4))
def test_what_a_credit_note_gives_back_is_what_was_paid_beyond_what_is_left_to_owe(order, drums, paid_share,
                                                                                    credited):
    """Any invoice of the order, paid any part, credited any units: nothing is due beyond what is left, the money
    given back is exactly what was paid beyond it, and the company's exposure is the uninvoiced rest plus what is
    due less what is to be refunded, before and after the refund. (Each example is rolled back.)"""
    invoice = _issue(order, drums)
    paid = cents(invoice.gross * Decimal(paid_share.numerator) / Decimal(paid_share.denominator))
    if paid:
        record_invoice_payment(invoice.number, PaymentInput(str(paid), PAID), PLACED, PAID)
    note = issue_credit_note(invoice.number, {1: min(credited, drums)}, ISSUED)
    uninvoiced = order.total - invoice.gross
    back = billing.refundable(ordering.get_order(order.number))
    assert back == max(paid + note.gross - invoice.gross, Decimal("0.00"))
    assert invoice.amount_due == max(invoice.gross - paid - note.gross, Decimal("0.00"))
    assert invoice.amount_paid == paid - back and invoice.amount_paid + invoice.amount_credited <= invoice.gross
    assert open_exposure(order.company_id) == uninvoiced + invoice.amount_due - back
    if back:
        billing.record_refund(order.number, PaymentInput(str(back), billing.today()))
    assert open_exposure(order.company_id) == uninvoiced + invoice.amount_due
    assert billing.refundable(ordering.get_order(order.number)) == 0
    db.session.rollback()


def test_a_credit_note_of_a_paid_invoice_leaves_the_money_for_the_orders_next_invoice(order):
    first = _committed(lambda: _issue(order, units=2))
    _committed(lambda: record_invoice_payment(first.number, PaymentInput(str(first.gross), PAID), PLACED, PAID))
    note = _committed(lambda: issue_credit_note(first.number, {1: 1}, ISSUED))  # one drum back, paid already
    assert get_document(first.number).amount_due == 0
    second = _committed(lambda: _issue(order, units=2))  # the next shipment's invoice takes what the note gave back
    assert second.amount_paid == note.gross and second.amount_due == second.gross - note.gross
    assert billing.refundable(ordering.get_order(order.number)) == 0


@pytest.mark.parametrize("change", ["UPDATE invoice SET gross = gross + 1, net = net + 1",
                                    "UPDATE invoice SET due_on = issued_on",
                                    "UPDATE invoice SET buyer_name = 'Someone Else'",
                                    "UPDATE invoice_line SET unit_price = 0, net = 0"])
def test_the_database_refuses_to_change_an_issued_invoice(order, change):
    invoice = _committed(lambda: _issue(order))
    with pytest.raises(DBAPIError, match="never changes"):
        db.session.execute(text(change))
    db.session.rollback()
    db.session.expire_all()
    kept = get_document(invoice.number)
    assert (kept.net, kept.gross, kept.due_on, kept.buyer_name) == (invoice.net, invoice.gross, invoice.due_on,
                                                                  "Acme Nutrition")
    assert kept.lines[0].net == invoice.lines[0].net
    db.session.execute(text("UPDATE invoice SET amount_paid = 1.00"))  # what payments count up may change
    db.session.commit()


def test_the_service_refuses_to_change_an_issued_invoice(order):
    invoice = _committed(lambda: _issue(order))
    for tamper in (lambda: setattr(invoice, "gross", invoice.gross + 1),
                   lambda: setattr(invoice.lines[0], "quantity", 1),
                   lambda: db.session.delete(invoice)):
        tamper()
        with pytest.raises(Conflict, match="is issued and never changes"):
            db.session.flush()
        db.session.rollback()
    assert get_document(invoice.number).gross == invoice.gross


def test_credit_notes_of_every_line_in_turn_add_up_to_the_invoice_to_the_cent(order):
    """Two lines of 12.50 at 19 %: the invoice's VAT is 4.75, but each line's own would round to 2.38. The second
    note takes what the first left (2.37), so the invoice ends credited exactly, not refused for a cent."""
    line = order.lines[0]
    halves = [LineFacts(line.id, line.sku, "Sample drum", 1, Decimal("12.50"), ("L-ONE",))] * 2
    invoice = _committed(lambda: issue_invoice(billing.invoice_facts(order), halves, ISSUED))
    assert (invoice.net, invoice.vat, invoice.gross) == (Decimal("25.00"), Decimal("4.75"), Decimal("29.75"))
    first = _committed(lambda: issue_credit_note(invoice.number, {1: 1}, ISSUED))
    second = _committed(lambda: issue_credit_note(invoice.number, {2: 1}, ISSUED))
    assert (first.vat, first.gross) == (Decimal("2.38"), Decimal("14.88"))
    assert (second.vat, second.gross) == (Decimal("2.37"), Decimal("14.87"))
    credited = get_document(invoice.number)
    assert credited.amount_credited == credited.gross and credited.amount_due == 0
    assert invoice.number not in [d.number for d in views.list_documents(status=views.OPEN)]
    assert invoice.number in [d.number for d in views.list_documents(status=views.CREDITED)]
