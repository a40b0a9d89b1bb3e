"""Writing a new order and taking its stock, under the no-oversell guarantee; the plain path, one statement
per table, used on SQLite (PostgreSQL writes the same rows in one statement: see pg_write).

The stock is taken with one conditional UPDATE (the inventory ledger's `take_stock`; the ledger writes its
movements too), the last write before COMMIT, so that a hot stock row stays locked for a moment rather than for
the whole request. It matches only rows that still have the units, in lots that are still sellable: a row count
short of the picks means another order (or a recall) got there first, and the order is planned again
(RetryTransaction).
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from sqlalchemy import Connection, Date, Integer, bindparam, case, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from shop.inventory import ledger
from shop.inventory.availability import sellable_lot_condition
from shop.inventory.models import Batch, Stock
from shop.ordering.models import Allocation, IdempotencyRecord, Order, OrderLine, OrderStatusChange
from shop.ordering.rows import OrderRows
from shop.platform import tx
from shop.platform.outbox import OutboxEvent

_INSERT_ORDER = insert(Order.__table__).returning(Order.__table__.c.id)
_INSERT_LINES = insert(OrderLine.__table__).returning(OrderLine.__table__.c.id, sort_by_parameter_order=True)
_INSERT_ALLOCATIONS = insert(Allocation.__table__)
_INSERT_STATUS_CHANGE = insert(OrderStatusChange.__table__)
_INSERT_EVENT = insert(OutboxEvent.__table__)
_INSERT_RECORD = insert(IdempotencyRecord.__table__)


def write_order(conn: Connection, rows: OrderRows, event: Mapping[str, object],
                record: Mapping[str, object] | None) -> int:
    """INSERT the order, its lines, allocations, first status change and ledger rows, its `event` (an outbox
    row) and `record` (an idempotency record, when given), then take the stock (the ledger writes the ledger
    rows and the stock); the new order's id."""
    order_id = conn.execute(_INSERT_ORDER, rows.order).scalar_one()
    line_ids = list(conn.execute(_INSERT_LINES, [{"order_id": order_id, **line} for line in rows.lines]).scalars())
    conn.execute(_INSERT_STATUS_CHANGE, rows.change_row(order_id))
    conn.execute(_INSERT_EVENT, event)
    if record is not None:
        conn.execute(_INSERT_RECORD, record)
    if rows.picks:  # an order that backorders every unit takes none
        conn.execute(_INSERT_ALLOCATIONS, rows.allocation_rows(line_ids))
        ledger.record_allocations(conn, ((p.lot.stock_id, p.quantity) for p in rows.picks), order_id=order_id,
                                  reason=rows.movement_reason, at=rows.placed_at)
        taken = conn.execute(_take_stock_statement(len(rows.picks)), _take_stock_params(rows))
        check_taken(taken.rowcount, rows)
    return order_id


def check_taken(rows_taken: int, rows: OrderRows) -> None:
    """Raise RetryTransaction unless every picked stock row was taken."""
    if rows_taken != len(rows.picks):
        raise tx.RetryTransaction("another order took the stock first, or a lot changed status")


def picked_lots_still_sellable(picked_lot):
    """True when every picked lot (`picked_lot`: the condition on Batch.id) is still sellable after
    :expires_after: their count, share-locked, equals :lot_count.

    A recall or release change that commits meanwhile updates the batch row, then locks its stock, and is
    seen here rather than allocated from. The condition does not depend on the stock row, so PostgreSQL
    evaluates it once, before it touches any stock row.
    """
    return bindparam("lot_count", type_=Integer) == select(func.count()).select_from(
        select(Batch.id)
        .where(picked_lot, sellable_lot_condition(bindparam("expires_after", type_=Date)))
        .with_for_update(read=True)
        .subquery()
    ).scalar_subquery()


def forget_stock_counts(session: Session, stock_ids: list[int]) -> None:
    """Expire the allocated count of picked stock rows that the session had loaded: it is out of date now."""
    for stock_id in stock_ids:
        stock = session.identity_map.get(identity_key(Stock, stock_id))
        if stock is not None:
            session.expire(stock, ["allocated"])


def _take_stock_params(rows: OrderRows) -> dict[str, object]:
    batch_ids = rows.batch_ids()
    params: dict[str, object] = {"batch_ids": batch_ids, "lot_count": len(batch_ids),
                                 "expires_after": rows.expires_after}
    for i, pick in enumerate(rows.picks):
        params[f"id_{i}"], params[f"qty_{i}"] = pick.lot.stock_id, pick.quantity
    return params


@lru_cache(maxsize=64)
def _take_stock_statement(picks: int):
    """The ledger's take_stock for `picks` rows: allocated + qty_i on the row id_i if it has qty_i units free,
    and every picked lot is still sellable; built once per number of picks."""
    wanted = case({bindparam(f"id_{i}", type_=Integer): bindparam(f"qty_{i}", type_=Integer) for i in range(picks)},
                  value=Stock.id)
    return ledger.take_stock(wanted, picked_lots_still_sellable(Batch.id.in_(bindparam("batch_ids", expanding=True))),
                             Stock.id.in_([bindparam(f"id_{i}", type_=Integer) for i in range(picks)]))
