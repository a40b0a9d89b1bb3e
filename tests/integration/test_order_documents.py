"""An order records the document versions current when it was confirmed: a version uploaded later leaves it as it
was, an order not confirmed lists none, another company's order stays a 404, and the pages link each PDF."""
from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import select

from shop import ordering
from shop.documents.models import OrderDocument
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.documents import add_document
from tests.support.factories import make_lot, make_product
from tests.support.mail import drain, outbox_mail
from tests.support.sql import count_statements
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in


def _kinds_and_versions(order_json: dict) -> list[tuple[str, str]]:
    return [(d["kind"], d["version"]) for d in order_json["documents"]]


def test_a_confirmed_order_lists_the_versions_current_then_and_keeps_them_when_a_new_one_arrives(api, stocked):
    add_document(stocked, kind="sds", version="3", valid_until=None, issued_on=date(2025, 2, 1))
    add_document(stocked, kind="kosher", version="2025", issued_on=date(2025, 1, 10), valid_until=date(2026, 1, 9))
    add_document(stocked, kind="kosher", version="2026", issued_on=date(2026, 1, 5), valid_until=date(2027, 1, 4))
    earlier = api.order().get_json()["number"]
    ordering.confirm_order(earlier)
    db.session.commit()

    add_document(stocked, kind="kosher", version="2026-2", issued_on=date(2026, 3, 1), valid_until=date(2027, 3, 1))
    later = api.order().get_json()["number"]
    ordering.confirm_order(later)
    db.session.commit()
    not_confirmed = api.order().get_json()

    first = api.get(f"/api/v1/orders/{earlier}").get_json()
    assert _kinds_and_versions(first) == [("sds", "3"), ("kosher", "2026")]
    kosher = first["documents"][1]
    assert kosher == {"kind": "kosher", "title": "kosher certificate", "version": "2026", "issued_on": "2026-01-05",
                      "valid_until": "2027-01-04", "expired": date.today() > date(2027, 1, 4), "url": kosher["url"]}
    assert kosher["url"].endswith("/l-leucine-usp-kosher-2026.pdf")
    assert _kinds_and_versions(api.get(f"/api/v1/orders/{later}").get_json()) == [("sds", "3"), ("kosher", "2026-2")]
    assert not_confirmed["documents"] == []
    assert api.get(f"/api/v1/orders/{not_confirmed['number']}").get_json()["documents"] == []
    # The list shows what the single read does.
    listed = {o["number"]: o for o in api.get("/api/v1/orders").get_json()["items"]}
    assert _kinds_and_versions(listed[earlier]) == [("sds", "3"), ("kosher", "2026")]

    # The link answers the PDF of that very version.
    download = api.client.get(urlsplit(kosher["url"]).path)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-")


def test_confirming_records_every_products_documents_in_one_statement(api, stocked):
    other = make_product("l-leucine-fcc", "FCC", "LEU-FCC")
    make_lot(other, "L-FCC", {"LEU-FCC-1KG": 10})
    for product in (stocked, other):
        add_document(product, kind="sds", version="1", valid_until=None)
        add_document(product, kind="specification", version="1", valid_until=None)
        add_document(product, kind="halal", version="1")
    number = api.order([{"sku": "LEU-USP-25KG", "quantity": 1}, {"sku": "LEU-USP-1KG", "quantity": 1},
                        {"sku": "LEU-FCC-1KG", "quantity": 1}]).get_json()["number"]
    with count_statements(fresh_session=True) as statements:
        ordering.confirm_order(number)
        db.session.commit()  # the order.confirmed event's data is made as it commits
    recording = [s for s in statements if "order_document" in s and s.lstrip().upper().startswith("INSERT")]
    assert len(recording) == 1
    # Read with the order (none yet), recorded, read back for the event: never one statement per document or product.
    assert len([s for s in statements if "product_document" in s]) == 3
    assert len(db.session.scalars(select(OrderDocument).where(OrderDocument.order_id.is_not(None))).all()) == 6


def test_the_order_confirmed_event_carries_the_recorded_documents(api, stocked):
    add_document(stocked, kind="gmp", version="5")
    number = api.order().get_json()["number"]
    ordering.confirm_order(number)
    db.session.commit()
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "order.confirmed")).one()
    assert [(d["kind"], d["version"]) for d in json.loads(event.data)["documents"]] == [("gmp", "5")]


def test_another_companys_order_and_its_documents_are_404(api, rival, stocked):
    add_document(stocked, kind="sds", version="1", valid_until=None)
    number = api.order().get_json()["number"]
    ordering.confirm_order(number)
    db.session.commit()
    assert rival.get(f"/api/v1/orders/{number}").status_code == 404


def test_the_buyers_and_the_staff_order_pages_link_each_recorded_version(client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    sds = add_document(product, kind="sds", version="3.2", valid_until=None, title="Safety data sheet")
    number = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 1}], {
        "name": "Acme", "line1": "Werkstraße 5", "city": "Hamburg", "postal_code": "20095", "country": "DE"}).number
    db.session.commit()
    sign_in(client)
    assert "When we confirm the order" in client.get(f"/orders/{number}").text
    ordering.confirm_order(number)
    db.session.commit()
    link = f"/documents/{sds.id}/l-leucine-usp-sds-3.2.pdf"
    page = client.get(f"/orders/{number}").text
    assert link in page and "Safety data sheet (SDS)" in page and "3.2" in page
    assert client.get(link).headers["Content-Disposition"].startswith("attachment")


def test_the_staff_order_page_lists_the_recorded_versions(client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    cert = add_document(product, kind="halal", version="HC-7")
    number = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 1}], {
        "name": "Acme", "line1": "Werkstraße 5", "city": "Hamburg", "postal_code": "20095", "country": "DE"}).number
    ordering.confirm_order(number)
    db.session.commit()
    staff_sign_in(client, "fulfilment")
    page = client.get(f"/staff/orders/{number}").text
    assert f"/documents/{cert.id}/l-leucine-usp-halal-HC-7.pdf" in page and "Halal certificate" in page


def test_the_order_confirmation_e_mail_links_the_recorded_versions(api, stocked):
    kosher = add_document(stocked, kind="kosher", version="2026", valid_until=date(2027, 1, 4))
    number = api.order().get_json()["number"]
    ordering.confirm_order(number)
    drain()
    confirmed = next(m for m in outbox_mail() if m.subject == f"Order {number} confirmed")
    assert "L-Leucine USP: Kosher certificate, version 2026, valid until 2027-01-04: " \
           f"http://127.0.0.1:5000/documents/{kosher.id}/l-leucine-usp-kosher-2026.pdf" in confirmed.body
