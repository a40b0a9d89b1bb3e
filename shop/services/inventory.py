"""Inventory: receive lots, record CoA results, QC release / reject / recall, adjust stock, check the ledger."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..bounds import INT_MAX
from ..errors import Conflict, Failure, IllegalTransition, InvalidInput, NotFound, ReleaseRefused
from ..extensions import db
from ..models import (
    AuditEntry,
    Batch,
    BatchStatus,
    CoaResult,
    CoaResultRevision,
    DateKind,
    LotSignature,
    MovementKind,
    Product,
    SignedAction,
    SpecTest,
    StaffUser,
    Stock,
    StockMovement,
    Variant,
    check_result,
    utcnow,
)
from .results import Check, Verdict

# Lot numbers go into URLs (/coa/<lot>.pdf), file names and CoA headers: letters, digits, '-' and '_' only.
LOT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
LOT_NUMBER_RULE = ("Use 1 to 40 letters, digits, hyphens (-) and underscores (_), starting with a letter or "
                   "digit.")

if TYPE_CHECKING:
    from .signatures import Signature


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
        stock = Stock(batch=batch, variant=variants[sku], on_hand=n, allocated=0)
        db.session.add(stock)
        db.session.add(StockMovement(stock=stock, kind=MovementKind.RECEIPT, on_hand_delta=n,
                                     reason=f"Received lot {lot_number}", staff_id=_id(staff)))
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


def check_results(batch: Batch, results: Mapping[str, object]) -> tuple[dict[str, Check], dict[str, list[str]]]:
    """Read and judge results by test name without saving them (the page's "Check" and record_results):
    the checks of the values given, and the errors by field path ('results.<test>') of those refused."""
    tests = {t.name: t for t in batch.product.spec_tests}
    checks: dict[str, Check] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in results.items():
        test = tests.get(name)
        if test is None:
            errors[f"results.{name}"] = [f"'{name}' is not a test of the {batch.product.grade} specification."]
            continue
        if raw is None or raw == "":
            continue  # left blank: nothing to record
        found = check_result(test, raw)
        checks[name] = found
        if found.refused:
            errors[f"results.{name}"] = [found.message]
    return checks, errors


def record_results(batch: Batch, results: Mapping[str, object], staff: StaffUser | None = None, *,
                   source: str = "") -> list[CoaResult]:
    """Record (or correct) CoA results by test name on a lot that is still in quarantine.

    Every value goes through the strict entry rules (services.results); one refused value refuses them all.
    A correction keeps the earlier value (coa_result_revision). `source` names a laboratory system that
    recorded the results, when no staff member did (import-batch).
    """
    if batch.status != BatchStatus.QUARANTINE:
        raise IllegalTransition(f"Lot {batch.lot_number} is {batch.status}; results can only change in quarantine.")
    checks, errors = check_results(batch, results)
    if errors:
        raise InvalidInput(errors)
    tests = {t.name: t for t in batch.product.spec_tests}
    existing = {r.spec_test_id: r for r in batch.results}
    saved, changes = [], []
    now = utcnow()
    for name, found in checks.items():
        test, reading = tests[name], found.reading
        result = existing.get(test.id)
        if result is None:
            result = CoaResult(batch=batch, spec_test=test)
            db.session.add(result)
            changes.append(f"{test.name}: {reading.value}")
        elif result.value != reading.value:
            changes.append(f"{test.name}: {result.value} -> {reading.value}")
        else:
            continue  # the same result again: the first entry and its author stand
        values = {"value": reading.value, "numeric_value": reading.number, "qualifier": reading.qualifier,
                  "recorded_at": now, "recorded_by_id": _id(staff), "source": source}
        for key, value in values.items():
            setattr(result, key, value)
        db.session.add(CoaResultRevision(batch_id=batch.id, spec_test_id=test.id, **values))
        saved.append(result)
    if changes:
        by = f" (recorded by {source})" if source else ""
        audit(staff, "coa.results_recorded", f"lot {batch.lot_number}", "; ".join(changes) + by)
    db.session.flush()
    return saved


def release_failures(batch: Batch) -> list[Failure]:
    """Every spec test that has no result, a result outside its limits, or one the entry rules refuse."""
    by_test = {r.spec_test_id: r for r in batch.results}
    failures = []
    for test in batch.product.spec_tests:
        result = by_test.get(test.id)
        if result is None:
            failures.append(Failure(test.name, "no result recorded"))
            continue
        found = check_result(test, result.value)
        if found.refused:
            failures.append(Failure(test.name, f"result {result.value} is refused: {found.message}"))
        elif found.verdict != Verdict.PASS:
            failures.append(Failure(test.name, f"result {result.value} is outside {test.limits_text}"))
    return failures


@dataclass(frozen=True)
class RefusedResult:
    lot_number: str
    status: BatchStatus
    test: str
    value: str
    message: str


def refused_results() -> list[RefusedResult]:
    """Recorded results that the strict entry rules would refuse (recorded before them): each to be corrected
    by a person, or the lot recalled if it was released on one. Nothing is changed."""
    rows = db.session.execute(
        select(Batch.lot_number, Batch.status, CoaResult.value, SpecTest)
        .join(CoaResult, CoaResult.batch_id == Batch.id).join(SpecTest, SpecTest.id == CoaResult.spec_test_id)
        .order_by(Batch.lot_number, SpecTest.position, SpecTest.id))
    refused = []
    for lot_number, status, value, test in rows:
        found = check_result(test, value)
        if found.refused:
            refused.append(RefusedResult(lot_number, status, test.name, value, found.message))
    return refused


class SecondPersonRequired(Conflict):
    title = "A second person must release"
    problem = "second-person-required"


def release_batch(batch: Batch, signature: Signature) -> Batch:
    """Release a quarantined lot for sale, signed; refused, naming each test, unless every result is in spec.

    With RELEASE_REQUIRES_SECOND_PERSON (the default) the signer must not have recorded or last corrected any
    of the lot's results; with it off the release is marked as not independent, and the CoA says so.
    """
    _require_status(batch, BatchStatus.QUARANTINE, "released")
    _require_signature(signature, SignedAction.RELEASE, batch)
    failures = release_failures(batch)
    if failures:
        raise ReleaseRefused(batch.lot_number, failures)
    if batch.expires_on <= date.today():
        raise IllegalTransition(f"Lot {batch.lot_number} expired on {batch.expires_on}; it cannot be released.")
    own = [r.spec_test.name for r in sorted(batch.results, key=lambda r: r.spec_test.position)
           if r.recorded_by_id == signature.staff_id]
    if own and current_app.config["RELEASE_REQUIRES_SECOND_PERSON"]:
        raise SecondPersonRequired(
            f"You recorded or last corrected results of lot {batch.lot_number} ({', '.join(own)}): another "
            "quality user must review and release it (two-person rule).")
    batch.released_at = signature.signed_at
    _set_status(batch, BatchStatus.RELEASED, signature, "")
    _record_signature(batch, signature, independent=not own)
    return batch


def reject_batch(batch: Batch, reason: str, signature: Signature) -> Batch:
    """Reject a quarantined lot, signed: it is never sold."""
    _require_status(batch, BatchStatus.QUARANTINE, "rejected")
    _require_signature(signature, SignedAction.REJECT, batch)
    _set_status(batch, BatchStatus.REJECTED, signature, _reason(reason))
    _record_signature(batch, signature)
    return batch


def recall_batch(batch: Batch, reason: str, signature: Signature, public_note: str = "") -> Batch:
    """Mark a released lot recalled, signed, so nothing more is allocated from it.

    `reason` stays internal; `public_note` is what customers are told (on their orders and the CoA).
    Orders still drawing on the lot are handled by services.recall, which calls this.
    """
    _require_status(batch, BatchStatus.RELEASED, "recalled")
    _require_signature(signature, SignedAction.RECALL, batch)
    note = (public_note or "").strip()
    if not note:
        raise InvalidInput({"public_note": ["Write the note that customers who received the lot will read."]})
    reason = _reason(reason)
    batch.recall_note = note
    _set_status(batch, BatchStatus.RECALLED, signature, reason)
    _record_signature(batch, signature)
    return batch


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
                           f"at most {stock.on_hand - stock.allocated} units can be taken away."]
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
    "batch.on_request", "batch.on_request_cleared", "coa.results_recorded", "order.attention_cleared",
    "order.flagged", "order.reallocated", "signature.refused", "customer.deactivated", "customer.activated",
    "api_key.revoked", "company.terms", "price_list.created", "price_list.replaced", "price_list.deleted",
    "staff.password_reset_sent",
)


def audit(staff: StaffUser | int | None, action: str, subject: str, detail: str = "") -> None:
    """Record a staff action that leaves no ledger row or order history of its own (`action`: AUDIT_ACTIONS);
    `staff` is the staff user or their id."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"{action!r} is not in AUDIT_ACTIONS: add it there, so the audit page offers it")
    staff_id = staff if isinstance(staff, int) else _id(staff)
    db.session.add(AuditEntry(staff_id=staff_id, action=action, subject=subject, detail=detail))


def _plain(value):
    return int(value) if isinstance(value, Decimal) else value


def _require_status(batch: Batch, expected: BatchStatus, target: str) -> None:
    if batch.status != expected:
        raise IllegalTransition(f"Lot {batch.lot_number} is {batch.status}; only a lot in {expected} "
                                f"can be {target}.")


def _require_signature(signature: Signature, action: SignedAction, batch: Batch) -> None:
    # A programming error, not a user's: the views sign for the lot and action they act on.
    if signature is None or signature.action != action or signature.lot_number.lower() != batch.lot_number.lower():
        raise ValueError(f"{action} of lot {batch.lot_number} needs that lot's {action} signature")


def _set_status(batch: Batch, status: BatchStatus, signature: Signature, reason: str) -> None:
    previous = batch.status
    batch.status = status
    batch.status_reason = reason
    batch.status_changed_at = signature.signed_at
    batch.status_changed_by_id = signature.staff_id
    audit(signature.staff_id, f"batch.{status.value}", f"lot {batch.lot_number}",
          f"{previous} -> {status}" + (f": {reason}" if reason else "") + f". {signature.record}")
    db.session.flush()


def _record_signature(batch: Batch, signature: Signature, independent: bool = True) -> None:
    db.session.add(LotSignature(batch=batch, action=signature.action, staff_id=signature.staff_id,
                                signer_name=signature.name, signer_email=signature.email,
                                meaning=signature.meaning, signed_at=signature.signed_at, independent=independent))
    db.session.flush()


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": ["A reason is required."]})
    return reason


def _id(staff: StaffUser | None) -> int | None:
    return staff.id if staff is not None else None
