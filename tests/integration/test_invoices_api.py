"""/api/v1/invoices: a company lists and reads its own invoices and credit notes (newest first, by status, paged);
another company's answer 404; what is due, paid, credited and overdue reads as the buyer's accounts expect."""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import facturx
import pikepdf
import pytest
from sqlalchemy import select

from shop.accounts import companies
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import assert_problem
from tests.support.complaints import shipped_order
from tests.support.invoicing import credit_note_of, invoice_of, invoiced, on_net_terms, paid
from tests.support.sql import count_statements

URL = "/api/v1/invoices"


@pytest.fixture(autouse=True)
def net_terms(api):
    """The company of `api` buys on net_30 terms: its invoices stay open until paid."""
    on_net_terms(api.customer)


def test_an_invoice_reads_with_every_field_the_design_lists(api, stocked):
    invoice = invoiced(api.customer, 2, date.today() - timedelta(days=40))
    order = invoice.order_number
    body = api.get(f"{URL}/{invoice.number.lower()}").get_json()
    assert body == {
        "number": invoice.number, "kind": "invoice", "order": order, "shipment": f"{order}-S1", "corrects": None,
        "issued_on": invoice.issued_on.isoformat(), "due_on": invoice.due_on.isoformat(), "currency": "EUR",
        "lines": [{"sku": "LEU-USP-25KG", "description": body["lines"][0]["description"], "quantity": 2,
                   "unit_price": body["lines"][0]["unit_price"], "net": body["net"], "lot_numbers": ["L-SOON"]}],
        "net": body["net"], "vat_rule": "domestic", "vat_rate": body["vat_rate"], "vat": body["vat"],
        "gross": body["gross"],
        "amount_paid": "0.00", "amount_due": body["gross"], "status": "open", "overdue": True}
    assert Decimal(body["gross"]) == Decimal(body["net"]) + Decimal(body["vat"]) == invoice.gross


def test_payments_and_credit_notes_change_what_is_due_and_the_status(api, stocked):
    invoice = invoiced(api.customer, 2)
    paid(invoice, "100.00")
    partly = api.get(f"{URL}/{invoice.number}").get_json()
    assert (partly["amount_paid"], partly["status"], partly["overdue"]) == ("100.00", "open", False)
    assert partly["amount_due"] == f"{invoice.gross - 100:.2f}"
    paid(invoice, f"{invoice.gross - 100:.2f}")
    assert api.get(f"{URL}/{invoice.number}").get_json()["status"] == "paid"

    other = invoiced(api.customer, 1)
    note = credit_note_of(other)
    assert api.get(f"{URL}/{other.number}").get_json()["status"] == "credited"
    credit = api.get(f"{URL}/{note.number}").get_json()
    assert (credit["kind"], credit["corrects"], credit["amount_due"]) == ("credit_note", other.number, "0.00")


def test_the_list_is_newest_first_filters_by_status_and_pages(api, stocked):
    old = invoiced(api.customer, 1, date.today() - timedelta(days=9))
    new = invoiced(api.customer, 1, date.today() - timedelta(days=2))
    settled = invoiced(api.customer, 1, date.today() - timedelta(days=5))
    paid(settled, f"{settled.gross:.2f}")
    everything = api.every_page(URL, limit=1)
    assert [i["number"] for i in everything] == [new.number, settled.number, old.number]
    assert [i["number"] for i in api.every_page(URL, status="open")] == [new.number, old.number]
    assert [i["number"] for i in api.every_page(URL, status="paid")] == [settled.number]
    assert api.every_page(URL, status="credited") == []
    assert_problem(api.get(URL, query_string={"status": "unpaid"}), 422, "validation-error")
    assert_problem(api.get(URL, query_string={"cursor": "nonsense"}), 422, "validation-error")


def test_the_list_costs_the_same_statements_for_one_invoice_or_many(api, stocked):
    invoiced(api.customer, 1)
    with count_statements(fresh_session=True) as one:
        assert len(api.get(URL).get_json()["items"]) == 1
    for _ in range(3):
        credit_note_of(invoiced(api.customer, 1), {1: 1})
    with count_statements(fresh_session=True) as many:
        assert len(api.get(URL).get_json()["items"]) == 7
    assert len(many) <= len(one) <= 4, (one, many)  # the first also notes when the key was last used


def test_another_companys_invoice_is_not_found(api, rival, stocked):
    invoice = invoiced(api.customer, 1)
    assert_problem(rival.get(f"{URL}/{invoice.number}"), 404, "not-found")
    assert rival.get(URL).get_json() == {"items": [], "next_cursor": None}
    assert_problem(api.get(f"{URL}/INV-1999-000001"), 404, "not-found")


def test_the_xml_is_the_cii_of_the_invoice_and_another_companys_is_not_found(api, rival, stocked):
    invoice = invoiced(api.customer, 1)
    response = api.get(f"{URL}/{invoice.number}.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert b"CrossIndustryInvoice" in response.data and invoice.number.encode() in response.data
    assert_problem(rival.get(f"{URL}/{invoice.number}.xml"), 404, "not-found")


def test_the_pdf_is_a_factur_x_of_the_invoice(api, rival, stocked):
    invoice = invoiced(api.customer, 1)
    response = api.get(f"{URL}/{invoice.number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    xml_name, xml = facturx.get_xml_from_pdf(response.data, check_xsd=False)
    assert xml_name == "factur-x.xml" and invoice.number.encode() in xml
    assert_problem(rival.get(f"{URL}/{invoice.number}.pdf"), 404, "not-found")


def test_an_order_lists_its_invoices_what_was_paid_and_a_prepaid_orders_proforma(api, rival, stocked):
    order = shipped_order(rival.customer, quantity=2)  # rival's company pays ahead: paid in full, then shipped
    invoice = invoice_of(order)
    body = rival.get(f"/api/v1/orders/{order}").get_json()
    assert (body["invoices"], body["amount_paid"]) == ([invoice.number], body["total"])
    assert body["proforma_url"].endswith(f"/api/v1/orders/{order}/proforma.pdf")
    proforma = rival.get(f"/api/v1/orders/{order}/proforma.pdf")
    assert proforma.status_code == 200 and proforma.mimetype == "application/pdf"
    with pikepdf.open(BytesIO(proforma.data)) as pdf:
        assert order in str(pdf.docinfo["/Title"])
    assert_problem(api.get(f"/api/v1/orders/{order}/proforma.pdf"), 404, "not-found")
    listed = rival.get("/api/v1/orders").get_json()["items"]
    assert [o["invoices"] for o in listed] == [[invoice.number]]
    assert rival.get(f"{URL}/{invoice.number}").get_json()["status"] == "paid"
    shipped = db.session.scalar(select(OutboxEvent.data).where(OutboxEvent.type == "order.shipped"))
    assert json.loads(shipped)["invoices"] == [invoice.number]  # the webhook says which invoice the goods carry


def test_an_order_on_net_terms_has_no_proforma(api, stocked):
    placed = api.order().get_json()
    assert placed["proforma_url"] is None
    number = placed["number"]
    body = api.get(f"/api/v1/orders/{number}").get_json()
    assert body["proforma_url"] is None and body["invoices"] == [] and body["amount_paid"] == "0.00"
    assert_problem(api.get(f"/api/v1/orders/{number}/proforma.pdf"), 404, "not-found")


def test_the_order_list_reads_invoices_and_payments_in_the_same_statements_for_one_order_or_many(api, stocked):
    paid(invoiced(api.customer, 1), "5.00")
    with count_statements(fresh_session=True) as one:
        assert len(api.get("/api/v1/orders").get_json()["items"]) == 1
    for _ in range(3):
        paid(invoiced(api.customer, 1), "5.00")
    with count_statements(fresh_session=True) as many:
        orders = api.get("/api/v1/orders").get_json()["items"]
    assert [o["amount_paid"] for o in orders] == ["5.00"] * 4 and all(len(o["invoices"]) == 1 for o in orders)
    assert len(many) <= len(one), (one, many)  # the first also notes when the key was last used


def test_an_order_awaiting_approval_or_cancelled_has_no_proforma(rival, stocked):
    companies.set_terms(rival.customer.company, "prepaid", "", "100")  # rival pays ahead; big orders wait
    db.session.commit()
    waiting = rival.order().get_json()
    assert (waiting["status"], waiting["proforma_url"]) == ("awaiting_approval", None)
    assert_problem(rival.get(f"/api/v1/orders/{waiting['number']}/proforma.pdf"), 404, "not-found")
    cancelled = rival.post(f"/api/v1/orders/{waiting['number']}/cancel").get_json()
    assert (cancelled["status"], cancelled["proforma_url"]) == ("cancelled", None)
