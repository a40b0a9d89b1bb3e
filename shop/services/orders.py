"""Orders: validate, price and allocate (FEFO, all or nothing), and move through the life cycle."""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Protocol, TypeVar

import pycountry
from flask import current_app
from sqlalchemy import (
    Connection,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    true,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array
from sqlalchemy.orm import make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.identity import IdentityMap
from sqlalchemy.orm.util import identity_key
from sqlalchemy.types import NullType

from ..errors import IllegalTransition, InsufficientStock, InvalidInput, NotFound, Shortfall
from ..extensions import db
from ..models import (
    Allocation,
    AllocationStatus,
    Batch,
    BatchStatus,
    Company,
    IdempotencyRecord,
    MemberRole,
    MovementKind,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    PriceBreak,
    PriceList,
    PriceListItem,
    StaffUser,
    Stock,
    StockMovement,
    Variant,
    utcnow,
)
from ..models.companies import needs_approval
from . import price_lists, tx
from .catalog import _sellable_lot_condition, default_shelf_life_days, sellable_after
from .shortages import refuse_if_short
from .sql import rows, sql_literal

T = TypeVar("T")
MAX_LINES = 100
MAX_LINE_QUANTITY = 1_000_000
MAX_SHELF_LIFE_DAYS = 3650
ADDRESS_FIELDS = {"name": 200, "line1": 200, "line2": 200, "city": 100, "postal_code": 20, "country": 2}
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")
CENT = Decimal("0.01")
# Crockford's base32 without I, L, O, U: easy to read out on the phone.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Allowed transitions: (from, to).
TRANSITIONS = {
    (OrderStatus.AWAITING_APPROVAL, OrderStatus.PENDING),  # approved (services.approvals)
    (OrderStatus.AWAITING_APPROVAL, OrderStatus.CANCELLED),  # rejected, expired, or withdrawn by the company
    (OrderStatus.PENDING, OrderStatus.CONFIRMED),
    (OrderStatus.CONFIRMED, OrderStatus.SHIPPED),
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    (OrderStatus.PENDING, OrderStatus.CANCELLED),
    (OrderStatus.CONFIRMED, OrderStatus.CANCELLED),
}


RecordHook = Callable[[Order], Mapping[str, object]]


class CustomerRef(Protocol):
    """Who places or cancels an order: a Customer (a member of a company), or the API's key holder, of which
    only the ids are known."""

    @property
    def id(self) -> int: ...

    @property
    def company_id(self) -> int: ...

    @property
    def role(self) -> MemberRole: ...


# The statements of placing an order, built once: composing them on every order cost more CPU than
# the database spent running them.
_INSERT_ORDER = insert(Order.__table__).returning(Order.__table__.c.id)
_INSERT_LINES = insert(OrderLine.__table__).returning(OrderLine.__table__.c.id, sort_by_parameter_order=True)
_INSERT_ALLOCATIONS = insert(Allocation.__table__).returning(Allocation.__table__.c.id, sort_by_parameter_order=True)
_INSERT_STATUS_CHANGE = insert(OrderStatusChange.__table__).returning(OrderStatusChange.__table__.c.id)
_INSERT_MOVEMENTS = insert(StockMovement.__table__)
_INSERT_RECORD = insert(IdempotencyRecord.__table__)


class Candidate(Protocol):
    """A stock row that an order may draw from (a row of _order_inputs_statement)."""

    stock_id: int
    batch_id: int
    on_hand: int
    allocated: int
    lot_number: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class PackSize:
    """What placing an order needs of a variant: read with its price for the line's quantity and its lots."""

    id: int
    sku: str
    active: bool
    min_order_quantity: int
    unit_price: Decimal  # the company's contract price for the line's quantity, else the public break or list price
    price_list_id: int | None  # the contract list that priced it
    lots: list[Candidate]  # sellable stock rows with units left, first-expired-first-out
    approval_threshold: Decimal | None  # the ordering company's


@lru_cache(maxsize=128)
def _order_inputs_statement(skus: int):
    """One SELECT for everything that pricing and allocating `skus` lines reads: per requested SKU its variant,
    the unit price for the line's quantity (bind parameters sku_<i>, qty_<i>) and, outer-joined, every stock row
    with units left in a lot that is released and expires after :expires_after, earliest expiry first.
    Built once per number of lines; a plain Core SELECT (the ORM's loading cost more than the query did)."""
    variants, breaks, stock, batches = (model.__table__ for model in (Variant, PriceBreak, Stock, Batch))
    sku_params = [bindparam(f"sku_{i}", type_=variants.c.sku.type) for i in range(skus)]
    quantity = case({sku_params[i]: bindparam(f"qty_{i}", type_=Integer) for i in range(skus)},
                    value=variants.c.sku)
    break_price = (select(breaks.c.unit_price)
                   .where(breaks.c.variant_id == variants.c.id, breaks.c.min_quantity <= quantity)
                   .order_by(breaks.c.min_quantity.desc()).limit(1).scalar_subquery())
    contract = _contract_tier(variants.c.id, quantity)
    lots = stock.join(batches, and_(batches.c.id == stock.c.batch_id,
                                    _sellable_lot_condition(bindparam("expires_after", type_=Date))))
    return (
        select(variants.c.id, variants.c.sku, variants.c.active, variants.c.min_order_quantity,
               func.coalesce(contract(PriceListItem.unit_price), break_price, variants.c.unit_price,
                             type_=variants.c.unit_price.type).label("unit_price"),
               contract(PriceListItem.price_list_id).label("price_list_id"),
               select(Company.approval_threshold).where(Company.id == bindparam("company_id"))
               .scalar_subquery().label("approval_threshold"),
               stock.c.id.label("stock_id"), stock.c.batch_id, stock.c.on_hand, stock.c.allocated,
               batches.c.lot_number, batches.c.expires_on)
        .select_from(variants.outerjoin(lots, and_(stock.c.variant_id == variants.c.id,
                                                   stock.c.on_hand > stock.c.allocated)))
        .where(variants.c.sku.in_(sku_params))
        .order_by(variants.c.id, batches.c.expires_on, batches.c.id, stock.c.id)
    )


def _contract_tier(variant_id, quantity):
    """A function of a column of PriceListItem: that column of the ordering company's (:company_id) contract
    tier for the variant and quantity in the list that applies on :day, as a scalar subquery (NULL: none)."""
    def column(wanted):
        return (select(wanted).join(PriceList, PriceList.id == PriceListItem.price_list_id)
                .where(PriceList.company_id == bindparam("company_id"), PriceListItem.variant_id == variant_id,
                       PriceListItem.min_quantity <= quantity, price_lists.applies_on(bindparam("day", type_=Date)))
                .order_by(PriceListItem.min_quantity.desc()).limit(1).scalar_subquery())
    return column


# From the third try on, an order locks the rows it may draw from first, in primary-key order so that two
# orders (or an order and a recall) never deadlock.
_LOCK_CANDIDATES = (
    select(Stock.id)
    .join(Batch, Batch.id == Stock.batch_id)
    .join(Variant, Variant.id == Stock.variant_id)
    .where(Variant.sku.in_(bindparam("skus", expanding=True)),
           _sellable_lot_condition(bindparam("expires_after", type_=Date)), Stock.on_hand > Stock.allocated)
    .order_by(Stock.id)
    .with_for_update(of=Stock)
)


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


def new_order_number(now: datetime | None = None) -> str:
    """A human-readable order number such as LS-261126-7KQ4M (date, then 5 random characters)."""
    now = now or datetime.now(UTC)
    suffix = "".join(_NUMBER_ALPHABET[byte % 32] for byte in secrets.token_bytes(5))  # 32 divides 256: unbiased
    return f"LS-{now:%y%m%d}-{suffix}"


def unknown_sku_message(sku: str) -> str:
    return f"Unknown SKU '{sku}'."


def unknown_skus(skus: Iterable[object]) -> set[str]:
    """The SKUs among `skus` (non-strings ignored) that no active pack size has."""
    wanted = {sku for sku in skus if isinstance(sku, str)}
    if not wanted:
        return set()
    return wanted - set(db.session.scalars(select(Variant.sku).where(Variant.sku.in_(wanted), Variant.active)))


def place_order(
    customer: CustomerRef,
    lines: Sequence[Mapping[str, object] | LineRequest],
    shipping_address: Mapping[str, object],
    purchase_order: str | None = None,
    min_remaining_shelf_life_days: int | None = None,
    *,
    record: RecordHook | None = None,
    detached: bool = False,
) -> Order:
    """Validate, price and allocate an order, all or nothing; raise InvalidInput or InsufficientStock.

    The caller commits (see services.tx.run_in_transaction, which also retries on lock conflicts).
    A SKU may appear on one line only; a second line with the same SKU is refused, not merged,
    so that the line numbers an integrator sent stay the line numbers we answer with.

    `record`, given the Order about to be written (all but its database ids), answers the values of an
    idempotency_record row to write with it (the API's answer to an Idempotency-Key): on PostgreSQL in the
    same statement, so that the answer costs no round trip of its own while the stock rows are locked.
    `detached` leaves the Order out of the session, for a caller that only reads what was written (the API):
    adding the objects to the session costs more CPU than any other part of writing them. Such an Order holds
    the values written, its lines, allocations and their lots' numbers and expiry dates, and nothing more.
    """
    requests = [_as_line(line) for line in lines]
    errors: dict[str, list[str]] = {}
    _check_shape(requests, errors)
    address = _check_address(shipping_address, errors)
    po = (purchase_order or "").strip()
    if len(po) > 100:
        errors["purchase_order"] = ["At most 100 characters."]
    # An order that asks for no shelf life gets the shop's default, recorded on the order.
    shelf = min_remaining_shelf_life_days if min_remaining_shelf_life_days is not None else default_shelf_life_days()
    if shelf is not None and (isinstance(shelf, bool) or not isinstance(shelf, int)
                              or not 0 <= shelf <= MAX_SHELF_LIFE_DAYS):
        errors["min_remaining_shelf_life_days"] = [f"A whole number of days from 0 to {MAX_SHELF_LIFE_DAYS}."]
    # Optimistic first: read and plan without locks, write the order, and take the stock with one conditional
    # UPDATE as the last write before COMMIT, so a hot stock row stays locked for a moment, not for the
    # whole request. A try that lost a race is run again; from the third try on the rows are locked first.
    # Core statements go to the session's connection directly: the Session's execute() costs as much CPU again.
    conn = db.session.connection()
    pack_sizes = _read_pack_sizes(conn, customer.company_id, requests,
                                  shelf if "min_remaining_shelf_life_days" not in errors else 0,
                                  lock=tx.attempt() >= 3) if len(requests) <= MAX_LINES else {}
    for i, req in enumerate(requests):
        if f"lines.{i}.sku" in errors or not isinstance(req.sku, str):
            continue
        variant = pack_sizes.get(req.sku)
        if variant is None or not variant.active:
            errors.setdefault(f"lines.{i}.sku", []).append(unknown_sku_message(req.sku))
        elif f"lines.{i}.quantity" not in errors and req.quantity < variant.min_order_quantity:
            errors[f"lines.{i}.quantity"] = [f"The minimum order for {req.sku} is {variant.min_order_quantity} units."]
    if errors:
        raise InvalidInput(errors)

    plan = _plan_allocation(requests, pack_sizes)
    order = _write_order(conn, customer, requests, pack_sizes, plan, address, po, shelf, record, detached)
    if not detached:
        # Only now, with the stock taken, do the rows become the session's objects: a try that lost the race
        # leaves nothing behind in the identity map for the next try to collide with.
        for obj in (order, *order.history, *order.lines, *(a for line in order.lines for a in line.allocations)):
            make_transient_to_detached(obj)  # persistent-to-be, with no pending changes: add() will not INSERT it
        db.session.add(order)
    return order


# What every new order starts with (its status: pending, or awaiting approval), and its first status change's note.
_NEW_ORDER = {"tracking_reference": "", "needs_attention": False, "attention_note": ""}
_PLACED_NOTE = "Order placed"

# A stock pick of the plan: (line position, stock row, units).
Pick = tuple[int, Candidate, int]


def _write_order(conn: Connection, customer: CustomerRef, requests: list[LineRequest], pack_sizes: dict[str, PackSize],
                 plan: list[list[tuple[Candidate, int]]], address: dict[str, str], po: str,
                 shelf: int | None, record: RecordHook | None, detached: bool) -> Order:
    """Write the order, its lines, allocations, first status change and ledger rows (and the `record` row),
    and take the planned stock (raising RetryTransaction when another order took it first); return the Order.

    Core statements with RETURNING rather than the ORM's unit of work, which cost more CPU than everything
    else in placing an order: on PostgreSQL all of it is one statement, elsewhere one statement per table.
    The ORM objects are built first from the same values and get their ids from the write; place_order then
    makes them the session's, as if loaded, so that callers read an ordinary Order: its columns, lines,
    allocations and their lots' numbers and expiry dates (all that the API's answer shows) without another
    query; anything else (a line's variant, a stock row's counts) loads on access. Between taking the stock
    and COMMIT nothing is left to do but set those ids, so the stock rows stay locked as briefly as possible.
    """
    now = utcnow()
    customer_id = customer.id
    line_rows = []
    subtotal = Decimal("0.00")
    for position, req in enumerate(requests):
        variant = pack_sizes[req.sku]
        line_total = (variant.unit_price * req.quantity).quantize(CENT)
        subtotal += line_total
        line_rows.append({"position": position, "variant_id": variant.id, "sku": variant.sku,
                          "quantity": req.quantity, "unit_price": variant.unit_price, "line_total": line_total,
                          "price_list_id": variant.price_list_id})
    threshold = next(iter(pack_sizes.values())).approval_threshold
    status = (OrderStatus.AWAITING_APPROVAL if needs_approval(threshold, customer.role, subtotal)
              else OrderStatus.PENDING)
    order_row = {
        **_NEW_ORDER, "status": status, "number": new_order_number(now), "customer_id": customer_id,
        "company_id": customer.company_id,
        "currency": current_app.config["SHOP_CURRENCY"],
        # no shipping or tax lines yet: quoted separately by the sales team
        "subtotal": subtotal, "total": subtotal,
        "ship_name": address["name"], "ship_line1": address["line1"], "ship_line2": address.get("line2", ""),
        "ship_city": address["city"], "ship_postal_code": address["postal_code"],
        "ship_country": address["country"], "purchase_order": po, "min_remaining_shelf_life_days": shelf,
        "placed_at": now,
    }
    change_row = {"from_status": None, "to_status": status, "at": now, "staff_id": None,
                  "customer_id": customer_id, "note": _PLACED_NOTE}
    picks: list[Pick] = [(position, lot, qty) for position, line_picks in enumerate(plan) for lot, qty in line_picks]

    order = _as_loaded(Order, **order_row)
    change = _as_loaded(OrderStatusChange, order=order, **change_row)
    lines = [_as_loaded(OrderLine, order=order, cancelled_quantity=0, **row) for row in line_rows]
    batches: dict[int, Batch] = {}
    session_objects = None if detached else db.session.identity_map  # only objects to attach must be unique
    allocations, by_line = [], [[] for _ in lines]
    for position, lot, qty in picks:
        stock = _stock_of(lot, batches, session_objects)
        allocation = _as_loaded(Allocation, quantity=qty, status=AllocationStatus.ALLOCATED, created_at=now,
                                line=lines[position], stock_id=lot.stock_id, stock=stock)
        allocations.append(allocation)
        by_line[position].append(allocation)
    for line, line_allocations in zip(lines, by_line, strict=True):
        set_committed_value(line, "allocations", line_allocations)
    set_committed_value(order, "lines", lines)
    set_committed_value(order, "history", [change])
    set_committed_value(order, "notices", [])
    record_row = record(order) if record is not None else None

    write = _write_in_one_statement if conn.dialect.name == "postgresql" else _write_table_by_table
    order_id, line_ids, allocation_ids, change_id = write(conn, order_row, line_rows, picks, change_row,
                                                          sellable_after(shelf or 0), record_row)
    # Straight into __dict__, as _as_loaded does: attribute events would only record history to be reset.
    order.__dict__["id"] = order_id
    change.__dict__.update(id=change_id, order_id=order_id)
    for line, line_id in zip(lines, line_ids, strict=True):
        line.__dict__.update(id=line_id, order_id=order_id)
    for allocation, allocation_id in zip(allocations, allocation_ids, strict=True):
        allocation.__dict__.update(id=allocation_id, order_line_id=allocation.line.id)
    identity_map = db.session.identity_map
    for _, lot, _ in picks:
        stock = identity_map.get(identity_key(Stock, lot.stock_id))
        if stock is not None:  # loaded earlier in this session: its allocated count is out of date now
            db.session.expire(stock, ["allocated"])
    return order


def _write_table_by_table(conn: Connection, order_row: dict, line_rows: list[dict], picks: list[Pick],
                          change_row: dict, expires_after: date,
                          record_row: Mapping[str, object] | None) -> tuple[int, list[int], list[int], int]:
    """One INSERT per table (several rows in one statement), then the stock UPDATE; the new ids."""
    order_id = conn.execute(_INSERT_ORDER, order_row).scalar_one()
    line_ids = list(conn.execute(_INSERT_LINES, [{"order_id": order_id, **row} for row in line_rows]).scalars())
    allocation_ids = list(conn.execute(_INSERT_ALLOCATIONS, [
        {"order_line_id": line_ids[position], "stock_id": lot.stock_id, "quantity": qty,
         "status": AllocationStatus.ALLOCATED, "created_at": order_row["placed_at"]}
        for position, lot, qty in picks
    ]).scalars())
    change_id = conn.execute(_INSERT_STATUS_CHANGE, {"order_id": order_id, **change_row}).scalar_one()
    conn.execute(_INSERT_MOVEMENTS, [
        {"stock_id": lot.stock_id, "kind": MovementKind.ALLOCATION, "on_hand_delta": 0, "allocated_delta": qty,
         "reason": f"Order {order_row['number']}", "staff_id": None, "order_id": order_id,
         "created_at": order_row["placed_at"]}
        for _, lot, qty in picks
    ])
    if record_row is not None:
        conn.execute(_INSERT_RECORD, record_row)
    taken = conn.execute(_take_stock_statement(len(picks)), _take_stock_params(picks, expires_after))
    _check_taken(taken.rowcount, picks)
    return order_id, line_ids, allocation_ids, change_id


def _write_in_one_statement(conn: Connection, order_row: dict, line_rows: list[dict], picks: list[Pick],
                            change_row: dict, expires_after: date,
                            record_row: Mapping[str, object] | None) -> tuple[int, list[int], list[int], int]:
    """PostgreSQL: every INSERT and the stock UPDATE as data-modifying CTEs of one statement; the new ids."""
    batch_ids = sorted({lot.batch_id for _, lot, _ in picks})
    params: dict[str, object] = {f"o_{name}": value for name, value in order_row.items()
                                 if name not in _NEW_ORDER and name != "status"}
    for name in line_rows[0]:
        params[f"l_{name}"] = [row[name] for row in line_rows]
    params.update(p_position=[position for position, _, _ in picks], p_stock_id=[lot.stock_id for _, lot, _ in picks],
                  p_quantity=[qty for _, _, qty in picks], batch_ids=batch_ids, lot_count=len(batch_ids),
                  expires_after=expires_after, now=order_row["placed_at"],
                  movement_reason=f"Order {order_row['number']}")
    if record_row is not None:  # its customer and time are the order's
        params.update({f"r_{name}": value for name, value in record_row.items()
                       if name not in ("customer_id", "created_at")})
    (row,) = rows(conn, _one_statement_write(record_row is not None, order_row["status"]), params)
    _check_taken(row.taken, picks)
    allocation_id = {(line_id, stock_id): id_ for id_, line_id, stock_id in row.allocations}
    allocation_ids = [allocation_id[row.line_ids[position], lot.stock_id] for position, lot, _ in picks]
    return row.order_id, row.line_ids, allocation_ids, row.change_id


def _as_loaded(model: type[T], **values: object) -> T:
    """An instance of `model` holding `values` the way the ORM's loader fills one from a row: straight into
    its __dict__, without the constructor's change events (which cost more than the INSERTs' bookkeeping).

    Many-to-one relations are passed as objects; collections go through set_committed_value. Columns not
    passed are expired by make_transient_to_detached, so they load on access (a SELECT): the new order's
    objects get every column, a lot's Stock and Batch only what the order read of them.
    """
    obj = model.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


def _stock_of(lot: Candidate, batches: dict[int, Batch], identity_map: IdentityMap | None) -> Stock:
    """The Stock row (with its Batch) an allocation draws from: the session's own instance when it has one
    (`identity_map`: None for an order that stays out of the session), else one holding what was read of it,
    as if loaded (its other columns load on access). `batches` holds the Batch instances made so far for
    this order: one instance per lot."""
    if identity_map is not None:
        stock = identity_map.get(identity_key(Stock, lot.stock_id))
        if stock is not None:
            return stock
    batch = batches.get(lot.batch_id)
    if batch is None and identity_map is not None:
        batch = identity_map.get(identity_key(Batch, lot.batch_id))
    if batch is None:
        batch = _as_loaded(Batch, id=lot.batch_id, lot_number=lot.lot_number, expires_on=lot.expires_on,
                           status=BatchStatus.RELEASED)  # the write took the stock only from sellable lots
        make_transient_to_detached(batch)
    batches[lot.batch_id] = batch
    stock = _as_loaded(Stock, id=lot.stock_id, batch_id=lot.batch_id, batch=batch)
    make_transient_to_detached(stock)
    return stock


def _take_stock_params(picks: list[Pick], expires_after: date) -> dict[str, object]:
    batch_ids = sorted({lot.batch_id for _, lot, _ in picks})
    params: dict[str, object] = {"batch_ids": batch_ids, "lot_count": len(batch_ids), "expires_after": expires_after}
    for i, (_, lot, qty) in enumerate(picks):
        params[f"id_{i}"], params[f"qty_{i}"] = lot.stock_id, qty
    return params


def _check_taken(rows_taken: int, picks: list[Pick]) -> None:
    if rows_taken != len(picks):
        raise tx.RetryTransaction("another order took the stock first, or a lot changed status")


def _picked_lots_still_sellable(picked_lot):
    """Every picked lot (`picked_lot`: the condition on Batch.id), share-locked, if it is still sellable: true
    when their count equals :lot_count, the number of lots picked."""
    return bindparam("lot_count", type_=Integer) == select(func.count()).select_from(
        select(Batch.id)
        .where(picked_lot, _sellable_lot_condition(bindparam("expires_after", type_=Date)))
        .with_for_update(read=True)
        .subquery()
    ).scalar_subquery()


@lru_cache(maxsize=64)
def _take_stock_statement(rows: int):
    """UPDATE stock SET allocated = allocated + qty_i WHERE id = id_i AND there are qty_i units left AND every
    picked lot is still sellable, for `rows` rows in one statement; built once per row count (composing it
    cost more than running it).

    It share-locks the picked lots (:batch_ids) and re-checks that they are still sellable: a recall or release change
    that commits meanwhile updates the batch row, then locks its stock, and is seen here rather than
    allocated from. The lot condition does not depend on the row, so PostgreSQL evaluates it once, before it
    touches any stock row (a one-time filter). The statement matches only rows that still have the units, so
    a row count short of `rows` means another order took them between our read and now, or a lot is no
    longer sellable.
    """
    wanted = case({bindparam(f"id_{i}", type_=Integer): bindparam(f"qty_{i}", type_=Integer) for i in range(rows)},
                  value=Stock.id)
    return (
        update(Stock.__table__)
        .where(_picked_lots_still_sellable(Batch.id.in_(bindparam("batch_ids", expanding=True))),
               Stock.id.in_([bindparam(f"id_{i}", type_=Integer) for i in range(rows)]),
               Stock.on_hand - Stock.allocated >= wanted)
        .values(allocated=Stock.allocated + wanted)
    )


@lru_cache(maxsize=4)
def _one_statement_write(with_record: bool, status: OrderStatus = OrderStatus.PENDING):
    """PostgreSQL: INSERT the order, its lines, allocations, first status change and ledger rows (and
    `with_record` an idempotency record), and UPDATE the picked stock rows, as data-modifying CTEs of one
    statement (one round trip instead of six), built once. It answers the new ids and the number of stock
    rows taken (as _take_stock_statement does, from the same share-locked re-check of the picked lots).

    Bind parameters: o_<column> (the order), l_<column> (arrays: one element per line), p_position,
    p_stock_id, p_quantity (arrays: one element per pick), batch_ids (an array), lot_count, expires_after,
    now, movement_reason and, with a record, r_<column>. Rows travel as arrays unnested by the database, so
    that the statement is the same whatever the number of lines, and what is the same for every order is
    written into it as SQL literals: SQLAlchemy compiles it once, and psycopg converts it once (it converts
    anew every time a statement of more than 4096 characters or 50 parameters).
    """
    orders, order_lines, allocations, changes, movements, records = (
        model.__table__ for model in (Order, OrderLine, Allocation, OrderStatusChange, StockMovement,
                                      IdempotencyRecord))
    now = bindparam("now", type_=orders.c.placed_at.type)
    customer_id = bindparam("o_customer_id", type_=orders.c.customer_id.type)

    def values(prefix: str, table, **given) -> dict:
        """Every column but the id for an INSERT ... VALUES: `given` ones as given, the others from bind
        parameters <prefix><column>, without a cast (PostgreSQL types them by their column; each cast would
        lengthen the statement)."""
        return {c.name: given[c.name] if c.name in given else untyped(f"{prefix}{c.name}")
                for c in table.c if c.name != "id"}

    def untyped(name: str):
        return type_coerce(bindparam(name), NullType())

    def unnested(prefix: str, columns: dict, alias: str):
        arrays = [bindparam(f"{prefix}{name}", type_=ARRAY(type_)) for name, type_ in columns.items()]
        return func.unnest(*arrays).table_valued(*columns).render_derived(name=alias)

    fresh = {name: sql_literal(value, orders.c[name].type) for name, value in {**_NEW_ORDER, "status": status}.items()}
    new_order = (insert(orders).values(values("o_", orders, placed_at=untyped("now"),
                                              customer_id=untyped("o_customer_id"), **fresh))
                 .returning(orders.c.id).cte("new_order"))
    # cancelled_quantity is left to its server default (0, include_defaults=False below): a shorter statement.
    line_columns = ["position", "variant_id", "sku", "quantity", "unit_price", "line_total", "price_list_id"]
    line_values = unnested("l_", {name: order_lines.c[name].type for name in line_columns}, "lv")
    new_lines = (insert(order_lines)
                 .from_select(["order_id", *line_columns],
                              select(new_order.c.id, *line_values.c).join_from(new_order, line_values, true()),
                              include_defaults=False)
                 .returning(order_lines.c.id, order_lines.c.position).cte("new_lines"))
    picked = select(unnested("p_", {"position": Integer(), "stock_id": Integer(), "quantity": Integer()},
                             "pv")).cte("picked")
    new_allocations = (
        insert(allocations)
        .from_select(["order_line_id", "stock_id", "quantity", "status", "created_at"],
                     select(new_lines.c.id, picked.c.stock_id, picked.c.quantity,
                            sql_literal(AllocationStatus.ALLOCATED, allocations.c.status.type), now)
                     .join_from(new_lines, picked, picked.c.position == new_lines.c.position))
        .returning(allocations.c.id, allocations.c.order_line_id, allocations.c.stock_id).cte("new_allocs"))
    new_change = (insert(changes).from_select(  # from no status, by the customer (no staff): both NULL
        ["order_id", "to_status", "at", "customer_id", "note"],
        select(new_order.c.id, sql_literal(status, changes.c.to_status.type), now, customer_id,
               sql_literal(_PLACED_NOTE, changes.c.note.type)),
    ).returning(changes.c.id).cte("new_change"))
    new_movements = insert(movements).from_select(  # by no staff: staff_id NULL
        ["stock_id", "kind", "on_hand_delta", "allocated_delta", "reason", "order_id", "created_at"],
        select(picked.c.stock_id, sql_literal(MovementKind.ALLOCATION, movements.c.kind.type),
               sql_literal(0, movements.c.on_hand_delta.type), picked.c.quantity,
               bindparam("movement_reason", type_=movements.c.reason.type), new_order.c.id, now)
        .join_from(new_order, picked, true()),
    ).returning(movements.c.id).cte("new_moves")
    # The rows are found by `id = ANY(:p_stock_id)`, an index scan that visits (and locks) them in primary-key
    # order, so that two orders taking the same rows never deadlock (a join with `picked` would take them in
    # the order of the lines).
    stock = Stock.__table__
    wanted = select(picked.c.quantity).where(picked.c.stock_id == stock.c.id).scalar_subquery()
    taken = (
        update(stock)
        .where(_picked_lots_still_sellable(Batch.id == func.any(bindparam("batch_ids", type_=ARRAY(Integer)))),
               stock.c.id == func.any(bindparam("p_stock_id", type_=ARRAY(Integer))),
               stock.c.on_hand - stock.c.allocated >= wanted)
        .values(allocated=stock.c.allocated + wanted)
        .returning(stock.c.id).cte("taken")
    )
    # PostgreSQL runs the CTEs as the columns below ask for them, left to right: the stock rows, which other
    # orders wait for until COMMIT, are taken last, so that they stay locked as briefly as possible.
    columns = [
        select(new_order.c.id).scalar_subquery().label("order_id"),
        select(func.array_agg(aggregate_order_by(new_lines.c.id, new_lines.c.position)))
        .scalar_subquery().label("line_ids"),
        select(func.array_agg(array([new_allocations.c.id, new_allocations.c.order_line_id,
                                     new_allocations.c.stock_id]))).scalar_subquery().label("allocations"),
        select(new_change.c.id).scalar_subquery().label("change_id"),
        select(func.count()).select_from(new_movements).scalar_subquery().label("movements"),
    ]
    if with_record:
        new_record = (insert(records).values(values("r_", records, customer_id=untyped("o_customer_id"),
                                                    created_at=untyped("now")))
                      .returning(records.c.id).cte("new_record"))
        columns.append(select(new_record.c.id).scalar_subquery().label("record_id"))
    return select(*columns, select(func.count()).select_from(taken).scalar_subquery().label("taken"))


def _as_line(line: Mapping[str, object] | LineRequest) -> LineRequest:
    if isinstance(line, LineRequest):
        return line
    return LineRequest(sku=line.get("sku"), quantity=line.get("quantity"))  # type: ignore[arg-type]


def _check_shape(requests: list[LineRequest], errors: dict[str, list[str]]) -> None:
    if not requests:
        errors["lines"] = ["An order needs at least one line."]
        return
    if len(requests) > MAX_LINES:
        errors["lines"] = [f"At most {MAX_LINES} lines per order."]
        return
    seen: dict[str, int] = {}
    for i, req in enumerate(requests):
        if not isinstance(req.sku, str) or not req.sku.strip():
            errors[f"lines.{i}.sku"] = ["A SKU is required."]
        elif req.sku in seen:
            errors[f"lines.{i}.sku"] = [f"{req.sku} is already on line {seen[req.sku]}; "
                                        "put the whole quantity on one line."]
        else:
            seen[req.sku] = i
        q = req.quantity
        if isinstance(q, bool) or not isinstance(q, int) or q < 1:
            errors[f"lines.{i}.quantity"] = ["The quantity must be a whole number of units, at least 1."]
        elif q > MAX_LINE_QUANTITY:
            errors[f"lines.{i}.quantity"] = [f"At most {MAX_LINE_QUANTITY:,} units per line."]


def _check_address(raw: Mapping[str, object] | None, errors: dict[str, list[str]]) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        errors["shipping_address"] = ["A shipping address is required."]
        return {}
    address: dict[str, str] = {}
    for name, limit in ADDRESS_FIELDS.items():
        value = raw.get(name)
        path = f"shipping_address.{name}"
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in REQUIRED_ADDRESS_FIELDS:
                errors[path] = ["This field is required."]
            continue
        if not isinstance(value, str):
            errors[path] = ["Must be text."]
            continue
        value = value.strip()
        if len(value) > limit:
            errors[path] = [f"At most {limit} characters."]
        address[name] = value
    country = address.get("country")
    if country is not None and "shipping_address.country" not in errors:
        if len(country) != 2 or pycountry.countries.get(alpha_2=country.upper()) is None:
            errors["shipping_address.country"] = ["Use a two-letter ISO 3166-1 country code, such as DE or US."]
        else:
            address["country"] = country.upper()
    return address


def _read_pack_sizes(conn: Connection, company_id: int, requests: list[LineRequest], min_days: int | None,
                     lock: bool) -> dict[str, PackSize]:
    """The requested SKUs' pack sizes, each priced for its line's quantity for the company (its contract price
    today, else the public break) and with its sellable lots (expiring more than `min_days` from today), in one
    statement; unknown SKUs are absent.

    With `lock`, the candidate stock rows are locked first, in primary-key order.
    """
    quantities: dict[str, int] = {}
    for req in requests:
        if isinstance(req.sku, str) and req.sku not in quantities:
            valid = type(req.quantity) is int and 1 <= req.quantity <= MAX_LINE_QUANTITY
            quantities[req.sku] = req.quantity if valid else 0  # an invalid quantity is refused anyway
    if not quantities:
        return {}
    expires_after = sellable_after(min_days or 0)
    if lock:
        conn.execute(_LOCK_CANDIDATES, {"skus": list(quantities), "expires_after": expires_after}).all()
    params: dict[str, object] = {"expires_after": expires_after, "company_id": company_id,
                                 "day": price_lists.today()}
    for i, (sku, quantity) in enumerate(quantities.items()):
        params[f"sku_{i}"], params[f"qty_{i}"] = sku, quantity
    pack_sizes: dict[str, PackSize] = {}
    for row in rows(conn, _order_inputs_statement(len(quantities)), params):
        pack = pack_sizes.get(row.sku)
        if pack is None:
            pack = pack_sizes[row.sku] = PackSize(row.id, row.sku, row.active, row.min_order_quantity,
                                                  row.unit_price, row.price_list_id, [], row.approval_threshold)
        if row.stock_id is not None:
            pack.lots.append(row)
    return pack_sizes


def _plan_allocation(requests: list[LineRequest], pack_sizes: dict[str, PackSize]) -> list[list[tuple[Candidate, int]]]:
    """Choose lots first-expired-first-out for every line; raise InsufficientStock naming each short line."""
    plan: list[list[tuple[Candidate, int]]] = []
    short: list[Shortfall] = []
    for req in requests:
        pool = pack_sizes[req.sku].lots
        remaining, picks = req.quantity, []
        for lot in pool:
            if remaining == 0:
                break
            take = min(lot.on_hand - lot.allocated, remaining)
            if take > 0:
                picks.append((lot, take))
                remaining -= take
        if remaining:
            short.append(Shortfall(req.sku, req.quantity, sum(lot.on_hand - lot.allocated for lot in pool)))
        plan.append(picks)
    if short:
        raise InsufficientStock(short)
    return plan


# --- Reading orders -------------------------------------------------------------------------------

def _order_options():
    return (
        selectinload(Order.lines)
        .selectinload(OrderLine.allocations)
        .selectinload(Allocation.stock)
        .selectinload(Stock.batch),
        selectinload(Order.notices),
    )


def get_order(number: str, company_id: int | None = None, *, lock: bool = False) -> Order:
    """One order with its lines and allocated lots; limited to one company's order book when given."""
    stmt = select(Order).where(Order.number == number).options(*_order_options())
    if company_id is not None:
        stmt = stmt.where(Order.company_id == company_id)
    if lock:
        stmt = stmt.with_for_update(of=Order).execution_options(populate_existing=True)
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


def list_orders(company_id: int | None = None, status: OrderStatus | None = None, limit: int = 20,
                after: tuple[datetime, int] | None = None) -> list[Order]:
    """Orders newest first, keyset-paginated on (placed_at, id); pass the last row's pair as `after`."""
    stmt = select(Order).options(*_order_options()).order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    if company_id is not None:
        stmt = stmt.where(Order.company_id == company_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if after is not None:
        stmt = stmt.where(tuple_(Order.placed_at, Order.id) < tuple_(*after))
    return list(db.session.scalars(stmt))


# --- The life cycle -------------------------------------------------------------------------------

def _transition(order: Order, to: OrderStatus, staff: StaffUser | None, customer: CustomerRef | None,
                note: str = "") -> None:
    if (order.status, to) not in TRANSITIONS:
        raise IllegalTransition(f"Order {order.number} is {order.status} and cannot be {to}.")
    order.history.append(OrderStatusChange(from_status=order.status, to_status=to, staff_id=_id(staff),
                                           customer_id=customer.id if customer else None, note=note))
    order.status = to


def move(order: Order, to: OrderStatus, *, staff: StaffUser | None = None, customer: CustomerRef | None = None,
         note: str = "") -> None:
    """Move an order along TRANSITIONS (IllegalTransition otherwise), recording who did it and why."""
    _transition(order, to, staff, customer, note)


def _locked_live_allocations(order: Order) -> list[Allocation]:
    """The order's allocations still holding stock, their stock rows locked in primary-key order."""
    live = [a for line in order.lines for a in line.allocations if a.status == AllocationStatus.ALLOCATED]
    ids = sorted({a.stock_id for a in live})
    if ids:
        db.session.scalars(
            select(Stock).where(Stock.id.in_(ids)).order_by(Stock.id).with_for_update()
            .execution_options(populate_existing=True)
        ).all()
    return live


def confirm_order(number: str, staff: StaffUser | None = None) -> Order:
    """Accept a pending order for fulfilment."""
    order = get_order(number, lock=True)
    if order.status == OrderStatus.AWAITING_APPROVAL:
        raise IllegalTransition(f"Order {order.number} awaits approval by {order.company.name}: it can be "
                                "confirmed once one of their approvers approved it.")
    if order.status == OrderStatus.PENDING:
        refuse_if_short(order, "confirmed")
    _transition(order, OrderStatus.CONFIRMED, staff, None)
    db.session.flush()
    return order


def cancel_order(number: str, *, customer: CustomerRef | None = None, staff: StaffUser | None = None,
                 reason: str = "") -> Order:
    """Cancel a pending or confirmed order and give its allocated units back to stock.

    With `customer`, only an order of that customer's company can be found (another's is NotFound).
    """
    order = get_order(number, company_id=customer.company_id if customer else None, lock=True)
    _transition(order, OrderStatus.CANCELLED, staff, customer, reason)
    for a in _locked_live_allocations(order):
        a.stock.allocated -= a.quantity
        a.status = AllocationStatus.RETURNED_CANCELLED
        db.session.add(StockMovement(stock=a.stock, kind=MovementKind.DEALLOCATION, allocated_delta=-a.quantity,
                                     order_id=order.id, staff_id=_id(staff),
                                     reason=f"Order {order.number} cancelled"))
    db.session.flush()
    return order


def ship_order(number: str, tracking_reference: str, staff: StaffUser | None = None) -> Order:
    """Ship a confirmed order: its allocated units leave the warehouse (on hand and allocated go down)."""
    tracking = (tracking_reference or "").strip()
    if not tracking:
        raise InvalidInput({"tracking_reference": ["A tracking reference is required to ship."]})
    if len(tracking) > 100:
        raise InvalidInput({"tracking_reference": ["At most 100 characters."]})
    order = get_order(number, lock=True)
    if order.status == OrderStatus.CONFIRMED:
        refuse_if_short(order, "shipped")
    _transition(order, OrderStatus.SHIPPED, staff, None, f"Tracking {tracking}")
    order.tracking_reference = tracking
    for a in _locked_live_allocations(order):
        a.stock.on_hand -= a.quantity
        a.stock.allocated -= a.quantity
        a.status = AllocationStatus.SHIPPED
        db.session.add(StockMovement(stock=a.stock, kind=MovementKind.SHIPMENT, on_hand_delta=-a.quantity,
                                     allocated_delta=-a.quantity, order_id=order.id, staff_id=_id(staff),
                                     reason=f"Order {order.number} shipped, tracking {tracking}"))
    db.session.flush()
    return order


def deliver_order(number: str, staff: StaffUser | None = None) -> Order:
    """Record that a shipped order arrived."""
    order = get_order(number, lock=True)
    _transition(order, OrderStatus.DELIVERED, staff, None)
    db.session.flush()
    return order


def _id(staff: StaffUser | None) -> int | None:
    return staff.id if staff is not None else None


__all__ = [
    "LineRequest", "cancel_order", "confirm_order", "deliver_order", "get_order", "list_orders", "move",
    "new_order_number", "place_order", "ship_order",
]
