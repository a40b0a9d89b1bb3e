"""Placing an order: the pipeline from a request to written rows and taken stock, read top to bottom in
`place`. Optimistic: it reads and plans without locks and takes the stock with one conditional UPDATE as its
last write; a try that lost the race is run again by services.tx, and from the third try on the candidate
stock rows are locked first (in primary-key order, so that two orders never deadlock)."""
from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from flask import current_app

from shop.accounts.models import needs_approval
from shop.catalog import price_lists
from shop.inventory.availability import sellable_after
from shop.ordering import announce, checks, persistence, pg_write, planner, views
from shop.ordering.checks import LineRequest, OrderRequest
from shop.ordering.lifecycle import CustomerRef
from shop.ordering.models import Order, OrderStatus
from shop.ordering.pricing import CONTRACT_PRICES, Price, PricingPolicy
from shop.ordering.queries import get_order
from shop.ordering.reading import PackSize, read_pack_sizes
from shop.ordering.rows import OrderRows, PlacedOrder, order_rows, placed_order
from shop.platform import tx
from shop.platform.database import utcnow
from shop.platform.errors import InsufficientStock, Shortfall
from shop.platform.extensions import db

# Given the new order as it will be written and its API view (what GET /api/v1/orders/<number> will answer), the
# values of an idempotency_record row to write with it, or None (the API's answer to its Idempotency-Key, made
# before the write so that it goes in the same statement).
RecordHook = Callable[[PlacedOrder, Mapping[str, object]], Mapping[str, object] | None]

# Crockford's base32 without I, L, O, U: easy to read out on the phone.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def place(customer: CustomerRef, lines: Sequence[Mapping[str, object] | LineRequest],
          shipping_address: Mapping[str, object], purchase_order: str | None = None,
          min_remaining_shelf_life_days: int | None = None, *, record: RecordHook | None = None,
          pricing: PricingPolicy = CONTRACT_PRICES) -> PlacedOrder:
    """Place an order, all or nothing, and answer what was written; the caller commits (see
    services.tx.run_in_transaction, which also runs a try that lost a race again).

    1. Check the request; every error is kept, by field path.
    2. Read the requested pack sizes, their prices for the quantities (public, and the company's contract
       price on the day), the company's approval threshold and their candidate lots (one statement).
    3. Check what needs the catalog (unknown SKUs, minimum orders): raise InvalidInput with every error.
    4. Price each line with `pricing` (by default the company's contract price where it has one).
    5. Plan the allocation first-expired-first-out: raise InsufficientStock naming every short line.
    6. Build the rows, the PlacedOrder they show and its API view, dumped once for its order.placed event and
       `record`'s row: a buyer's order above the company's approval threshold starts awaiting approval, its
       stock allocated all the same.
    7. Write them (the event and the record with them) and take the stock, as the last write before COMMIT.

    A SKU may appear on one line only (a second line is refused, not merged), so that the line numbers an
    integrator sent stay the line numbers we answer with.
    """
    request, errors = checks.check_request(customer.id, customer.company_id, lines, shipping_address,
                                           purchase_order, min_remaining_shelf_life_days)
    shelf = request.shelf_life_days if "min_remaining_shelf_life_days" not in errors else 0
    expires_after = sellable_after(shelf or 0)
    pack_sizes = read_pack_sizes(db.session.connection(), request.quantities(), expires_after,
                                 customer.company_id, price_lists.today(), lock=tx.attempt() >= 3)
    checks.check_pack_sizes(request, pack_sizes, errors)
    prices = [pricing.price(pack_sizes[line.sku], line.quantity) for line in request.lines]
    plan = plan_allocation(request, pack_sizes, expires_after)
    now = utcnow()
    rows = order_rows(request, {sku: pack.id for sku, pack in pack_sizes.items()}, prices, plan,
                      number=new_order_number(now), currency=current_app.config["SHOP_CURRENCY"], now=now,
                      expires_after=expires_after, status=initial_status(customer, request, pack_sizes, prices))
    placed = placed_order(rows)
    view = views.order(placed)
    write_order(rows, announce.order_placed(placed, customer.id, view),
                record(placed, view) if record is not None else None)
    return placed


def place_order(customer: CustomerRef, lines: Sequence[Mapping[str, object] | LineRequest],
                shipping_address: Mapping[str, object], purchase_order: str | None = None,
                min_remaining_shelf_life_days: int | None = None) -> Order:
    """`place`, answering the new order as the session's Order (with its lines, allocations and lots)."""
    placed = place(customer, lines, shipping_address, purchase_order, min_remaining_shelf_life_days)
    return get_order(placed.number)


def initial_status(customer: CustomerRef, request: OrderRequest, pack_sizes: Mapping[str, PackSize],
                   prices: list[Price]) -> OrderStatus:
    """Awaiting approval for a buyer's order whose total is above the company's threshold, else pending."""
    threshold = next(iter(pack_sizes.values())).approval_threshold
    total = sum((price.total(line.quantity) for line, price in zip(request.lines, prices, strict=True)),
                Decimal("0.00"))
    return OrderStatus.AWAITING_APPROVAL if needs_approval(threshold, customer.role, total) else OrderStatus.PENDING


def plan_allocation(request: OrderRequest, pack_sizes: Mapping[str, PackSize], expires_after) -> planner.Plan:
    """Every line's picks, keyed by its position; raise InsufficientStock naming each short line."""
    needs = [planner.Need(position, pack_sizes[line.sku].id, line.quantity, expires_after)
             for position, line in enumerate(request.lines)]
    plan = planner.plan(needs, [lot for pack in pack_sizes.values() for lot in pack.lots])
    if plan.missing:
        raise InsufficientStock([
            Shortfall(line.sku, line.quantity, line.quantity - plan.missing[position])
            for position, line in enumerate(request.lines) if position in plan.missing])
    return plan


def write_order(rows: OrderRows, event: Mapping[str, object], record: Mapping[str, object] | None) -> None:
    """Write the new order's rows, its order.placed `event` (an outbox row) and `record` (when given), and
    take its stock: the one place where a new order is written, in the order's own transaction. On PostgreSQL
    one statement (pg_write), elsewhere one per table (persistence)."""
    conn = db.session.connection()
    write = pg_write.write_order if conn.dialect.name == "postgresql" else persistence.write_order
    write(conn, rows, event, record)
    persistence.forget_stock_counts(db.session, [pick.lot.stock_id for pick in rows.picks])


def new_order_number(now: datetime | None = None) -> str:
    """A human-readable order number such as LS-261126-7KQ4M (date, then 5 random characters)."""
    now = now or datetime.now(UTC)
    suffix = "".join(_NUMBER_ALPHABET[byte % 32] for byte in secrets.token_bytes(5))  # 32 divides 256: unbiased
    return f"LS-{now:%y%m%d}-{suffix}"
