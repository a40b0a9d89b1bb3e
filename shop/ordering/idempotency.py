"""Idempotency keys: one outcome per key and company, given again to every retry of the same request.

The API's Idempotency-Key and the storefront's checkout token are both keys here (IETF httpapi idempotency
draft, Stripe's semantics). A key's record holds what its first request came to, as data, never as an answer
of one adapter: the use case's result (a placed order's view) or its refusal (a DomainError's problem, title,
status, message and details). Each adapter translates a replayed outcome exactly as a fresh one.

The flow, in the SAME transaction as the work (`once`):

1. Look the key up: one statement that reads its record and, on PostgreSQL, takes a transaction-scoped
   advisory lock on (company, key) (`lookup`, the lock's one place). A use case may fold the look-up into its
   own first statement (placing an order reads it with the pack sizes) and hand the row to `Claim.check`.
   While another request holds the key, `Rules.wait` waits for it (a form sent twice shows the first's
   order); otherwise the key is KeyInFlight at once (an API client retries later). A record found ends the
   work: its result again (replayed), its refusal again (ReplayedRefusal), or KeyReused when it was made for
   another request (the fingerprint: SHA-256 of the operation and the canonical JSON of its payload).
2. Otherwise the work runs and its result is written as the key's record before COMMIT (placing writes it
   in the order's own statement, from `Claim.record`): a committed result always has its record, so a retry
   never does the work twice. The unique (company_id, key) constraint is the final word: should two requests
   both get past step 1 (the second read its snapshot just before the first committed), the second's INSERT
   fails, its work rolls back and runs again, and step 1 then finds the first one's record.
3. A refusal (DomainError) rolls the work back; with `Rules.keep_refusals` it is then stored in a transaction
   of its own, unless it refused the request for what it sent (VALIDATION_STATUSES: Stripe's rule, a request
   that failed validation was not executed and keeps nothing). An unexpected failure stores nothing, so a
   retry may proceed; a process that dies mid-request releases its lock with its connection.

On SQLite a write transaction holds the database's one write lock from its first statement, so a second
request with the key waits for the first to commit and then gets its outcome (never KeyInFlight).

Records older than IDEMPOTENCY_TTL_HOURS (default 24) count as absent; `flask shop purge-idempotency` deletes
them. The record's columns keep the names they had when it held HTTP answers: `method` and `path` name the
operation, `response_status` is NULL for a result and the refusal's status for a refusal, `response_body`
is the outcome as JSON.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Integer, Row, and_, bindparam, delete, func, insert, literal, select, true
from sqlalchemy.exc import IntegrityError

from shop.ordering.models import IdempotencyRecord
from shop.platform.database import utcnow
from shop.platform.errors import DomainError
from shop.platform.extensions import db
from shop.platform.tx import RetryTransaction, run_in_transaction

MAX_KEY_LENGTH = 255  # the record's key column
# The statuses of a request refused for what it sent (a bad request, too large, not JSON, a field breaking a
# rule: an unknown SKU, a bad address), before anything was executed. Such a refusal is never a key's outcome
# (Stripe keeps no result when parameters fail validation), so the corrected request may use the key; a record
# of one kept by an earlier version counts as absent. A refusal found by executing the request (409: not
# enough stock, over the credit limit, a status that forbids it; 403; 404) is kept and replayed.
VALIDATION_STATUSES = frozenset({400, 413, 415, 422})


@dataclass(frozen=True, slots=True)
class Rules:
    """Where callers' keys differ: an API client is told at once that its key is busy and gets a refusal
    again (it may retry blindly); a form sent twice waits for the first and may be corrected and sent again
    after a refusal (its token is spent only by a result)."""

    wait: bool  # a request with a busy key waits for the first (else KeyInFlight)
    keep_refusals: bool  # a refusal is the key's outcome too (else only a result is kept)


API_RULES = Rules(wait=False, keep_refusals=True)
FORM_RULES = Rules(wait=True, keep_refusals=False)


@dataclass(frozen=True, slots=True)
class Key:
    """A company's key as used for one operation: `method` and `path` name it (an HTTP method and path, or a
    use case's verb and name), `fingerprint` its payload. The key is the company's, whichever of its members or
    API keys sends it and for whichever operation: the same key and request get the first outcome again, the
    same key with another request (or operation) is KeyReused; two companies' keys never meet."""

    company_id: int
    value: str
    method: str
    path: str
    fingerprint: str
    rules: Rules = API_RULES


def key(company_id: int, value: str, method: str, path: str, payload: object, rules: Rules = API_RULES) -> Key:
    """The company's Key of `value` for the operation `method` `path` with `payload` (JSON-ready data)."""
    return Key(company_id, value, method, path, fingerprint(method, path, payload), rules)


def fingerprint(method: str, path: str, payload: object) -> str:
    """SHA-256 over method, path and the payload as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def lock_id(company_id: int, value: str) -> tuple[int, int]:
    """The pair that pg_advisory_xact_lock(int, int) locks while a request with a company's key runs: the
    company id and a signed 32-bit hash of the key. (Two of a company's keys sharing the hash would only
    make a retry of one wait for the other, or be told it is in flight.)"""
    return company_id, int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a key's work came to: its `result` (JSON-ready data), and whether it is an earlier request's."""

    result: Any
    replayed: bool = False


class KeyRefused(DomainError):
    """The key cannot be used for this request now; never stored as the key's outcome."""

    says = "The key '{key}' cannot be used now."

    def __init__(self, value: str) -> None:
        super().__init__(self.says.format(key=value))
        self.key = value


class KeyInFlight(KeyRefused):
    title, problem, status = "Request in progress", "idempotency-in-flight", 409
    says = "A request with the key '{key}' is still being processed."


class KeyReused(KeyRefused):
    title, problem, status = "Idempotency key reused", "idempotency-key-reused", 422
    says = "The key '{key}' was already used with a different request."


class ReplayedRefusal(DomainError):
    """A refusal given again from its key's record: the first refusal's problem, title, status, message and
    details, so that an adapter translates it as it did the first."""

    def __init__(self, stored: Mapping[str, Any]) -> None:
        super().__init__(stored["message"])
        self.problem, self.title, self.status = stored["problem"], stored["title"], stored["status"]
        self._details = dict(stored["details"])

    def details(self) -> dict[str, object]:
        return dict(self._details)


class _Answered(Exception):
    """The key already has an outcome: roll the work back and give `row`'s outcome instead."""

    def __init__(self, row: Row) -> None:
        self.row = row


# --- Step 1: the look-up ----------------------------------------------------------------------------------

_RECORDS = IdempotencyRecord.__table__
_DELETE_EXPIRED = delete(_RECORDS).where(_RECORDS.c.id == bindparam("record_id"))
_INSERT_RECORD = insert(_RECORDS)


@lru_cache(maxsize=3)
def lookup(lock: str | None):
    """A one-row SELECT: whether the key is free (`key_free`, taking its lock: "try" answers false while another
    transaction holds it, "wait" waits for it, None takes none) and its record's columns (NULLs when it has
    none), by the bind parameters key_company_id, key and key_lock. A statement of its own, or a subquery
    that another statement reads the key with."""
    company, key_lock = bindparam("key_company_id", type_=Integer), bindparam("key_lock", type_=Integer)
    free = {"try": func.pg_try_advisory_xact_lock(company, key_lock),
            "wait": func.pg_advisory_xact_lock(company, key_lock).is_not(None), None: true()}[lock]
    one_row = select(literal(1).label("one")).subquery("one_row")
    record = and_(_RECORDS.c.company_id == company, _RECORDS.c.key == bindparam("key"))
    return (select(free.label("key_free"), _RECORDS.c.id.label("key_record_id"),
                   _RECORDS.c.fingerprint.label("key_fingerprint"), _RECORDS.c.created_at.label("key_created_at"),
                   _RECORDS.c.response_status.label("key_status"), _RECORDS.c.response_body.label("key_body"))
            .select_from(one_row.outerjoin(_RECORDS, record)))


def lock_kind(conn: Connection, key: Key) -> str | None:
    """The look-up's lock for `key` on `conn`: only PostgreSQL locks; SQLite's single writer already makes a
    second request with the key wait."""
    if conn.dialect.name != "postgresql":
        return None
    return "wait" if key.rules.wait else "try"


def lookup_params(key: Key) -> dict[str, object]:
    """The look-up's bind parameters for `key`."""
    company_id, key_lock = lock_id(key.company_id, key.value)
    return {"key_company_id": company_id, "key": key.value, "key_lock": key_lock}


def _lookup(key: Key) -> Row:
    conn = db.session.connection()
    return conn.execute(lookup(lock_kind(conn, key)), lookup_params(key)).one()


def kept_result(company_id: int, value: str) -> Outcome | None:
    """The result kept for a company's key whatever it was used for, as a replay; None when the key has none
    (no record, an expired one, or a refusal). For a caller that knows a key only as spent (a form's token,
    after its order)."""
    conn = db.session.connection()
    row = conn.execute(lookup(None), {"key_company_id": company_id, "key": value}).one()
    if row.key_record_id is None or row.key_status is not None or _expired(row):
        return None
    return _replay(row)


def _expired(row: Row) -> bool:
    return row.key_created_at < utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])


def _check(key: Key, row: Row) -> None:
    """Step 1 from the look-up's `row`: raise KeyInFlight while another request holds the key, _Answered when
    it has an outcome, KeyReused when that outcome is another request's. An expired record, or a validation
    refusal kept by an earlier version, counts as absent and is deleted, to make room for this request's."""
    if not row.key_free:
        raise KeyInFlight(key.value)
    if row.key_record_id is None:
        return
    if _expired(row) or row.key_status in VALIDATION_STATUSES:
        db.session.connection().execute(_DELETE_EXPIRED, {"record_id": row.key_record_id})
        return
    if row.key_fingerprint != key.fingerprint and not _legacy(row):
        raise KeyReused(key.value)
    raise _Answered(row)


def _legacy(row: Row) -> bool:
    """A record kept before outcomes were data (it held the API's HTTP answer: a 2xx status and the answer's
    body, or a refusal's problem+json). Its fingerprint was of the raw request body, which the use case no
    longer sees, so a retry within IDEMPOTENCY_TTL_HOURS of the upgrade gets its answer without that check."""
    return row.key_status is not None and (row.key_status < 300 or "problem" not in json.loads(row.key_body))


def _replay(row: Row) -> Outcome:
    """The stored outcome again: the result, or its refusal raised as ReplayedRefusal."""
    stored = json.loads(row.key_body)
    if row.key_status is None or row.key_status < 300:  # a result (< 300: a legacy record's answer)
        return Outcome(stored, replayed=True)
    if _legacy(row):  # a legacy refusal: its problem+json, as the refusal it was
        stored = {"problem": str(stored.get("type", "")).rsplit("/", 1)[-1], "title": stored.get("title", ""),
                  "status": row.key_status, "message": stored.get("detail", ""),
                  "details": {k: v for k, v in stored.items() if k not in _PROBLEM_MEMBERS}}
    raise ReplayedRefusal(stored)


_PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance"}


# --- Steps 2 and 3: the work, its record ----------------------------------------------------------------

class Claim:
    """A key being answered in this transaction, handed to the work: a work that reads the key with its own
    first statement checks it here (step 1), and one that writes with one last statement writes the key's
    record with it, from `record`."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self.checked = self.written = False

    def check(self, row: Row) -> None:
        """Step 1 from a row of `lookup`'s columns, read by the work."""
        self.checked = True
        _check(self.key, row)

    def record(self, result: object) -> dict[str, object]:
        """The idempotency_record values that keep `result`; the work writes them in this transaction."""
        self.written = True
        return _record_row(self.key, None, result)


def once(key: Key | None, work: Callable[..., Any], *args: object, work_reads_key: bool = False) -> Outcome:
    """Run `work(claim, *args)` in a transaction of its own (which it commits), once per key: its result, or the
    key's outcome again. `claim` is a Claim when there is a key (None otherwise); with `work_reads_key` `work`
    reads and checks the key itself (Claim.check) before it changes anything. Refusals propagate as the
    DomainErrors they are (replayed ones as ReplayedRefusal); KeyInFlight and KeyReused are never stored."""
    if key is None:
        return Outcome(run_in_transaction(work, None, *args))
    try:
        return Outcome(run_in_transaction(_answer_once, key, work_reads_key, work, *args))  # steps 1 and 2
    except _Answered as answered:
        return _replay(answered.row)
    except KeyRefused:
        raise
    except DomainError as error:  # step 3
        if key.rules.keep_refusals and error.status not in VALIDATION_STATUSES:
            try:
                run_in_transaction(_store_refusal, key, error)
            except _Answered as answered:  # a retry got in between and its outcome is the key's now
                return _replay(answered.row)
        raise


def _answer_once(key: Key, work_reads_key: bool, work: Callable[..., Any], *args: object) -> Any:
    """Steps 1 and 2, in one transaction: the work's result, kept as the key's record (by the work itself, or
    here after it)."""
    claim = Claim(key)
    if not work_reads_key:
        claim.check(_lookup(key))
    try:
        result = work(claim, *args)
    except IntegrityError as error:
        if claim.written and _key_taken(error):
            raise RetryTransaction("the idempotency key was answered meanwhile") from error
        raise
    if not claim.checked:
        raise AssertionError("a work that reads its key must check it")
    if not claim.written:
        _store(_record_row(key, None, result))
    return result


def _store_refusal(key: Key, error: DomainError) -> None:
    """Step 3: keep a refusal after its work rolled back, unless the key got an outcome meanwhile (raised as
    _Answered) or a retry holds it now (whose outcome will be the key's)."""
    try:
        _check(key, _lookup(key))
    except KeyInFlight:
        return
    refusal = {"problem": error.problem, "title": error.title, "status": error.status, "message": error.message,
               "details": error.details()}
    _store(_record_row(key, error.status, refusal))


def _record_row(key: Key, status: int | None, outcome: object) -> dict[str, object]:
    return {"company_id": key.company_id, "key": key.value, "method": key.method[:10], "path": key.path[:255],
            "fingerprint": key.fingerprint, "response_status": status,
            "response_body": json.dumps(outcome, separators=(",", ":"), default=str), "response_headers": None,
            "created_at": utcnow()}


def _store(row: Mapping[str, object]) -> None:
    """INSERT the key's record in this transaction."""
    try:
        db.session.connection().execute(_INSERT_RECORD, row)
    except IntegrityError as error:
        # Another request with this key committed first: run again, and step 1 will find its outcome.
        raise RetryTransaction("the idempotency key was answered meanwhile") from error


def _key_taken(error: IntegrityError) -> bool:
    """Whether `error` is the (company_id, key) unique constraint refusing a second record for a key."""
    text = str(error.orig)
    return "uq_idempotency_record_company_id_key" in text or "failed: idempotency_record.company_id" in text
