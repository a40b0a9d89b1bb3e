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
import sys
import uuid
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import FIVE_LINE_SKUS, ORDER_SKU, PRODUCT_PATH, order_body  # noqa: E402
from shop import create_app
from shop.platform.extensions import db


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

    cases = [
        ("order_1_line", lambda: order([ORDER_SKU]), 201),
        ("order_5_lines", lambda: order(FIVE_LINE_SKUS), 201),
        ("product_page", lambda: client.get(PRODUCT_PATH), 200),
    ]
    for name, call, expected in cases:
        call()  # untimed, uncounted warm-up of this code path
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
