"""Issue 26's setup: 100 answered quotes holding stock, so that the order benchmark runs with open holds in the
database (held units are allocated on the very stock rows the bench orders draw from).

Run by bench/run.py as `python bench/holds.py` with DATABASE_URL pointing at bench_shop, after the bench customer
exists; the quotes are a third bench company's, answered by the demo admin with a hold through the sales services.
Prints one JSON object on stdout: the quotes answered and the units they hold.
"""
from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import FIVE_LINE_SKUS  # noqa: E402
from shop import create_app, sales  # noqa: E402
from shop.accounts import people  # noqa: E402
from shop.accounts.models import Customer, StaffUser  # noqa: E402
from shop.catalog import price_lists  # noqa: E402
from shop.platform.extensions import db  # noqa: E402

QUOTES = 100
HOLDER_EMAIL = "bench-quotes@leucine.example"


def main() -> int:
    app = create_app()
    with app.app_context():
        buyer = db.session.scalar(select(Customer).where(Customer.email == HOLDER_EMAIL))
        if buyer is None:
            buyer = people.create_customer(HOLDER_EMAIL, "amber-harbour-quotes-2026", "Bench Quotes Ltd")
            db.session.commit()
        seller = db.session.scalar(select(StaffUser).where(StaffUser.email == "admin@leucine.example"))
        valid_until = price_lists.today() + timedelta(days=14)
        held = 0
        for n in range(QUOTES):
            skus = FIVE_LINE_SKUS[: 1 + n % len(FIVE_LINE_SKUS)]  # 1 to 5 lines
            lines = [{"sku": sku, "quantity": 2 + n % 3} for sku in skus]
            number = sales.request_quote(sales.RequestQuote(buyer, lines)).quote["number"]
            quote = sales.answer_quote(number, {i: "100.00" for i in range(len(lines))}, valid_until, "", True,
                                       seller)
            held += sum(line.held_quantity for line in quote.lines)
            db.session.commit()
    print(json.dumps({"quotes": QUOTES, "held_units": held}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
