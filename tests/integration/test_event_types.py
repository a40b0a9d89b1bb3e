"""The event types offered for subscription (webhooks page, API and its OpenAPI document, README) are exactly those
the shop announces: every offered type comes out of a real flow, and every place that writes an event names an
offered type."""
from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from shop import ordering, sales
from shop.accounts import companies
from shop.complaints import service as complaints
from shop.events.types import EVENT_TYPES
from shop.ordering import approvals
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import ADDRESS
from tests.support.billing import ship_paid
from tests.support.factories import make_customer, make_lot, make_product, make_staff, signed_recall
from tests.support.storefront import sign_in

ROOT = Path(__file__).resolve().parents[2]
# shop.platform.outbox's ways of writing an event, called as `outbox.<name>(type, ...)`.
WRITERS = {"Event", "new_event", "record"}
PING = "ping"  # an endpoint's test event: always delivered, never subscribed to


def _written_types() -> set[str]:
    db.session.commit()
    return set(db.session.scalars(select(OutboxEvent.type).distinct()))


def _every_flow_that_announces() -> None:
    """Place, approve, reject, confirm, ship (and so invoice), deliver and cancel orders, file a complaint, recall a
    lot that open orders cannot do without (one ordered from it only: flagged; the other backordered), release the
    next lot (the backorder is allocated), and answer a quote that then expires."""
    product = make_product()
    make_lot(product, "L-ONE", {"LEU-USP-25KG": 11})
    admin = make_customer("admin@acme.example")
    companies.set_terms(admin.company, approval_threshold="5000")
    buyer = companies.invite_member(admin, "buyer@acme.example", "buyer")
    buyer.joined_at = utcnow()
    db.session.commit()
    lines = [{"sku": "LEU-USP-25KG", "quantity": 1}]
    shipped = ordering.place_order(buyer, lines, ADDRESS)
    cancelled = ordering.place_order(buyer, lines, ADDRESS)
    waiting = ordering.place_order(buyer, [{"sku": "LEU-USP-25KG", "quantity": 3}], ADDRESS)
    rejected = ordering.place_order(buyer, [{"sku": "LEU-USP-25KG", "quantity": 3}], ADDRESS)
    ordering.place_order(buyer, lines, ADDRESS)  # open when the lot is recalled
    ordering.place_order(buyer, [{**lines[0], "lot_number": "L-ONE"}], ADDRESS)  # from that lot only
    db.session.commit()
    approvals.approve(waiting.number, admin)
    approvals.reject(rejected.number, admin, "Not this quarter")
    ordering.confirm_order(shipped.number)
    ship_paid(shipped.number, "1Z999")
    ordering.deliver_order(shipped.number)
    ordering.cancel_order(cancelled.number, customer=buyer)
    db.session.commit()
    complaints.file_complaint(buyer, shipped.number, "LEU-USP-25KG", None, "delivery", "One drum arrived dented.")
    db.session.commit()
    signed_recall("L-ONE", "Foreign matter")  # no other lot: the open orders are backordered, or short if pinned
    make_lot(product, "L-TWO", {"LEU-USP-25KG": 1})  # its release fills the backorder
    db.session.commit()
    quote = sales.request_quote(sales.RequestQuote(buyer, lines)).quote["number"]
    sales.answer_quote(quote, {0: "1500"}, date.today(), "", False, make_staff("sales"))
    db.session.commit()
    sales.expire_quotes(date.today() + timedelta(days=1))


def test_every_offered_event_type_is_announced_by_a_real_flow(app):
    _every_flow_that_announces()
    assert _written_types() == set(EVENT_TYPES)


def _writes_of(path: Path) -> tuple[set[str], list[str]]:
    """The event types that a module writes literally, and where it writes a type it does not name there."""
    tree = ast.parse(path.read_text(), str(path))
    # A module-level table of types by cause (ordering.announce's by status), named *_EVENTS.
    tables = {value.value for node in tree.body if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
              and any(isinstance(t, ast.Name) and t.id.endswith("_EVENTS") for t in node.targets)
              for value in node.value.values if isinstance(value, ast.Constant)}
    literal, unnamed = set(tables), []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITERS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "outbox"):
            first = node.args[0]
            if isinstance(first, ast.Constant):
                literal.add(first.value)
            elif not tables:
                unnamed.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return literal, unnamed


def test_every_type_the_code_writes_is_offered():
    written, unnamed = set(), []
    for path in sorted((ROOT / "shop").rglob("*.py")):
        literal, unknown = _writes_of(path)
        written |= literal
        unnamed += unknown
    assert unnamed == []  # name the type where the event is written, or in the module's *_EVENTS table
    assert written - {PING} == set(EVENT_TYPES)


def test_the_webhooks_page_the_api_and_the_readme_offer_exactly_the_announced_types(app, client, api, admin_api):
    sign_in(client, api.customer.email)
    page = client.get("/account/webhooks").text
    assert re.findall(r'name="events"[^>]*value="([^"]+)"', page) == ["*", *EVENT_TYPES]

    spec = client.get("/api/v1/openapi.json").get_json()
    endpoint_in = next(s for name, s in spec["components"]["schemas"].items() if name.startswith("EndpointIn"))
    assert endpoint_in["properties"]["events"]["items"]["enum"] == ["*", *EVENT_TYPES]

    readme = (ROOT / "README.md").read_text()
    webhooks_section = readme[readme.index("- **Webhooks**"):readme.index("```sh", readme.index("- **Webhooks**"))]
    assert set(re.findall(r"`((?:order|lot|quote|invoice|complaint)\.[a-z_]+)`", webhooks_section)) == set(EVENT_TYPES)

    refused = admin_api.post("/api/v1/webhook-endpoints", json={"url": "https://hooks.example.com/x",
                                                                "events": ["invoice.paid"]})  # not a type we send
    assert refused.status_code == 422
