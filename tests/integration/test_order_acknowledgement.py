"""A confirmed order e-mails the buyer an order acknowledgement through the outbox, with a PDF attached: the lines
(product, pack size, units, unit price, line total), the lots allocated, the totals and the expected dispatch date
(DISPATCH_WITHIN_DAYS business days after confirmation). The PDF is the order as it was confirmed, even when the
message is sent later. Checked over a real SMTP server (aiosmtpd), the attachment read with pypdf."""
from __future__ import annotations

import email
import email.policy
import re
import time
from datetime import date, timedelta
from email.message import EmailMessage
from io import BytesIO

import pytest
from pypdf import PdfReader

from shop import ordering
from shop.ordering.acknowledgement import acknowledgement, acknowledgement_pdf
from shop.platform.extensions import db
from tests.support.api import ADDRESS
from tests.support.billing import pay_in_full
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.mail import SmtpServer, drain, outbox_mail, run_periodic_jobs
from tests.support.sql import count_statements


def _smtp(server: SmtpServer, **extra) -> dict:
    return {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port, "MAIL_USE_TLS": False,
            "MAIL_TIMEOUT": 5, "PUBLIC_BASE_URL": "https://shop.example.com", **extra}


def _business_days_after(start: date, days: int) -> date:
    """Counted by hand: the working days (Monday to Friday) after `start`, `days` of them."""
    day = start
    while days:
        day += timedelta(days=1)
        days -= day.weekday() < 5
    return day


def _acknowledgements(server: SmtpServer, number: str) -> list[tuple[list[str], EmailMessage]]:
    deadline = time.monotonic() + 5
    found: list[tuple[list[str], EmailMessage]] = []
    while time.monotonic() < deadline:
        found = [(to, email.message_from_string(content, policy=email.policy.default))
                 for to, content in server.messages if f"Order {number} confirmed" in content]
        if found:
            break
        time.sleep(0.05)
    return found


def _pdf_text(message: EmailMessage) -> tuple[str, str]:
    (part,) = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    reader = PdfReader(BytesIO(part.get_payload(decode=True)))
    return part.get_filename(), re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _order(customer):
    product = make_product()
    make_lot(product, "L-ACK-1", {"LEU-USP-25KG": 2}, expires_in_days=300)
    make_lot(product, "L-ACK-2", {"LEU-USP-25KG": 5, "LEU-USP-1KG": 10}, expires_in_days=600)
    order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 5},
                                            {"sku": "LEU-USP-1KG", "quantity": 3}], ADDRESS, purchase_order="PO-77")
    db.session.commit()
    return order


def test_a_confirmed_order_mails_an_acknowledgement_with_its_pdf(make_app, smtp_server):
    app = make_app(**_smtp(smtp_server), DISPATCH_WITHIN_DAYS=3)
    with app.app_context():
        number = _order(make_customer("buyer@acme.example", "Acme Nutrition")).number
        pay_in_full(number)  # prepaid, and paid: it leaves within the dispatch days
        ordering.confirm_order(number)
        db.session.commit()
        confirmed_on = date.today()
        drain()
        db.session.remove()

    ((to, message),) = _acknowledgements(smtp_server, number)
    assert to == ["buyer@acme.example"]
    dispatch = _business_days_after(confirmed_on, 3).isoformat()
    body = message.get_body(("plain",)).get_content()
    assert f"expect it to leave our warehouse by {dispatch}" in body and "Still to pay" not in body
    assert "attached" in body and "11,350.22 EUR" in body  # 9,538.00 and 19 % VAT

    filename, text = _pdf_text(message)
    assert filename == f"order-acknowledgement-{number}.pdf"
    for expected in (f"Order acknowledgement {number}", "Acme Nutrition", "Your PO reference PO-77",
                     "L-Leucine USP, 25 kg LEU-USP-25KG 5 1,850.00 EUR 9,250.00 EUR",
                     "Lot L-ACK-1: 2 units", "Lot L-ACK-2: 3 units",
                     "L-Leucine USP, 1 kg LEU-USP-1KG 3 96.00 EUR 288.00 EUR", "Lot L-ACK-2: 3 units",
                     "Subtotal 9,538.00 EUR", "VAT 19.00 % 1,812.22 EUR", "Total 11,350.22 EUR",
                     "Payment terms Prepaid",
                     f"Expected dispatch {dispatch}", "Leucin-Werk Rheinau GmbH", "Page 1 of 1"):
        assert expected in text, (expected, text)


def test_a_prepaid_order_not_paid_yet_is_told_to_pay_against_its_pro_forma_and_promised_no_dispatch_date(
        make_app, smtp_server):
    """Confirmed but not paid: no date it "leaves our warehouse by", which payment decides, but what is still to pay
    and the pro-forma to pay against, in the e-mail and the acknowledgement."""
    app = make_app(**_smtp(smtp_server), DISPATCH_WITHIN_DAYS=3)
    with app.app_context():
        number = _order(make_customer("buyer@acme.example", "Acme Nutrition")).number
        ordering.confirm_order(number)
        db.session.commit()
        drain()
        db.session.remove()
    ((_, message),) = _acknowledgements(smtp_server, number)
    body = " ".join(message.get_body(("plain",)).get_content().split())
    assert f"We have confirmed your order {number} (your PO reference PO-77): it leaves our warehouse once paid in " \
           "full (see below)." in body and "leave our warehouse by" not in body
    assert ("This order is prepaid: it ships once paid in full. Still to pay: 11,350.22 EUR, against the pro-forma "
            f"invoice (PDF): https://shop.example.com/orders/{number}/proforma.pdf") in body
    _, text = _pdf_text(message)
    assert "Expected dispatch once paid in full" in text and "leaves our warehouse once paid in full" in text


def test_the_acknowledgement_shows_the_order_as_confirmed_when_it_is_sent_later(make_app, smtp_server):
    app = make_app(**_smtp(smtp_server, MAIL_RETRY_SCHEDULE=[1.0], OUTBOX_SWEEP_AFTER_SECONDS=0))
    with app.app_context():
        customer = make_customer("buyer@acme.example")
        number = _order(customer).number
        smtp_server.refusing = True  # busy: the acknowledgement waits for its retry
        ordering.confirm_order(number)
        db.session.commit()
        drain()
        ordering.cancel_order(number, customer=customer)  # its lots go back to stock before it is sent
        db.session.commit()
        smtp_server.refusing = False
        time.sleep(1.1)
        run_periodic_jobs()
        drain()
        db.session.remove()

    ((_, message),) = _acknowledgements(smtp_server, number)
    _, text = _pdf_text(message)
    assert "Lot L-ACK-1: 2 units" in text and "VAT 19.00 % 1,812.22 EUR" in text and "Total 11,350.22 EUR" in text


@pytest.mark.parametrize(("code", "name"), [("TW", "Taiwan"), ("BO", "Bolivia"), ("SE", "Sweden")])
def test_the_acknowledgement_names_the_country_as_the_order_page_does(app, code, name):
    """One name per country code (shop.platform.countries): 'Taiwan', not 'Taiwan, Province of China'."""
    product = make_product()
    make_lot(product, "L-ACK-1", {"LEU-USP-25KG": 2})
    order = ordering.place_order(make_customer(), [{"sku": "LEU-USP-25KG", "quantity": 1}],
                                 {**ADDRESS, "country": code})
    db.session.commit()
    ack = acknowledgement(order, date.today())
    assert ack.ship_to[-1] == name
    text = re.sub(r"\s+", " ", " ".join(page.extract_text()
                                        for page in PdfReader(BytesIO(acknowledgement_pdf(ack))).pages))
    assert f"20095 Hamburg {name} " in text and f"{name}," not in text
    assert "Lot L-ACK-1: 1 unit," in text  # one way to count units, here too


def test_the_acknowledgement_reads_no_more_statements_for_more_lines(app):
    """Making the acknowledgement of a three-line order (two products) costs the reads of a one-line one: each
    line's pack size and product come with the order, not one line at a time."""
    customer = make_customer("buyer@acme.example", "Acme Nutrition")
    usp, fcc = make_product(), make_product("l-leucine-fcc", "FCC", "LEU-FCC")
    make_lot(usp, "L-USP", {"LEU-USP-25KG": 5, "LEU-USP-1KG": 10})
    make_lot(fcc, "L-FCC", {"LEU-FCC-1KG": 10})
    one = ordering.place_order(customer, [{"sku": "LEU-USP-1KG", "quantity": 1}], ADDRESS)
    three = ordering.place_order(customer, [{"sku": sku, "quantity": 2}
                                            for sku in ("LEU-USP-25KG", "LEU-USP-1KG", "LEU-FCC-1KG")], ADDRESS)
    drain()  # what placing them sends
    reads = {}
    for number in (one.number, three.number):
        ordering.confirm_order(number)
        db.session.commit()
        db.session.remove()
        with count_statements() as seen:
            drain()
        reads[number] = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
        assert any(m.subject == f"Order {number} confirmed" and m.attachments for m in outbox_mail())
    assert len(reads[three.number]) == len(reads[one.number]), "\n".join(reads[three.number])
