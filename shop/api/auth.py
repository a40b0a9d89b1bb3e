"""Bearer API-key authentication for /api/v1: every resource acts for the key's customer only."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response, g, request

from . import idempotency
from .problems import problem_response

SECURITY_SCHEME = {"type": "http", "scheme": "bearer",
                   "description": "An API key from `flask --app wsgi shop create-api-key`, sent as "
                                  "`Authorization: Bearer lsk_...`."}


def authenticate() -> Response | None:
    """before_request hook of the API blueprints: answer 401 unless the request carries a valid key."""
    scheme, _, key = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return problem_response(401, "unauthorized", "Unauthorized",
                                "Send your API key as `Authorization: Bearer <key>`.")
    customer_id = idempotency.authenticate(key.strip())
    if customer_id is None:
        # The same answer for unknown and revoked keys: nothing to learn by probing.
        return problem_response(401, "unauthorized", "Unauthorized", "The API key is unknown or revoked.")
    g.api_customer = ApiCustomer(customer_id)
    return None


@dataclass(frozen=True, slots=True)
class ApiCustomer:
    """The customer a key acts for. Only the id: every API resource filters or writes by it, and loading the
    whole Customer row on every request cost more than the query itself."""

    id: int


def current_customer() -> ApiCustomer:
    """The customer whose key authenticated this request."""
    return g.api_customer
