"""A lot released while orders, half of them allowing backorders, are placed at once (PostgreSQL): the release
serves the orders waiting for it before any new order sees the lot; no unit is sold twice, every ordered unit is
allocated once or still backordered, and the ledger balances."""
from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop import ordering
from shop.accounts import people as accounts
from shop.inventory import lots as inventory
from shop.inventory.models import Stock
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderLine
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from shop.quality import release
from tests.integration.test_concurrency import ADDRESS, DRUM
from tests.support.factories import good_results, make_customer, make_lot, make_product, releaser, signed

pytestmark = pytest.mark.slow
WAITING, PLACING, NEW_LOT = 12, 24, 32


def _waiting_orders(customer) -> int:
    """WAITING orders, placed hours ago while no drum was in stock, each waiting for 1 to 3 (allow_backorder);
    the units owed."""
    rng, total = random.Random(25), 0
    for n in range(WAITING):
        waiting = rng.randint(1, 3)
        order = ordering.place_order(customer, [{"sku": DRUM, "quantity": waiting}], ADDRESS, allow_backorder=True)
        assert order.lines[0].backordered_quantity == waiting
        order.placed_at = utcnow() - timedelta(hours=WAITING - n)
        total += waiting
    db.session.commit()
    return total


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_release_racing_new_orders_gives_the_waiting_orders_their_units_first(make_app, backend):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": PLACING + 4, "max_overflow": 0, "pool_timeout": 60})
    with app.app_context():
        product = make_product()
        batch = make_lot(product, "L-NEW", {DRUM: NEW_LOT}, status="quarantine")
        release.record_results(batch, good_results(product))
        owed = _waiting_orders(make_customer("waiting@example.com", "Waiting Ltd"))
        make_lot(product, "L-NOW", {DRUM: 5})  # what new orders find before the release
        keys = [accounts.create_api_key(make_customer(f"new{n}@example.com", f"New {n}")) for n in range(6)]
        qa = releaser()
        db.session.commit()
        signature = signed(qa, "release", "L-NEW")
        barrier = threading.Barrier(PLACING + 1)

        def release_lot():
            with app.app_context():
                barrier.wait()
                run_in_transaction(lambda: release.release_batch(inventory.get_batch("L-NEW"), signature))
                db.session.remove()
                return 200, 0

        def place(i: int):
            client = app.test_client()
            barrier.wait()
            quantity = 1 + i % 3
            response = client.post("/api/v1/orders", json={"lines": [{"sku": DRUM, "quantity": quantity}],
                                                           "shipping_address": ADDRESS,
                                                           "allow_backorder": i % 2 == 0},
                                   headers={"Authorization": f"Bearer {keys[i % len(keys)]}",
                                            "Idempotency-Key": f"backorder-race-{i}"})
            return response.status_code, quantity

        with ThreadPoolExecutor(max_workers=PLACING + 1) as pool:
            released = pool.submit(release_lot)
            results = list(pool.map(place, range(PLACING)))
            released.result()

        assert {status for status, _ in results} <= {201, 409}, results
        db.session.expire_all()
        # No unit sold twice: no lot gives more than it has, and the rows say what the allocations say.
        for stock in db.session.scalars(select(Stock)):
            live = db.session.scalar(select(func.coalesce(func.sum(Allocation.quantity), 0)).where(
                Allocation.stock_id == stock.id, Allocation.status == AllocationStatus.ALLOCATED))
            assert stock.allocated == live <= stock.on_hand
        # Every ordered unit is allocated once or still backordered; an order allowing backorders is never refused.
        lines = db.session.scalars(select(OrderLine)).all()
        assert all(line.held + line.backordered_quantity == line.quantity for line in lines)
        assert all(status == 201 for i, (status, _) in enumerate(results) if i % 2 == 0)
        # The waiting orders were served first: the new lot went to them before any new order saw it.
        waiting = db.session.scalars(select(OrderLine).join(Order).where(Order.customer.has(
            email="waiting@example.com"))).all()
        assert owed <= NEW_LOT and sum(line.backordered_quantity for line in waiting) == 0
        assert 409 in {status for status, _ in results}  # orders refusing a backorder found the drums gone
        assert inventory.check_ledger() == []
