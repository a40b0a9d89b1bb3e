"""Bearer API-key authentication for /api/v1: every resource acts for the key's customer only."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response, g, request

from shop.accounts import people as accounts
from shop.accounts.models import MemberRole, key_label
from shop.api.problems import problem_response
from shop.platform.extensions import db
from shop.platform.ratelimits import api_auth_throttle

SECURITY_SCHEME = {"type": "http", "scheme": "bearer",
                   "description": "An API key from `flask --app wsgi shop create-api-key`, sent as "
                                  "`Authorization: Bearer lsk_...`."}


def authenticate() -> Response | None:
    """before_request hook of the API blueprints: answer 401 unless the request carries a valid key.

    Failures are counted per client address (RATELIMIT_API_AUTH_FAILURES): beyond the limit they get 429 with
    Retry-After. Requests with a valid key are never held up by them.
    """
    scheme, _, key = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        _count_failure()
        return problem_response(401, "unauthorized", "Unauthorized",
                                "Send your API key as `Authorization: Bearer <key>`.")
    found = accounts.key_for_api_key(key.strip())
    if found is None:
        _count_failure()
        # The same answer for unknown and revoked keys: nothing to learn by probing.
        return problem_response(401, "unauthorized", "Unauthorized", "The API key is unknown or revoked.")
    g.api_customer = ApiCustomer(found.customer_id, found.company_id, accounts.key_role(found), found.key_id,
                                 key_label(found.name, found.prefix))
    if accounts.key_use_to_note(found.last_used_at):
        # In a transaction of its own, not in the read that found the key: SQLite refuses at once (no waiting)
        # to turn a read into a write once another writer has committed since the read began, so a GET would
        # fail whenever an order was placed in between. A transaction that writes first waits its turn.
        db.session.commit()
        accounts.note_key_used(found.key_id)
        db.session.commit()
    return None


def _count_failure() -> None:
    """Count a failed authentication; raise 429 once this address has failed too often."""
    throttle = api_auth_throttle()
    throttle.check()
    throttle.record_failure()


@dataclass(frozen=True, slots=True)
class ApiCustomer:
    """Who a key acts as: the member who made it (`id`, whose orders and idempotency records it writes), for
    their company, with the key's role capped at the maker's current one (accounts.key_role); the key's id and
    name (`actor_name`) say which key placed or decided an order. Plain values: every API resource filters or
    writes by them, and loading the rows on every request cost more than the query itself."""

    id: int
    company_id: int
    role: MemberRole
    key_id: int
    actor_name: str


def current_customer() -> ApiCustomer:
    """The customer whose key authenticated this request."""
    return g.api_customer
