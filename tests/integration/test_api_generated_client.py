"""An integrator's journey through a client that openapi-python-client generates from the served document, against
the shop served on a local port: EVERY operation of the document is driven through the generated code and its
answer parsed into the generated models. An operation added to the document without a driver here fails the test.
"""
from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from shop import ordering, sales
from shop.accounts import companies
from shop.accounts import people as accounts
from shop.platform.extensions import db
from tests.integration.test_api_tools import generate_client, served_document
from tests.support.billing import ship_paid
from tests.support.browser import live_server  # noqa: F401  (the app served on a free local port)
from tests.support.documents import add_document
from tests.support.factories import make_member, make_staff
from tests.support.invoicing import invoice_of

PACKAGE = "leucine_shop_client"
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def backend() -> str:
    """The served app and the test share the database: one SQLite file, as the browser tests do."""
    return "sqlite"


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    # The endpoint is the test's own receiver on this machine; the feeds list changes at once (no settle window).
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, EVENTS_FEED_SETTLE_SECONDS=0)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def generated(client, tmp_path) -> Iterator[Any]:
    """The generated package, imported from tmp_path; the served document's operations."""
    document = served_document(client, tmp_path)
    run = generate_client(document, tmp_path / PACKAGE)
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE), client.get("/api/v1/openapi.json").get_json()
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _api(name: str) -> Any:
    """A generated operation module, e.g. _api("orders.place_order")."""
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def test_every_operation_runs_through_the_generated_client(generated, live_server, api, admin_api, stocked,  # noqa: F811
                                                            receiver):
    package, spec = generated
    in_document = {op["operationId"] for item in spec["paths"].values() for m, op in item.items() if m in METHODS}
    renewal = date.today() + timedelta(days=365)
    add_document(stocked, kind="kosher", version="2026-1", valid_until=renewal)
    companies.set_terms(api.customer.company, "prepaid", "", "5000")  # 3 drums (5,850.00) wait for an approver
    approver = make_member(api.customer, "bob@acme.example", "approver")
    approver_key = accounts.create_api_key(approver, "Bob's ERP key", "approver")
    db.session.commit()
    db.session.remove()  # SQLite: the served app writes next

    def authenticated(key: str) -> Any:
        return package.AuthenticatedClient(base_url=live_server, token=key, raise_on_unexpected_status=True)

    buyer, admin, bob = authenticated(api.key), authenticated(admin_api.key), authenticated(approver_key)
    driven: dict[str, Any] = {}

    def drive(operation_id: str, module: str, status: int, call: Callable[[Any], Any], model: str | None) -> Any:
        """Call one generated operation; its answer must have `status` and parse into the generated `model`."""
        response = call(_api(module))
        assert response.status_code == status, (operation_id, response.status_code, response.content)
        if model is not None:
            assert isinstance(response.parsed, _model(model)), (operation_id, response.parsed)
        driven[operation_id] = response.parsed
        return response.parsed

    products = drive("listProducts", "products.list_products", 200,
                     lambda m: m.sync_detailed(client=buyer, limit=10), "ProductPage")
    assert [v.sku for v in products.items[0].variants] == ["LEU-USP-1KG", "LEU-USP-25KG"]
    product = drive("getProduct", "products.get_product", 200,
                    lambda m: m.sync_detailed(slug="l-leucine-usp", client=buyer), "Product")
    assert product.variants[1].available_quantity == 16
    kosher = product.documents[0]
    assert (kosher.kind.value, kosher.version, kosher.valid_until, kosher.expired) == (
        "kosher", "2026-1", renewal, False)
    assert kosher.url.endswith("/documents/1/l-leucine-usp-kosher-2026-1.pdf")
    batch = drive("getBatch", "batches.get_batch", 200,
                  lambda m: m.sync_detailed(lot_number="L-SOON", client=buyer), "Batch")
    assert batch.status.value == "released"

    order_in = _model("OrderIn").from_dict({
        "lines": [{"sku": "LEU-USP-1KG", "quantity": 2}], "purchase_order": "PO-1",
        "shipping_address": {"name": "Acme", "line1": "Werkstraße 5", "city": "Hamburg", "postal_code": "20095",
                             "country": "DE"}})
    key = str(uuid.uuid4())
    placed = drive("placeOrder", "orders.place_order", 201,
                   lambda m: m.sync_detailed(client=buyer, body=order_in, idempotency_key=key), "Order")
    assert placed.status.value == "pending" and placed.total == "228.48"  # 192.00 and 19 % VAT
    again = _api("orders.place_order").sync_detailed(client=buyer, body=order_in, idempotency_key=key)
    assert again.parsed.number == placed.number and again.headers["Idempotent-Replayed"] == "true"
    listed = drive("listOrders", "orders.list_orders", 200,
                   lambda m: m.sync_detailed(client=buyer, limit=5), "OrderPage")
    assert [o.number for o in listed.items] == [placed.number]
    got = drive("getOrder", "orders.get_order", 200,
                lambda m: m.sync_detailed(number=placed.number, client=buyer), "Order")
    assert got.lines[0].sku == "LEU-USP-1KG"
    cancelled = drive("cancelOrder", "orders.cancel_order", 200,
                      lambda m: m.sync_detailed(number=placed.number, client=buyer, body=_model("CancelIn")()),
                      "Order")
    assert cancelled.status.value == "cancelled"

    big = _model("OrderIn").from_dict({**order_in.to_dict(), "lines": [{"sku": "LEU-USP-25KG", "quantity": 3}]})
    waiting = [_api("orders.place_order").sync_detailed(client=buyer, body=big).parsed for _ in range(2)]
    assert [o.status.value for o in waiting] == ["awaiting_approval"] * 2
    approved = drive("approveOrder", "orders.approve_order", 200,
                     lambda m: m.sync_detailed(number=waiting[0].number, client=bob,
                                               body=_model("DecisionIn")(note="OK for March")), "Order")
    assert approved.status.value == "pending"
    rejected = drive("rejectOrder", "orders.reject_order", 200,
                     lambda m: m.sync_detailed(number=waiting[1].number, client=bob,
                                               body=_model("DecisionIn")(note="Over budget")), "Order")
    assert rejected.status.value == "cancelled"

    changed = _api("orders.list_orders").sync_detailed(
        client=buyer, updated_since=datetime(2020, 1, 1, tzinfo=UTC), limit=10).parsed
    assert [(o.number, o.version) for o in changed.items] == [
        (placed.number, 2), (approved.number, 2), (rejected.number, 2)]  # oldest change first, each once
    events = drive("listEvents", "events.list_events", 200,
                   lambda m: m.sync_detailed(client=buyer, limit=20), "EventPage")
    assert [(e.type_, e.data["number"], e.data["version"]) for e in events.items] == [
        ("order.placed", placed.number, 1), ("order.cancelled", placed.number, 2),
        ("order.placed", waiting[0].number, 1), ("order.placed", waiting[1].number, 1),
        ("order.approved", approved.number, 2), ("order.rejected", rejected.number, 2)]

    company = drive("getCompany", "company.get_company", 200, lambda m: m.sync_detailed(client=buyer), "Company")
    assert company.approval_threshold == "5000.00"

    spec_in = _model("SpecificationIn").from_dict({"limits": [{"test": "Assay (dried basis)", "min": "99.0"}]})
    spec = drive("putSpecification", "specifications.put_specification", 200,
                 lambda m: m.sync_detailed(slug="l-leucine-usp", client=bob, body=spec_in), "Specification")
    assert spec.limits[0].min_ == "99" and spec.limits[0].grade_min == "98.5" and spec.updated_by == "Bob's ERP key"
    read = drive("getSpecification", "specifications.get_specification", 200,
                 lambda m: m.sync_detailed(slug="l-leucine-usp", client=buyer), "Specification")
    assert [limit.test for limit in read.limits] == ["Assay (dried basis)"]
    judged = _api("batches.get_batch").sync_detailed(lot_number="L-SOON", client=buyer).parsed
    assert judged.meets_your_specification is True and judged.results[2].your_min == "99"
    drive("deleteSpecification", "specifications.delete_specification", 204,
          lambda m: m.sync_detailed(slug="l-leucine-usp", client=bob), None)

    complaint_in = _model("ComplaintIn").from_dict({"order": approved.number, "sku": "LEU-USP-25KG",
                                                     "category": "delivery", "description": "One drum dented."})
    complaint = drive("fileComplaint", "complaints.file_complaint", 201,
                      lambda m: m.sync_detailed(client=buyer, body=complaint_in), "Complaint")
    assert complaint.status.value == "open" and complaint.lot_numbers == ["L-SOON"]
    assert drive("getComplaint", "complaints.get_complaint", 200,
                 lambda m: m.sync_detailed(number=complaint.number, client=bob), "Complaint").resolution is None
    complaints = drive("listComplaints", "complaints.list_complaints", 200,
                       lambda m: m.sync_detailed(client=buyer, limit=5), "ComplaintPage")
    assert [c.number for c in complaints.items] == [complaint.number]

    quote_in = _model("QuoteIn").from_dict({"lines": [{"sku": "LEU-USP-1KG", "quantity": 4}], "note": "For March."})
    quote = drive("requestQuote", "quotes.request_quote", 201,
                  lambda m: m.sync_detailed(client=buyer, body=quote_in, idempotency_key=str(uuid.uuid4())),
                  "Quote")
    assert quote.status.value == "requested" and quote.lines[0].unit_price is None
    declined_one = _api("quotes.request_quote").sync_detailed(client=buyer, body=quote_in).parsed
    seller = make_staff("sales")
    for number in (quote.number, declined_one.number):
        sales.answer_quote(number, {0: "90.00"}, date.today() + timedelta(days=14), "", True, seller)
    db.session.commit()
    db.session.remove()  # SQLite: the served app writes next
    assert drive("getQuote", "quotes.get_quote", 200,
                 lambda m: m.sync_detailed(number=quote.number, client=bob), "Quote").lines[0].held_quantity == 4
    quotes = drive("listQuotes", "quotes.list_quotes", 200, lambda m: m.sync_detailed(client=buyer, limit=5),
                   "QuotePage")
    assert {q.number for q in quotes.items} == {quote.number, declined_one.number}
    accept_in = _model("AcceptQuoteIn").from_dict({"shipping_address": order_in.to_dict()["shipping_address"]})
    accepted = drive("acceptQuote", "quotes.accept_quote", 201,
                     lambda m: m.sync_detailed(number=quote.number, client=buyer, body=accept_in), "Order")
    assert accepted.lines[0].unit_price == "90.00"
    declined = drive("declineQuote", "quotes.decline_quote", 200,
                     lambda m: m.sync_detailed(number=declined_one.number, client=buyer,
                                               body=_model("DeclineQuoteIn")()), "Quote")
    assert declined.status.value == "declined"

    sample_in = _model("SampleIn").from_dict({
        "product": "l-leucine-usp", "quantity_g": 250,
        "shipping_address": {"name": "Acme Lab", "line1": "Werkstraße 5", "city": "Hamburg", "postal_code": "20095",
                             "country": "DE"}})
    sample = drive("requestSample", "samples.request_sample", 201,
                   lambda m: m.sync_detailed(client=buyer, body=sample_in), "Sample")
    assert sample.status.value == "requested" and sample.lot_number is None
    assert drive("getSampleRequest", "samples.get_sample_request", 200,
                 lambda m: m.sync_detailed(number=sample.number, client=bob), "Sample").quantity_g == 250
    samples = drive("listSampleRequests", "samples.list_sample_requests", 200,
                    lambda m: m.sync_detailed(client=buyer, limit=5), "SamplePage")
    assert [s.number for s in samples.items] == [sample.number]

    endpoint_in = _model("EndpointIn").from_dict({"url": receiver.url, "events": ["*"], "description": "ERP"})
    created = drive("createWebhookEndpoint", "webhooks.create_webhook_endpoint", 201,
                    lambda m: m.sync_detailed(client=admin, body=endpoint_in), "CreatedEndpoint")
    assert created.secret.startswith("whsec_")
    endpoints = drive("listWebhookEndpoints", "webhooks.list_webhook_endpoints", 200,
                      lambda m: m.sync_detailed(client=buyer), "WebhookEndpointList")
    assert [e.id for e in endpoints.items] == [created.id]
    updated = drive("updateWebhookEndpoint", "webhooks.update_webhook_endpoint", 200,
                    lambda m: m.sync_detailed(endpoint_id=created.id, client=admin,
                                              body=_model("EndpointPatch")(description="ERP, production")),
                    "Endpoint")
    assert updated.description == "ERP, production" and updated.enabled
    rotated = drive("rotateWebhookSecret", "webhooks.rotate_webhook_secret", 200,
                    lambda m: m.sync_detailed(endpoint_id=created.id, client=admin), "RotatedSecret")
    assert rotated.secret.startswith("whsec_") and rotated.secret != created.secret
    queued = drive("testWebhookEndpoint", "webhooks.test_webhook_endpoint", 202,
                   lambda m: m.sync_detailed(endpoint_id=created.id, client=admin), "Queued")
    redelivery = drive("redeliverWebhook", "webhooks.redeliver_webhook", 202,
                       lambda m: m.sync_detailed(endpoint_id=created.id, client=admin,
                                                 body=_model("Redeliver")(event_id=queued.event_id)), "Redelivery")
    assert redelivery.event_id == queued.event_id
    deliveries = drive("listWebhookDeliveries", "webhooks.list_webhook_deliveries", 200,
                       lambda m: m.sync_detailed(endpoint_id=created.id, client=buyer), "WebhookDeliveryPage")
    assert deliveries.next_cursor is None
    drive("deleteWebhookEndpoint", "webhooks.delete_webhook_endpoint", 204,
          lambda m: m.sync_detailed(endpoint_id=created.id, client=admin), None)

    short = _model("OrderIn").from_dict({**order_in.to_dict(), "lines": [{"sku": "LEU-USP-1KG", "quantity": 55}],
                                         "allow_backorder": True})
    waiting_too = _api("orders.place_order").sync_detailed(client=bob, body=short).parsed
    waited = waiting_too.lines[0].backordered_quantity  # what the 1 kg tubs left in stock could not cover
    assert waited > 0 and waiting_too.allow_backorder
    trimmed = drive("cancelBackorder", "orders.cancel_backorder", 200,
                    lambda m: m.sync_detailed(number=waiting_too.number, client=buyer, body=_model("CancelIn")()),
                    "Order")
    assert (trimmed.lines[0].backordered_quantity, trimmed.lines[0].cancelled_quantity) == (0, waited)

    ordering.confirm_order(approved.number)
    ship_paid(approved.number, "1Z999")  # prepaid: paid in full, then shipped (and so invoiced)
    db.session.commit()
    invoice = invoice_of(approved.number)
    db.session.remove()  # SQLite: the served app reads next
    invoices = drive("listInvoices", "invoices.list_invoices", 200,
                     lambda m: m.sync_detailed(client=buyer, limit=5), "InvoicePage")
    assert [i.number for i in invoices.items] == [invoice.number]
    read = drive("getInvoice", "invoices.get_invoice", 200,
                 lambda m: m.sync_detailed(number=invoice.number, client=bob), "Invoice")
    assert (read.order, read.status.value, read.lines[0].sku) == (approved.number, "paid", "LEU-USP-25KG")
    xml = drive("getInvoiceXml", "invoices.get_invoice_xml", 200,
                lambda m: m.sync_detailed(number=invoice.number, client=buyer), None)
    assert b"<rsm:CrossIndustryInvoice" in xml.payload.read()  # a file: the generated client hands over the bytes
    pdf = drive("getInvoicePdf", "invoices.get_invoice_pdf", 200,
                lambda m: m.sync_detailed(number=invoice.number, client=buyer), None)
    assert pdf.payload.read().startswith(b"%PDF-")
    proforma = drive("getOrderProforma", "orders.get_order_proforma", 200,
                     lambda m: m.sync_detailed(number=approved.number, client=buyer), None)
    assert proforma.payload.read().startswith(b"%PDF-")

    # A refusal parses as the generated Problem, with the documented status.
    refused = _api("orders.get_order").sync_detailed(number=placed.number, client=authenticated("lsk_wrong"))
    assert refused.status_code == 401 and isinstance(refused.parsed, _model("Problem"))
    assert refused.parsed.type_.endswith("/problems/unauthorized")

    assert set(driven) == in_document, f"operations not driven through the generated client: " \
                                       f"{sorted(in_document - set(driven))}"
