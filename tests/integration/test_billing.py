"""Billing what ships: a prepaid order does not ship until paid in full (the service refuses with 409 order-not-paid,
the staff page says so instead of offering the ship form), and each shipment is invoiced as it leaves, for the
units it carried and their lots, taking what the buyer paid ahead."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop import fulfilment, ordering
from shop.fulfilment import Pick, billing
from shop.fulfilment.proforma import proforma_of
from shop.inventory import lots as inventory
from shop.invoicing import documents
from shop.invoicing.einvoice import cii_xml
from shop.invoicing.models import Invoice, VatRule
from shop.invoicing.payments import PaymentInput
from shop.ordering.models import Order, OrderStatus
from shop.platform.errors import InvalidInput, OrderNotPaid
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.billing import five_drums_confirmed, pay_in_full
from tests.support.factories import make_lot
from tests.support.invoices import facturx_findings
from tests.support.staff import place, sign_in, text_of
from tests.support.storefront import field_error

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"


@pytest.fixture
def confirmed(app, product, customer) -> Order:
    """Five drums, prepaid (the default terms), confirmed, not paid (tests.support.billing.five_drums_confirmed)."""
    return five_drums_confirmed(product, customer)


def _invoices() -> list[Invoice]:
    db.session.expire_all()
    return list(db.session.scalars(select(Invoice).order_by(Invoice.id)))


def test_a_prepaid_order_does_not_ship_until_paid_in_full(confirmed):
    with pytest.raises(OrderNotPaid) as refused:
        fulfilment.ship_order(confirmed.number, "JJD-1")
    total = f"{confirmed.total:,.2f} EUR"
    assert refused.value.status == 409 and refused.value.problem == "order-not-paid"
    assert refused.value.message == (f"Order {confirmed.number} is prepaid and {total} of its {total} is still to be "
                                     "paid: it ships once paid in full.")
    db.session.rollback()
    billing.record_payment(confirmed.number, PaymentInput("100.00", billing.today(), "SEPA part"))
    db.session.commit()
    with pytest.raises(OrderNotPaid, match=f"{confirmed.total - 100:,.2f} EUR of its {total}"):
        fulfilment.ship_order(confirmed.number, "JJD-1")
    db.session.rollback()
    assert ordering.get_order(confirmed.number).status == OrderStatus.CONFIRMED and _invoices() == []
    pay_in_full(confirmed.number)
    fulfilment.ship_order(confirmed.number, "JJD-1")
    db.session.commit()
    assert ordering.get_order(confirmed.number).status == OrderStatus.SHIPPED
    [invoice] = _invoices()
    assert invoice.gross == confirmed.total and invoice.amount_paid == invoice.gross and invoice.amount_due == 0
    assert ordering.get_order(confirmed.number).amount_paid == confirmed.total


def test_the_staff_page_says_a_prepaid_order_is_not_paid_instead_of_offering_to_ship(confirmed, client):
    sign_in(client, "fulfilment")
    page = text_of(client.get(f"/staff/orders/{confirmed.number}").text)
    total = f"{confirmed.total:,.2f} EUR"
    assert "Not paid: this prepaid order cannot ship yet" in page
    assert f"is prepaid and {total} of its {total} is still to be paid" in page
    assert "Next shipment" not in page and "Ship the order" not in page
    refused = client.post(f"/staff/orders/{confirmed.number}/ship", data={"tracking_reference": "JJD-1"},
                          follow_redirects=True)
    assert "still to be paid: it ships once paid in full" in text_of(refused.text)
    assert ordering.get_order(confirmed.number).status == OrderStatus.CONFIRMED and _invoices() == []
    pay_in_full(confirmed.number)
    page = text_of(client.get(f"/staff/orders/{confirmed.number}").text)
    assert "Not paid" not in page and f"Next shipment: {confirmed.number}-S1" in page


def test_each_shipment_is_invoiced_for_its_own_units_and_lots(confirmed):
    pay_in_full(confirmed.number)
    first = fulfilment.ship(confirmed.number, [Pick(0, 3)], tracking_reference="JJD-1")  # 2 L-EARLY, 1 L-LATE
    db.session.commit()
    second = fulfilment.ship(confirmed.number, [Pick(0, 2)], tracking_reference="JJD-2")  # 2 L-LATE
    db.session.commit()
    one, two = _invoices()
    year = billing.today().year
    assert (one.number, two.number) == (f"INV-{year}-000001", f"INV-{year}-000002")
    assert (one.shipment_number, two.shipment_number) == (first.number, second.number)
    assert [(line.sku, line.quantity, line.lot_numbers) for line in one.lines] == [(DRUM, 3, "L-EARLY, L-LATE")]
    assert [(line.sku, line.quantity, line.lot_numbers) for line in two.lines] == [(DRUM, 2, "L-LATE")]
    price = confirmed.lines[0].unit_price
    assert (one.net, two.net) == (3 * price, 2 * price)
    assert one.issued_on == one.due_on == billing.today()  # prepaid: due on the day of issue
    assert one.amount_due == two.amount_due == Decimal("0.00")  # the payment ahead covers both
    assert one.buyer_name == "Acme Nutrition" and one.order_number == confirmed.number
    assert inventory.check_ledger() == []


def test_a_refused_shipment_issues_no_invoice_and_takes_no_number(confirmed):
    pay_in_full(confirmed.number)
    with pytest.raises(InvalidInput, match="allocated"):
        fulfilment.ship(confirmed.number, [Pick(0, 9)], tracking_reference="JJD-1")
    db.session.rollback()
    fulfilment.ship_order(confirmed.number, "JJD-1")
    db.session.commit()
    assert [i.number for i in _invoices()] == [f"INV-{billing.today().year}-000001"]
    assert db.session.scalar(select(func.count(Invoice.id))) == 1


def test_finance_records_the_payment_on_the_order_page_and_a_wrong_amount_changes_nothing(confirmed, client):
    sign_in(client, "finance")
    url = f"/staff/orders/{confirmed.number}/payments"
    for typed, said in (("1,500", "no thousands separator"), ("-5", "positive amount"),
                        (f"{confirmed.total + 1}", "more than the")):
        refused = client.post(url, data={"amount": typed, "paid_on": billing.today().isoformat()})
        assert refused.status_code == 422 and said in (field_error(refused.text, "amount") or ""), typed
    assert ordering.get_order(confirmed.number).amount_paid == 0
    version = ordering.get_order(confirmed.number).version
    part = f"{confirmed.total - 100:.2f}"
    page = client.post(url, data={"amount": part, "paid_on": billing.today().isoformat(), "reference": "SEPA 7"},
                       follow_redirects=True)
    assert f"Payment of {confirmed.total - 100:,.2f} EUR recorded against order {confirmed.number}." in page.text
    assert "100.00 EUR of its" in text_of(page.text)  # what is still to pay before it may ship
    db.session.expire_all()
    assert ordering.get_order(confirmed.number).version == version + 1  # `?updated_since=` meets it again
    client.post(url, data={"amount": "100.00", "paid_on": billing.today().isoformat()})
    db.session.expire_all()
    assert ordering.get_order(confirmed.number).amount_paid == confirmed.total
    fulfilment_client = client.application.test_client()
    sign_in(fulfilment_client, "fulfilment")
    page = fulfilment_client.get(f"/staff/orders/{confirmed.number}").text
    assert f"Next shipment: {confirmed.number}-S1" in text_of(page)


def test_an_order_placed_before_vat_existed_ships_with_the_vat_the_sale_owes_on_a_valid_e_invoice(confirmed, client):
    # As the invoicing migration left an order placed before it: no VAT rule, no VAT, its total its subtotal.
    confirmed.vat_rule, confirmed.vat_rate, confirmed.vat = None, Decimal("0.00"), Decimal("0.00")
    confirmed.total = net = confirmed.subtotal  # 5 x 1,850.00 = 9,250.00, to Hamburg from Germany: domestic
    db.session.commit()
    proforma = proforma_of(ordering.get_order(confirmed.number))  # what the buyer is asked to pay
    assert (proforma.vat_rule, proforma.vat_rate, proforma.net, proforma.vat, proforma.gross) == (
        VatRule.DOMESTIC, Decimal("19.00"), net, Decimal("1757.50"), Decimal("11007.50"))
    billing.record_payment(confirmed.number, PaymentInput("9250.00", billing.today(), "what it showed"))
    db.session.commit()
    # Prepaid: the VAT it owes once it ships is paid before, and finance is told so.
    assert billing.unpaid_before_shipping(ordering.get_order(confirmed.number)) == Decimal("1757.50")
    sign_in(client, "fulfilment")
    page = text_of(client.get(f"/staff/orders/{confirmed.number}").text)
    assert "1,757.50 EUR of its 11,007.50 EUR is still to be paid" in page
    assert "Ordered before prices showed VAT: the VAT is charged on the invoice when the goods ship" in page
    with pytest.raises(OrderNotPaid, match=r"1,757.50 EUR of its 11,007.50 EUR is still to be paid"):
        fulfilment.ship_order(confirmed.number, "JJD-1")
    db.session.rollback()
    assert ordering.get_order(confirmed.number).vat_rule is None  # a refused shipment decided nothing
    pay_in_full(confirmed.number)
    fulfilment.ship_order(confirmed.number, "JJD-1")
    db.session.commit()

    shipped = ordering.get_order(confirmed.number)
    assert (shipped.vat_rule, shipped.vat_rate, shipped.subtotal) == ("domestic", Decimal("19.00"), net)
    assert (shipped.vat, shipped.total) == (Decimal("1757.50"), Decimal("11007.50"))
    [invoice] = _invoices()
    assert (invoice.vat_rule, invoice.vat_rate, invoice.net, invoice.vat, invoice.gross) == (
        VatRule.DOMESTIC, Decimal("19.00"), net, Decimal("1757.50"), Decimal("11007.50"))
    assert invoice.amount_due == 0
    assert facturx_findings(cii_xml(invoice, documents.seller())) == []  # not a domestic sale at 0 % (BR-S-05)
    [data] = db.session.scalars(select(OutboxEvent.data).where(OutboxEvent.type == "order.shipped"))
    event = json.loads(data)
    assert (event["vat_rule"], event["vat"], event["total"]) == ("domestic", "1757.50", "11007.50")  # the buyer is told


def test_finance_records_a_pending_prepaid_orders_payment_and_is_offered_no_fulfilment_action(app, product, customer,
                                                                                             client):
    """A prepaid order's pro-forma goes out when it is placed, so its money may arrive before fulfilment confirms it:
    finance records it on the order page then. Confirming, shipping, delivering and cancelling are fulfilment's:
    finance is not shown buttons that would only answer 403."""
    make_lot(product, "L-ONE", {DRUM: 5}, expires_in_days=400)
    order = place(customer, DRUM, 2)
    db.session.commit()
    sign_in(client, "finance")
    page = text_of(client.get(f"/staff/orders/{order.number}").text)
    assert "Not paid: this prepaid order cannot ship yet" in page and "Record money received" in page
    assert "Confirm order" not in page and "Cancel order" not in page
    assert "Its next steps (confirming, shipping, marking delivered, cancelling) are fulfilment staff's." in page
    client.post(f"/staff/orders/{order.number}/payments",
                data={"amount": f"{order.total:.2f}", "paid_on": billing.today().isoformat(), "reference": "SEPA 8"})
    db.session.expire_all()
    assert ordering.get_order(order.number).amount_paid == order.total
    fulfilment_client = client.application.test_client()
    sign_in(fulfilment_client, "fulfilment")
    page = text_of(fulfilment_client.get(f"/staff/orders/{order.number}").text)
    assert "Not paid" not in page and "Confirm order" in page and "are fulfilment staff's" not in page


def test_a_company_without_a_billing_address_is_billed_at_the_orders_ship_to_address(confirmed):
    """A name and a country alone is no address a buyer's ERP can book: while the company has no billing address,
    the invoice, its XML and the pro-forma give the order's ship-to address."""
    assert confirmed.company.billing_country == ""
    assert proforma_of(confirmed).buyer.address == ("Hafenstrasse 1", "20457 Hamburg", "Germany")
    pay_in_full(confirmed.number)
    fulfilment.ship_order(confirmed.number, "JJD-1")
    db.session.commit()
    [invoice] = _invoices()
    assert (invoice.buyer_line1, invoice.buyer_postal_code, invoice.buyer_city, invoice.buyer_country) == (
        "Hafenstrasse 1", "20457", "Hamburg", "DE")
    xml = cii_xml(invoice, documents.seller())
    assert b"Hafenstrasse 1" in xml and facturx_findings(xml) == []
