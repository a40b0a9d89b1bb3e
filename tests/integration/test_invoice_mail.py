"""An issued invoice is announced (`invoice.issued`, its data the document as the API shows it) and e-mailed to the
member who placed the order and the company's admins, with its Factur-X PDF attached: checked over a real SMTP
server (aiosmtpd), the attachment read with pypdf and its embedded XML checked against EN 16931. A credit note is
announced and mailed the same way."""
from __future__ import annotations

import email
import email.policy
import json
import re
import time
from decimal import Decimal
from email.message import EmailMessage
from io import BytesIO

from facturx import get_xml_from_pdf
from pypdf import PdfReader
from sqlalchemy import select

from shop import ordering
from shop.accounts import companies
from shop.invoicing.issuing import issue_credit_note
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import ADDRESS
from tests.support.billing import ship_paid
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.invoices import facturx_findings
from tests.support.mail import SmtpServer, drain


def _shipped_by_a_buyer(terms: str = "prepaid", country: str = "DE") -> str:
    """Acme (on `terms`) has its buyer order three drums (PO-88) to `country`, which ship (paid first, when
    prepaid): the order's number."""
    product = make_product()
    make_lot(product, "L-INV-1", {"LEU-USP-25KG": 1}, expires_in_days=300)
    make_lot(product, "L-INV-2", {"LEU-USP-25KG": 5}, expires_in_days=600)
    admin = make_customer("admin@acme.example", "Acme Nutrition")
    companies.set_terms(admin.company, payment_terms=terms)
    buyer = companies.invite_member(admin, "buyer@acme.example", "buyer")
    buyer.joined_at = utcnow()
    db.session.commit()
    order = ordering.place_order(buyer, [{"sku": "LEU-USP-25KG", "quantity": 3}], {**ADDRESS, "country": country},
                                 purchase_order="PO-88")
    db.session.commit()
    ordering.confirm_order(order.number)
    ship_paid(order.number, "1Z999")
    db.session.commit()
    return order.number


def _received(server: SmtpServer, subject: str) -> list[tuple[list[str], EmailMessage]]:
    deadline = time.monotonic() + 10
    found: list[tuple[list[str], EmailMessage]] = []
    while time.monotonic() < deadline:
        found = [(to, email.message_from_string(content, policy=email.policy.default))
                 for to, content in server.messages if subject in content]
        if found:
            break
        time.sleep(0.05)
    return found


def _attached_pdf(message: EmailMessage) -> tuple[str, bytes]:
    (part,) = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    return part.get_filename(), part.get_payload(decode=True)


def _events() -> list[dict]:
    db.session.expire_all()
    return [json.loads(e.data) | {"_customer": e.customer_id}
            for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "invoice.issued")
                                        .order_by(OutboxEvent.id))]


def test_an_issued_invoice_is_announced_and_mailed_with_its_factur_x_pdf(make_app, smtp_server):
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_USE_TLS=False,
                   MAIL_TIMEOUT=5, PUBLIC_BASE_URL="https://shop.example.com")
    with app.app_context():
        number = _shipped_by_a_buyer()
        [event] = _events()
        invoice = event["number"]
        assert re.fullmatch(r"INV-\d{4}-000001", invoice)
        assert (event["kind"], event["order"], event["shipment"], event["status"]) == ("invoice", number,
                                                                                       f"{number}-S1", "paid")
        assert [(line["quantity"], line["lot_numbers"]) for line in event["lines"]] == [(3, ["L-INV-1", "L-INV-2"])]
        drain()
        db.session.remove()

    ((to, message),) = _received(smtp_server, f"Invoice {invoice} for order {number}")
    assert sorted(to) == ["admin@acme.example", "buyer@acme.example"]
    body = re.sub(r"\s+", " ", message.get_body(("plain",)).get_content())
    assert f"We have issued invoice {invoice} for shipment {number}-S1 of your order {number}" in body
    assert "(your PO reference PO-88)" in body and "Already paid: nothing is due." in body
    filename, pdf = _attached_pdf(message)
    assert filename == f"{invoice}.pdf"
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages))
    assert invoice in text and "L-INV-1" in text and "Acme Nutrition" in text
    xml_name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    assert xml_name == "factur-x.xml" and invoice.encode() in xml
    assert facturx_findings(xml) == []


def test_an_invoice_on_net_terms_says_when_it_is_due_and_its_credit_note_is_mailed_too(make_app, smtp_server):
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_USE_TLS=False,
                   MAIL_TIMEOUT=5, PUBLIC_BASE_URL="https://shop.example.com")
    with app.app_context():
        number = _shipped_by_a_buyer("net_30")
        [issued] = _events()
        note = issue_credit_note(issued["number"], {1: 1}, utcnow().date()).number
        db.session.commit()
        [_, credited] = _events()
        assert (credited["kind"], credited["number"], credited["corrects"]) == ("credit_note", note,
                                                                                issued["number"])
        assert credited["_customer"] == issued["_customer"]  # to the company, through the order's placer
        drain()
        db.session.remove()

    ((_, invoice_mail),) = _received(smtp_server, f"Invoice {issued['number']} for order {number}")
    body = re.sub(r"\s+", " ", invoice_mail.get_body(("plain",)).get_content())
    assert f"Due: {float(issued['gross']):,.2f} EUR by {issued['due_on']}" in body
    ((to, note_mail),) = _received(smtp_server, f"Credit note {note} for order {number}")
    assert sorted(to) == ["admin@acme.example", "buyer@acme.example"]
    body = re.sub(r"\s+", " ", note_mail.get_body(("plain",)).get_content())
    assert f"correcting invoice {issued['number']} of your order {number}" in body
    still = Decimal(issued["gross"]) - Decimal(credited["gross"])
    assert f"Still to pay on {issued['number']}: {still:,.2f} EUR." in body and "You had paid" not in body
    filename, pdf = _attached_pdf(note_mail)
    xml_name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    assert filename == f"{note}.pdf" and note.encode() in xml and facturx_findings(xml) == []


def test_a_credit_note_of_a_paid_invoice_tells_the_buyer_the_money_is_theirs_not_less_to_pay(make_app, smtp_server):
    """The invoice was paid in full before it was credited: nothing was owed, so the note is money the buyer paid
    that is theirs again, not "less to pay"."""
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_USE_TLS=False,
                   MAIL_TIMEOUT=5, PUBLIC_BASE_URL="https://shop.example.com")
    with app.app_context():
        number = _shipped_by_a_buyer()  # prepaid: paid in full before it shipped
        [issued] = _events()
        note = issue_credit_note(issued["number"], {1: 1}, utcnow().date())
        back, note_number = note.gross, note.number
        db.session.commit()
        drain()
        db.session.remove()
    ((_, note_mail),) = _received(smtp_server, f"Credit note {note_number} for order {number}")
    body = re.sub(r"\s+", " ", note_mail.get_body(("plain",)).get_content())
    assert f"it comes to {back:,.2f} EUR less" in body and "less to pay" not in body
    assert f"Nothing is left to pay on {issued['number']}." in body
    assert (f"You had paid {back:,.2f} EUR more than your order's invoices now come to: that money is yours. It "
            "goes towards the order's next invoice, or we refund it to you.") in body


def test_an_export_invoice_says_why_it_bears_no_vat(make_app, smtp_server):
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_USE_TLS=False,
                   MAIL_TIMEOUT=5, PUBLIC_BASE_URL="https://shop.example.com")
    with app.app_context():
        number = _shipped_by_a_buyer(country="CH")
        [issued] = _events()
        drain()
        db.session.remove()
    ((_, message),) = _received(smtp_server, f"Invoice {issued['number']} for order {number}")
    body = re.sub(r"\s+", " ", message.get_body(("plain",)).get_content())
    assert (f"Total: {Decimal(issued['gross']):,.2f} EUR (no VAT: Export delivery, exempt under Article 146 of "
            "Council Directive 2006/112/EC)") in body and "VAT 0.00 EUR included" not in body
