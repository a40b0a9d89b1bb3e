"""Count the SQL statements that one request costs, in-process, with Flask's test client.

Run by bench/run.py as `python bench/sqlcount.py` with DATABASE_URL pointing at bench_shop and
BENCH_API_KEY set; prints one JSON object on stdout. Each case is requested once untimed first
(so that one-off work such as the first connection's dialect queries is not counted), then once
more with a `before_cursor_execute` listener on the engine: every statement sent through a
cursor counts once (an executemany or a batched INSERT counts once per round trip). BEGIN,
COMMIT and ROLLBACK are not statements sent through a cursor; they are counted apart.

A cursor call counts as one statement, with one exception: an `executemany` with N parameter sets
(the ORM's UPDATE of several stock rows) counts N, since the server runs N statements even when
psycopg pipelines them into one round trip. A batched `INSERT ... VALUES (...), (...)` (SQLAlchemy's
insertmanyvalues) is one statement and counts once. Round trips (cursor calls) are reported too.
"""
from __future__ import annotations

import json
import os
import re
import sys
import uuid
from functools import partial
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CUSTOMER_EMAIL,
    CUSTOMER_PASSWORD,
    FIVE_LINE_SKUS,
    ORDER_SKU,
    PRODUCT_PATH,
    SHIPPING_ADDRESS,
    SPEC_CUSTOMER_EMAIL,
    SPEC_CUSTOMER_PASSWORD,
    order_body,
)
from shop import create_app
from shop.platform.extensions import db


def _hidden(page: str, name: str) -> str:
    """The value of a form's hidden input `name` on an HTML page."""
    found = re.search(rf'name="{name}"[^>]*value="([^"]+)"', page)
    if found is None:
        raise SystemExit(f"no hidden field {name!r} on the page: {page[:300]!r}")
    return found.group(1)


def signed_in(app, email: str, password: str):
    """A test client of its own, signed in on the storefront as a person would (CSRF token and all)."""
    client = app.test_client()
    token = _hidden(client.get("/sign-in").get_data(as_text=True), "csrf_token")
    answer = client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password})
    if answer.status_code != 302:
        raise SystemExit(f"signing in as {email} answered {answer.status_code}")
    return client


def checkout(client):
    """A storefront checkout POST of a cart of one 1 kg pack, the cart filled and the checkout page read before it
    (not counted): returns the POST as a callable."""
    product = client.get(PRODUCT_PATH).get_data(as_text=True)
    client.post("/cart/add", data={"csrf_token": _hidden(product, "csrf_token"), "sku": ORDER_SKU, "quantity": "1"})
    page = client.get("/checkout").get_data(as_text=True)
    form = {"csrf_token": _hidden(page, "csrf_token"), "token": _hidden(page, "token"),
            "name": SHIPPING_ADDRESS["name"], "line1": SHIPPING_ADDRESS["line1"], "city": SHIPPING_ADDRESS["city"],
            "postal_code": SHIPPING_ADDRESS["postal_code"], "country": SHIPPING_ADDRESS["country"]}
    return lambda: client.post("/checkout", data=form)


def main() -> int:
    key = os.environ["BENCH_API_KEY"]
    app = create_app()
    out: dict[str, dict] = {}
    with app.app_context():
        engine = db.engine
    # The requests run outside that app context, so each one gets its own context and session, as under
    # gunicorn: with an outer context pushed, Flask would reuse it and the session (with its identity map
    # and open transaction) would carry over from one request to the next.
    statements: list[str] = []
    weights: list[int] = []  # statements the server runs for each cursor call
    tx = {"commit": 0, "rollback": 0, "checkout": 0}
    pre_ping = bool(engine.pool._pre_ping)

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        n = 1
        if executemany and isinstance(parameters, (list, tuple)) and parameters \
                and isinstance(parameters[0], (dict, list, tuple)):
            n = len(parameters)
        weights.append(n)
        statements.append(" ".join(statement.split()) + (f"  -- executemany x{n}" if n > 1 else ""))

    def on_commit(conn):
        tx["commit"] += 1

    def on_rollback(conn):
        tx["rollback"] += 1

    def on_checkout(dbapi_conn, record, proxy):
        tx["checkout"] += 1

    client = app.test_client()

    def order(skus: list[str]):
        return client.post("/api/v1/orders", data=order_body(skus),
                           headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4()),
                                    "Content-Type": "application/json"})

    member = signed_in(app, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)  # its company has contract prices
    specified = signed_in(app, SPEC_CUSTOMER_EMAIL, SPEC_CUSTOMER_PASSWORD)  # its company has a USP specification
    # Each case prepares its request (a checkout: a cart of its own, filled and its page read) and returns it; it
    # is prepared and sent once untimed and uncounted (one-off work such as the first connection's dialect
    # queries), then prepared again, and only the sending counted.
    cases = [
        ("order_1_line", lambda: partial(order, [ORDER_SKU]), 201),
        ("order_5_lines", lambda: partial(order, FIVE_LINE_SKUS), 201),
        ("product_page", lambda: partial(client.get, PRODUCT_PATH), 200),
        ("product_page_member", lambda: partial(member.get, PRODUCT_PATH), 200),
        ("product_page_specified", lambda: partial(specified.get, PRODUCT_PATH), 200),
        ("checkout", lambda: checkout(member), 302),
    ]
    for name, prepare, expected in cases:
        prepare()()
        call = prepare()
        statements.clear()
        weights.clear()
        tx.update(commit=0, rollback=0, checkout=0)
        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "commit", on_commit)
        event.listen(engine, "rollback", on_rollback)
        event.listen(engine.pool, "checkout", on_checkout)
        try:
            response = call()
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
            event.remove(engine, "commit", on_commit)
            event.remove(engine, "rollback", on_rollback)
            event.remove(engine.pool, "checkout", on_checkout)
        out[name] = {
            "status": response.status_code,
            "expected": expected,
            "count": sum(weights),
            "round_trips": len(statements),
            "commits": tx["commit"],
            "rollbacks": tx["rollback"],
            "pool_checkouts": tx["checkout"],
            "pre_ping": pre_ping,
            "statements": list(statements),
            "body": "" if response.status_code == expected
            else response.get_data(as_text=True)[:300],
        }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
