"""/api/v1/events: the company's events, oldest first, each exactly as its webhook delivery's body: what an ERP
replays after an outage."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask.views import MethodView
from marshmallow import RAISE, fields, validate

from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.pagination import Cursor, encode_cursor
from shop.api.schemas import PageQuerySchema, _page_schema
from shop.events import feed
from shop.events.types import EVENT_TYPES
from shop.platform.database import utcnow
from shop.platform.errors import InvalidInput
from shop.platform.fields import OutSchema

events_blp = ApiBlueprint(
    "events", __name__, url_prefix="/api/v1/events",
    description="Your company's events, oldest first, each exactly as its webhook delivery POSTs it: replay what "
                "your endpoint missed. Every key of the company reads them. Events are kept at least 30 days.")


class EventQuerySchema(PageQuerySchema):
    after = fields.String(validate=validate.Length(1, 40), metadata={
        "description": "An event's `id` (its `webhook-id`): list only the events after it. The id of the last "
                       "event you processed, from a webhook or from this list.",
        "example": "msg_2YkUz1v0HbX3m9tQ7pLwKcAa"})
    type = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), metadata={
        "description": "Only events of this type; repeat the parameter for several (`?type=order.placed&"
                       "type=order.cancelled`). Without it, every type.",
        "example": ["order.placed"]})
    cursor = Cursor("events", metadata={"description": "`next_cursor` of the previous page (takes the place of "
                                                      "`after`)."})


class WebhookEventSchema(OutSchema):
    """The body of every webhook delivery, and of each event of the events feed (which lists no `ping`)."""

    id = fields.String(required=True, metadata={"description": "The event's id, as the delivery's `webhook-id`.",
                                                "example": "msg_2YkUz1v0HbX3m9tQ7pLwKcAa"})
    type = fields.String(required=True, metadata={"enum": ["ping", *EVENT_TYPES], "example": "order.placed",
                                                  "description": "The event type."})
    created_at = fields.String(required=True, metadata={"format": "date-time",
                                                        "example": "2026-12-05T08:00:00.123456+00:00"})
    data = fields.Dict(required=True, metadata={
        "description": "What the event is about as it was then. `order.*`: the order as `GET "
                       "/api/v1/orders/{number}` answered at the time, with its `version` (`order.changed` adds "
                       "`cause`, `reason`, `changes` and `missing`; `order.backorder_allocated` adds `reason`, "
                       "`changes` and `backordered`; `order.cancelled` adds `reason`; "
                       "`order.rejected` adds `note`); `lot.recalled`: `lot_number`, `message`, `orders` and "
                       "`open_orders`; `complaint.updated`: the complaint as `GET /api/v1/complaints/{number}` "
                       "answered at the time (filed, investigated, closed); `quote.answered` and `quote.expired`: the "
                       "quote as `GET /api/v1/quotes/{number}` answered at the time; `invoice.issued` (an "
                       "invoice as a shipment left, or a credit note): the document as `GET "
                       "/api/v1/invoices/{number}` answered at the time; `ping`: `endpoint_id` and "
                       "`message`."})


EventPageSchema = _page_schema(WebhookEventSchema, "EventPage")


@events_blp.route("")
class Events(MethodView):
    @events_blp.arguments(EventQuerySchema(), location="query", unknown=RAISE)
    @events_blp.response(200, EventPageSchema)
    @events_blp.doc(operationId="listEvents")
    def get(self, args):
        """List your company's events, oldest first

        Each item is exactly the body that the event's webhook deliveries POST (`id`, `type`, `created_at`,
        `data`), so one handler serves both. Cursor-paginated; `?type=` filters (repeatable; an unknown type is
        422).

        **Resynchronising after an outage.** Keep the `id` of the last event you processed (from a webhook or
        from this list), ask `GET /api/v1/events?after=<that id>` and follow `next_cursor` until it is null;
        apply each order event's `data` unless you hold a higher `version` of that order already (webhook
        retries can arrive late and out of order). Then ask again with `after=<the last id>` now and then, or
        go back to webhooks. A `lot.recalled` event lists the orders that drew on the lot: an open one's change
        comes as its own `order.changed`, a shipped one's new recall notice (and version) does not, so read those
        with `GET /api/v1/orders/{number}` (or `?updated_since=`). Events of the last few seconds
        (EVENTS_FEED_SETTLE_SECONDS, 5 by default) appear once they are that old, so that an event still
        committing never lands behind an `after` you already passed. An `after` that is not one of your
        company's events is 422. Without a last id, start from the beginning, or read the current state with
        `GET /api/v1/orders?updated_since=`.
        """
        company_id, limit = current_customer().company_id, args["limit"]
        after = args["cursor"][0] if args.get("cursor") else None
        if after is None and "after" in args:
            after = feed.event_row_id(company_id, args["after"])
            if after is None:
                raise InvalidInput({"after": ["No event of your company has this id."]})
        until = utcnow() - timedelta(seconds=current_app.config["EVENTS_FEED_SETTLE_SECONDS"])
        rows = feed.list_events(company_id, args.get("type") or EVENT_TYPES, until, limit + 1, after)
        page, more = rows[:limit], len(rows) > limit
        return {"items": [feed.body(event) for event in page],
                "next_cursor": encode_cursor("events", page[-1].id) if more else None}
