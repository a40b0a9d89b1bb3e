"""Dashboard, orders and traceability pages: what they show, CSV export, and a flat SQL statement count."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shop import ordering
from shop.ordering.models import Order, OrderStatus, OrderStatusChange
from shop.platform.extensions import db
from shop.reporting import reports
from tests.support.billing import pay_in_full
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.sql import count_statements
from tests.support.staff import page_statements, place, sign_in, text_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("staff_clients")


def _grow(product, customers, start: int, stop: int, lot_prefix: str = "LOT"):
    """Lots start..stop-1, each drawn on by one order from a rotating customer."""
    for i in range(start, stop):
        make_lot(product, f"{lot_prefix}-{i:03d}", {"LEU-USP-25KG": 4, "LEU-USP-1KG": 3}, expires_in_days=60 + i * 20)
    for i in range(start, stop):
        place(customers[i % len(customers)], "LEU-USP-1KG", 1)


def test_dashboard_costs_the_same_statements_with_5_and_50_lots_and_orders(client, product):
    customers = [make_customer(f"c{i}@example.com", f"Customer {i}") for i in range(3)]
    make_lot(product, "QUAR-1", {"LEU-USP-25KG": 2}, status="quarantine")
    sign_in(client, "warehouse")
    _grow(product, customers, 0, 5)
    with_5 = page_statements(client, "/staff/")
    _grow(product, customers, 5, 50)
    with_50 = page_statements(client, "/staff/")
    assert with_5 == with_50
    assert "LOT-049" in client.get("/staff/").text


def test_lot_trace_costs_the_same_statements_with_5_and_50_orders(client, product):
    make_lot(product, "BIG", {"LEU-USP-1KG": 100})
    sign_in(client, "quality")

    def orders_from(start, stop):
        for i in range(start, stop):
            place(make_customer(f"t{i}@example.com", f"Trace Customer {i}"), "LEU-USP-1KG", 1)

    orders_from(0, 5)
    with_5 = page_statements(client, "/staff/trace/lot/BIG")
    csv_5 = page_statements(client, "/staff/trace/lot/BIG.csv")
    orders_from(5, 50)
    with_50 = page_statements(client, "/staff/trace/lot/BIG")
    assert (with_5, csv_5) == (with_50, page_statements(client, "/staff/trace/lot/BIG.csv"))
    assert "Trace Customer 49" in client.get("/staff/trace/lot/BIG").text


def test_dashboard_shows_stock_expiring_lots_low_stock_quarantine_and_the_chart(client, product):
    make_lot(product, "OLD", {"LEU-USP-25KG": 4}, expires_in_days=40)
    make_lot(product, "NEW", {"LEU-USP-25KG": 20, "LEU-USP-1KG": 6}, expires_in_days=400)
    make_lot(product, "WAIT", {"LEU-USP-25KG": 8}, status="quarantine")
    customer = make_customer()
    place(customer, "LEU-USP-25KG", 5, min_days=0)  # FEFO: 4 from OLD, 1 from NEW (no shelf life asked)
    sign_in(client, "fulfilment")
    text = text_of(client.get("/staff/").text)
    # per lot: on hand, allocated, available, in units and kg
    assert "OLD released " in text and "4 · 100 kg 4 · 100 kg 0 · 0 kg" in text
    assert "NEW released " in text and "20 · 500 kg 1 · 25 kg 19 · 475 kg" in text
    # the quarantined lot is on hand but not available
    assert "WAIT quarantine " in text and "8 · 200 kg 0 · 0 kg 0 · 0 kg" in text
    # per pack size: totals over its lots
    assert "LEU-USP-25KG (25 kg packs, 3 lots) 32 · 800 kg 5 · 125 kg 19 · 475 kg" in text
    # lots expiring within 90 days by default, and within a chosen number of days
    expiring = text.split("Lots expiring within 90 days")[1].split("Available kg by expiry month")[0]
    assert "OLD" in expiring and "NEW" not in expiring
    wider = text_of(client.get("/staff/?days=500").text)
    assert "NEW" in wider.split("Lots expiring within 500 days")[1].split("Available kg by expiry month")[0]
    # low stock: the 1 kg bags (6 < 10); the quarantine queue with its QC progress
    assert "LEU-USP-1KG L-Leucine USP 6" in text
    assert "WAIT L-Leucine USP" in text and "0 / 13" in text
    page = client.get("/staff/").text
    new_month = (date.today() + timedelta(days=400)).strftime("%Y-%m")
    assert f"<title>{new_month}: 481 kg</title>" in page  # 19 drums + 6 bags
    assert page.count("<h1") == 1


def test_dashboard_refuses_a_silly_number_of_days_without_crashing(client, product):
    sign_in(client, "warehouse")
    page = client.get("/staff/?days=-4")
    assert page.status_code == 200 and "Lots expiring within 90 days" in page.text
    assert "Number must be between 0 and 3650." in page.text


def test_lot_trace_lists_every_order_and_customer_and_its_csv_has_one_row_per_allocation(client, product):
    make_lot(product, "A-1", {"LEU-USP-25KG": 3}, expires_in_days=200)
    make_lot(product, "B-2", {"LEU-USP-25KG": 10}, expires_in_days=400)
    alpha = make_customer("alpha@example.com", "=Alpha Foods")
    beta = make_customer("beta@example.com", "Beta Labs")
    split = place(alpha, "LEU-USP-25KG", 5)  # 3 from A-1, 2 from B-2
    second = place(beta, "LEU-USP-25KG", 4)  # from B-2
    third = place(alpha, "LEU-USP-25KG", 1)  # from B-2
    ordering.cancel_order(third.number)
    db.session.commit()
    sign_in(client, "quality")
    text = text_of(client.get("/staff/trace/lot/B-2").text)
    assert f"{split.number} =Alpha Foods alpha@example.com LEU-USP-25KG 2 allocated" in text
    assert f"{second.number} Beta Labs beta@example.com LEU-USP-25KG 4 allocated" in text
    assert f"{third.number} =Alpha Foods alpha@example.com LEU-USP-25KG 1 returned to stock (cancelled)" in text

    response = client.get("/staff/trace/lot/B-2?format=csv")
    assert response.mimetype == "text/csv"
    assert 'filename="trace-lot-B-2.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["order_number"], r["quantity"], r["allocation_status"]) for r in rows] == [
        (split.number, "2", "allocated"), (second.number, "4", "allocated"), (third.number, "1", "returned_cancelled")]
    assert rows[0]["customer"] == "'=Alpha Foods"  # never a live spreadsheet formula
    assert {r["lot_number"] for r in rows} == {"B-2"}
    assert client.get("/staff/trace/lot/B-2.csv").text == response.text

    order_csv = list(csv.DictReader(io.StringIO(client.get(f"/staff/trace/order/{split.number}.csv").text)))
    assert [(r["lot_number"], r["quantity"]) for r in order_csv] == [("A-1", "3"), ("B-2", "2")]
    assert client.get("/staff/trace/lot/NOPE").status_code == 404


def test_fulfilment_confirms_ships_and_delivers_and_history_names_who(client, product, customer):
    make_lot(product, "L-F", {"LEU-USP-25KG": 10})
    order = place(customer, "LEU-USP-25KG", 3)
    staff = sign_in(client, "fulfilment")
    assert "Confirm order" in client.get(f"/staff/orders/{order.number}").text
    assert f"Order {order.number} confirmed." in client.post(f"/staff/orders/{order.number}/confirm",
                                                             follow_redirects=True).text
    pay_in_full(order.number)
    no_tracking = client.post(f"/staff/orders/{order.number}/ship", data={"tracking_reference": ""})
    assert no_tracking.status_code == 422 and 'id="tracking_reference-error"' in no_tracking.text
    shipped = client.post(f"/staff/orders/{order.number}/ship", data={"tracking_reference": "DHL 0042"},
                          follow_redirects=True)
    assert f"Order {order.number} shipped." in shipped.text and "DHL 0042" in shipped.text
    client.post(f"/staff/orders/{order.number}/deliver")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.DELIVERED
    changes = db.session.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order.id)
                                 .order_by(OrderStatusChange.id)).all()
    assert [(c.to_status.value, c.staff_id) for c in changes] == [
        ("pending", None), ("confirmed", staff.id), ("shipped", staff.id), ("delivered", staff.id)]


def test_an_illegal_transition_is_a_message_and_changes_nothing(client, product, customer):
    make_lot(product, "L-X", {"LEU-USP-25KG": 10})
    order = place(customer, "LEU-USP-25KG", 1)
    sign_in(client, "fulfilment")
    page = client.post(f"/staff/orders/{order.number}/deliver", follow_redirects=True)
    assert page.status_code == 200
    assert f"Order {order.number} is pending and cannot be delivered." in page.text
    cancelled = client.post(f"/staff/orders/{order.number}/cancel", data={"reason": "customer called",
                                                                          "confirmed": "1"}, follow_redirects=True)
    assert "cancelled; its units are back in stock" in cancelled.text
    again = client.post(f"/staff/orders/{order.number}/confirm", follow_redirects=True)
    assert f"Order {order.number} is cancelled and cannot be confirmed." in again.text


@pytest.mark.parametrize(("action", "data"), [
    ("confirm", {}), ("ship", {"tracking_reference": "DHL 1"}), ("deliver", {}), ("cancel", {"reason": "x"}),
    ("attention", {"note": "x"}), ("ship", {"tracking_reference": ""})])
def test_an_action_on_an_unknown_order_is_404(client, action, data):
    sign_in(client, "fulfilment")
    assert client.post(f"/staff/orders/LS-000000-NOPE/{action}", data=data).status_code == 404


def test_an_action_reads_the_order_once(client, product, customer):
    """The service looks the order up (and locks it); the view does not load it beforehand as well."""
    make_lot(product, "L-ONCE", {"LEU-USP-25KG": 10})
    order = place(customer, "LEU-USP-25KG", 1)
    sign_in(client, "fulfilment")
    db.session.remove()
    with count_statements() as seen:
        assert client.post(f"/staff/orders/{order.number}/confirm").status_code == 302
    order_reads = [s for s in seen if s.lstrip().upper().startswith("SELECT") and 'FROM "order"' in s]
    assert len(order_reads) == 1, "\n\n".join(order_reads)


def test_order_list_filters_by_status_customer_and_date_and_pages(client, product):
    make_lot(product, "L-O", {"LEU-USP-1KG": 100})
    acme = make_customer("buyer@acme.example", "Acme Nutrition")
    zeta = make_customer("orders@zeta.example", "Zeta Pharma")
    placed = [place(acme if i % 2 else zeta, "LEU-USP-1KG", 1) for i in range(7)]
    ordering.confirm_order(placed[0].number)
    db.session.commit()
    sign_in(client, "fulfilment")
    confirmed = client.get("/staff/orders?status=confirmed").text
    assert placed[0].number in confirmed and placed[1].number not in confirmed
    by_company = client.get("/staff/orders?customer=ZETA").text
    assert all((o.number in by_company) == (o.customer_id == zeta.id) for o in placed)
    by_email = client.get("/staff/orders?customer=acme.example").text
    assert all((o.number in by_email) == (o.customer_id == acme.id) for o in placed)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert "No order matches." in client.get(f"/staff/orders?date_from={tomorrow}").text
    # keyset pages of 3: every order once, newest first

    seen, cursor = [], None
    while True:
        page = reports.order_page(cursor=cursor, limit=3)
        seen += [o.number for o in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [o.number for o in reversed(placed)]
    assert client.get("/staff/orders?cursor=%%%").status_code == 400


def test_packing_slip_lists_each_lines_lots_and_expiry_dates(client, product, customer):
    soon = make_lot(product, "L-SOON", {"LEU-USP-25KG": 2}, expires_in_days=200)
    late = make_lot(product, "L-LATE", {"LEU-USP-25KG": 9}, expires_in_days=500)
    order = place(customer, "LEU-USP-25KG", 5)
    sign_in(client, "warehouse")
    page = client.get(f"/staff/orders/{order.number}/packing-slip")
    text = text_of(page.text)
    # 5 drums, 125 kg net, gross unknown (the test pack size has no tare recorded)
    assert f"LEU-USP-25KG 25 kg 5 125 kg — L-SOON Expiry {soon.expires_on.isoformat()} 2" in text
    assert f"L-LATE Expiry {late.expires_on.isoformat()} 3" in text
    assert "@media print" in client.get("/static/staff.css").text


def test_other_products_do_not_leak_into_a_lot_trace(client, product, customer):
    other = make_product("l-leucine-fcc", "FCC", "LEU-FCC")
    make_lot(product, "USP-T", {"LEU-USP-1KG": 5})
    make_lot(other, "FCC-T", {"LEU-FCC-1KG": 5})
    usp = place(customer, "LEU-USP-1KG", 1)
    fcc = place(customer, "LEU-FCC-1KG", 1)
    sign_in(client, "fulfilment")
    text = client.get("/staff/trace/lot/FCC-T").text
    assert fcc.number in text and usp.number not in text
