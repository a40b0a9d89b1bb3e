"""Shipping an order in one or more shipments (DESIGN.md, "Shipments and backorders"): `ship` sends the units staff
pick, `ship_order` everything the order has allocated. Each shipment is numbered `<order>-S<n>`, takes its units from
the line's allocations (the shipped part becomes an allocation of its own, status shipped, naming the shipment), is
one ledger row per stock row it empties from, moves the order to partially_shipped, or shipped once every unit
not cancelled has left (backordered units have not), and is invoiced (billing). A prepaid order ships only once paid
in full. The caller commits."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from flask import current_app
from sqlalchemy import select

from shop.accounts.models import StaffUser
from shop.fulfilment import billing
from shop.fulfilment.picking import Held, LineHolding, Pick, pick, shape_errors
from shop.inventory import ledger
from shop.inventory.models import Batch, BatchStatus, Stock
from shop.ordering import shortages, totals
from shop.ordering.actions import locked_live_allocations
from shop.ordering.lifecycle import Actor, move
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderLine, OrderStatus, Shipment
from shop.ordering.queries import get_order
from shop.platform.errors import IllegalTransition, InvalidInput
from shop.platform.extensions import db
from shop.platform.names import checked_name

MAX_TRACKING = 100
MAX_CARRIER = 60
SHIPPABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)

__all__ = ["MAX_CARRIER", "MAX_TRACKING", "Pick", "holdings", "ship", "ship_order", "to_come"]


def ship(number: str, picks: Sequence[Pick], *, tracking_reference: str, carrier: str = "",
         staff: StaffUser | None = None) -> Shipment:
    """Ship the units `picks` name (per line position, from a lot or earliest expiry first) as the order's next
    shipment. Refused before anything changes: InvalidInput by field path (tracking, carrier, a quantity that is
    not a whole number, more than a line holds unshipped, a recalled or foreign lot, nothing at all), or
    IllegalTransition (an order neither confirmed nor partially shipped, or one short of units)."""
    return _ship(number, picks, tracking_reference, carrier, staff)


def ship_order(number: str, tracking_reference: str, staff: StaffUser | None = None, carrier: str = "", *,
               on: date | None = None) -> Order:
    """Ship everything the order has allocated and not shipped, as one shipment (the whole order, unless units of
    it are backordered); refused as `ship` refuses. `on`: the day it left, invoiced that day (today by default; a
    past day only for history the demo writes)."""
    return _ship(number, None, tracking_reference, carrier, staff, on).order


def holdings(order: Order) -> list[LineHolding]:
    """Each line of an order (loaded with its allocations and lots) with its units allocated and not shipped, per
    allocation: what a shipment may take, and what the ship form offers."""
    return [LineHolding(line.position, line.sku, tuple(
        Held(a.id, a.stock.batch.lot_number, a.stock.batch.expires_on, a.quantity,
             a.stock.batch.status == BatchStatus.RECALLED)
        for a in line.allocations if a.status == AllocationStatus.ALLOCATED)) for line in order.lines]


def to_come(order: Order) -> list[OrderLine]:
    """The lines with units still to ship, once some of the order has shipped or is backordered: what the buyer is
    told is still to come (allocated and ready, or backordered). None before that: the whole order is to come."""
    if not order.shipments and not any(line.backordered_quantity for line in order.lines):
        return []
    return [line for line in order.lines if line.wanted > line.shipped_quantity]


def _everything_allocated(order: Order) -> list[Pick]:
    return [Pick(line.position, line.allocated_quantity) for line in order.lines]


def _ship(number: str, picks: Sequence[Pick] | None, tracking_reference: str, carrier: str,
          staff: StaffUser | None, on: date | None = None) -> Shipment:
    """The steps of a shipment (of `picks`, or of everything allocated when None): check what was typed, lock the
    order (and decide the VAT of one placed before VAT existed) and its stock, pick, write, move, invoice."""
    tracking, carrier = _checked_input(tracking_reference, carrier, picks or ())
    order = get_order(number, lock=True)
    # Before the prepaid check: what a prepaid order must have paid includes the VAT decided now.
    totals.decide_missing_vat(order, current_app.config["SHOP_COUNTRY"])
    _refuse_unless_shippable(order)
    _lock_stock(order)
    taken, errors = pick(_everything_allocated(order) if picks is None else picks, holdings(order))
    if errors:
        raise InvalidInput(errors)
    actor = Actor.of(staff)
    shipment = Shipment(order=order, sequence=len(order.shipments) + 1, carrier=carrier,
                        tracking_reference=tracking, staff_id=actor.staff_id)
    if on is not None:
        shipment.shipped_at = datetime.combine(on, time(12), UTC)
    shipment.number = f"{order.number}-S{shipment.sequence}"
    _take(order, shipment, taken, actor)
    done = all(line.shipped_quantity == line.wanted for line in order.lines)
    move(order, OrderStatus.SHIPPED if done else OrderStatus.PARTIALLY_SHIPPED, actor, _note(shipment),
         shipment=shipment.number)
    order.tracking_reference, order.carrier = tracking, carrier
    db.session.flush()
    billing.bill_shipment(order, shipment, staff, on=on)
    return shipment


def _checked_input(tracking_reference: object, carrier: object, picks: Sequence[Pick]) -> tuple[str, str]:
    """The tracking reference (required) and carrier (optional), stripped; InvalidInput names each field refused,
    picks' quantities and lots too, before any order is read."""
    errors = shape_errors(picks)
    tracking = checked_name(tracking_reference, "tracking_reference", MAX_TRACKING, errors,
                            required="A tracking reference is required to ship.")
    carrier = checked_name(carrier, "carrier", MAX_CARRIER, errors)
    if errors:
        raise InvalidInput(errors)
    return tracking, carrier


def _refuse_unless_shippable(order: Order) -> None:
    """Only a confirmed or partially shipped order ships, and not while units are missing (neither held nor
    backordered): those must be allocated or cancelled first, or the order would never finish shipping. A prepaid
    order ships only once paid in full."""
    if order.status not in SHIPPABLE:
        raise IllegalTransition(f"Order {order.number} is {order.status} and cannot be shipped.")
    shortages.refuse_if_short(order, "shipped")
    billing.refuse_unless_paid(order)


def _lock_stock(order: Order) -> None:
    """Lock the stock rows of the order's allocated units (as cancelling does), and their lots for share: a recall
    committing meanwhile waits for the shipment, or the shipment sees the lot recalled."""
    stock_ids = sorted({a.stock_id for a in locked_live_allocations(order)})
    if stock_ids:
        db.session.scalars(select(Batch).where(Batch.id.in_(select(Stock.batch_id).where(Stock.id.in_(stock_ids))))
                           .order_by(Batch.id).with_for_update(read=True)
                           .execution_options(populate_existing=True)).all()


def _take(order: Order, shipment: Shipment, taken: dict[int, int], actor: Actor) -> None:
    """Move the taken units into the shipment: a whole allocation changes status, part of one is split off as its
    own shipped allocation; then one ledger row per stock row."""
    by_id = {a.id: a for line in order.lines for a in line.allocations}
    per_stock: dict[int, int] = defaultdict(int)
    for allocation_id, n in sorted(taken.items()):
        a = by_id[allocation_id]
        per_stock[a.stock_id] += n
        if n == a.quantity:
            a.status, a.shipment = AllocationStatus.SHIPPED, shipment
        else:
            a.quantity -= n
            a.line.allocations.append(Allocation(stock=a.stock, quantity=n, status=AllocationStatus.SHIPPED,
                                                 shipment=shipment))
    stocks = {a.stock_id: a.stock for a in by_id.values()}
    for stock_id, n in sorted(per_stock.items()):
        ledger.ship(stocks[stock_id], n, order_id=order.id, staff_id=actor.staff_id,
                    reason=f"Shipment {shipment.number}, tracking {shipment.tracking_reference}")


def _note(shipment: Shipment) -> str:
    """The history's note of a shipment: its number, carrier and tracking reference."""
    by = f"{shipment.carrier}, tracking" if shipment.carrier else "tracking"
    return f"Shipment {shipment.number}: {by} {shipment.tracking_reference}"
