"""In chromium: fulfilment ships part of an order from its page (three of five drums, from the lot they choose), then
the rest; the packing slip of the second shipment lists only its lot; the buyer's order page shows both shipments
and, between them, what is still to come, at 1280 px and on a phone. Screenshots shipments-*."""
from __future__ import annotations

import re

import pytest

from shop import ordering
from shop.inventory import lots as inventory
from shop.platform.extensions import db
from tests.support.billing import pay_in_full
from tests.support.browser import (
    DESKTOP,
    PHONE,
    axe_violations,
    buyer_signed_in,
    overflow,
    screenshot,
    staff_signed_in,
)
from tests.support.factories import make_customer, make_lot, make_staff
from tests.support.staff import ADDRESS

pytestmark = pytest.mark.browser
DRUM = "LEU-USP-25KG"


def _text(locator) -> str:
    return re.sub(r"\s+", " ", locator.inner_text())


def test_fulfilment_ships_part_then_the_rest_and_the_buyer_sees_both(live_server, new_page, product):
    customer = make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    make_lot(product, "L-EARLY", {DRUM: 2}, expires_in_days=300)
    make_lot(product, "L-LATE", {DRUM: 6}, expires_in_days=600)
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 5}], ADDRESS)
    db.session.commit()
    ordering.confirm_order(order.number)
    db.session.commit()
    pay_in_full(order.number)  # prepaid: finance records the payment before it may ship
    number = order.number
    make_staff("fulfilment")

    staff = staff_signed_in(new_page, live_server)
    staff.goto(live_server + f"/staff/orders/{number}")
    form = staff.locator("form.ship-form")
    assert staff.get_by_label("LEU-USP-25KG: units to ship").input_value() == "5"
    staff.get_by_label("LEU-USP-25KG: units to ship").fill("3")
    staff.get_by_label("LEU-USP-25KG: from lot").select_option("L-LATE")
    staff.get_by_label("Carrier").fill("DHL Freight")
    staff.get_by_label("Tracking reference").fill("JJD0099000123456")
    form.scroll_into_view_if_needed()
    assert axe_violations(staff) == []
    screenshot(staff, "shipments-ship-form")
    staff.get_by_role("button", name="Ship these units").click()
    assert (f"Shipment {number}-S1 shipped (3 units); order {number} is partially shipped."
            in _text(staff.locator(".flashes")))
    assert f"{number}-S1" in _text(staff.locator("table.shipments"))

    # The buyer, between the two shipments: what left, and what is still to come.
    buyer = buyer_signed_in(new_page, live_server, "buyer@northwind.example", "correct horse", DESKTOP)
    buyer.goto(live_server + f"/orders/{number}")
    assert "3 units of LEU-USP-25KG, lot L-LATE" in _text(buyer.locator(".order-shipments"))
    assert "LEU-USP-25KG 2 2 0" in _text(buyer.locator(".order-to-come"))
    assert overflow(buyer) == 0
    screenshot(buyer, "shipments-buyer-partly-shipped-1280")

    # The rest: earliest expiry first, by default everything allocated and not shipped.
    staff.goto(live_server + f"/staff/orders/{number}")
    assert staff.get_by_label("LEU-USP-25KG: units to ship").input_value() == "2"
    staff.get_by_label("Carrier").fill("UPS")
    staff.get_by_label("Tracking reference").fill("1Z999AA10123456784")
    staff.get_by_role("button", name="Ship these units").click()
    assert f"Order {number} shipped. Shipment {number}-S2: 2 units." in _text(staff.locator(".flashes"))
    screenshot(staff, "shipments-staff-order-shipped")
    staff.get_by_role("link", name=f"Packing slip {number}-S2").click()
    slip = _text(staff.locator(".slip"))
    assert f"Packing slip · shipment {number}-S2" in slip and "L-EARLY" in slip and "L-LATE" not in slip
    assert "Packages 2" in slip and "Net weight 50 kg" in slip and "1Z999AA10123456784" in slip
    assert axe_violations(staff) == []
    screenshot(staff, "shipments-packing-slip-S2")

    buyer.goto(live_server + f"/orders/{number}")
    shipments = _text(buyer.locator(".order-shipments"))
    assert f"{number}-S1" in shipments and f"{number}-S2" in shipments and "UPS" in shipments
    assert buyer.locator(".order-to-come").count() == 0
    assert overflow(buyer) == 0 and axe_violations(buyer) == []
    screenshot(buyer, "shipments-buyer-order-1280")
    phone = buyer_signed_in(new_page, live_server, "buyer@northwind.example", "correct horse", PHONE)
    phone.goto(live_server + f"/orders/{number}")
    assert overflow(phone) == 0
    screenshot(phone, "shipments-buyer-order-phone")
    assert inventory.check_ledger() == []
