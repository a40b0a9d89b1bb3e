"""Idempotency-Key on the API's POSTs, translated to HTTP: the key's mechanism is the ordering area's
(shop/ordering/idempotency.py: one outcome per key and company, kept as data); here an outcome becomes an
answer, fresh or replayed alike, and a replay is marked `Idempotent-Replayed: true`.

Request validation (malformed JSON, schema errors) happens before the key is looked at, and a use case's own
validation refusals (422: an unknown SKU, a SKU on two lines) are not kept either (idempotency.VALIDATION_STATUSES):
no answer of 400, 413, 415 or 422 is kept, and the corrected request may reuse the key. A refusal found by
executing the request (409 insufficient stock or credit, an illegal transition; 403; 404) is kept and replayed.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, request

from shop.api.problems import domain_problem, problem_response
from shop.ordering import idempotency
from shop.platform.errors import DomainError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = idempotency.MAX_KEY_LENGTH
REPLAYED_HEADER = "Idempotent-Replayed"
# The OpenAPI description of the header every idempotent POST may answer with.
RESPONSE_HEADERS = {REPLAYED_HEADER: {
    "description": f"`true` when this is the stored answer to an earlier request with the same {HEADER}.",
    "schema": {"type": "string", "enum": ["true"]}}}


def respond(company_id: int, key: str | None, work: Callable[[], object], status: int) -> Response:
    """Run `work` (which changes the database and answers JSON-ready data) once per key, in a transaction of
    its own, and answer its result with `status`; the same key and body get that result again. The key covers
    the method, path and JSON body of the request, and is the company's (`company_id`): any of its keys may
    retry it. No body and `{}` are the same request (an action that takes "no body, or `{}`")."""
    body = request.get_json(silent=True)
    request_key = (idempotency.key(company_id, key, request.method, request.path, None if body == {} else body)
                   if key is not None else None)
    try:
        outcome = idempotency.once(request_key, _ignore_claim, work)
    except DomainError as error:
        return refusal(error)
    return answer(outcome.result, status, replayed=outcome.replayed)


def _ignore_claim(claim: idempotency.Claim | None, work: Callable[[], object]) -> object:
    """`work`, whose result `once` keeps as the key's record after it (a work of one statement per table)."""
    return work()


def answer(body: object, status: int, *, replayed: bool = False, location: str | None = None) -> Response:
    """`body` (JSON-ready data) as a JSON answer with `status`, marked when it is a key's earlier outcome."""
    response = current_app.response_class(current_app.json.dumps(body), status=status, mimetype="application/json")
    if location is not None:
        response.headers["Location"] = location
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


def refusal(error: DomainError) -> Response:
    """A refusal as problem+json: a busy or reused key in the API's words, a replayed refusal marked as such."""
    if isinstance(error, idempotency.KeyInFlight):
        response = problem_response(
            error.status, error.problem, error.title,
            f"A request with {HEADER} '{error.key}' is still being processed. Retry in a moment to get its answer.")
        response.headers["Retry-After"] = "1"
        return response
    if isinstance(error, idempotency.KeyReused):
        return problem_response(
            error.status, error.problem, error.title,
            f"The {HEADER} '{error.key}' was already used with a different request. Use a new key for a new "
            "request, or resend exactly the same body to get the first answer again.")
    response = domain_problem(error)
    if isinstance(error, idempotency.ReplayedRefusal):
        response.headers[REPLAYED_HEADER] = "true"
    return response
