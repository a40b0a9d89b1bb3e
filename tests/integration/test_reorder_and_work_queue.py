"""Finding 8: "Order again" from a past order, the staff dashboard's work queue before stock, and a packing
slip with shipper, consignee, weights and packages."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from shop.catalog.models import Variant
from shop.platform.extensions import db
from tests.support.factories import make_customer, make_lot, make_product, recall_leaving_short
from tests.support.staff import ADDRESS, place, text_of  # noqa: F401
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in


def _variant(sku: str) -> Variant:
    return db.session.scalar(select(Variant).where(Variant.sku == sku))


def test_order_again_fills_the_cart_at_todays_prices_and_flags_what_changed(app, client, product, customer):
    from shop import ordering

    make_lot(product, "L-1", {"LEU-USP-25KG": 10, "LEU-USP-1KG": 20})
    ep = make_product("l-leucine-ep", "EP", "LEU-EP")
    make_lot(ep, "EP-1", {"LEU-EP-1KG": 5})
    order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 2}, {"sku": "LEU-USP-1KG",
                                                                                     "quantity": 15},
                                          {"sku": "LEU-EP-1KG", "quantity": 1}], ADDRESS)
    db.session.commit()
    number = order.number
    # Since then: the drum costs more, another buyer took most 1 kg packs, the EP 1 kg pack is withdrawn.
    _variant("LEU-USP-25KG").unit_price = Decimal("2050.00")
    _variant("LEU-EP-1KG").active = False
    place(make_customer("other@example.com", "Other"), "LEU-USP-1KG", 3)
    db.session.commit()

    sign_in(client)
    assert "Order again" in client.get(f"/orders/{number}").text
    answer = client.post(f"/orders/{number}/reorder", follow_redirects=True)
    assert answer.request.path == "/cart"
    cart = text_of(answer.text)
    assert "4,100.00 EUR" in cart  # 2 drums at today's price
    assert "1,950.00 EUR" in cart and "2,050.00 EUR" in cart  # the price change is flagged: was and now
    assert "Only 2 available now" in cart  # 15 wanted again, 2 left
    assert "No longer sold, so not added: LEU-EP-1KG." in cart
    with client.session_transaction() as session:
        assert session["cart"] == {"LEU-USP-25KG": 2, "LEU-USP-1KG": 15}


def test_order_again_of_someone_elses_order_is_404(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 10})
    other = place(make_customer("other@example.com", "Other"), "LEU-USP-25KG", 1)
    sign_in(client)
    assert client.post(f"/orders/{other.number}/reorder").status_code == 404
    with client.session_transaction() as session:
        assert not session.get("cart")


@pytest.mark.usefixtures("staff_clients")
def test_staff_dashboard_opens_with_the_work_queue_before_stock(client, product, customer):
    from shop import ordering

    make_lot(product, "L-OK", {"LEU-USP-1KG": 50}, expires_in_days=900)
    doomed = make_lot(product, "L-DOOMED", {"LEU-USP-25KG": 5})
    to_confirm = place(customer, "LEU-USP-1KG", 2).number
    confirmed = place(customer, "LEU-USP-1KG", 3).number
    ordering.confirm_order(confirmed)
    short = place(customer, "LEU-USP-25KG", 4).number
    recall_leaving_short(doomed.lot_number, "contaminated")  # no other drums: the order falls short
    db.session.commit()

    staff_sign_in(client, "fulfilment")
    html = client.get("/staff/").text
    assert html.index("Work queue") < html.index("Stock per product")
    queue = text_of(html[html.index("Work queue"):html.index("Stock per product")])
    to_confirm_part = queue[queue.index("To confirm"):queue.index("Needs attention")]
    # A short order cannot be confirmed: it waits under "Short", not "To confirm".
    assert to_confirm in to_confirm_part and short not in to_confirm_part and confirmed not in to_confirm_part
    attention_part = queue[queue.index("Needs attention"):queue.index("Short")]
    assert short in attention_part and to_confirm not in attention_part
    short_part = queue[queue.index("Short"):]
    assert short in short_part and "0 of 4" in short_part and confirmed not in short_part


@pytest.mark.usefixtures("staff_clients")
def test_packing_slip_has_shipper_consignee_net_and_gross_weights_and_packages(client, product, customer):
    _variant("LEU-USP-25KG").tare_kg = Decimal("1.9")
    _variant("LEU-USP-1KG").tare_kg = Decimal("0.15")
    db.session.commit()
    make_lot(product, "L-1", {"LEU-USP-25KG": 10, "LEU-USP-1KG": 20})
    from shop import ordering

    order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 4},
                                          {"sku": "LEU-USP-1KG", "quantity": 10}], ADDRESS)
    db.session.commit()
    staff_sign_in(client, "warehouse")
    slip = text_of(client.get(f"/staff/orders/{order.number}/packing-slip").text)
    assert "Shipper" in slip and "Consignee Goods In" in slip and "Acme Nutrition" in slip
    assert "100 kg 107.6 kg" in slip  # 4 drums: net, gross
    assert "10 kg 11.5 kg" in slip  # 10 bags of 1 kg
    assert "Total 14 packages 110 kg 119.1 kg" in slip
