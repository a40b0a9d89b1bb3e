"""Shelf life: the shop-wide default minimum for orders that ask for none, shown where customers order; the
warehouse warned of short-dated receipts; lots sold only on request; availability counting what an order gets."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shop import ordering
from shop.accounts import people as accounts
from shop.inventory import availability
from shop.inventory import lots as inventory
from shop.inventory.models import Batch
from shop.platform.audit import AuditEntry
from shop.platform.config import ConfigError, load_config
from shop.platform.errors import InsufficientStock
from shop.platform.extensions import db
from tests.support.factories import good_results, make_lot
from tests.support.staff import ADDRESS, place, sign_in, text_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"


def test_an_order_that_asks_for_no_shelf_life_gets_the_default_and_it_is_recorded(app, product, customer):
    make_lot(product, "L-60", {DRUM: 10}, expires_in_days=60)
    make_lot(product, "L-200", {DRUM: 3}, expires_in_days=200)
    order = place(customer, DRUM, 3)
    assert order.min_remaining_shelf_life_days == 90
    assert [a.stock.batch.lot_number for a in order.lines[0].allocations] == ["L-200"]
    with pytest.raises(InsufficientStock):  # the 60-day lot is not sold to an order that did not ask for it
        place(customer, DRUM, 1)
    db.session.rollback()
    short_dated = place(customer, DRUM, 2, min_days=30)  # a buyer who accepts it gets it
    assert [a.stock.batch.lot_number for a in short_dated.lines[0].allocations] == ["L-60"]


def test_availability_counts_only_what_an_order_would_get(app, client, product, customer):
    make_lot(product, "L-60", {DRUM: 10}, expires_in_days=60)  # within the default shelf life
    make_lot(product, "L-ASK", {DRUM: 7}, expires_in_days=500)
    inventory.set_on_request("L-ASK", True)
    make_lot(product, "L-OK", {DRUM: 4}, expires_in_days=400)
    db.session.commit()
    drums = next(v for v in product.variants if v.sku == DRUM)
    assert availability.available_by_variant([drums.id]) == {drums.id: 4}
    key = accounts.create_api_key(customer)
    db.session.commit()
    api = client.get("/api/v1/products/l-leucine-usp", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert {v["sku"]: v["available_quantity"] for v in api["variants"]}[DRUM] == 4
    page = client.get("/products/l-leucine-usp").text
    text = text_of(page)
    assert "4 in stock = 100 kg, each with more than 90 days of shelf life" in text
    assert "L-OK" in text and "L-60" not in text and "L-ASK" not in text
    assert "from lots with more than 90 days of shelf life left (our default minimum)" in text


def test_checkout_shows_the_default_shelf_life(app, client, product, customer):
    make_lot(product, "L-OK", {DRUM: 4})
    client.post("/sign-in", data={"email": customer.email, "password": "correct horse"})
    client.post("/cart/add", data={"sku": DRUM, "quantity": "1"})
    page = text_of(client.get("/checkout").text)
    assert "Leave it empty for our default of 90 days." in page


def test_receiving_a_lot_with_less_shelf_life_than_the_default_warns_the_warehouse(app, client, product):
    sign_in(client, "warehouse")
    drums = next(v for v in product.variants if v.sku == DRUM)
    page = client.post("/staff/batches/receive?product=l-leucine-usp", data={
        "lot_number": "L-SHORT", "manufactured_on": (date.today() - timedelta(days=700)).isoformat(),
        "expires_on": (date.today() + timedelta(days=45)).isoformat(), f"units_{drums.id}": "5"},
        follow_redirects=True)
    assert ("Lot L-SHORT has 45 days of shelf life left (expiry date "
            f"{(date.today() + timedelta(days=45)).isoformat()}): not more than the 90 days that orders get by "
            "default, so only an order asking for a shorter shelf life can receive it.") in text_of(page.text)
    fine = client.post("/staff/batches/receive?product=l-leucine-usp", data={
        "lot_number": "L-LONG", "manufactured_on": date.today().isoformat(),
        "expires_on": (date.today() + timedelta(days=700)).isoformat(), f"units_{drums.id}": "5"},
        follow_redirects=True)
    assert "shelf life left" not in fine.text


def test_import_batch_warns_of_a_short_dated_lot_too(app, runner, product, tmp_path):
    path = tmp_path / "short.json"
    path.write_text(json.dumps({"product": product.slug, "lot_number": "IMP-S",
                                "manufactured_on": (date.today() - timedelta(days=700)).isoformat(),
                                "expires_on": (date.today() + timedelta(days=10)).isoformat(),
                                "units": {DRUM: 2}, "results": good_results(product)}))
    result = runner.invoke(args=["shop", "import-batch", str(path)])
    assert result.exit_code == 0, result.output
    assert "Warning: Lot IMP-S has 10 days of shelf life left" in result.output


def test_a_lot_marked_sell_only_on_request_is_never_picked_first_expired_first_out(app, client, product, customer):
    make_lot(product, "L-ASK", {DRUM: 10}, expires_in_days=300)
    make_lot(product, "L-LATER", {DRUM: 10}, expires_in_days=600)
    staff = sign_in(client, "quality")
    page = client.post("/staff/batches/L-ASK/on-request", data={"on_request": "1"}, follow_redirects=True)
    assert "Lot L-ASK is now sold only on request" in page.text
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 3}], ADDRESS)
    db.session.commit()
    assert [a.stock.batch.lot_number for a in order.lines[0].allocations] == ["L-LATER"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "batch.on_request"))
    assert (entry.staff_id, entry.subject) == (staff.id, "lot L-ASK")
    client.post("/staff/batches/L-ASK/on-request", data={"on_request": "0"})
    assert db.session.scalar(select(Batch.on_request).where(Batch.lot_number == "L-ASK")) is False


def test_fulfilment_may_not_change_how_a_lot_is_sold(app, client, product):
    make_lot(product, "L-ASK", {DRUM: 10})
    sign_in(client, "fulfilment")
    assert client.post("/staff/batches/L-ASK/on-request", data={"on_request": "1"}).status_code == 403
    assert db.session.scalar(select(Batch.on_request)) is False


@pytest.mark.parametrize("raw", ["ninety", "-1", "1.5"])
def test_a_bad_default_shelf_life_setting_is_refused_with_its_name(monkeypatch, tmp_path, raw):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DEFAULT_MIN_SHELF_LIFE_DAYS", raw)
    with pytest.raises(ConfigError, match="^DEFAULT_MIN_SHELF_LIFE_DAYS must be a whole number"):
        load_config(str(tmp_path))
    monkeypatch.setenv("DEFAULT_MIN_SHELF_LIFE_DAYS", "120")
    assert load_config(str(tmp_path))["DEFAULT_MIN_SHELF_LIFE_DAYS"] == 120
