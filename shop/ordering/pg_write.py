"""PostgreSQL: a new order's rows written as one statement of data-modifying CTEs, one round trip instead of
seven or eight, while the stock rows it takes are locked. Writes exactly the rows of `persistence.write_order` (the
plain path), from the same OrderRows; the stock side (taking the stock, its ledger rows) is inventory.ledger's SQL,
embedded as CTEs. tests/test_ordering.py checks that both write identical rows (an example, and a Hypothesis
property over generated orders for every statement built here).
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from sqlalchemy import Connection, Integer, String, bindparam, func, insert, literal_column, select, true, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType

from shop.inventory import ledger
from shop.inventory.models import Batch, Stock
from shop.ordering.models import (
    Allocation,
    AllocationStatus,
    IdempotencyRecord,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
)
from shop.ordering.persistence import check_taken, picked_lots_still_sellable
from shop.ordering.rows import LINE_COLUMNS, NEW_LINE, NEW_ORDER, PLACED_NOTE, SERVER_DEFAULTS, OrderRows
from shop.platform.outbox import OutboxEvent
from shop.platform.sql import sql_literal, unnested

# The customer, company and time of the order's event and record are the order's (the record's company_id
# keys the company's Idempotency-Key; the event has no company column).
_FROM_ORDER = ("customer_id", "company_id", "created_at")
# The order's event is handed over after COMMIT: it is written without its fan-out's columns (their defaults).
_EVENT_LATER = ("webhooks_fanned_out_at", "mail_fanned_out_at", "fan_out_failures", "failed_at", "last_error")


def write_order(conn: Connection, rows: OrderRows, event: Mapping[str, object],
                record: Mapping[str, object] | None) -> int:
    """The rows of `persistence.write_order`, in one statement; the new order's id."""
    row = conn.execute(statement(record is not None, rows.status), params(rows, event, record)).one()
    check_taken(row.taken, rows)
    return row.order_id


def params(rows: OrderRows, event: Mapping[str, object], record: Mapping[str, object] | None) -> dict[str, object]:
    """The statement's bind parameters: o_<column> (the order), l_<column> (arrays, one element per line),
    p_position, p_stock_id, p_quantity (arrays, one element per pick), batch_ids, lot_count, expires_after,
    now, movement_reason, e_<column> (the event) and, with a record, r_<column>."""
    values: dict[str, object] = {f"o_{name}": value for name, value in rows.order.items()
                                 if name not in NEW_ORDER and name not in ("status", "updated_at")}  # literals, now
    for name in LINE_COLUMNS:
        values[f"l_{name}"] = [line[name] for line in rows.lines]
    batch_ids = rows.batch_ids()
    values.update(p_position=[p.key for p in rows.picks], p_stock_id=[p.lot.stock_id for p in rows.picks],
                  p_quantity=[p.quantity for p in rows.picks], batch_ids=batch_ids, lot_count=len(batch_ids),
                  expires_after=rows.expires_after, now=rows.placed_at, movement_reason=rows.movement_reason)
    values.update({f"e_{name}": value for name, value in event.items()
                   if name not in _FROM_ORDER and name not in _EVENT_LATER})
    if record is not None:
        values.update({f"r_{name}": value for name, value in record.items() if name not in _FROM_ORDER})
    return values


def _untyped(name: str):
    """A bind parameter without a cast: PostgreSQL types it by the column it goes into, in VALUES and in an
    INSERT's SELECT alike (each cast lengthens the SQL)."""
    return type_coerce(bindparam(name), NullType())


def _insert_order(status: OrderStatus):
    orders = Order.__table__
    given = {name: sql_literal(value, orders.c[name].type) for name, value in {**NEW_ORDER, "status": status}.items()}
    given.update(placed_at=_untyped("now"), updated_at=_untyped("now"), customer_id=_untyped("o_customer_id"))
    values = {c.name: given.get(c.name, _untyped(f"o_{c.name}")) for c in orders.c
              if c.name != "id" and c.name not in SERVER_DEFAULTS}
    return insert(orders).values(values).returning(orders.c.id).cte("ord")


def _insert_lines(new_order):
    lines = OrderLine.__table__
    line_values = unnested({name: lines.c[name].type for name in LINE_COLUMNS}, "lv", prefix="l_")
    given = [sql_literal(value, lines.c[name].type) for name, value in NEW_LINE.items()]
    return (insert(lines)
            .from_select(["order_id", *LINE_COLUMNS, *NEW_LINE],
                         select(new_order.c.id, *line_values.c, *given).join_from(new_order, line_values, true()))
            .returning(lines.c.id, lines.c.position).cte("line"))


def _insert_allocations(new_lines, picked, now):
    allocations = Allocation.__table__
    return (insert(allocations)
            .from_select(["order_line_id", "stock_id", "quantity", "status", "created_at"],
                         select(new_lines.c.id, picked.c.stock_id, picked.c.quantity,
                                sql_literal(AllocationStatus.ALLOCATED, allocations.c.status.type), now)
                         .join_from(new_lines, picked, picked.c.position == new_lines.c.position))
            .returning(allocations.c.id).cte("allocs"))


def _insert_change(new_order, now, status: OrderStatus):
    changes = OrderStatusChange.__table__
    return (insert(changes)  # from no status, by the customer (no staff): both NULL
            .from_select(["order_id", "to_status", "at", "customer_id", "note"],
                         select(new_order.c.id, sql_literal(status, changes.c.to_status.type), now,
                                _untyped("o_customer_id"), sql_literal(PLACED_NOTE, changes.c.note.type)))
            .returning(changes.c.id).cte("change"))


def _insert_movements(new_order, picked, now):
    """The ledger's rows of the picks (inventory's SQL, as a CTE): by no staff member, for the new order."""
    return ledger.insert_allocations(picked.c.stock_id, picked.c.quantity, order_id=new_order.c.id,
                                     reason=bindparam("movement_reason", type_=String()), at=now,
                                     source=new_order.join(picked, true())).cte("moves")


def _take_stock(picked):
    """The ledger's take_stock for the picks (inventory's SQL, as a CTE), if every picked lot is still sellable.

    Lock order: the rows are found by `id = ANY(:p_stock_id)`. An index scan visits (and locks) them in primary-key
    order, but PostgreSQL may as well choose a sequential or bitmap scan, which visits them in the order they lie
    in the table, and two orders need not see them alike. So two orders taking the same rows can deadlock:
    PostgreSQL then aborts one (40P01) and platform/tx.py runs it again; from the third try on, placing locks its
    candidate rows in primary-key order before it reads them (reading.read_pack_sizes)."""
    stock = Stock.__table__
    wanted = select(picked.c.quantity).where(picked.c.stock_id == stock.c.id).scalar_subquery()
    lots = Batch.id == func.any(bindparam("batch_ids", type_=ARRAY(Integer)))
    rows = stock.c.id == func.any(bindparam("p_stock_id", type_=ARRAY(Integer)))
    return ledger.take_stock(wanted, picked_lots_still_sellable(lots), rows).returning(stock.c.id).cte("taken")


def _insert_from_order(table, prefix: str, name: str, *, skip: tuple[str, ...] = ()):
    """INSERT one row of `table` (an outbox event, an idempotency record): the order's customer, company and time,
    <prefix><column> for every other column but `skip` (left to their defaults)."""
    given = {"customer_id": _untyped("o_customer_id"), "company_id": _untyped("o_company_id"),
             "created_at": _untyped("now")}
    values = {c.name: given.get(c.name, _untyped(f"{prefix}{c.name}")) for c in table.c
              if c.name != "id" and c.name not in skip}
    return insert(table).values(values).returning(table.c.id).cte(name)


def _count(cte):
    """(SELECT count(*) FROM cte): how many rows the CTE wrote. No inner label: the outer column names it, and
    the statement stays shorter."""
    return select(literal_column("count(*)")).select_from(cte).scalar_subquery()


@lru_cache(maxsize=4)
def statement(with_record: bool, status: OrderStatus = OrderStatus.PENDING):
    """The one statement (with an idempotency record when `with_record`) of an order starting in `status`
    (pending or awaiting approval), built once each; it answers the new order's id and the number of stock
    rows taken. What is the same for every order is written into it as SQL literals, so that psycopg parses it
    once (it caches the parse of statements of at most 4096 characters and 50 parameters)."""
    now = _untyped("now")
    picked = select(unnested({"position": Integer(), "stock_id": Integer(), "quantity": Integer()}, "pv",
                             prefix="p_")).cte("picks")
    new_order = _insert_order(status)
    new_lines = _insert_lines(new_order)
    # PostgreSQL documents no order among data-modifying CTEs (all see one snapshot, each runs to completion);
    # as it is built (seen on 15), each runs when the outer SELECT first reads it, and it reads left to right. So
    # the stock rows, which other orders wait for until COMMIT, are taken last and stay locked as briefly as
    # possible: a speed matter only, since the conditional UPDATE alone decides what is taken. The rows written
    # before are counted in one column (`allocs` reads `line`, which reads `ord`): a label each would push the
    # statement past what psycopg prepares once.
    written = [_insert_allocations(new_lines, picked, now), _insert_change(new_order, now, status),
               _insert_movements(new_order, picked, now),
               _insert_from_order(OutboxEvent.__table__, "e_", "event", skip=_EVENT_LATER)]
    if with_record:
        written.append(_insert_from_order(IdempotencyRecord.__table__, "r_", "record"))
    return select(select(new_order.c.id).scalar_subquery().label("order_id"),
                  sum((_count(cte) for cte in written[1:]), _count(written[0])).label("written"),
                  _count(_take_stock(picked)).label("taken"))
