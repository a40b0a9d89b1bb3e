"""A lot's date says what it is: "Retest" on every page, slip and export where the lot carries a retest date (not
an expiry), and the trace CSV has a `date_kind` column; the recall trace never shows units that went back to stock
as shipped."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from shop import jobs, ordering
from shop.inventory import lots as inventory
from shop.inventory.models import DateKind
from shop.platform.extensions import db
from shop.quality import release
from tests.support.billing import ship_paid
from tests.support.factories import good_results, make_customer, make_lot, make_staff, releaser, signed, signed_recall
from tests.support.mail import drain, outbox_mail
from tests.support.staff import place, sign_in, text_of

pytestmark = pytest.mark.usefixtures("staff_clients")


# Dates read when used, not at import: a suite that runs past midnight must not expect yesterday's.
def retest_on() -> date:
    return date.today() + timedelta(days=420)


def expires_on() -> date:
    return date.today() + timedelta(days=700)


def _retest_lot(product, lot_number: str = "FD-RT1", units: int = 10):
    """A released lot whose date is a retest date, 420 days ahead."""
    batch = inventory.receive_batch(product.slug, lot_number, date.today() - timedelta(days=20), retest_on(),
                                    {"LEU-USP-25KG": units}, date_kind=DateKind.RETEST)
    release.record_results(batch, good_results(product))
    release.release_batch(batch, signed(releaser(), "release", lot_number))
    db.session.commit()
    return batch


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_product_page_says_retest_for_a_retest_lot_and_expiry_for_an_expiry_lot(client, product):
    _retest_lot(product)
    make_lot(product, "USP-EX1", {"LEU-USP-25KG": 5}, expires_in_days=700)
    text = text_of(client.get("/products/l-leucine-usp").text)
    assert f"Retest {retest_on().isoformat()} (due in 420 days)" in text
    assert f"Expiry {expires_on().isoformat()} (700 days left)" in text
    assert "Expiry / retest" in text


def test_staff_pages_and_packing_slip_say_retest(client, product, customer):
    _retest_lot(product)
    order = place(customer, "LEU-USP-25KG", 3)
    sign_in(client, "fulfilment")
    dated = f"Retest {retest_on().isoformat()}"

    order_page = text_of(client.get(f"/staff/orders/{order.number}").text)
    assert dated in order_page and "exp." not in order_page
    slip = text_of(client.get(f"/staff/orders/{order.number}/packing-slip").text)
    assert f"FD-RT1 {dated} 3" in slip
    assert "Expiry / retest" in slip
    trace_order = text_of(client.get(f"/staff/trace/order/{order.number}").text)
    assert f"FD-RT1 {dated}" in trace_order
    trace_lot = text_of(client.get("/staff/trace/lot/FD-RT1").text)
    assert f"retest date {retest_on().isoformat()}" in trace_lot and "expires" not in trace_lot
    batches = text_of(client.get("/staff/batches").text)
    assert dated in batches
    dashboard = text_of(client.get("/staff/").text)
    assert f"FD-RT1 released {dated}" in dashboard


def test_recall_page_says_retest(client, product, customer):
    _retest_lot(product)
    place(customer, "LEU-USP-25KG", 2)
    signed_recall("FD-RT1", "Assay drift")
    db.session.commit()
    sign_in(client, "quality")
    page = text_of(client.get("/staff/batches/FD-RT1/recall").text)
    assert f"retest date {retest_on().isoformat()}" in page and "expires" not in page


def test_trace_csv_adds_its_date_kind_column_after_the_first_ones(client, product, customer):
    _retest_lot(product)
    make_lot(product, "USP-EX1", {"LEU-USP-25KG": 5}, expires_in_days=700)
    place(customer, "LEU-USP-25KG", 12)  # 10 from FD-RT1 (it has the earlier date), 2 from USP-EX1
    sign_in(client, "quality")

    answer = client.get("/staff/trace/lot/FD-RT1.csv")
    header = answer.text.splitlines()[0].split(",")
    assert header[:13] == ["lot_number", "expires_on", "order_number", "order_status", "customer", "customer_email",
                           "sku", "quantity", "allocation_status", "allocated_at", "placed_at", "shipped_at",
                           "tracking_reference"]
    assert header[13:] == ["date_kind", "record", "quantity_g"]  # later columns (samples: #26) come after it
    [row] = _csv_rows(answer.text)
    assert (row["expires_on"], row["date_kind"]) == (retest_on().isoformat(), "retest")
    [other] = _csv_rows(client.get("/staff/trace/lot/USP-EX1.csv").text)
    assert (other["expires_on"], other["date_kind"]) == (expires_on().isoformat(), "expiry")


def test_recall_trace_does_not_show_returned_units_as_shipped(client, product):
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10}, expires_in_days=300)
    make_lot(product, "L-GOOD", {"LEU-USP-25KG": 10}, expires_in_days=900)
    buyer = make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    order = place(buyer, "LEU-USP-25KG", 4)  # from L-BAD, the earlier lot
    signed_recall("L-BAD", "Foreign particles")  # the order moves to L-GOOD
    ordering.confirm_order(order.number)
    ship_paid(order.number, "DHL-JJD0001")
    db.session.commit()
    sign_in(client, "quality")

    [bad] = _csv_rows(client.get("/staff/trace/lot/L-BAD.csv").text)
    assert bad["allocation_status"] == "returned_recalled" and bad["order_status"] == "shipped"
    assert (bad["shipped_at"], bad["tracking_reference"]) == ("", "")
    [good] = _csv_rows(client.get("/staff/trace/lot/L-GOOD.csv").text)
    assert good["allocation_status"] == "shipped" and good["shipped_at"] and good["tracking_reference"] == "DHL-JJD0001"

    trace = text_of(client.get("/staff/trace/lot/L-BAD").text)
    assert "returned to stock (lot recalled)" in trace
    row = trace.split(order.number)[1]
    assert "returned to stock (lot recalled) " + order.placed_at.strftime("%Y-%m-%d %H:%M UTC") + " — shipped" in row
    recall_page = text_of(client.get("/staff/batches/L-BAD/recall").text)
    assert "No unit of this lot has left the warehouse." in recall_page and "DHL-JJD0001" not in recall_page


def test_the_expiry_alert_says_retest_date_and_counts_the_free_kilograms(app, product):
    batch = inventory.receive_batch(product.slug, "FD-RT2", date.today() - timedelta(days=700),
                                    date.today() + timedelta(days=30), {"LEU-USP-25KG": 5}, date_kind=DateKind.RETEST)
    release.record_results(batch, good_results(product))
    release.release_batch(batch, signed(releaser(), "release", "FD-RT2"))
    db.session.commit()
    make_staff("warehouse")

    assert jobs.expiry_alert() == 1
    drain()
    (message,) = outbox_mail()
    retest_on = (date.today() + timedelta(days=30)).isoformat()
    # 30 days left is short-dated (orders skip it), but its 125 kg are still free to sell or use up.
    assert f"FD-RT2 (L-Leucine USP, released): retest date {retest_on}, 30 days left, 125 kg free" in message.body
    assert "expires" not in message.body
