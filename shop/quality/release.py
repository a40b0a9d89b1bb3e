"""Quality decisions on a lot: record CoA results, release, reject, recall; each signed."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select

from shop.accounts.models import StaffUser
from shop.catalog.models import SpecTest
from shop.fulfilment import backorders
from shop.inventory.models import Batch, BatchStatus
from shop.lab.models import CoaResult, CoaResultRevision, check_result
from shop.lab.results import Check, Verdict
from shop.platform.audit import audit
from shop.platform.database import utcnow
from shop.platform.errors import Conflict, Failure, IllegalTransition, InvalidInput, ReleaseRefused
from shop.platform.extensions import db
from shop.quality.models import LotSignature, SignedAction

if TYPE_CHECKING:
    from shop.quality.signatures import Signature


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

    Every value goes through the strict entry rules (quality.results); one refused value refuses them all.
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
                  "recorded_at": now, "recorded_by_id": getattr(staff, "id", None), "source": source}
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
    The lot's units go first to the orders waiting for them (backorders), in the same transaction: so that no
    order placed after the release takes them, wherever the release comes from (the staff page, import-batch).
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
    backorders.fill_from_release(batch, staff_id=signature.staff_id)
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
    Orders still drawing on the lot are handled by quality.recall, which calls this.
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


_A_LOT = {BatchStatus.QUARANTINE: "a lot in quarantine", BatchStatus.RELEASED: "a released lot"}


def status_refusal(lot_number: str, status: BatchStatus, expected: BatchStatus, target: str) -> str | None:
    """Why a lot in `status` cannot be `target` ('recalled'), which only a lot in `expected` can be; None when it
    can. The words of the refusal, also for a page that says so before anyone signs."""
    if status == expected:
        return None
    state = "in quarantine" if status == BatchStatus.QUARANTINE else status.value
    return f"Lot {lot_number} is {state}: only {_A_LOT[expected]} can be {target}."


def _require_status(batch: Batch, expected: BatchStatus, target: str) -> None:
    refused = status_refusal(batch.lot_number, batch.status, expected, target)
    if refused:
        raise IllegalTransition(refused)


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
                                signer_name=signature.name, signer_email=signature.email, signer_role=signature.role,
                                meaning=signature.meaning, signed_at=signature.signed_at, independent=independent))
    db.session.flush()


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": ["A reason is required."]})
    return reason
