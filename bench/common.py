"""What the benchmark asks of the shop: shared by the load run and the statement count."""
from __future__ import annotations

import json

PRODUCT_SLUG = "l-leucine-usp"
PRODUCT_PATH = f"/products/{PRODUCT_SLUG}"
ORDER_SKU = "LEU-USP-1KG"  # a 1 kg pack
# Five different pack sizes across three grades: a SKU may appear on one line only.
FIVE_LINE_SKUS = ["LEU-USP-1KG", "LEU-USP-5KG", "LEU-USP-25KG", "LEU-EP-1KG", "LEU-FCC-1KG"]
SHIPPING_ADDRESS = {"name": "Bench Buyer", "line1": "1 Load Street", "city": "Berlin",
                    "postal_code": "10115", "country": "DE"}


def order_body(skus: list[str], quantity: int = 1) -> bytes:
    """A POST /api/v1/orders body: one line per SKU, `quantity` units each."""
    return json.dumps({"lines": [{"sku": s, "quantity": quantity} for s in skus],
                       "shipping_address": SHIPPING_ADDRESS}).encode()
