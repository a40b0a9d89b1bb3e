"""What the benchmark asks of the shop: shared by the load run and the statement count."""
from __future__ import annotations

import json

PRODUCT_SLUG = "l-leucine-usp"
PRODUCT_PATH = f"/products/{PRODUCT_SLUG}"
ORDER_SKU = "LEU-USP-1KG"  # a 1 kg pack
# Five different pack sizes across three grades: a SKU may appear on one line only.
FIVE_LINE_SKUS = ["LEU-USP-1KG", "LEU-USP-5KG", "LEU-USP-25KG", "LEU-EP-1KG", "LEU-FCC-1KG"]
# The bench's companies (bench/run.py makes them): one with contract prices on every bench SKU, one with a
# specification of the USP grade that every bench lot meets.
CUSTOMER_EMAIL, CUSTOMER_PASSWORD = "bench@leucine.example", "amber-harbour-load-2026"
SPEC_CUSTOMER_EMAIL, SPEC_CUSTOMER_PASSWORD = "bench-spec@leucine.example", "amber-harbour-spec-2026"
SHIPPING_ADDRESS = {"name": "Bench Buyer", "line1": "1 Load Street", "city": "Berlin",
                    "postal_code": "10115", "country": "DE"}


def order_body(skus: list[str], quantity: int = 1) -> bytes:
    """A POST /api/v1/orders body: one line per SKU, `quantity` units each."""
    return json.dumps({"lines": [{"sku": s, "quantity": quantity} for s in skus],
                       "shipping_address": SHIPPING_ADDRESS}).encode()
