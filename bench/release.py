"""Release a lot with 1,000 backordered orders waiting, on PostgreSQL: the time it takes and its SQL statements.

Issue 25's bar: under 2 s, and a bounded number of statements (not one per order). Run by bench/run.py (`make
bench`) and alone: `python bench/release.py` (DATABASE_URL: a PostgreSQL server's database, by default
postgresql+psycopg://postgres@127.0.0.1:5432/bench_release). It recreates that database (the only one it
touches), migrates it, seeds the demo catalog, places ORDERS orders of one 25 kg drum each from a released lot,
lets each wait for one or two drums more (backordered, as `allow_backorder` would), then receives a lot with
enough drums for all of them and releases it as quality would, signed, through quality.release.release_batch:
the measured part, from the call to COMMIT. The events' hand-over to the task queue after COMMIT is timed apart.

Statements are counted as bench/sqlcount.py counts them: each cursor call once, an executemany with N parameter
sets N times. Prints a few lines, then one JSON object on the last line.
"""
from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import event, func, select, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from shop import create_app, ordering  # noqa: E402
from shop.accounts import people as accounts  # noqa: E402
from shop.accounts.models import StaffRole, StaffUser  # noqa: E402
from shop.demo import in_spec_value, seed_demo  # noqa: E402
from shop.inventory import lots as inventory  # noqa: E402
from shop.ordering.models import OrderLine  # noqa: E402
from shop.platform.database import utcnow  # noqa: E402
from shop.platform.extensions import db  # noqa: E402
from shop.quality import release  # noqa: E402
from shop.quality.models import SignedAction  # noqa: E402
from shop.quality.signatures import Signature, meaning  # noqa: E402

ORDERS = 1_000
CUSTOMERS = 20
SKU, PRODUCT = "LEU-USP-25KG", "l-leucine-usp"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_release"
TARGET_SECONDS = 2.0
ADDRESS = {"name": "Goods in", "line1": "Dock 4", "city": "Hamburg", "postal_code": "20457", "country": "DE"}


def recreate(url: str) -> None:
    """Drop and create the bench's database on its server."""
    target = make_url(url)
    admin = (f"host={target.host or '127.0.0.1'} port={target.port or 5432} user={target.username or 'postgres'} "
             "dbname=postgres")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target.database}"')


def receive(lot_number: str, units: int):
    """A lot of drums in quarantine, every result in spec, recorded by the laboratory system (not by a person, so
    that the demo's quality user may release it)."""
    batch = inventory.receive_batch(PRODUCT, lot_number, date.today() - timedelta(days=1),
                                    date.today() + timedelta(days=1000), {SKU: units})
    release.record_results(batch, {t.name: in_spec_value(t) for t in batch.product.spec_tests},
                           source="bench laboratory system")
    return batch


def signature(lot_number: str) -> Signature:
    """The demo quality user's release signature (the password check is the web page's, not measured here)."""
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == "quality@leucine.example"))
    return Signature(staff_id=staff.id, name=staff.name, email=staff.email, role=StaffRole.QUALITY,
                     action=SignedAction.RELEASE, lot_number=lot_number,
                     meaning=meaning(SignedAction.RELEASE, lot_number), signed_at=utcnow())


def set_up() -> int:
    """The demo catalog, ORDERS orders holding one drum each and waiting for one or two more; the units owed."""
    seed_demo()
    batch = receive("BR-NOW", ORDERS)
    release.release_batch(batch, signature("BR-NOW"))
    customers = [accounts.create_customer(f"waiting{n}@bench.example", "bench password 2026", f"Waiting {n} Ltd")
                 for n in range(CUSTOMERS)]
    db.session.commit()
    for n in range(ORDERS):
        ordering.place_order(customers[n % CUSTOMERS], [{"sku": SKU, "quantity": 1}], ADDRESS)
        db.session.commit()
    owed = 1 + OrderLine.id % 2
    db.session.execute(update(OrderLine).where(OrderLine.sku == SKU)
                       .values(quantity=OrderLine.quantity + owed, backordered_quantity=owed))
    db.session.commit()
    return db.session.scalar(select(func.sum(OrderLine.backordered_quantity)))


def measure(owed: int) -> dict:
    """Release a lot that covers every backorder: seconds to COMMIT, statements, and what it served."""
    receive("BR-NEXT", owed + 100)
    signed = signature("BR-NEXT")
    db.session.commit()
    # As a web worker answers the release: a request's session starts with nothing loaded, and the set-up's orders
    # (which other requests placed, in other processes) are not lying about in this one, waiting for the collector.
    db.session.remove()
    gc.collect()
    weights: list[int] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        many = executemany and isinstance(parameters, (list, tuple)) and parameters
        weights.append(len(parameters) if many and isinstance(parameters[0], (dict, list, tuple)) else 1)

    committed: list[float] = []

    def on_commit(conn):
        committed.append(time.perf_counter())

    collecting: list[float] = []  # the garbage collector's time in the release: a start, then each run's seconds

    def on_collect(phase, info):
        collecting.append(time.perf_counter() if phase == "start" else time.perf_counter() - collecting.pop())

    event.listen(db.engine, "before_cursor_execute", on_execute)
    event.listen(db.engine, "commit", on_commit)
    gc.callbacks.append(on_collect)
    started = time.perf_counter()
    release.release_batch(inventory.get_batch("BR-NEXT"), signed)
    db.session.commit()  # COMMIT, then the events' hand-over to the task queue (outbox.after_commit)
    finished = time.perf_counter()
    gc.callbacks.remove(on_collect)
    event.remove(db.engine, "before_cursor_execute", on_execute)
    event.remove(db.engine, "commit", on_commit)
    seconds, handed_over = committed[0] - started, finished - committed[0]
    left = db.session.scalar(select(func.sum(OrderLine.backordered_quantity)))
    events = db.session.scalar(text("SELECT count(*) FROM outbox_event WHERE type = 'order.backorder_allocated'"))
    return {"orders": ORDERS, "units_owed": owed, "units_left": left, "events": events,
            "seconds": round(seconds, 3), "statements": sum(weights), "round_trips": len(weights),
            "handed_over_seconds": round(handed_over, 3), "collector_seconds": round(sum(collecting), 3),
            "ledger_ok": inventory.check_ledger() == [],
            "target_seconds": TARGET_SECONDS}


def main() -> int:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgresql"):
        print(f"bench/release.py measures PostgreSQL; DATABASE_URL is {url}", file=sys.stderr)
        return 1
    recreate(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    os.environ.setdefault("MAIL_BACKEND", "dummy")
    os.environ.setdefault("TASK_QUEUE_FILE", str(Path(tempfile.mkdtemp(prefix="bench-release-")) / "tasks.sqlite3"))
    os.environ.setdefault("TASK_QUEUE_NAME", "bench-release")
    app = create_app()
    gc.freeze()  # what gunicorn.conf.py's post_worker_init does in every worker once the shop is loaded
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        started = time.perf_counter()
        owed = set_up()
        print(f"set up {ORDERS} orders waiting for {owed} drums in {time.perf_counter() - started:.1f} s", flush=True)
        result = measure(owed)
    ok = result["seconds"] < TARGET_SECONDS and result["units_left"] == 0 and result["ledger_ok"]
    print(f"release of a lot with {ORDERS} backordered orders waiting: {result['seconds']:.3f} s "
          f"({result['collector_seconds']:.3f} s of it in the garbage collector; bar {TARGET_SECONDS:.0f} s), "
          f"{result['statements']} SQL statements in {result['round_trips']} round trips, {result['events']} "
          f"order.backorder_allocated, {result['units_left']} units still backordered, "
          f"ledger {'balanced' if result['ledger_ok'] else 'NOT balanced'}: {'OK' if ok else 'MISSED'}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
