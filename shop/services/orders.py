"""Orders: validate, price and allocate (FEFO, all or nothing), and move through the life cycle."""
from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pycountry
from flask import current_app
from sqlalchemy import case, insert, select, tuple_, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ..errors import IllegalTransition, InsufficientStock, InvalidInput, NotFound, Shortfall
from ..extensions import db
from ..models import (
    Allocation,
    AllocationStatus,
    Batch,
    Customer,
    MovementKind,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    StaffUser,
    Stock,
    StockMovement,
    Variant,
    utcnow,
)
from . import tx
from .catalog import sellable_lot_filter

MAX_LINES = 100
MAX_SHELF_LIFE_DAYS = 3650
ADDRESS_FIELDS = {"name": 200, "line1": 200, "line2": 200, "city": 100, "postal_code": 20, "country": 2}
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")
CENT = Decimal("0.01")
# Crockford's base32 without I, L, O, U: easy to read out on the phone.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Allowed transitions: (from, to).
TRANSITIONS = {
    (OrderStatus.PENDING, OrderStatus.CONFIRMED),
    (OrderStatus.CONFIRMED, OrderStatus.SHIPPED),
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    (OrderStatus.PENDING, OrderStatus.CANCELLED),
    (OrderStatus.CONFIRMED, OrderStatus.CANCELLED),
}


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


def new_order_number(now: datetime | None = None) -> str:
    """A human-readable order number such as LS-261126-7KQ4M (date, then 5 random characters)."""
    now = now or datetime.now(UTC)
    suffix = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(5))
    return f"LS-{now:%y%m%d}-{suffix}"


def place_order(
    customer: Customer,
    lines: Sequence[Mapping[str, object] | LineRequest],
    shipping_address: Mapping[str, object],
    purchase_order: str | None = None,
    min_remaining_shelf_life_days: int | None = None,
) -> Order:
    """Validate, price and allocate an order, all or nothing; raise InvalidInput or InsufficientStock.

    The caller commits (see services.tx.run_in_transaction, which also retries on lock conflicts).
    A SKU may appear on one line only; a second line with the same SKU is refused, not merged,
    so that the line numbers an integrator sent stay the line numbers we answer with.
    """
    requests = [_as_line(line) for line in lines]
    errors: dict[str, list[str]] = {}
    _check_shape(requests, errors)
    address = _check_address(shipping_address, errors)
    po = (purchase_order or "").strip()
    if len(po) > 100:
        errors["purchase_order"] = ["At most 100 characters."]
    shelf = min_remaining_shelf_life_days
    if shelf is not None and (isinstance(shelf, bool) or not isinstance(shelf, int)
                              or not 0 <= shelf <= MAX_SHELF_LIFE_DAYS):
        errors["min_remaining_shelf_life_days"] = [f"A whole number of days from 0 to {MAX_SHELF_LIFE_DAYS}."]
    skus = [r.sku for r in requests if isinstance(r.sku, str)]
    variants = {
        v.sku: v
        for v in db.session.scalars(
            select(Variant).where(Variant.sku.in_(skus)).options(joinedload(Variant.price_breaks))
        ).unique()
    } if skus and len(requests) <= MAX_LINES else {}
    for i, req in enumerate(requests):
        if f"lines.{i}.sku" in errors or not isinstance(req.sku, str):
            continue
        variant = variants.get(req.sku)
        if variant is None or not variant.active:
            errors.setdefault(f"lines.{i}.sku", []).append(f"Unknown SKU '{req.sku}'.")
        elif f"lines.{i}.quantity" not in errors and req.quantity < variant.min_order_quantity:
            errors[f"lines.{i}.quantity"] = [f"The minimum order for {req.sku} is {variant.min_order_quantity} units."]
    if errors:
        raise InvalidInput(errors)

    # Optimistic first: plan from an unlocked read, write the order, and only then take the stock with
    # conditional UPDATEs just before COMMIT, so a hot stock row stays locked for a moment, not for the
    # whole request. A try that lost a race is run again; from the third try on the rows are locked first.
    lock_first = tx.attempt() >= 3
    plan = _plan_allocation(requests, variants, shelf or 0, lock=lock_first)

    order = Order(
        number=new_order_number(),
        customer_id=customer.id,
        status=OrderStatus.PENDING,
        currency=current_app.config["SHOP_CURRENCY"],
        ship_name=address["name"], ship_line1=address["line1"], ship_line2=address.get("line2", ""),
        ship_city=address["city"], ship_postal_code=address["postal_code"], ship_country=address["country"],
        purchase_order=po,
        min_remaining_shelf_life_days=shelf,
        placed_at=utcnow(),
    )
    subtotal = Decimal("0.00")
    for position, req in enumerate(requests):
        variant = variants[req.sku]
        unit_price = variant.price_for(req.quantity)
        line_total = (unit_price * req.quantity).quantize(CENT)
        subtotal += line_total
        line = OrderLine(position=position, variant=variant, sku=variant.sku, quantity=req.quantity,
                         unit_price=unit_price, line_total=line_total)
        order.lines.append(line)
        for stock, qty in plan[position]:
            line.allocations.append(Allocation(stock=stock, quantity=qty, status=AllocationStatus.ALLOCATED))
    order.subtotal = subtotal
    order.total = subtotal  # no shipping or tax lines yet: quoted separately by the sales team
    order.history.append(OrderStatusChange(from_status=None, to_status=OrderStatus.PENDING,
                                           customer_id=customer.id, note="Order placed"))
    db.session.add(order)
    db.session.flush()  # assigns order.id for the ledger rows
    # One executemany for all ledger rows: as ORM objects, SQLite would need one INSERT ... RETURNING per row
    # (it cannot return ids of a batch in order), and nothing reads these rows back in this transaction.
    db.session.execute(insert(StockMovement), [
        {"stock_id": a.stock.id, "kind": MovementKind.ALLOCATION, "allocated_delta": a.quantity,
         "order_id": order.id, "reason": f"Order {order.number}"}
        for line in order.lines for a in line.allocations
    ])
    _take_stock([pick for picks in plan for pick in picks], shelf or 0)
    return order


def _take_stock(picks: list[tuple[Stock, int]], min_days: int) -> None:
    """Add the planned quantities to `allocated`, or raise RetryTransaction if another order got there first.

    The lots are share-locked and re-checked first: a recall or release change that commits meanwhile
    (it updates the batch row, then locks its stock) is seen here rather than allocated from.
    """
    batch_ids = sorted({stock.batch_id for stock, _ in picks})
    still_sellable = db.session.scalars(
        select(Batch.id).where(Batch.id.in_(batch_ids), sellable_lot_filter(min_days)).with_for_update(read=True)
    ).all()
    if len(still_sellable) != len(batch_ids):
        raise tx.RetryTransaction("a lot changed status")
    # One conditional UPDATE for every row: it matches only rows that still have the units, so a row count
    # short of the number of rows means another order took them between our read and now.
    wanted = case({stock.id: qty for stock, qty in picks}, value=Stock.id)
    taken = db.session.execute(
        update(Stock)
        .where(Stock.id.in_([stock.id for stock, _ in picks]), Stock.on_hand - Stock.allocated >= wanted)
        .values(allocated=Stock.allocated + wanted)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != len(picks):
        raise tx.RetryTransaction("another order took the stock first")
    for stock, _ in picks:
        db.session.expire(stock, ["allocated"])


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
        elif q > 1_000_000:
            errors[f"lines.{i}.quantity"] = ["At most 1,000,000 units per line."]


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


def _plan_allocation(requests: list[LineRequest], variants: dict[str, Variant], min_days: int,
                     lock: bool = False) -> list[list[tuple[Stock, int]]]:
    """Choose lots first-expired-first-out for every line; raise InsufficientStock naming each short line.

    With `lock`, one statement locks every candidate row, in primary-key order so two orders never deadlock.
    """
    variant_ids = sorted({variants[r.sku].id for r in requests})
    stmt = (
        select(Stock)
        .join(Stock.batch)
        .options(contains_eager(Stock.batch))
        .where(Stock.variant_id.in_(variant_ids), sellable_lot_filter(min_days), Stock.on_hand > Stock.allocated)
        .order_by(Stock.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update(of=Stock)
    candidates = db.session.scalars(stmt).all()
    by_variant: dict[int, list[Stock]] = defaultdict(list)
    for stock in sorted(candidates, key=lambda s: (s.batch.expires_on, s.batch.id, s.id)):
        by_variant[stock.variant_id].append(stock)

    plan: list[list[tuple[Stock, int]]] = []
    short: list[Shortfall] = []
    for req in requests:
        pool = by_variant[variants[req.sku].id]
        remaining, picks = req.quantity, []
        for stock in pool:
            if remaining == 0:
                break
            take = min(stock.on_hand - stock.allocated, remaining)
            if take > 0:
                picks.append((stock, take))
                remaining -= take
        if remaining:
            short.append(Shortfall(req.sku, req.quantity, sum(s.on_hand - s.allocated for s in pool)))
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
    )


def get_order(number: str, customer_id: int | None = None, *, lock: bool = False) -> Order:
    """One order with its lines and allocated lots; limited to one customer's orders when given."""
    stmt = select(Order).where(Order.number == number).options(*_order_options())
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if lock:
        stmt = stmt.with_for_update(of=Order).execution_options(populate_existing=True)
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


def list_orders(customer_id: int | None = None, status: OrderStatus | None = None, limit: int = 20,
                after: tuple[datetime, int] | None = None) -> list[Order]:
    """Orders newest first, keyset-paginated on (placed_at, id); pass the last row's pair as `after`."""
    stmt = select(Order).options(*_order_options()).order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if after is not None:
        stmt = stmt.where(tuple_(Order.placed_at, Order.id) < tuple_(*after))
    return list(db.session.scalars(stmt))


# --- The life cycle -------------------------------------------------------------------------------

def _transition(order: Order, to: OrderStatus, staff: StaffUser | None, customer: Customer | None,
                note: str = "") -> None:
    if (order.status, to) not in TRANSITIONS:
        raise IllegalTransition(f"Order {order.number} is {order.status} and cannot be {to}.")
    order.history.append(OrderStatusChange(from_status=order.status, to_status=to, staff_id=_id(staff),
                                           customer_id=customer.id if customer else None, note=note))
    order.status = to


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
    _transition(order, OrderStatus.CONFIRMED, staff, None)
    db.session.flush()
    return order


def cancel_order(number: str, *, customer: Customer | None = None, staff: StaffUser | None = None,
                 reason: str = "") -> Order:
    """Cancel a pending or confirmed order and give its allocated units back to stock.

    With `customer`, only that customer's order can be found (another's is NotFound).
    """
    order = get_order(number, customer_id=customer.id if customer else None, lock=True)
    _transition(order, OrderStatus.CANCELLED, staff, customer, reason)
    for a in _locked_live_allocations(order):
        a.stock.allocated -= a.quantity
        a.status = AllocationStatus.RELEASED
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
        for line in order.lines:
            held = sum(a.quantity for a in line.allocations if a.status == AllocationStatus.ALLOCATED)
            if held != line.quantity:
                raise IllegalTransition(f"Line {line.sku} of order {order.number} has {held} of {line.quantity} "
                                        "units allocated; allocate the rest before shipping.")
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
    "LineRequest", "cancel_order", "confirm_order", "deliver_order", "get_order", "list_orders",
    "new_order_number", "place_order", "ship_order",
]
