"""The stock ledger: the one writer of stock levels (units on hand, units allocated) and of their movements, so
that every stock row always equals the sum of its movements (`lots.check_ledger`, `flask shop check-ledger`).

Two halves, one for each way stock is written:

- Operations on one stock row in the session, named for what happens to the units: `receive`, `allocate`,
  `release`, `ship`, `ship_free` (free units with no order: a sample), `adjust` (a count correction, or scrap).
  Each changes the row and adds its movement, with the reason, the staff member and the order. The caller has
  locked the row (they add to the value read). `allocate_all` allocates for many orders at once, their
  movements in one INSERT.
- The SQL of a new order's allocations, written many rows at once while placing it: `take_stock`, one
  conditional UPDATE that cannot oversell, and its ledger rows (`record_allocations` for the plain path,
  `insert_allocations` for the INSERT ... SELECT that PostgreSQL's one-statement write embeds as a CTE).

Inventory knows no order: callers in ordering write their own allocation rows and pass the order's id.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, FromClause, Insert, Update, insert, select, update

from shop.catalog.models import Variant
from shop.inventory.models import Batch, MovementKind, Stock, StockMovement
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.sql import insert_rows, sql_literal

_MOVEMENTS = StockMovement.__table__
# What every ledger row of a new order's allocation has in common (and no staff member: the customer placed it).
_ALLOCATION = {"kind": MovementKind.ALLOCATION, "on_hand_delta": 0}


# --- One stock row in the session ---------------------------------------------------------------------------

def receive(batch: Batch, variant: Variant, units: int, *, reason: str, staff_id: int | None) -> Stock:
    """A new stock row of `batch` in pack size `variant`, holding the `units` received (a receipt movement)."""
    stock = Stock(batch=batch, variant=variant, on_hand=0, allocated=0)
    db.session.add(stock)
    _move(stock, MovementKind.RECEIPT, on_hand=units, reason=reason, staff_id=staff_id)
    return stock


def allocate(stock: Stock, quantity: int, *, order_id: int | None, staff_id: int | None, reason: str) -> StockMovement:
    """Reserve `quantity` units of the row for an order, or (`order_id` None) hold them for a quote: still on hand,
    no longer free."""
    return _move(stock, MovementKind.ALLOCATION, allocated=quantity, reason=reason, staff_id=staff_id,
                 order_id=order_id)


def allocate_all(allocations: Iterable[tuple[Stock, int, int, str]], *, staff_id: int | None) -> None:
    """`allocate` for many orders at once: each (stock row, quantity, order id, reason) changes its row in the
    session, and their movements are one INSERT however many there are (platform.sql.insert_rows), not an object
    each: a release that serves a thousand backorders writes a thousand."""
    now = utcnow()
    rows = []
    for stock, quantity, order_id, reason in allocations:
        stock.allocated += quantity
        rows.append(_allocation_row(stock.id, quantity, order_id=order_id, reason=reason, staff_id=staff_id, at=now))
    db.session.flush()  # the movements added before these come before them in the ledger, as they happened
    insert_rows(db.session.connection(), _MOVEMENTS, rows)


def release(stock: Stock, quantity: int, *, order_id: int | None, staff_id: int | None, reason: str) -> StockMovement:
    """Give `quantity` units an order (or, `order_id` None, a quote's hold) held back to the row (the order was
    cancelled, the quote closed, or the lot recalled)."""
    return _move(stock, MovementKind.DEALLOCATION, allocated=-quantity, reason=reason, staff_id=staff_id,
                 order_id=order_id)


def ship(stock: Stock, quantity: int, *, order_id: int, staff_id: int | None, reason: str) -> StockMovement:
    """`quantity` allocated units leave the warehouse with an order: on hand and allocated both go down."""
    return _move(stock, MovementKind.SHIPMENT, on_hand=-quantity, allocated=-quantity, reason=reason,
                 staff_id=staff_id, order_id=order_id)


def ship_free(stock: Stock, quantity: int, *, staff_id: int | None, reason: str) -> StockMovement:
    """`quantity` free units leave the warehouse with no order (a sample): on hand goes down, allocated stays.
    The caller has locked the row and checked that the units are free (never what orders or holds keep)."""
    return _move(stock, MovementKind.SHIPMENT, on_hand=-quantity, reason=reason, staff_id=staff_id)


def adjust(stock: Stock, delta: int, *, kind: MovementKind = MovementKind.ADJUSTMENT, reason: str,
           staff_id: int | None) -> StockMovement:
    """Change units on hand by `delta`, by hand: a count correction (ADJUSTMENT) or units thrown away (SCRAP).
    The caller has checked that it leaves what orders hold (`lots.adjustment_errors`)."""
    if kind not in (MovementKind.ADJUSTMENT, MovementKind.SCRAP):
        raise ValueError(f"{kind} is not entered by hand")
    return _move(stock, kind, on_hand=delta, reason=reason, staff_id=staff_id)


def _move(stock: Stock, kind: MovementKind, *, on_hand: int = 0, allocated: int = 0, reason: str,
          staff_id: int | None, order_id: int | None = None) -> StockMovement:
    """Change the row's levels and add the movement that says so: the one place where both happen. A level that
    does not change is not touched (it may be expired, and reading it back would cost a query)."""
    if on_hand:
        stock.on_hand += on_hand
    if allocated:
        stock.allocated += allocated
    movement = StockMovement(stock=stock, kind=kind, on_hand_delta=on_hand, allocated_delta=allocated,
                             reason=reason, staff_id=staff_id, order_id=order_id)
    db.session.add(movement)
    return movement


# --- A new order's allocations, as SQL ------------------------------------------------------------------------

def take_stock(wanted: ColumnElement[int], *where: ColumnElement[bool]) -> Update:
    """UPDATE stock SET allocated = allocated + `wanted` on the rows matched by `where` that still have `wanted`
    units free. `wanted` is each row's quantity as SQL (a CASE on the row's id, a subquery on the picks).

    The check and the change are one statement, so no other order can take the units in between: a row count
    short of the rows meant says that another order (or a recall, by `where`) got there first.
    """
    stock = Stock.__table__
    return (update(stock)
            .where(*where, stock.c.on_hand - stock.c.allocated >= wanted)
            .values(allocated=stock.c.allocated + wanted))


def record_allocations(conn: Connection, picks: Iterable[tuple[int, int]], *, order_id: int, reason: str,
                       at: datetime) -> None:
    """INSERT the ledger rows of a new order's allocations, one per (stock id, quantity) in `picks`: the
    movements of `take_stock`'s change, written by the plain path."""
    insert_rows(conn, _MOVEMENTS, [_allocation_row(stock_id, quantity, order_id=order_id, reason=reason,
                                                   staff_id=None, at=at) for stock_id, quantity in picks])


def _allocation_row(stock_id: int, quantity: int, *, order_id: int, reason: str, staff_id: int | None,
                    at: datetime) -> dict[str, object]:
    """The ledger row of `quantity` units of a stock row allocated to an order, as `insert_rows` writes it."""
    return {"stock_id": stock_id, **_ALLOCATION, "allocated_delta": quantity, "reason": reason, "staff_id": staff_id,
            "order_id": order_id, "created_at": at}


def insert_allocations(stock_id: ColumnElement[int], quantity: ColumnElement[int], *,
                       order_id: ColumnElement[int], reason: ColumnElement[str], at: ColumnElement[datetime],
                       source: FromClause) -> Insert:
    """INSERT ... SELECT the ledger rows of a new order's allocations, one per row of `source`, the other
    arguments being SQL over it: `record_allocations` as one statement (or a CTE of one), returning the ids.
    What is the same for every order is written as SQL literals (see platform.sql)."""
    fixed = [sql_literal(value, _MOVEMENTS.c[name].type) for name, value in _ALLOCATION.items()]
    return (insert(_MOVEMENTS)  # by no staff member: staff_id NULL
            .from_select(["stock_id", *_ALLOCATION, "allocated_delta", "reason", "order_id", "created_at"],
                         select(stock_id, *fixed, quantity, reason, order_id, at).select_from(source))
            .returning(_MOVEMENTS.c.id))
