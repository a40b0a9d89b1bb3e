"""/api/v1/webhook-endpoints: register where your events go, read the delivery log, test and redeliver."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, pre_dump

from shop.api import idempotency
from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.pagination import Cursor, encode_cursor
from shop.api.schemas import IdempotencyHeaderSchema, JsonBoolean, PageQuerySchema, _page_schema
from shop.events import webhooks
from shop.events.models import DeliveryState, WebhookEndpoint
from shop.events.types import EVENT_TYPES
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.fields import OutSchema
from shop.platform.ratelimits import webhook_test_rate

webhooks_blp = ApiBlueprint(
    "webhooks", __name__, url_prefix="/api/v1/webhook-endpoints",
    description="Where your events go: each delivery is a POST signed as Standard Webhooks specifies "
                "(`webhook-id`, `webhook-timestamp`, `webhook-signature`), retried after about 5 s, 5 min, 30 min, "
                "2 h, 5 h, 10 h and 10 h (each up to 15 % earlier or later) with the same `webhook-id` until your "
                "endpoint answers 2xx within 10 s. "
                "Every key of the company reads the endpoints and their deliveries; registering, deleting, testing "
                "and redelivering need a key made with the `admin` role (by a company admin, on the account's API "
                "keys page): any other key gets 403 `forbidden` and changes nothing. "
                f"Event types: {', '.join(f'`{t}`' for t in EVENT_TYPES)}.")
MANAGING = ("Needs a key with the `admin` role; a buyer or approver key gets 403 `forbidden` and changes "
            "nothing.")


class EndpointInSchema(Schema):
    url = fields.String(required=True, metadata={"description": "https:// address on the public internet.",
                                                 "format": "uri",
                                                 "example": "https://erp.example.com/hooks/leucine"})
    # The enum documents the types; webhooks.register refuses others with the messages the pages show too.
    events = fields.List(fields.String(metadata={"enum": ["*", *EVENT_TYPES]}), required=True,
                         metadata={"description": 'Event types to receive, or `["*"]` for all.', "minItems": 1,
                                   "example": ["order.placed", "order.shipped"]})
    description = fields.String(load_default="")


class EndpointPatchSchema(Schema):
    url = fields.String(metadata={"description": "A new https:// address on the public internet, checked as when "
                                                 "registering.",
                                  "example": "https://erp.example.com/hooks/leucine-v2"})
    events = fields.List(fields.String(metadata={"enum": ["*", *EVENT_TYPES]}),
                         metadata={"description": 'The event types to receive from now on, or `["*"]` for all.',
                                   "example": ["order.placed", "order.cancelled", "order.rejected"]})
    description = fields.String(metadata={"example": "ERP production"})
    enabled = JsonBoolean(metadata={
        "description": "`true` re-enables a disabled endpoint (the deliveries that failed while it was disabled "
                       "are not sent again: read their events from `GET /api/v1/events`); `false` disables it "
                       "(`disabled_reason`: \"disabled by\" the key's name) and e-mails the company's admins.",
        "example": True})


class EndpointSchema(OutSchema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(metadata={"enum": ["*", *EVENT_TYPES]}), required=True)
    description = fields.String(required=True)
    enabled = fields.Boolean(required=True, metadata={
        "description": "false once it answered 410 Gone, failed for 5 days, was disabled by an admin, or once the "
                       "member who registered it was removed or is no longer a company admin: nothing is sent to it "
                       "any more, and the company's admins were e-mailed."})
    disabled_reason = fields.String(required=True, allow_none=True,
                                    metadata={"description": "Why it is disabled; null while it is enabled."})
    created_at = fields.DateTime(required=True)
    previous_secret_expires_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "After `rotate-secret`: until then deliveries carry a signature with the previous secret "
                       "too; null when only the current secret signs.",
        "example": "2026-12-06T07:00:00+00:00"})

    @pre_dump
    def _plain(self, endpoint: WebhookEndpoint, **kwargs) -> dict:
        overlap = len(endpoint.signing_secrets(utcnow())) > 1
        return {"id": endpoint.id, "url": endpoint.url, "events": endpoint.event_types,
                "description": endpoint.description, "enabled": endpoint.enabled,
                "disabled_reason": None if endpoint.enabled else endpoint.disabled_reason,
                "created_at": endpoint.created_at,
                "previous_secret_expires_at": endpoint.previous_secret_expires_at if overlap else None}


class CreatedEndpointSchema(EndpointSchema):
    secret = fields.String(required=True, metadata={"description": "The signing secret (`whsec_...`): shown "
                                                                   "only now, keep it."})

    @pre_dump
    def _plain(self, endpoint: WebhookEndpoint, **kwargs) -> dict:
        return {**super()._plain(endpoint), "secret": endpoint.secret}


class RotatedSecretSchema(CreatedEndpointSchema):
    secret = fields.String(required=True, metadata={
        "description": "The new signing secret (`whsec_...`): shown only now, keep it. Until "
                       "`previous_secret_expires_at` (24 hours) each delivery is signed with the previous secret too.",
        "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})


class AttemptSchema(OutSchema):
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    attempted_at = fields.DateTime(required=True)
    status_code = fields.Integer(required=True, allow_none=True,
                                 metadata={"description": "null when nothing answered."})
    duration_ms = fields.Integer(required=True)
    error = fields.String(required=True, allow_none=True)
    state = fields.String(required=True, metadata={
        "enum": [state.value for state in DeliveryState],
        "description": "The delivery's state now (every attempt of one delivery shows the same): `pending` (an "
                       "attempt is due at `next_attempt_at`), `delivered` (an attempt got a 2xx) or `failed` (every "
                       "attempt of the retry schedule failed, or the endpoint was disabled).",
        "example": "pending"})
    attempts = fields.Integer(required=True, metadata={
        "description": "Attempts of the delivery on its current schedule (a redelivery starts a fresh one).",
        "example": 2})
    next_attempt_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When the next attempt is due; null unless `state` is `pending`.",
        "example": "2026-12-05T09:30:00+00:00"})


class DeliveryQuerySchema(PageQuerySchema):
    cursor = Cursor("deliveries")


class RedeliverSchema(Schema):
    event_id = fields.String(required=True)


EndpointListSchema = Schema.from_dict({"items": fields.List(fields.Nested(EndpointSchema), required=True)},
                                      name="WebhookEndpointList")
AttemptPageSchema = _page_schema(AttemptSchema, "WebhookDeliveryPage")


_CREATED_SCHEMA = CreatedEndpointSchema()
_ROTATED_SCHEMA = RotatedSecretSchema()
# Test events and redeliveries per company (RATELIMIT_WEBHOOK_TESTS), counted with the account pages'.
webhook_tests = webhook_test_rate(lambda: current_customer().company_id)
THROTTLED = ("More test events and redeliveries than RATELIMIT_WEBHOOK_TESTS allows the company, whichever key "
             "sends them (by default 10 a minute and 100 an hour); `Retry-After` says when to try again.")


@webhooks_blp.route("")
class Endpoints(MethodView):
    @webhooks_blp.doc(operationId="listWebhookEndpoints")
    @webhooks_blp.response(200, EndpointListSchema)
    def get(self):
        """List your company's webhook endpoints (any key)

        Every endpoint of the company, enabled or not, without its secret (shown only when it was registered).
        """
        return {"items": webhooks.list_endpoints(current_customer().id)}

    @webhooks_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @webhooks_blp.doc(operationId="createWebhookEndpoint")
    @webhooks_blp.arguments(EndpointInSchema(), unknown=RAISE)
    @webhooks_blp.response(201, CreatedEndpointSchema, headers=idempotency.RESPONSE_HEADERS)
    @webhooks_blp.alt_response(403, description=MANAGING)
    @webhooks_blp.alt_response(409, response="CONFLICT")
    def post(self, headers, data):
        """Register a webhook endpoint

        Answers with the signing `secret`, shown this once (and to a retry with the same `Idempotency-Key`,
        which registers nothing more). A URL that is not https, or whose host resolves to a private, loopback
        or link-local address, is refused (422). Needs a key with the `admin` role (else 403).
        """
        customer = current_customer()

        def create() -> object:
            endpoint = webhooks.create_endpoint(customer, data["url"], data["events"], data.get("description"))
            return _CREATED_SCHEMA.dump(endpoint)

        return idempotency.respond(customer.company_id, headers.get("key"), create, 201)


@webhooks_blp.route("/<id:endpoint_id>")
class Endpoint(MethodView):
    @webhooks_blp.doc(operationId="deleteWebhookEndpoint")
    @webhooks_blp.response(204, description="Deleted, with its delivery log.")
    @webhooks_blp.alt_response(403, description=MANAGING)
    @webhooks_blp.alt_response(404, response="NOT_FOUND")
    def delete(self, endpoint_id: int):
        """Delete a webhook endpoint (and its delivery log)

        Needs a key with the `admin` role (else 403).
        """
        webhooks.delete_endpoint(current_customer(), endpoint_id)
        db.session.commit()
        return ""


    @webhooks_blp.doc(operationId="updateWebhookEndpoint")
    @webhooks_blp.arguments(EndpointPatchSchema(), unknown=RAISE)
    @webhooks_blp.response(200, EndpointSchema)
    @webhooks_blp.alt_response(403, description=MANAGING)
    @webhooks_blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data, endpoint_id: int):
        """Change a webhook endpoint: its URL, event types, description, or whether it is enabled

        Only the fields given change. `url` and `events` are checked as registering checks them (422 naming
        each refused field; nothing changes). `"enabled": true` re-enables a disabled endpoint (one that failed
        for days, answered 410 Gone, or whose maker is no longer an admin): it receives the events that happen
        from now on; the deliveries that failed while it was disabled are **not** sent again, so read what it
        missed from the events feed (`GET /api/v1/events?after=...`). Re-enabling it or changing its URL makes the
        key's maker its maker: it stays enabled while that person is a company admin. `"enabled": false` disables
        it (reason "disabled by" the key's name) and e-mails the company's admins. The secret does not change
        (see `rotate-secret`). Needs a key with the `admin` role (else 403).
        """
        endpoint = webhooks.update_endpoint(current_customer(), endpoint_id, data)
        db.session.commit()
        return endpoint


@webhooks_blp.route("/<id:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @webhooks_blp.doc(operationId="rotateWebhookSecret")
    @webhooks_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @webhooks_blp.response(200, RotatedSecretSchema, headers=idempotency.RESPONSE_HEADERS)
    @webhooks_blp.alt_response(403, description=MANAGING)
    @webhooks_blp.alt_response(404, response="NOT_FOUND")
    @webhooks_blp.alt_response(409, response="CONFLICT")
    def post(self, headers, endpoint_id: int):
        """Give a webhook endpoint a new signing secret

        Answers with the new `secret`, shown this once (and to a retry with the same `Idempotency-Key`, which
        rotates nothing more). For the next 24 hours (`previous_secret_expires_at`) every delivery's
        `webhook-signature` carries two space-separated `v1,<signature>` entries, one with the new secret and one
        with the previous, as Standard Webhooks allows, so the reference libraries verify it with either secret:
        switch your receiver to the new secret within that time. After it, only the new secret signs. Rotating
        again within the 24 hours drops the oldest secret at once. Needs a key with the `admin` role (else 403).
        """
        customer = current_customer()

        def rotate() -> object:
            return _ROTATED_SCHEMA.dump(webhooks.rotate_secret(customer, endpoint_id))

        return idempotency.respond(customer.company_id, headers.get("key"), rotate, 200)


@webhooks_blp.route("/<id:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @webhooks_blp.doc(operationId="listWebhookDeliveries")
    @webhooks_blp.arguments(DeliveryQuerySchema(), location="query", unknown=RAISE)
    @webhooks_blp.response(200, AttemptPageSchema)
    @webhooks_blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, endpoint_id: int):
        """The endpoint's delivery log, newest attempt first

        Each attempt with its delivery's state now (`pending`, `delivered`, `failed`), the delivery's attempts so
        far and, while it is pending, when the next attempt is due.
        """
        endpoint = webhooks.get_endpoint(endpoint_id, current_customer().id)
        limit, cursor = args["limit"], args.get("cursor")
        rows = webhooks.attempts(endpoint.id, limit + 1, cursor[0] if cursor else None)
        page, more = rows[:limit], len(rows) > limit
        items = [{"event_id": event.event_id, "event_type": event.type, "attempted_at": attempt.attempted_at,
                  "status_code": attempt.status_code, "duration_ms": attempt.duration_ms,
                  "error": attempt.error or None, "state": delivery.state.value, "attempts": delivery.attempts,
                  "next_attempt_at": delivery.next_attempt_at if delivery.state == DeliveryState.PENDING else None}
                 for attempt, event, delivery in page]
        return {"items": items, "next_cursor": encode_cursor("deliveries", page[-1][0].id) if more else None}


@webhooks_blp.route("/<id:endpoint_id>/test")
class Test(MethodView):
    @webhook_tests
    @webhooks_blp.doc(operationId="testWebhookEndpoint")
    @webhooks_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @webhooks_blp.response(202, Schema.from_dict({"event_id": fields.String(required=True)}, name="Queued"),
                           headers=idempotency.RESPONSE_HEADERS)
    @webhooks_blp.alt_response(403, description=MANAGING)
    @webhooks_blp.alt_response(404, response="NOT_FOUND")
    @webhooks_blp.alt_response(409, response="CONFLICT")
    @webhooks_blp.alt_response(429, description=THROTTLED)
    def post(self, headers, endpoint_id: int):
        """Send a `ping` event to the endpoint (once per `Idempotency-Key`)

        Needs a key with the `admin` role (else 403).
        """
        customer = current_customer()

        def ping() -> object:
            return {"event_id": webhooks.send_test(customer, endpoint_id)}

        return idempotency.respond(customer.company_id, headers.get("key"), ping, 202)


@webhooks_blp.route("/<id:endpoint_id>/redeliver")
class Redeliver(MethodView):
    @webhook_tests
    @webhooks_blp.doc(operationId="redeliverWebhook")
    @webhooks_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @webhooks_blp.arguments(RedeliverSchema(), unknown=RAISE)
    @webhooks_blp.response(202, Schema.from_dict({"event_id": fields.String(required=True)}, name="Redelivery"),
                           headers=idempotency.RESPONSE_HEADERS)
    @webhooks_blp.alt_response(403, description=MANAGING)
    @webhooks_blp.alt_response(404, response="NOT_FOUND")
    @webhooks_blp.alt_response(409, response="CONFLICT")
    @webhooks_blp.alt_response(429, description=THROTTLED)
    def post(self, headers, data, endpoint_id: int):
        """Deliver one of your events to the endpoint again, on a fresh retry schedule (once per
        `Idempotency-Key`)

        Needs a key with the `admin` role (else 403).
        """
        customer = current_customer()

        def again() -> object:
            webhooks.redeliver(customer, endpoint_id, data["event_id"])
            return {"event_id": data["event_id"]}

        return idempotency.respond(customer.company_id, headers.get("key"), again, 202)
