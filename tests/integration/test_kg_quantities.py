"""Finding 3: where different pack sizes meet, quantities are kg, never a sum of units of unlike packs."""
from __future__ import annotations

from decimal import Decimal

import pytest

from shop.catalog.models import Variant
from shop.platform.extensions import db
from tests.support.factories import make_lot
from tests.support.staff import sign_in as staff_sign_in
from tests.support.staff import text_of  # noqa: F401


@pytest.fixture
def mixed_lot(product):
    """30 x 1 kg + 10 x 5 kg + 20 x 25 kg = 580 kg in one lot (60 units of unlike packs)."""
    product.variants.append(Variant(sku="LEU-USP-5KG", pack_size_kg=Decimal("5"), unit_price=Decimal("430.00")))
    db.session.commit()
    return make_lot(product, "USP-MIX", {"LEU-USP-1KG": 30, "LEU-USP-5KG": 10, "LEU-USP-25KG": 20})


@pytest.mark.usefixtures("staff_clients")
def test_batch_list_shows_kg_on_hand_not_a_sum_of_units(client, mixed_lot):
    staff_sign_in(client, "warehouse")
    row = next(r for r in client.get("/staff/batches").text.split("<tr") if "USP-MIX" in r)
    assert "580 kg" in text_of(row)
    assert ">60<" not in row


@pytest.mark.usefixtures("staff_clients")
def test_lot_page_totals_the_lot_in_kg(client, mixed_lot):
    staff_sign_in(client, "warehouse")
    text = text_of(client.get("/staff/batches/USP-MIX").text)
    assert "Whole lot 580 kg" in text
    assert "20 drums" not in text and "60 units" not in text


def test_cart_badge_counts_lines_not_units_of_unlike_packs(app, client, product):
    make_lot(product, "L-1", {"LEU-USP-25KG": 10, "LEU-USP-1KG": 60})
    client.post("/cart/add", data={"sku": "LEU-USP-25KG", "quantity": "3"})
    client.post("/cart/add", data={"sku": "LEU-USP-1KG", "quantity": "50"})
    nav = text_of(client.get("/").text.split("</nav>")[0])
    assert "Cart (2 lines)" in nav
    assert "53" not in nav
