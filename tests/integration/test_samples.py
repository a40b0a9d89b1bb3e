"""Samples end to end: a buyer asks for one through the API or the storefront (bad input refused by field, nothing
stored), sales ship it from a lot (from stock: a ledger row with no order, fewer units available; from the
retained sample: grams only, no ledger row) or decline it, the buyer reads it and is e-mailed, and the lot's
traceability page and CSV list the sample and who received it."""
from __future__ import annotations

import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select

from shop.accounts import people as accounts
from shop.accounts.models import StaffUser
from shop.inventory.lots import check_ledger
from shop.inventory.models import MovementKind, Stock, StockMovement
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from shop.sales import samples
from shop.sales.models import SampleRequest
from tests.support.api import ADDRESS, assert_problem
from tests.support.factories import make_customer, make_lot, make_product, make_staff
from tests.support.mail import drain, outbox_mail
from tests.support.staff import PASSWORD, text_of
from tests.support.storefront import field_error, sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
SAMPLE = {"product": "l-leucine-usp", "quantity_g": 250, "note": "For Dr. Weber's lab.", "shipping_address": ADDRESS}


def _staff(app, role: str = "sales"):
    staff = make_staff(role)
    client = app.test_client()
    assert client.post("/staff/login", data={"email": staff.email, "password": PASSWORD}).status_code == 302
    return client


def _buyer(app, email: str = "buyer@acme.example"):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def _ask(api, **changes) -> dict:
    response = api.post("/api/v1/sample-requests", json={**SAMPLE, **changes})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _ship(sales, number: str, **fields):
    data = {"lot_number": "L-SOON", "source": "LEU-USP-1KG", "units": "1", "tracking_reference": "1Z999AA1",
            **fields}
    return sales.post(f"/staff/samples/{number}/ship", data=data)


def _stock(lot: str, sku: str) -> Stock:
    db.session.expire_all()
    return db.session.scalar(select(Stock).join(Stock.batch).join(Stock.variant)
                             .where(Stock.batch.has(lot_number=lot), Stock.variant.has(sku=sku)))


def _sample_movements() -> list[StockMovement]:
    return list(db.session.scalars(select(StockMovement).where(StockMovement.reason.like("Sample %"))))


def _available(api, sku: str) -> int:
    product = api.get("/api/v1/products/l-leucine-usp").get_json()
    return next(v["available_quantity"] for v in product["variants"] if v["sku"] == sku)


def test_a_sample_asked_through_the_api_ships_from_stock_through_the_ledger(app, api, rival, stocked):
    asked = api.post("/api/v1/sample-requests", json=SAMPLE)
    assert asked.status_code == 201, asked.get_json()
    sample = asked.get_json()
    number = sample["number"]
    assert number == f"S-{date.today().year}-00001"
    assert asked.headers["Location"].endswith(f"/api/v1/sample-requests/{number}")
    assert sample["status"] == "requested" and sample["product"] == "l-leucine-usp" and sample["quantity_g"] == 250
    assert sample["lot_number"] is None and sample["shipped_at"] is None and sample["note"] == "For Dr. Weber's lab."
    assert sample["shipping_address"]["city"] == "Hamburg" and sample["requested_at"]
    assert api.get(f"/api/v1/sample-requests/{number.lower()}").get_json() == sample
    assert_problem(rival.get(f"/api/v1/sample-requests/{number}"), 404, "not-found")
    assert rival.get("/api/v1/sample-requests").get_json() == {"items": [], "next_cursor": None}
    before = _available(api, "LEU-USP-1KG")

    sales = _staff(app)
    queue = text_of(sales.get("/staff/samples").text)
    assert number in queue and "Acme Nutrition" in queue and "requested" in queue
    page = sales.get(f"/staff/samples/{number}").text
    assert "L-SOON" in page and "L-LATE" in page and "50 × LEU-USP-1KG" in text_of(page)
    shipped = _ship(sales, number)
    assert shipped.status_code == 302, shipped.text
    assert "shipped from lot L-SOON (1 × LEU-USP-1KG from stock)" in text_of(sales.get(shipped.location).text)

    read = api.get(f"/api/v1/sample-requests/{number}").get_json()
    assert read["status"] == "shipped" and read["lot_number"] == "L-SOON" and read["shipped_at"]
    assert read["tracking_reference"] == "1Z999AA1"
    assert _available(api, "LEU-USP-1KG") == before - 1
    stock = _stock("L-SOON", "LEU-USP-1KG")
    assert (stock.on_hand, stock.allocated) == (49, 0)
    [movement] = _sample_movements()
    assert movement.kind == MovementKind.SHIPMENT and movement.reason == f"Sample {number}"
    assert (movement.on_hand_delta, movement.allocated_delta, movement.order_id) == (-1, 0, None)
    assert movement.staff_id is not None
    assert check_ledger() == []

    drain()
    [message] = [m for m in outbox_mail() if number in m.subject]
    assert message.to == ["buyer@acme.example"] and "has shipped" in message.subject
    assert "L-SOON" in message.body and "1Z999AA1" in message.body
    assert f"/account/samples/{number}" in message.body and "/coa/L-SOON" in message.body


def test_a_sample_from_the_retained_sample_leaves_no_ledger_row(app, api, stocked):
    number = _ask(api)["number"]
    sales = _staff(app, "admin")  # admin may do what sales do
    shipped = _ship(sales, number, lot_number="l-late", source="retained", units="")
    assert shipped.status_code == 302, shipped.text
    read = api.get(f"/api/v1/sample-requests/{number}").get_json()
    assert read["status"] == "shipped" and read["lot_number"] == "L-LATE"
    assert _sample_movements() == []
    assert _stock("L-LATE", "LEU-USP-25KG").on_hand == 10
    assert check_ledger() == []


def test_the_lot_trace_page_and_csv_list_the_samples_and_who_received_them(app, api, stocked):
    from_stock, retained = _ask(api)["number"], _ask(api, quantity_g=40)["number"]
    sales = _staff(app)
    assert _ship(sales, from_stock).status_code == 302
    assert _ship(sales, retained, source="retained", units="", tracking_reference="DHL-77").status_code == 302
    quality = _staff(app, "quality")

    page = text_of(quality.get("/staff/trace/lot/L-SOON").text)
    assert "Samples 2" in page
    assert from_stock in page and retained in page and "Acme Nutrition" in page and "buyer@acme.example" in page
    assert "250 g (1 × LEU-USP-1KG from stock)" in page and "40 g (retained sample)" in page
    assert "DHL-77" in page and "Acme Nutrition GmbH" in page  # who received it: the address's name

    rows = list(csv.DictReader(io.StringIO(quality.get("/staff/trace/lot/L-SOON.csv").text)))
    samples = [r for r in rows if r["record"] == "sample"]
    assert [(r["order_number"], r["customer"], r["customer_email"], r["sku"], r["quantity"], r["quantity_g"])
            for r in samples] == [(from_stock, "Acme Nutrition", "buyer@acme.example", "LEU-USP-1KG", "1", "250"),
                                  (retained, "Acme Nutrition", "buyer@acme.example", "", "", "40")]
    assert all(r["shipped_at"] and r["lot_number"] == "L-SOON" for r in samples)
    assert "Samples 0" in text_of(quality.get("/staff/trace/lot/L-LATE").text)


@pytest.mark.parametrize(("changes", "path"), [
    ({"product": "l-leucine-nope"}, "product"),
    ({"quantity_g": 0}, "quantity_g"),
    ({"quantity_g": 5001}, "quantity_g"),
    ({"quantity_g": -5}, "quantity_g"),
    ({"quantity_g": "250"}, "quantity_g"),
    ({"quantity_g": 2.5}, "quantity_g"),
    ({"note": "x" * 2001}, "note"),
    ({"shipping_address": {**ADDRESS, "country": "XX"}}, "shipping_address.country"),
    ({"shipping_address": {**ADDRESS, "city": ""}}, "shipping_address.city"),
])
def test_bad_input_is_422_by_field_and_stores_nothing(api, stocked, changes, path):
    body = assert_problem(api.post("/api/v1/sample-requests", json={**SAMPLE, **changes}), 422, "validation-error")
    assert path in body["errors"], body
    assert db.session.scalar(select(func.count(SampleRequest.id))) == 0


def test_a_retry_with_the_same_key_asks_once(api, stocked):
    first = api.post("/api/v1/sample-requests", json=SAMPLE, key="sample-1")
    again = api.post("/api/v1/sample-requests", json=SAMPLE, key="sample-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count(SampleRequest.id))) == 1
    assert_problem(api.post("/api/v1/sample-requests", json={**SAMPLE, "quantity_g": 9}, key="sample-1"), 422,
                   "idempotency-key-reused")


def test_the_list_is_newest_first_with_a_cursor(api, stocked):
    numbers = [_ask(api, quantity_g=g)["number"] for g in (10, 20, 30)]
    first = api.get("/api/v1/sample-requests", query_string={"limit": 2}).get_json()
    assert [s["number"] for s in first["items"]] == numbers[:0:-1] and first["next_cursor"]
    rest = api.get("/api/v1/sample-requests", query_string={"limit": 2, "cursor": first["next_cursor"]}).get_json()
    assert [s["number"] for s in rest["items"]] == numbers[:1] and rest["next_cursor"] is None
    assert_problem(api.get("/api/v1/sample-requests", query_string={"cursor": "garbage"}), 422, "validation-error")


def test_a_buyer_asks_from_the_product_page_and_reads_it_in_the_account(app, api, stocked):
    buyer = _buyer(app)
    product_page = buyer.get("/products/l-leucine-usp").text
    assert 'href="/products/l-leucine-usp/sample"' in product_page and "Request a sample" in product_page
    form = buyer.get("/products/l-leucine-usp/sample").text
    assert 'name="quantity_g"' in form and 'value="Acme Nutrition"' in form  # the company as the recipient

    address = {**{k: v for k, v in ADDRESS.items()}, "line2": ""}
    refused = buyer.post("/products/l-leucine-usp/sample", data={**address, "quantity_g": "6000", "country": "DE"})
    assert refused.status_code == 422
    assert field_error(refused.text, "quantity_g") == "A whole number of grams from 1 to 5,000."
    no_city = buyer.post("/products/l-leucine-usp/sample", data={**address, "quantity_g": "100", "city": ""})
    assert no_city.status_code == 422 and field_error(no_city.text, "city")
    assert db.session.scalar(select(func.count(SampleRequest.id))) == 0

    asked = buyer.post("/products/l-leucine-usp/sample", data={**address, "quantity_g": "100", "note": "QC lab"})
    assert asked.status_code == 303
    number = f"S-{date.today().year}-00001"
    assert asked.location.endswith(f"/account/samples/{number}")
    shown = text_of(buyer.get(asked.location).text)
    assert f"Sample request {number}" in shown and "With our sales team" in shown and "100 g" in shown
    assert f"{ADDRESS['city']}, Germany" in shown  # the country named, as every page names it
    listed = text_of(buyer.get("/account/samples").text)
    assert number in listed and "Requested" in listed
    assert api.get(f"/api/v1/sample-requests/{number}").get_json()["note"] == "QC lab"
    # Once the buyer has ordered, the next request starts from where that order went, as checkout does.
    api.order()
    again = buyer.get("/products/l-leucine-usp/sample").text
    for field in ("name", "line1", "city", "postal_code"):
        assert f'value="{ADDRESS[field]}"' in again, field


def test_sales_decline_with_a_reason_the_buyer_reads_and_is_mailed(app, api, stocked):
    number = _ask(api)["number"]
    sales = _staff(app)
    empty = sales.post(f"/staff/samples/{number}/decline", data={"reason": "  "})
    assert empty.status_code == 422 and "Say why: the buyer reads it." in empty.text
    declined = sales.post(f"/staff/samples/{number}/decline", data={"reason": "We sample only to manufacturers."})
    assert declined.status_code == 302
    read = api.get(f"/api/v1/sample-requests/{number}").get_json()
    assert read["status"] == "declined" and read["decline_reason"] == "We sample only to manufacturers."
    assert "We cannot send this sample: We sample only to manufacturers." in text_of(
        _buyer(app).get(f"/account/samples/{number}").text)
    drain()
    [message] = [m for m in outbox_mail() if number in m.subject]
    assert message.to == ["buyer@acme.example"] and "We sample only to manufacturers." in message.body
    again = _ship(sales, number)  # answered: nothing more to do
    assert again.status_code == 302
    assert "was declined already" in sales.get(again.location).text
    assert _sample_movements() == []


def test_a_ship_form_with_mistakes_shows_them_beside_the_fields_and_changes_nothing(app, api, stocked):
    number = _ask(api)["number"]
    sales = _staff(app)
    too_many = _ship(sales, number, units="51")
    assert too_many.status_code == 422
    assert "Lot L-SOON has 50 units of LEU-USP-1KG free" in text_of(too_many.text)
    nothing = _ship(sales, number, lot_number="", units="", tracking_reference="")
    assert nothing.status_code == 422
    page = text_of(nothing.text)
    assert "Choose the lot the sample comes from." in page and "The carrier's tracking reference is required." in page
    assert "From stock: a whole number of units, at least 1." in page
    no_pack = _ship(sales, number, lot_number="L-LATE")  # L-LATE has no 1 kg tubs
    assert no_pack.status_code == 422 and "Lot L-LATE has no stock of LEU-USP-1KG." in text_of(no_pack.text)
    unknown = _ship(sales, number, lot_number="L-NONE")
    assert unknown.status_code == 422 and "Lot L-NONE is no released, unexpired lot" in text_of(unknown.text)
    assert api.get(f"/api/v1/sample-requests/{number}").get_json()["status"] == "requested"
    assert _sample_movements() == [] and _stock("L-SOON", "LEU-USP-1KG").on_hand == 50


def test_free_units_only_never_what_orders_hold(app, api, stocked):
    assert api.order([{"sku": "LEU-USP-25KG", "quantity": 6}]).status_code == 201  # takes L-SOON's 6 drums
    number = _ask(api)["number"]
    refused = _ship(_staff(app), number, source="LEU-USP-25KG", units="1")
    assert refused.status_code == 422
    assert "Lot L-SOON has 0 units of LEU-USP-25KG free (the rest is allocated or held)." in text_of(refused.text)


def test_only_sales_and_admin_work_the_sample_queue(app, api, stocked):
    number = _ask(api)["number"]
    warehouse = _staff(app, "warehouse")
    assert warehouse.get("/staff/samples").status_code == 403
    assert _ship(warehouse, number).status_code == 403
    assert warehouse.post(f"/staff/samples/{number}/decline", data={"reason": "no"}).status_code == 403
    assert _staff(app, "admin").get("/staff/samples").status_code == 200
    sales = _staff(app)
    assert 'href="/staff/samples"' in sales.get("/staff/samples").text
    assert sales.get("/staff/samples/S-2026-99999").status_code == 404
    assert api.get(f"/api/v1/sample-requests/{number}").get_json()["status"] == "requested"


@pytest.mark.slow
def test_samples_and_orders_racing_for_the_last_tubs_never_take_more_than_there_are(make_app, backend):
    """Sample shipments from stock and orders for the same five tubs at once: the row lock and the orders'
    conditional UPDATE let through no more than five, and the ledger still adds up."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 14, "max_overflow": 0, "pool_timeout": 60})
    with app.app_context():
        make_lot(make_product(), "L-TUBS", {"LEU-USP-1KG": 5})
        buyer = make_customer("buyer@acme.example", "Acme Nutrition")
        key = accounts.create_api_key(buyer, "race")
        staff_id = make_staff("sales").id
        numbers = [samples.request_sample(buyer, "l-leucine-usp", 100, None, ADDRESS).number for _ in range(6)]
        db.session.commit()
    barrier = threading.Barrier(len(numbers) + 4)

    def ship(number: str) -> bool:
        with app.app_context():
            barrier.wait()  # before any statement: on SQLite a transaction holds the database's write lock
            try:
                run_in_transaction(lambda: samples.ship_sample(number, "L-TUBS", "LEU-USP-1KG", 1, "TRK",
                                                               db.session.get(StaffUser, staff_id)))
                return True
            except InvalidInput:
                return False
            finally:
                db.session.remove()

    def order(i: int) -> bool:
        client = app.test_client()
        barrier.wait()
        answer = client.post("/api/v1/orders", headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"o{i}"},
                             json={"lines": [{"sku": "LEU-USP-1KG", "quantity": 1}], "shipping_address": ADDRESS})
        assert answer.status_code in (201, 409), answer.get_json()
        return answer.status_code == 201

    with ThreadPoolExecutor(max_workers=len(numbers) + 4) as pool:
        ships, orders = pool.map(ship, numbers), pool.map(order, range(4))  # all submitted before any waits
        shipped, ordered = sum(ships), sum(orders)
    with app.app_context():
        stock = db.session.scalar(select(Stock))
        assert shipped + ordered == 5 and (stock.on_hand, stock.allocated) == (5 - shipped, ordered)
        assert check_ledger() == []
