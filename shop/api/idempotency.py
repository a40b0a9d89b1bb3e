"""Idempotency-Key on the API's POSTs: one outcome per key and customer, replayed to every retry.

The flow (IETF httpapi idempotency draft, Stripe's semantics):

1. A short transaction inserts an `in_flight` record holding the request's fingerprint (SHA-256 of method,
   path and canonical JSON body). The unique (customer_id, key) constraint makes the first request win;
   any other finds the existing record and gets 422 (another body), 409 (still in flight) or the stored
   answer again with `Idempotent-Replayed: true`.
2. The work runs, and its response is stored in the record in the SAME transaction that commits the
   order: a committed order always has its answer on record, so a retry can never place a second one.
   A domain refusal (409 insufficient stock, 422 invalid input, ...) is stored in its own transaction,
   since the work's transaction rolled back.
3. On an unexpected failure nothing was committed, so the in-flight record is deleted and a retry may
   proceed. Should the process die instead, the record is taken over after IN_FLIGHT_TIMEOUT.

Records older than IDEMPOTENCY_TTL_HOURS (default 24) count as absent; `flask shop purge-idempotency`
deletes them. Request validation (malformed JSON, schema errors) happens before step 1 and is not stored.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, current_app, request
from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import DomainError
from ..extensions import db
from ..models import IdempotencyRecord, IdempotencyState, utcnow
from ..services.tx import run_in_transaction
from .problems import domain_problem, problem_response

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Longer than any request may run (gunicorn's worker timeout is 30 s): an older in-flight record belongs to
# a request that died without committing, and would otherwise block its key until the TTL runs out.
IN_FLIGHT_TIMEOUT = timedelta(minutes=10)
_STORED_HEADERS = ("Content-Type", "Location")
# Core statements built once, for the two writes every keyed request makes, run on the session's connection:
# cheaper than ORM units of work and than the Session's execute().
_RECORDS = IdempotencyRecord.__table__
_INSERT_IN_FLIGHT = insert(_RECORDS).returning(_RECORDS.c.id)
_STORE_ANSWER = (
    update(_RECORDS).where(_RECORDS.c.id == bindparam("record_id"))
    .values(state=bindparam("state"), response_status=bindparam("response_status"),
            response_body=bindparam("response_body"), response_headers=bindparam("response_headers"))
)


def fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 over method, path and the body as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def respond(customer_id: int, key: str | None, work: Callable[[], Response]) -> Response:
    """Run `work` (which changes the database and builds the response) in one transaction, once per key.

    Domain errors raised by `work` become problem+json; anything else propagates (a 500 problem).
    """
    if key is None:
        try:
            return run_in_transaction(work)
        except DomainError as error:
            return domain_problem(error)

    claimed = _claim(customer_id, key, fingerprint(request.method, request.path, request.get_json(silent=True)))
    if isinstance(claimed, Response):
        return claimed
    record_id = claimed

    def work_and_record() -> Response:
        response = work()
        _record(record_id, response)
        return response

    try:
        return run_in_transaction(work_and_record)
    except DomainError as error:
        response = domain_problem(error)
        run_in_transaction(_record, record_id, response)
        return response
    except BaseException:
        _forget(record_id)
        raise


def _claim(customer_id: int, key: str, fp: str) -> int | Response:
    """Insert the in-flight record and return its id, or the answer for a key that is already taken."""
    for _ in range(3):
        now = utcnow()
        try:
            record_id = db.session.connection().execute(_INSERT_IN_FLIGHT, {
                "customer_id": customer_id, "key": key, "method": request.method, "path": request.path[:255],
                "fingerprint": fp, "state": IdempotencyState.IN_FLIGHT, "response_status": None,
                "response_body": None, "response_headers": None, "created_at": now,
            }).scalar_one()
            db.session.commit()
            return record_id
        except IntegrityError:
            db.session.rollback()

        existing = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.customer_id == customer_id,
                                                                     IdempotencyRecord.key == key))
        if existing is None:  # released or purged since our insert failed: try again
            db.session.rollback()
            continue
        ttl_cutoff = now - timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
        abandoned = or_(IdempotencyRecord.created_at < ttl_cutoff,
                        and_(IdempotencyRecord.state == IdempotencyState.IN_FLIGHT,
                             IdempotencyRecord.created_at < now - IN_FLIGHT_TIMEOUT))
        if existing.created_at < ttl_cutoff or (existing.state == IdempotencyState.IN_FLIGHT
                                                and existing.created_at < now - IN_FLIGHT_TIMEOUT):
            # An expired record counts as absent; the condition is repeated in SQL so two takers cannot both win.
            taken = db.session.execute(
                update(IdempotencyRecord).where(IdempotencyRecord.id == existing.id, abandoned)
                .values(method=request.method, path=request.path[:255], fingerprint=fp,
                        state=IdempotencyState.IN_FLIGHT, created_at=now, response_status=None,
                        response_body=None, response_headers=None)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            if taken.rowcount == 1:
                return existing.id
            continue
        db.session.commit()  # ends the read (on SQLite it holds the write lock)
        if existing.fingerprint != fp:
            return problem_response(
                422, "idempotency-key-reused", "Idempotency key reused",
                f"The {HEADER} '{key}' was already used with a different request. Use a new key for a new "
                "request, or resend exactly the same body to get the first answer again.")
        if existing.state == IdempotencyState.IN_FLIGHT:
            return _in_flight(key)
        return _replay(existing)
    return _in_flight(key)


def _in_flight(key: str) -> Response:
    response = problem_response(
        409, "idempotency-in-flight", "Request in progress",
        f"A request with {HEADER} '{key}' is still being processed. Retry in a moment to get its answer.")
    response.headers["Retry-After"] = "1"
    return response


def _replay(record: IdempotencyRecord) -> Response:
    """The stored answer again, marked as a replay."""
    response = Response(record.response_body, status=record.response_status,
                        headers=json.loads(record.response_headers or "{}"))
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _record(record_id: int, response: Response) -> None:
    """Store the final answer in the record (inside the caller's transaction)."""
    headers = {name: response.headers[name] for name in _STORED_HEADERS if name in response.headers}
    db.session.connection().execute(_STORE_ANSWER, {
        "record_id": record_id, "state": IdempotencyState.DONE, "response_status": response.status_code,
        "response_body": response.get_data(as_text=True), "response_headers": json.dumps(headers),
    })


def _forget(record_id: int) -> None:
    """Delete an in-flight record after an unexpected failure, so that a retry can proceed."""
    try:
        db.session.rollback()
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
                           .execution_options(synchronize_session=False))
        db.session.commit()
    except Exception:  # the original error matters more; the record then expires after IN_FLIGHT_TIMEOUT
        log.exception("Could not delete in-flight idempotency record %s", record_id)
        db.session.rollback()
