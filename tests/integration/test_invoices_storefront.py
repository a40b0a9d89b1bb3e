"""The storefront's invoices page: a buyer sees the company's invoices and credit notes with what is due and
overdue, filters them, downloads each PDF; the order page links its invoices and a prepaid order's pro-forma;
another company's documents are 404."""
from __future__ import annotations

from datetime import timedelta

from shop.fulfilment import billing
from tests.support.api import stocked  # noqa: F401  (fixture)
from tests.support.complaints import shipped_order
from tests.support.factories import make_customer
from tests.support.invoicing import credit_note_of, invoice_of, invoiced, on_net_terms, paid
from tests.support.staff import text_of
from tests.support.storefront import sign_in

PASSWORD = "correct horse"


def _buyer(client, email="buyer@acme.example", company="Acme Nutrition"):
    customer = on_net_terms(make_customer(email=email, company=company))
    sign_in(client, email, PASSWORD)
    return customer


def test_a_buyer_sees_the_invoices_what_is_due_and_overdue(client, stocked):  # noqa: F811
    customer = _buyer(client)
    late = invoiced(customer, 2, billing.today() - timedelta(days=40))
    settled = invoiced(customer, 1)
    paid(settled, f"{settled.gross:.2f}")
    note = credit_note_of(late, {1: 1})
    page = client.get("/invoices")
    assert page.status_code == 200
    text = text_of(page.text)
    due = late.gross - note.gross
    assert f"Your company owes {due:,.2f} EUR" in text and f"of which {due:,.2f} EUR is overdue" in text
    for document in (late, settled, note):
        assert f'href="/invoices/{document.number}.pdf"' in page.text
    assert "Overdue" in text and f"corrects {late.number}" in text
    open_only = text_of(client.get("/invoices?status=open").text)
    assert late.number in open_only and settled.number not in open_only
    assert client.get("/invoices?status=unpaid").status_code == 400
    assert client.get("/invoices?after=garbage").status_code == 400
    pdf = client.get(f"/invoices/{late.number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert 'href="/invoices"' in client.get("/account").text  # the account's nav


def test_the_order_page_links_its_invoices_and_a_prepaid_orders_proforma(client, stocked):  # noqa: F811
    customer = _buyer(client)
    on_net_terms(customer, "prepaid")
    order = shipped_order(customer, quantity=1)  # paid ahead in full, then shipped
    invoice = invoice_of(order)
    page = client.get(f"/orders/{order}")
    assert f'href="/invoices/{invoice.number}.pdf"' in page.text
    assert f'href="/orders/{order}/proforma.pdf"' in page.text
    proforma = client.get(f"/orders/{order}/proforma.pdf")
    assert proforma.status_code == 200 and proforma.data.startswith(b"%PDF-")


def test_another_companys_documents_are_not_found(client, stocked):  # noqa: F811
    rival = make_customer(email="buyer@rival.example", company="Rival Labs")
    order = shipped_order(rival, quantity=1)
    invoice = invoice_of(order)
    _buyer(client)
    assert client.get(f"/invoices/{invoice.number}.pdf").status_code == 404
    assert client.get(f"/orders/{order}/proforma.pdf").status_code == 404
    assert invoice.number not in client.get("/invoices").text
    assert "Nothing is due." in text_of(client.get("/invoices").text)
