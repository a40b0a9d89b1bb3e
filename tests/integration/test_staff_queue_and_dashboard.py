"""Staff: the "To confirm" queue holds only orders that can be confirmed, the order filter names statuses in words,
and the dashboard shows lots with less than the default shelf life as short-dated, not available."""
from __future__ import annotations

import pytest

from shop.ordering.work_queue import work_queue
from tests.support.factories import make_customer, make_lot, recall_leaving_short
from tests.support.staff import place, sign_in, text_of

pytestmark = pytest.mark.usefixtures("staff_clients")


def test_to_confirm_lists_no_short_order(client, product, customer):
    make_lot(product, "L-OK", {"LEU-USP-1KG": 50}, expires_in_days=900)
    doomed = make_lot(product, "L-DOOMED", {"LEU-USP-25KG": 5})
    ready = place(customer, "LEU-USP-1KG", 2).number
    short = place(customer, "LEU-USP-25KG", 4).number
    recall_leaving_short(doomed.lot_number, "contaminated")  # no other drums: the pending order falls short

    queue = work_queue()
    assert [o.number for o in queue.to_confirm.orders] == [ready] and queue.to_confirm.count == 1
    assert [o.number for o in queue.short.orders] == [short]
    sign_in(client, "fulfilment")
    html = client.get("/staff/").text
    to_confirm = text_of(html[html.index('<h3 id="q-confirm"'):html.index('<h3 id="q-attention"')])
    assert to_confirm.startswith("To confirm 1 ") and ready in to_confirm and short not in to_confirm
    # ...and the order it would lead to indeed cannot be confirmed.
    refused = client.post(f"/staff/orders/{short}/confirm", follow_redirects=True)
    assert "short" in text_of(refused.text).lower()


def test_the_order_status_filter_names_statuses_in_words(client):
    sign_in(client, "fulfilment")
    html = client.get("/staff/orders").text
    options = text_of(html[html.index('<select id="status"'):html.index("</select>")])
    assert options == "Any status Awaiting approval Pending Confirmed Partially shipped Shipped Delivered Cancelled"
    assert "Awaiting_approval" not in html


def test_dashboard_shows_a_lot_with_less_than_the_default_shelf_life_as_short_dated(client, product, app):
    assert app.config["DEFAULT_MIN_SHELF_LIFE_DAYS"] == 90
    make_lot(product, "L-SHORT", {"LEU-USP-25KG": 6}, expires_in_days=60)
    make_lot(product, "L-FRESH", {"LEU-USP-25KG": 4}, expires_in_days=400)
    sign_in(client, "warehouse")
    text = text_of(client.get("/staff/").text)
    stock = text[text.index("Stock per product"):]
    # The short-dated lot: on hand and free, but not what an order asking for no shelf life gets.
    assert "L-SHORT released short-dated Expiry " in stock and "6 · 150 kg 0 · 0 kg 0 · 0 kg" in stock
    assert "L-FRESH released Expiry " in stock and "4 · 100 kg 0 · 0 kg 4 · 100 kg" in stock
    assert "LEU-USP-25KG (25 kg packs, 2 lots) 10 · 250 kg 0 · 0 kg 4 · 100 kg" in stock
    # The same number the storefront shows for sale.
    assert "4 in stock" in text_of(client.get("/products/l-leucine-usp").text)
    # Low stock counts what can be sold: 4 drums < 10.
    low = text[text.index("Low stock"):text.index("Lots expiring within")]
    assert "LEU-USP-25KG L-Leucine USP 4" in low
    # The expiring list still shows the short-dated lot's free kilograms, for the team to sell or use up.
    expiring = text[text.index("Lots expiring within 90 days"):text.index("Available kg by expiry month")]
    assert "L-SHORT L-Leucine USP released Expiry " in expiring and "150 kg 150 kg" in expiring


def test_short_dated_lot_still_goes_to_an_order_that_asks_for_less_shelf_life(client, product):
    make_lot(product, "L-SHORT", {"LEU-USP-25KG": 6}, expires_in_days=60)
    buyer = make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    place(buyer, "LEU-USP-25KG", 2, min_days=30)
    sign_in(client, "warehouse")
    stock = text_of(client.get("/staff/").text).split("Stock per product")[1]
    assert "L-SHORT released short-dated Expiry " in stock and "6 · 150 kg 2 · 50 kg 0 · 0 kg" in stock


def test_to_confirm_links_to_the_pending_orders_without_miscounting_them(client, product, customer):
    make_lot(product, "L-OK", {"LEU-USP-1KG": 50}, expires_in_days=900)
    doomed = make_lot(product, "L-DOOMED", {"LEU-USP-25KG": 5})
    place(customer, "LEU-USP-1KG", 2)
    place(customer, "LEU-USP-25KG", 4)
    recall_leaving_short(doomed.lot_number, "contaminated")
    sign_in(client, "fulfilment")
    html = client.get("/staff/").text
    card = text_of(html[html.index('<h3 id="q-confirm"'):html.index('<h3 id="q-attention"')])
    # One order to confirm; the order list's pending filter shows two (the short one too): the link says so.
    assert card.startswith("To confirm 1 ") and "Every pending order in the order list" in card
    assert "All 1 in the order list" not in card
