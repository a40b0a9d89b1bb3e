"""Idempotency-Key on the API's POSTs: one outcome per key and customer, replayed to every retry.

The flow (IETF httpapi idempotency draft, Stripe's semantics), in the SAME transaction as the work:

1. One statement looks up the key's record and, on PostgreSQL, takes a transaction-scoped advisory lock
   on (customer, key) (`_lookup`, the lock's one place): the statement that checks the request's API key
   (see `authenticate`), so that this step costs no statement of its own. A request that cannot take the
   lock knows that another request with the key is still running: 409 `idempotency-in-flight`. A record
   found answers at once: its stored answer again with `Idempotent-Replayed: true`, or 422 when it was made
   for another body (the fingerprint is a SHA-256 of method, path and canonical JSON body).
2. Otherwise the work runs, and its answer is INSERTed as the key's record before COMMIT (placing an order
   writes it in the order's own statement): a committed order always has its answer on record, so a
   retry can never place a second one. The unique (customer_id, key) constraint is the final word: should
   two requests both get past step 1 (the second read its snapshot just before the first committed), the
   second's INSERT fails, its work rolls back, and it answers with the first one's record.
3. A domain refusal (409 insufficient stock, 422 invalid input, ...) rolls the work back; the refusal is
   then stored in a transaction of its own. An unexpected failure stores nothing, so a retry may proceed;
   a process that dies mid-request releases its lock with its connection.

On SQLite a write transaction holds the database's one write lock from its first statement, so a second
request with the key waits for the first to commit and then gets its answer (never 409).

Records older than IDEMPOTENCY_TTL_HOURS (default 24) count as absent; `flask shop purge-idempotency`
deletes them. Request validation (malformed JSON, schema errors) happens before step 1 and is not stored.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, current_app, g, request
from sqlalchemy import Integer, Row, and_, bindparam, delete, func, insert, literal, select, true
from sqlalchemy.exc import IntegrityError

from shop.accounts import people as accounts
from shop.accounts.models import ApiKey
from shop.api.problems import domain_problem, problem_response
from shop.ordering.models import IdempotencyRecord
from shop.platform.database import utcnow
from shop.platform.errors import DomainError
from shop.platform.extensions import db
from shop.platform.tx import RetryTransaction, run_in_transaction

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"
_STORED_HEADERS = ("Content-Type", "Location")
# The OpenAPI description of the header every idempotent POST may answer with.
RESPONSE_HEADERS = {REPLAYED_HEADER: {
    "description": f"`true` when this is the stored answer to an earlier request with the same {HEADER}.",
    "schema": {"type": "string", "enum": ["true"]}}}

# Core statements built once, run on the session's connection: cheaper than the ORM's unit of work, which
# cost more CPU than the database spent on them.
_RECORDS = IdempotencyRecord.__table__
_ONE_ROW = select(literal(1).label("one")).subquery("one_row")
_RECORD_COLUMNS = (_RECORDS.c.id, _RECORDS.c.fingerprint, _RECORDS.c.created_at, _RECORDS.c.response_status,
                   _RECORDS.c.response_body, _RECORDS.c.response_headers)


def _lookup_statement(advisory_lock: bool, by_api_key: bool):
    """SELECT [pg_try_advisory_xact_lock(customer, :key_lock)], the key's record or NULLs.

    By customer (:customer_id) always exactly one row. By API key (:key_hash) one row, led by the key's
    customer_id, for a valid key only (the lock is then taken for that customer), none otherwise.
    """
    if by_api_key:
        query, customer = accounts.KEY_FOR_HASH, ApiKey.customer_id
    else:
        query, customer = select().select_from(_ONE_ROW), bindparam("customer_id", type_=Integer)
    free = func.pg_try_advisory_xact_lock(customer, bindparam("key_lock", type_=Integer)) if advisory_lock else true()
    record = and_(_RECORDS.c.customer_id == customer, _RECORDS.c.key == bindparam("key"))
    return query.add_columns(free.label("free"), *_RECORD_COLUMNS).outerjoin(_RECORDS, record)


_LOOKUP = {(lock, by_api_key): _lookup_statement(lock, by_api_key) for lock in (True, False)
           for by_api_key in (True, False)}
_INSERT_RECORD = insert(_RECORDS)
_DELETE_EXPIRED = delete(_RECORDS).where(_RECORDS.c.id == bindparam("record_id"))


def _lookup(key: str, **by: object) -> Row | None:
    """Step 1's statement: the key's record (or NULLs) and whether the key is free, by `key_hash` (an API key's)
    or by `customer_id`. The PostgreSQL advisory lock's one place: only there does it lock; SQLite's single
    writer already makes a second request with the key wait."""
    conn = db.session.connection()
    statement = _LOOKUP[conn.dialect.name == "postgresql", "key_hash" in by]
    return conn.execute(statement, {**by, "key": key, "key_lock": _key_lock(key)}).first()


def lock_id(customer_id: int, key: str) -> tuple[int, int]:
    """The pair that pg_advisory_xact_lock(int, int) locks while a request with a customer's key runs: the
    customer id and a signed 32-bit hash of the key. (Two of a customer's keys sharing the hash would only
    make a retry of one wait for the other with a 409.)"""
    return customer_id, _key_lock(key)


def _key_lock(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)


def fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 over method, path and the body as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def authenticate(api_key: str) -> Row | None:
    """The accounts.KEY_FOR_HASH row of `api_key` (its maker's customer_id, company_id, role, key_id,
    last_used_at); None for an unknown or revoked key.

    For a POST with an Idempotency-Key the same statement also does step 1 for that key: it takes the key's
    lock and reads its record, which respond() then uses instead of a statement of its own.
    """
    key_hash = accounts.api_key_hash(api_key)
    key = request.headers.get(HEADER) if request.method == "POST" else None
    if key_hash is None or not key or len(key) > MAX_KEY_LENGTH:
        return accounts.key_for_api_key(api_key)
    row = _lookup(key, key_hash=key_hash)
    if row is None:
        return None
    g.idempotency_looked_up = (row.customer_id, key, row)
    return row


class _Answered(Exception):
    """The key already has an answer (or is busy): roll back and send `response`."""

    def __init__(self, response: Response):
        self.response = response


class Answer:
    """The key's record, for a `work` that writes it itself with its last statement (see respond)."""

    def __init__(self, customer_id: int, key: str, fp: str):
        self.customer_id, self.key, self.fp = customer_id, key, fp
        self.written = False

    def row(self, response: Response) -> dict[str, object]:
        """The idempotency_record values that store `response`; the caller writes them in this transaction."""
        self.written = True
        return _record_row(self.customer_id, self.key, self.fp, response)


def respond(customer_id: int, key: str | None, work: Callable[[Answer | None], Response]) -> Response:
    """Run `work` (which changes the database and builds the response) in one transaction, once per key.

    `work` is given an Answer when there is a key (None otherwise). It may write the record itself, from
    Answer.row(response), in its own last statement (as placing an order does, so that the stock it takes
    stays locked for one round trip fewer); otherwise its response is stored after it.
    Domain errors raised by `work` become problem+json; anything else propagates (a 500 problem).
    """
    if key is None:
        try:
            return run_in_transaction(work, None)
        except DomainError as error:
            return domain_problem(error)

    fp = fingerprint(request.method, request.path, request.get_json(silent=True))
    try:
        return run_in_transaction(_answer_once, customer_id, key, fp, work)  # steps 1 and 2
    except _Answered as answered:
        return answered.response
    except DomainError as error:  # step 3
        response = domain_problem(error)
        try:
            run_in_transaction(_store_refusal, customer_id, key, fp, response)
        except _Answered as answered:  # a retry got in between and its answer is the key's now
            return answered.response
        return response


def json_response(body: object, status: int, *, location: str | None = None) -> Response:
    """`body` (dumped already) as a JSON answer: what a `work` given to `respond` returns, to be stored as is."""
    response = current_app.response_class(current_app.json.dumps(body), status=status, mimetype="application/json")
    if location is not None:
        response.headers["Location"] = location
    return response


def _answer_once(customer_id: int, key: str, fp: str, work: Callable[[Answer | None], Response]) -> Response:
    """Steps 1 and 2, in one transaction: the key's answer if it has one, else the work's, stored as the key's
    record (by the work itself, or here after it)."""
    _check_key(customer_id, key, fp)
    answer = Answer(customer_id, key, fp)
    try:
        response = work(answer)
    except IntegrityError as error:
        if answer.written and _key_taken(error):
            raise RetryTransaction("the idempotency key was answered meanwhile") from error
        raise
    if not answer.written:
        _store(customer_id, key, fp, response)
    return response


def _check_key(customer_id: int, key: str, fp: str) -> None:
    """Step 1: raise _Answered when the key is busy or answered; clear an expired record."""
    busy, answer = _key_state(customer_id, key, fp)
    if busy:
        raise _Answered(_in_flight(key))
    if answer is not None:
        raise _Answered(answer)


def _key_state(customer_id: int, key: str, fp: str) -> tuple[bool, Response | None]:
    """(True, None) while another request holds the key; else (False, its answer or None when it has none).

    An expired record counts as absent and is deleted, to make room for this request's answer."""
    looked_up = g.pop("idempotency_looked_up", None)  # by authenticate(), in this transaction
    if looked_up is not None and looked_up[:2] == (customer_id, key):
        row = looked_up[2]
    else:
        row = _lookup(key, customer_id=customer_id)
    if not row.free:
        return True, None
    if row.id is None:
        return False, None
    if row.created_at < utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"]):
        db.session.connection().execute(_DELETE_EXPIRED, {"record_id": row.id})
        return False, None
    return False, _answer_for(key, fp, row)


def _record_row(customer_id: int, key: str, fp: str, response: Response) -> dict[str, object]:
    headers = {name: response.headers[name] for name in _STORED_HEADERS if name in response.headers}
    return {"customer_id": customer_id, "key": key, "method": request.method, "path": request.path[:255],
            "fingerprint": fp, "response_status": response.status_code,
            "response_body": response.get_data(as_text=True), "response_headers": json.dumps(headers),
            "created_at": utcnow()}


def _key_taken(error: IntegrityError) -> bool:
    """Whether `error` is the (customer_id, key) unique constraint refusing a second record for a key."""
    text = str(error.orig)
    return "uq_idempotency_record_customer_id_key" in text or "failed: idempotency_record.customer_id" in text


def _store(customer_id: int, key: str, fp: str, response: Response) -> None:
    """Step 2: the answer as the key's record, inside the work's transaction."""
    try:
        db.session.connection().execute(_INSERT_RECORD, _record_row(customer_id, key, fp, response))
    except IntegrityError as error:
        # Another request with this key committed first: run again, and step 1 will find its answer.
        raise RetryTransaction("the idempotency key was answered meanwhile") from error


def _store_refusal(customer_id: int, key: str, fp: str, response: Response) -> None:
    """Step 3: store a refusal after the work rolled back, unless the key got an answer meanwhile (raised as
    _Answered). Should a retry be running with the key by now, its answer will be the key's."""
    busy, answer = _key_state(customer_id, key, fp)
    if answer is not None:
        raise _Answered(answer)
    if not busy:
        _store(customer_id, key, fp, response)


def _answer_for(key: str, fp: str, row: Row) -> Response:
    """The stored answer again, marked as a replay; or 422 when the key was used for another request."""
    if row.fingerprint != fp:
        return problem_response(
            422, "idempotency-key-reused", "Idempotency key reused",
            f"The {HEADER} '{key}' was already used with a different request. Use a new key for a new "
            "request, or resend exactly the same body to get the first answer again.")
    response = Response(row.response_body, status=row.response_status,
                        headers=json.loads(row.response_headers or "{}"))
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _in_flight(key: str) -> Response:
    response = problem_response(
        409, "idempotency-in-flight", "Request in progress",
        f"A request with {HEADER} '{key}' is still being processed. Retry in a moment to get its answer.")
    response.headers["Retry-After"] = "1"
    return response
