"""Inventory: receive lots, record CoA results, QC release / reject / recall, adjust stock, check the ledger."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..bounds import INT_MAX
from ..errors import Failure, IllegalTransition, InvalidInput, NotFound, ReleaseRefused
from ..extensions import db
from ..models import (
    AuditEntry,
    Batch,
    BatchStatus,
    CoaResult,
    MovementKind,
    Product,
    SpecTest,
    StaffUser,
    Stock,
    StockMovement,
    Variant,
    result_passes,
    utcnow,
)

QUALITATIVE_RESULTS = ("conforms", "does not conform")
# Lot numbers go into URLs (/coa/<lot>.pdf), file names and CoA headers: letters, digits, '-' and '_' only.
LOT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
LOT_NUMBER_RULE = ("Use 1 to 40 letters, digits, hyphens (-) and underscores (_), starting with a letter or "
                   "digit.")
# The largest magnitude numeric_value (Numeric(14, 4)) holds.
MAX_RESULT = Decimal("1e10")


def get_batch(lot_number: str) -> Batch:
    """A batch by lot number, with its product's specification and its results and stock loaded."""
    batch = db.session.scalar(
        select(Batch)
        .where(Batch.lot_number == lot_number)
        .options(
            selectinload(Batch.product).selectinload(Product.spec_tests),
            selectinload(Batch.results),
            selectinload(Batch.stocks).selectinload(Stock.variant),
        )
    )
    if batch is None:
        raise NotFound(f"No lot '{lot_number}'.")
    return batch


def receive_batch(
    product_slug: str,
    lot_number: str,
    manufactured_on: date,
    expires_on: date,
    units: Mapping[str, int],
    staff: StaffUser | None = None,
) -> Batch:
    """Book a new lot into quarantine with its units per pack size, one receipt ledger row each."""
    errors: dict[str, list[str]] = {}
    product = db.session.scalar(select(Product).where(Product.slug == product_slug))
    if product is None:
        errors["product"] = [f"Unknown product '{product_slug}'."]
    lot_number = (lot_number or "").strip()
    if not lot_number:
        errors["lot_number"] = ["A lot number is required."]
    elif not LOT_NUMBER.fullmatch(lot_number):
        errors["lot_number"] = [LOT_NUMBER_RULE]
    elif db.session.scalar(select(Batch.id).where(Batch.lot_number == lot_number)) is not None:
        errors["lot_number"] = [f"Lot {lot_number} has been received already."]
    if not isinstance(manufactured_on, date) or not isinstance(expires_on, date):
        errors["expires_on"] = ["Manufactured and expiry dates are required."]
    elif expires_on <= manufactured_on:
        errors["expires_on"] = ["The expiry date must come after the manufacturing date."]
    elif manufactured_on > date.today():
        errors["manufactured_on"] = ["The manufacturing date cannot be in the future."]
    variants: dict[str, Variant] = {}
    if product is not None:
        variants = {v.sku: v for v in product.variants}
    counted = {sku: n for sku, n in units.items() if n}
    if not counted:
        errors["units"] = ["Give the number of units for at least one pack size."]
    for sku, n in units.items():
        if sku not in variants and product is not None:
            errors[f"units.{sku}"] = [f"{sku} is not a pack size of {product.name}."]
        elif isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= INT_MAX:
            errors[f"units.{sku}"] = [f"Units must be a whole number from 0 to {INT_MAX:,}."]
    if errors:
        raise InvalidInput(errors)

    batch = Batch(product=product, lot_number=lot_number, manufactured_on=manufactured_on,
                  expires_on=expires_on, status=BatchStatus.QUARANTINE, received_by_id=_id(staff))
    db.session.add(batch)
    for sku, n in sorted(counted.items()):
        stock = Stock(batch=batch, variant=variants[sku], on_hand=n, allocated=0)
        db.session.add(stock)
        db.session.add(StockMovement(stock=stock, kind=MovementKind.RECEIPT, on_hand_delta=n,
                                     reason=f"Received lot {lot_number}", staff_id=_id(staff)))
    db.session.flush()
    return batch


def parse_result(test: SpecTest, raw: object) -> tuple[str, Decimal | None]:
    """Normalise a reported result: a number for a numeric test, 'conforms' or 'does not conform' otherwise."""
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise ValueError("A result is required.")
    if test.qualitative:
        lowered = text.lower()
        if lowered not in QUALITATIVE_RESULTS:
            raise ValueError("Enter 'conforms' or 'does not conform'.")
        return lowered, None
    if isinstance(raw, bool):
        raise ValueError("Enter a number.")
    try:
        number = Decimal(text.replace(",", ".").lstrip("+"))
    except InvalidOperation:
        raise ValueError("Enter a number.") from None
    # Issue 11's guard until issue 10's strict parser: an exponent ('1e10') is not how labs write results, and
    # a number beyond the column's range would fail at the database.
    if not number.is_finite() or "e" in text.lower() or abs(number) >= MAX_RESULT:
        raise ValueError("Enter a plain decimal number such as 0.08.")
    return text, number


def record_results(batch: Batch, results: Mapping[str, object], staff: StaffUser | None = None) -> list[CoaResult]:
    """Record (or correct) CoA results by test name on a lot that is still in quarantine."""
    if batch.status != BatchStatus.QUARANTINE:
        raise IllegalTransition(f"Lot {batch.lot_number} is {batch.status}; results can only change in quarantine.")
    tests = {t.name: t for t in batch.product.spec_tests}
    existing = {r.spec_test_id: r for r in batch.results}
    errors: dict[str, list[str]] = {}
    parsed: list[tuple[SpecTest, str, Decimal | None]] = []
    for name, raw in results.items():
        test = tests.get(name)
        if test is None:
            errors[f"results.{name}"] = [f"'{name}' is not a test of the {batch.product.grade} specification."]
            continue
        if raw is None or str(raw).strip() == "":
            continue  # left blank: nothing to record
        try:
            parsed.append((test, *parse_result(test, raw)))
        except ValueError as exc:
            errors[f"results.{name}"] = [str(exc)]
    if errors:
        raise InvalidInput(errors)
    saved = []
    changes = []
    now = utcnow()
    for test, value, number in parsed:
        result = existing.get(test.id)
        if result is None:
            result = CoaResult(batch=batch, spec_test=test)
            db.session.add(result)
            changes.append(f"{test.name}: {value}")
        elif result.value != value:
            changes.append(f"{test.name}: {result.value} -> {value}")
        else:
            continue  # the same result again: the first entry and its author stand
        result.value, result.numeric_value = value, number
        result.recorded_at, result.recorded_by_id = now, _id(staff)
        saved.append(result)
    if changes:
        # The result row keeps only the latest value; a correction's earlier value lives on in the audit log.
        audit(staff, "coa.results_recorded", f"lot {batch.lot_number}", "; ".join(changes))
    db.session.flush()
    return saved


def release_failures(batch: Batch) -> list[Failure]:
    """Every spec test that has no result or a result outside its limits."""
    by_test = {r.spec_test_id: r for r in batch.results}
    failures = []
    for test in batch.product.spec_tests:
        result = by_test.get(test.id)
        if result is None:
            failures.append(Failure(test.name, "no result recorded"))
        elif not result_passes(test, result.value, result.numeric_value):
            failures.append(Failure(test.name, f"result {result.value} is outside {test.limits_text}"))
    return failures


def release_batch(batch: Batch, staff: StaffUser | None = None) -> Batch:
    """Release a quarantined lot for sale; refused, naming each test, unless every result is in spec."""
    _require_status(batch, BatchStatus.QUARANTINE, "released")
    failures = release_failures(batch)
    if failures:
        raise ReleaseRefused(batch.lot_number, failures)
    if batch.expires_on <= date.today():
        raise IllegalTransition(f"Lot {batch.lot_number} expired on {batch.expires_on}; it cannot be released.")
    _set_status(batch, BatchStatus.RELEASED, staff, "")
    return batch


def reject_batch(batch: Batch, reason: str, staff: StaffUser | None = None) -> Batch:
    """Reject a quarantined lot: it is never sold."""
    _require_status(batch, BatchStatus.QUARANTINE, "rejected")
    _set_status(batch, BatchStatus.REJECTED, staff, _reason(reason))
    return batch


def recall_batch(batch: Batch, reason: str, staff: StaffUser | None = None) -> Batch:
    """Mark a released lot recalled so nothing more is allocated from it.

    Orders still drawing on the lot are handled by services.recall, which calls this.
    """
    _require_status(batch, BatchStatus.RELEASED, "recalled")
    _set_status(batch, BatchStatus.RECALLED, staff, _reason(reason))
    return batch


def adjust_stock(stock_id: int, delta: int, reason: str, staff: StaffUser | None = None,
                 kind: MovementKind = MovementKind.ADJUSTMENT) -> Stock:
    """Change units on hand by `delta` (count correction, damage, scrap); never below what is allocated."""
    if kind not in (MovementKind.ADJUSTMENT, MovementKind.SCRAP):
        raise InvalidInput({"kind": ["Only adjustments and scrap are entered by hand."]})
    errors: dict[str, list[str]] = {}
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        errors["delta"] = ["Enter a whole number of units other than zero."]
    elif kind == MovementKind.SCRAP and delta > 0:
        errors["delta"] = ["Scrap takes units away: enter a negative number."]
    if not (reason or "").strip():
        errors["reason"] = ["A reason is required for every adjustment."]
    if errors:
        raise InvalidInput(errors)
    stock = db.session.scalar(
        select(Stock).where(Stock.id == stock_id).with_for_update().execution_options(populate_existing=True)
    )
    if stock is None:
        raise NotFound("No such stock row.")
    if stock.on_hand + delta > INT_MAX:
        raise InvalidInput({"delta": [f"{stock.on_hand:,} on hand: at most {INT_MAX - stock.on_hand:,} units can "
                                      "be added to one lot and pack size."]})
    if stock.on_hand + delta < stock.allocated:
        raise InvalidInput({"delta": [
            f"{stock.on_hand} on hand with {stock.allocated} allocated to orders: "
            f"at most {stock.on_hand - stock.allocated} units can be taken away."]})
    stock.on_hand += delta
    db.session.add(StockMovement(stock=stock, kind=kind, on_hand_delta=delta, reason=reason.strip(),
                                 staff_id=_id(staff)))
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


# Every action the audit log records: the staff audit page offers them as filters without reading the log.
AUDIT_ACTIONS = (
    *(f"batch.{status.value}" for status in BatchStatus),
    "coa.results_recorded", "order.attention_cleared", "order.flagged", "order.reallocated",
    "customer.deactivated", "customer.activated", "api_key.revoked",
)


def audit(staff: StaffUser | None, action: str, subject: str, detail: str = "") -> None:
    """Record a staff action that leaves no ledger row or order history of its own (`action`: AUDIT_ACTIONS)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"{action!r} is not in AUDIT_ACTIONS: add it there, so the audit page offers it")
    db.session.add(AuditEntry(staff_id=_id(staff), action=action, subject=subject, detail=detail))


def _plain(value):
    return int(value) if isinstance(value, Decimal) else value


def _require_status(batch: Batch, expected: BatchStatus, target: str) -> None:
    if batch.status != expected:
        raise IllegalTransition(f"Lot {batch.lot_number} is {batch.status}; only a lot in {expected} "
                                f"can be {target}.")


def _set_status(batch: Batch, status: BatchStatus, staff: StaffUser | None, reason: str) -> None:
    previous = batch.status
    batch.status = status
    batch.status_reason = reason
    batch.status_changed_at = utcnow()
    batch.status_changed_by_id = _id(staff)
    audit(staff, f"batch.{status.value}", f"lot {batch.lot_number}",
          f"{previous} -> {status}" + (f": {reason}" if reason else ""))
    db.session.flush()


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": ["A reason is required."]})
    return reason


def _id(staff: StaffUser | None) -> int | None:
    return staff.id if staff is not None else None
