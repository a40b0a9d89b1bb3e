"""Lots and their stock: receive a lot into quarantine, adjust stock, check the ledger (stock is written by
`ledger` alone)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shop.accounts.models import StaffUser
from shop.catalog.models import Product, Variant
from shop.inventory import ledger
from shop.inventory.models import Batch, BatchStatus, DateKind, MovementKind, Stock, StockMovement
from shop.platform.audit import audit
from shop.platform.bounds import INT_MAX
from shop.platform.errors import InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.wording import units

# Lot numbers go into URLs (/coa/<lot>.pdf), file names and CoA headers: letters, digits, '-' and '_' only.
LOT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
LOT_NUMBER_RULE = ("Use 1 to 40 letters, digits, hyphens (-) and underscores (_), starting with a letter or "
                   "digit.")


def lot_number_is(lot_number: str):
    """SQL condition matching a lot number as a person typed it: without regard to case (an index serves it)."""
    return func.lower(Batch.lot_number) == (lot_number or "").strip().lower()


def get_batch(lot_number: str) -> Batch:
    """A batch by lot number (any case), with its product's specification and its results and stock loaded."""
    batch = db.session.scalar(
        select(Batch)
        .where(lot_number_is(lot_number))
        .options(
            selectinload(Batch.product).selectinload(Product.spec_tests),
            selectinload(Batch.results),
            selectinload(Batch.stocks).selectinload(Stock.variant),
        )
    )
    if batch is None:
        raise NotFound(f"No lot '{lot_number}'.")
    return batch


def receipt_errors(product_slug: str, lot_number: str, manufactured_on: date | None, expires_on: date | None,
                   units: Mapping[str, object], date_kind: DateKind | str = DateKind.EXPIRY) -> dict[str, list[str]]:
    """Everything wrong with a lot receipt, by field, without writing anything (forms show it all at once)."""
    errors: dict[str, list[str]] = {}
    product = db.session.scalar(select(Product).where(Product.slug == product_slug))
    if product is None:
        errors["product"] = [f"Unknown product '{product_slug}'."]
    lot_number = (lot_number or "").strip()
    if not lot_number:
        errors["lot_number"] = ["A lot number is required."]
    elif not LOT_NUMBER.fullmatch(lot_number):
        errors["lot_number"] = [LOT_NUMBER_RULE]
    elif (known := db.session.scalar(select(Batch.lot_number).where(lot_number_is(lot_number)))) is not None:
        errors["lot_number"] = [f"Lot {known} has been received already." if known == lot_number else
                                f"Lot {known} has been received already (lot numbers are the same in any case)."]
    if date_kind not in {k.value for k in DateKind}:
        errors["date_kind"] = ["Say whether the date is an expiry date or a retest date."]
    for name, value in (("manufactured_on", manufactured_on), ("expires_on", expires_on)):
        if not isinstance(value, date):
            errors[name] = ["A date is required."]
    if isinstance(manufactured_on, date) and isinstance(expires_on, date):
        if expires_on <= manufactured_on:
            errors["expires_on"] = ["The expiry date must come after the manufacturing date."]
        elif manufactured_on > date.today():
            errors["manufactured_on"] = ["The manufacturing date cannot be in the future."]
    variants = {v.sku for v in product.variants} if product is not None else set()
    if not any(units.values()):
        errors["units"] = ["Give the number of units for at least one pack size."]
    for sku, n in units.items():
        if sku not in variants and product is not None:
            errors[f"units.{sku}"] = [f"{sku} is not a pack size of {product.name}."]
        elif isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= INT_MAX:
            errors[f"units.{sku}"] = [f"Units must be a whole number from 0 to {INT_MAX:,}."]
    return errors


def receive_batch(
    product_slug: str,
    lot_number: str,
    manufactured_on: date,
    expires_on: date,
    units: Mapping[str, int],
    staff: StaffUser | None = None,
    *,
    date_kind: DateKind | str = DateKind.EXPIRY,
) -> Batch:
    """Book a new lot into quarantine with its units per pack size, one receipt ledger row each.

    `expires_on` is the lot's expiry date, or its retest date when `date_kind` is 'retest'.
    """
    errors = receipt_errors(product_slug, lot_number, manufactured_on, expires_on, units, date_kind)
    if errors:
        raise InvalidInput(errors)
    product = db.session.scalar(select(Product).where(Product.slug == product_slug))
    variants = {v.sku: v for v in product.variants}
    lot_number, kind = lot_number.strip(), DateKind(date_kind)
    counted = {sku: n for sku, n in units.items() if n}

    batch = Batch(product=product, lot_number=lot_number, manufactured_on=manufactured_on,
                  expires_on=expires_on, date_kind=kind, status=BatchStatus.QUARANTINE, received_by_id=_id(staff))
    db.session.add(batch)
    for sku, n in sorted(counted.items()):
        ledger.receive(batch, variants[sku], n, reason=f"Received lot {lot_number}", staff_id=_id(staff))
    db.session.flush()
    return batch


def shelf_life_warning(batch: Batch, today: date | None = None) -> str | None:
    """A warning for the warehouse when a lot arrives with less shelf life left than orders get by default."""
    minimum = current_app.config["DEFAULT_MIN_SHELF_LIFE_DAYS"]
    left = (batch.expires_on - (today or date.today())).days
    if left > minimum:
        return None
    return (f"Lot {batch.lot_number} has {left} days of shelf life left ({batch.date_kind.label.lower()} "
            f"{batch.expires_on.isoformat()}): not more than the {minimum} days that orders get by default, so "
            "only an order asking for a shorter shelf life can receive it.")


def set_on_request(lot_number: str, on_request: bool, staff: StaffUser | None = None) -> Batch:
    """Mark a lot "sell only on request" (never picked first-expired-first-out) or sell it normally again."""
    batch = get_batch(lot_number)
    if batch.on_request == on_request:
        return batch
    batch.on_request = on_request
    audit(staff, "batch.on_request" if on_request else "batch.on_request_cleared", f"lot {batch.lot_number}",
          "Sold only when allocated to an order by hand" if on_request else "Sold first-expired-first-out again")
    db.session.flush()
    return batch


def adjustment_errors(stock: Stock | None, delta: object, reason: str | None,
                      kind: MovementKind | None) -> dict[str, list[str]]:
    """Everything wrong with a stock adjustment, by field, without writing anything (forms show it all at
    once); `stock` as last read, for the check that the adjustment leaves what orders hold."""
    errors: dict[str, list[str]] = {}
    if kind not in (MovementKind.ADJUSTMENT, MovementKind.SCRAP):
        errors["kind"] = ["Only adjustments and scrap are entered by hand."]
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        errors["delta"] = ["Enter a whole number of units other than zero."]
    elif kind == MovementKind.SCRAP and delta > 0:
        errors["delta"] = ["Scrap takes units away: enter a negative number."]
    elif stock is not None and stock.on_hand + delta > INT_MAX:
        errors["delta"] = [f"{stock.on_hand:,} on hand: at most {INT_MAX - stock.on_hand:,} units can be added to "
                           "one lot and pack size."]
    elif stock is not None and stock.on_hand + delta < stock.allocated:
        errors["delta"] = [f"{stock.on_hand} on hand with {stock.allocated} allocated to orders: "
                           f"at most {units(stock.on_hand - stock.allocated)} can be taken away."]
    if not (reason or "").strip():
        errors["reason"] = ["A reason is required for every adjustment."]
    return errors


def adjust_stock(stock_id: int, delta: int, reason: str, staff: StaffUser | None = None,
                 kind: MovementKind = MovementKind.ADJUSTMENT) -> Stock:
    """Change units on hand by `delta` (count correction, damage, scrap); never below what is allocated."""
    stock = db.session.scalar(
        select(Stock).where(Stock.id == stock_id).with_for_update().execution_options(populate_existing=True)
    )
    if stock is None:
        raise NotFound("No such stock row.")
    errors = adjustment_errors(stock, delta, reason, kind)
    if errors:
        raise InvalidInput(errors)
    ledger.adjust(stock, delta, kind=kind, reason=reason.strip(), staff_id=_id(staff))
    db.session.flush()
    return stock


@dataclass(frozen=True)
class LedgerMismatch:
    stock_id: int
    lot_number: str
    sku: str
    on_hand: int
    ledger_on_hand: int
    allocated: int
    ledger_allocated: int


def check_ledger() -> list[LedgerMismatch]:
    """Compare every stock row with the sum of its movements; return the rows that disagree."""
    sums = (
        select(
            StockMovement.stock_id,
            func.coalesce(func.sum(StockMovement.on_hand_delta), 0).label("on_hand"),
            func.coalesce(func.sum(StockMovement.allocated_delta), 0).label("allocated"),
        )
        .group_by(StockMovement.stock_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Stock.id, Batch.lot_number, Variant.sku, Stock.on_hand, func.coalesce(sums.c.on_hand, 0),
               Stock.allocated, func.coalesce(sums.c.allocated, 0))
        .join(Batch, Batch.id == Stock.batch_id)
        .join(Variant, Variant.id == Stock.variant_id)
        .outerjoin(sums, sums.c.stock_id == Stock.id)
        .where((Stock.on_hand != func.coalesce(sums.c.on_hand, 0))
               | (Stock.allocated != func.coalesce(sums.c.allocated, 0)))
        .order_by(Stock.id)
    )
    return [LedgerMismatch(*map(_plain, row)) for row in rows]


def _plain(value):
    return int(value) if isinstance(value, Decimal) else value


def _id(staff: StaffUser | None) -> int | None:
    return staff.id if staff is not None else None
