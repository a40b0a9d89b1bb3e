"""Finance staff pages: the invoice list (by company, status, overdue), one invoice, recording a payment and issuing
a credit note (bad input shown beside its field, nothing changed), the ageing summary and a company's statement;
other roles are refused."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop import ordering
from shop.fulfilment import billing
from shop.invoicing import ageing
from shop.invoicing.models import Invoice, Payment, Refund
from shop.platform.audit import AuditEntry
from shop.platform.extensions import db
from tests.support.api import ADDRESS, stocked  # noqa: F401  (fixture)
from tests.support.factories import make_customer
from tests.support.invoicing import credit_note_of, invoiced, on_net_terms, paid
from tests.support.mail import drain, outbox_mail
from tests.support.staff import page_statements, sign_in, staff_clients, text_of  # noqa: F401  (fixture)
from tests.support.storefront import field_error
from tests.support.storefront import sign_in as buyer_sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")


@pytest.fixture
def invoice(app, stocked):  # noqa: F811
    customer = on_net_terms(make_customer(email="buyer@acme.example", company="Acme Nutrition"))
    return invoiced(customer, 2, billing.today() - timedelta(days=45))


def _books() -> tuple:
    db.session.expire_all()
    return (db.session.scalar(select(func.count(Payment.id))), db.session.scalar(select(func.count(Invoice.id))),
            [(i.number, i.amount_paid, i.amount_credited) for i in db.session.scalars(select(Invoice))])


@pytest.mark.parametrize("role", ["warehouse", "quality", "fulfilment", "sales"])
def test_other_roles_are_refused_every_finance_page_and_action(client, invoice, role):
    sign_in(client, role)
    before = _books()
    for url in ("/staff/invoices", f"/staff/invoices/{invoice.number}", "/staff/ageing",
                f"/staff/companies/{invoice.company_id}/statement", "/staff/payments/orders"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/staff/invoices/{invoice.number}/payments",
                       data={"amount": "10.00", "paid_on": billing.today().isoformat()}).status_code == 403
    assert client.post(f"/staff/invoices/{invoice.number}/credit-notes", data={"whole": "y"}).status_code == 403
    assert client.post(f"/staff/orders/{invoice.order_number}/payments",
                       data={"amount": "10.00", "paid_on": billing.today().isoformat()}).status_code == 403
    assert client.post(f"/staff/orders/{invoice.order_number}/refunds",
                       data={"amount": "10.00", "paid_on": billing.today().isoformat()}).status_code == 403
    assert _books() == before


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_and_admin_see_the_invoices_filtered(client, invoice, role):
    sign_in(client, role)
    other = on_net_terms(make_customer(email="buyer@rival.example", company="Rival Labs"))
    settled = invoiced(other, 1)
    paid(settled, f"{settled.gross:.2f}")
    everything = text_of(client.get("/staff/invoices").text)
    assert invoice.number in everything and settled.number in everything
    overdue = text_of(client.get("/staff/invoices?overdue=y").text)
    assert invoice.number in overdue and settled.number not in overdue
    by_status = text_of(client.get("/staff/invoices?status=paid").text)
    assert settled.number in by_status and invoice.number not in by_status
    by_company = text_of(client.get(f"/staff/invoices?company={invoice.company_id}").text)
    assert invoice.number in by_company and settled.number not in by_company
    assert client.get("/staff/invoices?company=x").status_code == 400
    assert client.get("/staff/invoices?cursor=broken").status_code == 400


def test_a_payment_is_recorded_and_lowers_what_is_due(client, invoice):
    sign_in(client, "finance")
    answer = client.post(f"/staff/invoices/{invoice.number}/payments",
                         data={"amount": "100.00", "paid_on": billing.today().isoformat(), "reference": "SEPA 4711"},
                         follow_redirects=True)
    assert answer.status_code == 200
    page = text_of(answer.text)
    assert f"Payment of 100.00 EUR recorded against {invoice.number}" in page and "SEPA 4711" in page
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).amount_paid == Decimal("100.00")


@pytest.mark.parametrize(("amount", "message"), [
    ("1,500", "no thousands separator"), ("-5.00", "positive amount"), ("abc", "positive amount"),
    ("999999.00", "more than the")])
def test_a_bad_payment_is_refused_beside_its_field_and_changes_nothing(client, invoice, amount, message):
    sign_in(client, "finance")
    before = _books()
    answer = client.post(f"/staff/invoices/{invoice.number}/payments",
                         data={"amount": amount, "paid_on": billing.today().isoformat()})
    assert answer.status_code == 422
    assert message in field_error(answer.text, "amount")
    assert f'value="{amount}"' in answer.text  # what was typed stays, to correct
    assert _books() == before


def test_a_payment_dated_tomorrow_is_refused(client, invoice):
    sign_in(client, "finance")
    before = _books()
    answer = client.post(f"/staff/invoices/{invoice.number}/payments",
                         data={"amount": "10.00", "paid_on": (billing.today() + timedelta(days=1)).isoformat()})
    assert answer.status_code == 422 and "no later than today" in field_error(answer.text, "paid_on")
    assert _books() == before


def test_a_payment_dated_before_the_order_was_placed_is_refused_beside_the_field(client, invoice):
    sign_in(client, "finance")
    before = _books()
    placed_on = billing.today() - timedelta(days=45)  # the invoice fixture's order was placed and shipped then
    answer = client.post(f"/staff/invoices/{invoice.number}/payments",
                         data={"amount": "10.00", "paid_on": (placed_on - timedelta(days=365)).isoformat()})
    assert answer.status_code == 422
    assert f"not before the order was placed, on {placed_on.isoformat()}" in field_error(answer.text, "paid_on")
    assert _books() == before


def test_a_credit_note_of_chosen_units_and_then_too_many_refused(client, invoice):
    sign_in(client, "finance")
    issued = client.post(f"/staff/invoices/{invoice.number}/credit-notes", data={"quantity_1": "1"},
                         follow_redirects=True)
    assert issued.status_code == 200
    note = db.session.scalar(select(Invoice).where(Invoice.corrects_id == invoice.id))
    assert note is not None and f"Credit note {note.number}" in text_of(issued.text)
    assert note.lines[0].quantity == 1
    before = _books()
    for typed, message in (("2", "Only 1 units of line 1 are left"), ("x", "whole number"), ("0", "whole number")):
        refused = client.post(f"/staff/invoices/{invoice.number}/credit-notes", data={"quantity_1": typed})
        assert refused.status_code == 422
        assert message in field_error(refused.text, "quantity_1"), typed
        assert _books() == before


def test_a_whole_credit_note_credits_the_invoice(client, invoice):
    sign_in(client, "finance")
    assert client.post(f"/staff/invoices/{invoice.number}/credit-notes", data={"whole": "y"}).status_code == 302
    page = text_of(client.get(f"/staff/invoices/{invoice.number}").text)
    assert "credited" in page and "Record a payment" not in page and "Issue a credit note" not in page


def test_finance_refunds_on_the_order_page_what_a_credit_note_gave_back(client, invoice):
    paid(invoice, f"{invoice.gross:.2f}")
    sign_in(client, "finance")
    paid_page = text_of(client.get(f"/staff/invoices/{invoice.number}").text)  # nothing due: still creditable
    assert "Issue a credit note" in paid_page and "Record a payment" not in paid_page
    issued = client.post(f"/staff/invoices/{invoice.number}/credit-notes", data={"quantity_1": "1"},
                         follow_redirects=True)  # one of the two drums, paid already
    note = db.session.scalar(select(Invoice).where(Invoice.corrects_id == invoice.id))
    back = f"{note.gross:,.2f} EUR"
    assert (f"Order {invoice.order_number} now holds {back} paid that no invoice has taken: its next invoice takes "
            "it, or it is refunded on the order's page.") in text_of(issued.text)
    page = text_of(client.get(f"/staff/orders/{invoice.order_number}").text)
    assert f"{back} paid for this order is not taken by any invoice (a credit note gave it back)" in page
    before = (_books(), db.session.scalar(select(func.count(Refund.id))))
    for amount, message in (("1,500", "no thousands separator"), ("-5.00", "positive amount"),
                            (f"{note.gross + 1:.2f}", f"more than the {back} that can be refunded")):
        refused = client.post(f"/staff/orders/{invoice.order_number}/refunds",
                              data={"amount": amount, "paid_on": billing.today().isoformat()})
        assert refused.status_code == 422 and message in field_error(refused.text, "amount"), amount
        assert (_books(), db.session.scalar(select(func.count(Refund.id)))) == before
    done = client.post(f"/staff/orders/{invoice.order_number}/refunds", follow_redirects=True,
                       data={"amount": f"{note.gross:.2f}", "paid_on": billing.today().isoformat(),
                             "reference": "SEPA back"})
    page = text_of(done.text)
    assert f"Refund of {back} recorded for order {invoice.order_number}." in page and "Money to give back" not in page
    statement = text_of(client.get(f"/staff/companies/{invoice.company_id}/statement").text)
    assert "Refund “SEPA back”" in statement
    # The order page lists the money moved; the audit log says who recorded each, findable by the order's number.
    assert ("Money received and paid back Day What Amount Reference "
            f"{billing.today().isoformat()} Payment of {invoice.number} "
            f"{invoice.gross:,.2f} EUR Bank transfer {billing.today().isoformat()} Refund to the buyer −{back} "
            "SEPA back") in page
    finance = db.session.scalar(select(Refund.staff_id))
    entries = db.session.execute(select(AuditEntry.action, AuditEntry.subject, AuditEntry.detail, AuditEntry.staff_id)
                                 .where(AuditEntry.subject.contains(invoice.order_number))
                                 .order_by(AuditEntry.id)).all()
    assert [(action, subject, staff_id) for action, subject, _, staff_id in entries] == [
        ("payment.recorded", f"invoice {invoice.number} of order {invoice.order_number}", None),  # tests' payment
        ("credit_note.issued", f"credit note {note.number} of order {invoice.order_number}", finance),
        ("refund.recorded", f"order {invoice.order_number}", finance)]
    assert entries[2].detail == f"{back} on {billing.today().isoformat()}, reference “SEPA back”"
    drain()  # the buyer is e-mailed the payment and the refund, each with what the order has paid so far
    told = {m.subject: " ".join(m.body.split()) for m in outbox_mail()}
    assert (f"We have received your payment of {invoice.gross:,.2f} EUR for invoice {invoice.number} of order "
            f"{invoice.order_number}") in told[f"Payment received for order {invoice.order_number}"]
    refunded = told[f"Refund for order {invoice.order_number}"]
    assert f"We have paid {back} back to you for order {invoice.order_number}" in refunded
    assert "(our reference “SEPA back”)" in refunded and "after what we paid back" in refunded
    buyer_sign_in(client, "buyer@acme.example")  # the buyer's order page says it
    kept = f"{invoice.gross - note.gross:,.2f} EUR"
    assert f"Paid so far: {kept} (after {back} refunded to you)." in text_of(
        client.get(f"/orders/{invoice.order_number}").text)


def test_the_ageing_summary_and_the_statement(client, invoice):
    sign_in(client, "finance")
    paid(invoice, "50.00")
    ageing = text_of(client.get("/staff/ageing").text)
    due = f"{invoice.gross - 50:,.2f}"
    assert "Acme Nutrition" in ageing and "31–60 days" in ageing and due in ageing
    earlier = text_of(client.get(f"/staff/ageing?on={(billing.today() - timedelta(days=30)).isoformat()}").text)
    assert "Acme Nutrition" in earlier  # issued 45 days ago, due 15 ago: on that day not yet due
    # Today's amounts aged on a past day, and said so: the payment of today is already deducted.
    assert "A day in the past: these are the amounts still due today" in earlier and due in earlier
    assert "A day in the past" not in ageing
    assert client.get("/staff/ageing?on=20261301").status_code == 400
    statement = text_of(client.get(f"/staff/companies/{invoice.company_id}/statement").text)
    assert invoice.number in statement and "Payment “Bank transfer”" in statement
    assert f"Balance on {billing.today().isoformat()} {due} EUR" in statement
    assert client.get("/staff/companies/999999/statement").status_code == 404


def test_a_statement_of_a_period_brings_the_earlier_balance_forward(client, invoice):
    """The invoice (issued 45 days ago) before the period, a credit note and a payment in it, a payment after it."""
    sign_in(client, "finance")
    note = credit_note_of(invoice, {1: 1}, issued_on=billing.today() - timedelta(days=20))
    paid(invoice, "100.00", on=billing.today() - timedelta(days=10), reference="First part")
    paid(invoice, "50.00", reference="Second part")
    start, end = invoice.issued_on + timedelta(days=1), billing.today() - timedelta(days=1)
    url = f"/staff/companies/{invoice.company_id}/statement"
    page = text_of(client.get(url, query_string={"date_from": start.isoformat(), "date_to": end.isoformat()}).text)
    assert f"{start.isoformat()} Balance brought forward {invoice.gross:,.2f} EUR" in page
    assert note.number in page and "Payment “First part”" in page
    assert f"Invoice {invoice.number}" not in page  # issued before the period: in the balance brought forward
    assert "Second part" not in page  # paid today, after the period
    closing = invoice.gross - note.gross - 100
    assert f"Balance on {end.isoformat()} {closing:,.2f} EUR" in page
    # The whole history (by default the last year) ends where the period's balance and today's payment lead.
    whole = text_of(client.get(url).text)
    assert "Balance brought forward 0.00 EUR" in whole and invoice.number in whole
    assert f"Balance on {billing.today().isoformat()} {closing - 50:,.2f} EUR" in whole
    # A period before any of it: nothing brought forward, nothing in it.
    earlier = {"date_to": (invoice.issued_on - timedelta(days=1)).isoformat()}
    before = text_of(client.get(url, query_string=earlier).text)
    assert "Balance brought forward 0.00 EUR" in before
    assert "No invoice, credit note, payment or refund in this period." in before


@pytest.mark.parametrize("query, field, message", [
    ({"date_from": "2026-13-01"}, "date_from", "Not a valid date value."),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to", "Choose a day on or after the first day (From)."),
    ({"date_to": "1,500"}, "date_to", "Not a valid date value."),
])
def test_a_statement_period_that_is_no_period_is_named_beside_its_field(client, invoice, query, field, message):
    sign_in(client, "finance")
    response = client.get(f"/staff/companies/{invoice.company_id}/statement", query_string=query)
    assert response.status_code == 400
    assert field_error(response.text, field) == message
    assert "Balance brought forward" not in response.text


def test_the_pages_cost_the_same_statements_for_few_or_many_invoices(client, invoice):
    sign_in(client, "finance")
    credit_note_of(invoice, {1: 1})
    few = [page_statements(client, url) for url in ("/staff/invoices", "/staff/ageing",
                                                    f"/staff/companies/{invoice.company_id}/statement")]
    for n in range(3):
        more = invoiced(on_net_terms(make_customer(email=f"b{n}@x.example", company=f"X{n}")), 1)
        paid(more, "1.00")
    many = [page_statements(client, url) for url in ("/staff/invoices", "/staff/ageing",
                                                     f"/staff/companies/{invoice.company_id}/statement")]
    assert many == few


def test_the_invoice_page_offers_its_pdf(client, invoice):
    sign_in(client, "finance")
    assert f"/staff/invoices/{invoice.number}.pdf" in client.get(f"/staff/invoices/{invoice.number}").text
    pdf = client.get(f"/staff/invoices/{invoice.number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")


def test_an_invoice_moves_through_the_buckets_on_the_boundary_days(app, invoice):
    """Due on day D: not yet due on D (day 0), 1–30 overdue from D+1 to D+30, then 31–60, 61–90, over 90 from D+91."""
    expected = {0: 0, 1: 1, 30: 1, 31: 2, 60: 2, 61: 3, 90: 3, 91: 4}
    for days, bucket in expected.items():
        [row] = ageing.ageing_summary(invoice.due_on + timedelta(days=days)).companies
        assert [i for i, amount in enumerate(row.buckets) if amount] == [bucket], days
        assert row.total == invoice.gross
    assert ageing.ageing_summary(invoice.issued_on - timedelta(days=1)).companies == ()  # not issued yet


def test_finance_finds_the_prepaid_orders_awaiting_payment(client, stocked):  # noqa: F811
    buyer = make_customer(email="buyer@prepaid.example", company="Prepaid Labs")
    order = ordering.place_order(buyer, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
    db.session.commit()
    sign_in(client, "finance")
    page = client.get("/staff/payments/orders")
    assert order.number in text_of(page.text) and "Prepaid Labs" in text_of(page.text)
    assert f'href="/staff/orders/{order.number}"' in page.text  # where the payment is recorded
    paid_in_full = client.post(f"/staff/orders/{order.number}/payments",
                               data={"amount": f"{order.total:.2f}", "paid_on": billing.today().isoformat()})
    assert paid_in_full.status_code == 302
    assert "Every open prepaid order is paid." in text_of(client.get("/staff/payments/orders").text)


def test_payments_credit_notes_and_refunds_move_the_orders_version_so_updated_since_finds_them(client, invoice):
    """Each changes what the order's JSON says (`amount_paid`, `invoices`): a buyer's system that follows
    `GET /api/v1/orders?updated_since=` must meet the order again."""

    def version() -> tuple[int, object]:
        db.session.expire_all()
        order = ordering.get_order(invoice.order_number)
        return order.version, order.updated_at

    sign_in(client, "finance")
    before = version()
    client.post(f"/staff/invoices/{invoice.number}/payments",
                data={"amount": f"{invoice.gross:.2f}", "paid_on": billing.today().isoformat()})
    paid_version = version()
    assert paid_version[0] == before[0] + 1 and paid_version[1] > before[1]
    client.post(f"/staff/invoices/{invoice.number}/credit-notes", data={"quantity_1": "1"})
    credited = version()
    assert credited[0] == paid_version[0] + 1
    note = db.session.scalar(select(Invoice).where(Invoice.corrects_id == invoice.id))
    client.post(f"/staff/orders/{invoice.order_number}/refunds",
                data={"amount": f"{note.gross:.2f}", "paid_on": billing.today().isoformat()})
    assert version()[0] == credited[0] + 1
