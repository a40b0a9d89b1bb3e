"""Examples of every request and response body of /api/v1, by operationId: what the OpenAPI document shows next
to each schema (tests/integration/test_api_openapi.py checks that each one is valid against its schema)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from shop.invoicing.money import cents


def _domestic(subtotal: str) -> dict[str, str]:
    """An order's money fields for `subtotal`, shipped within Germany on net terms: 19 % VAT."""
    vat = cents(Decimal(subtotal) * Decimal("0.19"))
    return {"subtotal": subtotal, "payment_terms": "net_30", "vat_rule": "domestic", "vat_rate": "19.00",
            "vat": str(vat), "total": str(Decimal(subtotal) + vat)}


ADDRESS = {"name": "Acme Nutrition GmbH", "line1": "Werkstraße 5", "line2": None, "city": "Hamburg",
           "postal_code": "20095", "country": "DE"}

ORDER = {
    "number": "LS-2026-04711", "status": "pending", "placed_at": "2026-03-02T09:14:07.512000+00:00",
    "updated_at": "2026-03-02T09:14:07.512000+00:00", "version": 1, "confirmed_at": None, "shipped_at": None,
    "delivered_at": None, "cancelled_at": None,
    "placed_by": "ERP integration (lsk_7Qx2)", "currency": "EUR",
    "lines": [{"sku": "LEU-USP-25KG", "quantity": 2, "unit_price": "1950.00", "line_total": "3900.00",
               "cancelled_quantity": 0, "backordered_quantity": 0, "shipped_quantity": 0,
               "pack_size_kg": "25", "net_mass_kg": "50", "lot_number": "USP-2501",
               "allocations": [{"lot_number": "USP-2501", "quantity": 2, "expires_on": "2028-01-31",
                                "recalled": False}]}],
    **_domestic("3900.00"), "shipping_address": ADDRESS, "purchase_order": "PO-2026-0318",
    "min_remaining_shelf_life_days": 180, "single_lot": True, "allow_backorder": False, "shipments": [],
    "carrier": None, "tracking_reference": None,
    # On net_30 terms: no pro-forma.
    "notices": [], "documents": [], "invoices": [], "amount_paid": "0.00", "proforma_url": None,
}

PRODUCT = {
    "slug": "l-leucine-usp", "name": "L-Leucine USP", "grade": "USP", "cas_number": "61-90-5",
    "formula": "C6H13NO2", "molecular_weight": "131.17",
    "description": "Pharmaceutical grade L-Leucine, tested to the current USP monograph.",
    "specification": [{"test": "Assay", "min": "98.5", "max": "101.5", "unit": "%", "method": "USP <541>"},
                      {"test": "Loss on drying", "min": None, "max": "0.2", "unit": "%", "method": "USP <731>"}],
    "variants": [{"sku": "LEU-USP-25KG", "pack_size_kg": "25", "unit_price": "1950.00", "price_source": "list",
                  "currency": "EUR",
                  "price_breaks": [{"min_quantity": 10, "unit_price": "1850.00", "price_source": "list"}],
                  "min_order_quantity": 1, "available_quantity": 14}],
    "documents": [{"kind": "sds", "title": "Safety data sheet (EU REACH)", "version": "4.1",
                   "issued_on": "2025-09-01", "valid_until": None, "expired": False,
                   "url": "https://shop.example/documents/9/l-leucine-usp-sds-4.1.pdf"},
                  {"kind": "kosher", "title": "Kosher certificate (OU)", "version": "2026-1",
                   "issued_on": "2026-01-05", "valid_until": "2027-01-04", "expired": False,
                   "url": "https://shop.example/documents/12/l-leucine-usp-kosher-2026-1.pdf"}],
}

BATCH = {
    "lot_number": "USP-2501", "product": "l-leucine-usp", "manufactured_on": "2025-01-20",
    "expires_on": "2028-01-31", "date_kind": "expiry", "status": "released", "released_on": "2025-02-03",
    "released_by": "Dr. Maria Keller", "released_as": "quality unit", "recall_note": None, "recalled_on": None,
    "results": [{"test": "Assay", "result": "99.6", "min": "98.5", "max": "101.5", "unit": "%", "passed": True},
                {"test": "Loss on drying", "result": "0.08", "min": None, "max": "0.2", "unit": "%",
                 "passed": True}],
}

BATCH_FOR_YOU = {**BATCH, "meets_your_specification": True, "results": [
    {**BATCH["results"][0], "your_min": "99.0", "your_max": None, "meets_your_specification": True},
    BATCH["results"][1]]}

SPECIFICATION = {"product": "l-leucine-usp", "limits": [
    {"test": "Assay", "unit": "%", "min": "99.0", "max": None, "grade_min": "98.5", "grade_max": "101.5"},
    {"test": "Loss on drying", "unit": "%", "min": None, "max": "0.1", "grade_min": None, "grade_max": "0.2"}],
    "updated_at": "2026-03-01T08:00:00+00:00", "updated_by": "ERP integration (lsk_7Qx2)"}

COMPANY = {"name": "Acme Nutrition GmbH", "vat_id": "DE136695976", "payment_terms": "net_30",
           "credit_limit": "50000.00", "approval_threshold": "10000.00", "open_exposure": "4641.00",
           "available_credit": "45359.00"}

ENDPOINT = {"id": 7, "url": "https://erp.example.com/hooks/leucine", "events": ["order.placed", "order.shipped"],
            "description": "ERP order sync", "enabled": True, "disabled_reason": None,
            "created_at": "2026-03-01T08:00:00+00:00", "previous_secret_expires_at": None}

ENDPOINT_IN = {"url": "https://erp.example.com/hooks/leucine", "events": ["order.placed", "order.shipped"],
               "description": "ERP order sync"}

ATTEMPT = {"event_id": "msg_2mV8cQk1fJ0nR4tXb7Lw9pZs", "event_type": "order.placed",
           "attempted_at": "2026-03-02T09:14:09.104000+00:00", "status_code": 200, "duration_ms": 184, "error": None,
           "state": "delivered", "attempts": 1, "next_attempt_at": None}

CANCELLED = {**ORDER, "status": "cancelled", "updated_at": "2026-03-02T11:02:41.090000+00:00", "version": 2,
             "cancelled_at": "2026-03-02T11:02:41.090000+00:00"}

COMPLAINT_IN = {"order": "LS-2026-04711", "sku": "LEU-USP-25KG", "lot_number": "USP-2501", "category": "quality",
                "description": "Two drums of the lot arrived with torn inner liners; the powder is caked."}
COMPLAINT = {"number": "C-2026-00012", "status": "open", "order": "LS-2026-04711", "sku": "LEU-USP-25KG",
             "lot_numbers": ["USP-2501"], "category": "quality", "description": COMPLAINT_IN["description"],
             "filed_at": "2026-03-09T10:21:05.118000+00:00", "resolution": None}
CLOSED_COMPLAINT = {**COMPLAINT, "status": "closed",
                    "resolution": "The liners tore on a damaged pallet at our warehouse; two replacement drums "
                                  "shipped on order LS-260312-2HX7D and the pallets are now inspected."}

SAMPLE_IN = {"product": "l-leucine-usp", "quantity_g": 250, "note": "For our formulation lab: Dr. Weber.",
             "shipping_address": {k: v for k, v in ADDRESS.items() if v is not None}}
SAMPLE = {"number": "S-2026-00007", "status": "requested", "product": "l-leucine-usp", "quantity_g": 250,
          "note": SAMPLE_IN["note"], "requested_at": "2026-03-05T08:30:12.004000+00:00", "shipping_address": ADDRESS,
          "lot_number": None, "shipped_at": None, "tracking_reference": None, "decline_reason": None}
SHIPPED_SAMPLE = {**SAMPLE, "status": "shipped", "lot_number": "USP-2501",
                  "shipped_at": "2026-03-06T14:02:51.310000+00:00", "tracking_reference": "1Z999AA10123456784"}

CONFIRMED = {**ORDER, "status": "confirmed", "updated_at": "2026-03-02T10:21:33.400000+00:00", "version": 2,
             "confirmed_at": "2026-03-02T10:21:33.400000+00:00",
             "documents": [
                 {"kind": "sds", "title": "Safety data sheet L-Leucine", "version": "4", "issued_on": "2025-11-03",
                  "valid_until": None, "expired": False,
                  "url": "https://shop.example.com/documents/12/l-leucine-usp-sds-4.pdf"},
                 {"kind": "kosher", "title": "Kosher certificate 2026", "version": "2026-1",
                  "issued_on": "2026-01-15", "valid_until": "2027-01-14", "expired": False,
                  "url": "https://shop.example.com/documents/31/l-leucine-usp-kosher-2026-1.pdf"}]}

# Placed with allow_backorder when 2 of the 6 drums were in stock; its buyer then cancelled the 4 still to come.
BACKORDERED = {**ORDER, "number": "LS-2026-04788", "allow_backorder": True, "single_lot": False,
               "lines": [{**ORDER["lines"][0], "quantity": 6, "line_total": "11700.00", "backordered_quantity": 4,
                          "net_mass_kg": "150", "lot_number": None}],
               **_domestic("11700.00")}
BACKORDER_CANCELLED = {**BACKORDERED, "version": 2, "updated_at": "2026-03-04T16:40:12.300000+00:00",
                       "lines": [{**BACKORDERED["lines"][0], "line_total": "3900.00", "backordered_quantity": 0,
                                  "cancelled_quantity": 4, "net_mass_kg": "50"}],
                       **_domestic("3900.00")}
# The first of two shipments: one drum left, the other follows (the order is partially shipped).
PARTLY_SHIPPED = {**CONFIRMED, "status": "partially_shipped", "updated_at": "2026-03-04T14:05:12.200000+00:00",
                  "version": 3,
                  "lines": [{**CONFIRMED["lines"][0], "shipped_quantity": 1,
                             "allocations": [{"lot_number": "USP-2501", "quantity": 1, "expires_on": "2028-01-31",
                                              "recalled": False}] * 2}],
                  "shipments": [{"number": "LS-2026-04711-S1", "shipped_at": "2026-03-04T14:05:12.200000+00:00",
                                 "carrier": "DHL Freight", "tracking_reference": "JJD0099000123456",
                                 "lines": [{"sku": "LEU-USP-25KG", "quantity": 1, "lot_number": "USP-2501"}]}],
                  "carrier": "DHL Freight", "tracking_reference": "JJD0099000123456",
                  "invoices": ["INV-2026-000123"]}

# The invoice of PARTLY_SHIPPED's first shipment, due in 30 days, of which 1,000.00 is paid.
INVOICE = {"number": "INV-2026-000123", "kind": "invoice", "order": "LS-2026-04711", "shipment": "LS-2026-04711-S1",
           "corrects": None, "issued_on": "2026-03-04", "due_on": "2026-04-03", "currency": "EUR",
           "lines": [{"sku": "LEU-USP-25KG", "description": "L-Leucine USP, 25 kg drum", "quantity": 1,
                      "unit_price": "1950.00", "net": "1950.00", "lot_numbers": ["USP-2501"]}],
           "net": "1950.00", "vat_rule": "domestic", "vat_rate": "19.00", "vat": "370.50", "gross": "2320.50",
           "amount_paid": "1000.00", "amount_due": "1320.50", "status": "open", "overdue": False}


ORDER_IN = {"lines": [{"sku": "LEU-USP-25KG", "quantity": 2, "lot_number": "usp-2501"}],
            "shipping_address": {k: v for k, v in ADDRESS.items() if v is not None},
            "purchase_order": "PO-2026-0318", "min_remaining_shelf_life_days": 180, "single_lot": True}

QUOTE_IN = {"lines": [{"sku": "LEU-USP-25KG", "quantity": 20}], "min_remaining_shelf_life_days": 365,
            "needed_by": "2026-04-15", "note": "Twenty drums for the April production run; one lot if you can."}
QUOTE = {"number": "Q-2026-00012", "status": "requested", "requested_at": "2026-03-09T10:21:05.118000+00:00",
         "requested_by": "ERP integration (lsk_7Qx2)",
         "lines": [{"sku": "LEU-USP-25KG", "quantity": 20, "unit_price": None, "line_total": None,
                    "held_quantity": 0}],
         "valid_until": None, "hold": False, "note": QUOTE_IN["note"], "answer_note": "", "order": None,
         "min_remaining_shelf_life_days": 365, "needed_by": "2026-04-15"}
ANSWERED_QUOTE = {**QUOTE, "status": "answered",
                  "lines": [{**QUOTE["lines"][0], "unit_price": "1780.00", "line_total": "35600.00",
                             "held_quantity": 20}],
                  "valid_until": "2026-03-23", "hold": True,
                  "answer_note": "All twenty drums from lot USP-2503 (expires 2028-02), held for you until the 23rd."}
QUOTE_ORDER = {**ORDER, "number": "LS-2026-04790", "min_remaining_shelf_life_days": 365, "single_lot": False,
               "lines": [{**ORDER["lines"][0], "quantity": 20, "unit_price": "1780.00", "line_total": "35600.00",
                          "net_mass_kg": "500", "lot_number": None,
                          "allocations": [{"lot_number": "USP-2503", "quantity": 20, "expires_on": "2028-02-29",
                                           "recalled": False}]}],
               **_domestic("35600.00")}
ACCEPT_QUOTE_IN = {"shipping_address": ORDER_IN["shipping_address"], "purchase_order": "PO-2026-0402"}

# operationId: {"request": body example, status: response body example}
OPERATIONS: dict[str, dict[str, Any]] = {
    "listProducts": {"200": {"items": [PRODUCT], "next_cursor": "cHJvZHVjdHM6MTox"}},
    "getProduct": {"200": PRODUCT},
    "getBatch": {"200": BATCH_FOR_YOU},
    "listOrders": {"200": {"items": [ORDER], "next_cursor": None}},
    "placeOrder": {"request": ORDER_IN, "201": ORDER},
    "getOrder": {"200": CONFIRMED},
    "cancelOrder": {"request": {}, "200": CANCELLED},
    "cancelBackorder": {"request": {}, "200": BACKORDER_CANCELLED},
    "approveOrder": {"request": {"note": "Approved for the March production run."},
                     "200": {**ORDER, "status": "pending"}},
    "listQuotes": {"200": {"items": [ANSWERED_QUOTE], "next_cursor": None}},
    "requestQuote": {"request": QUOTE_IN, "201": QUOTE},
    "getQuote": {"200": ANSWERED_QUOTE},
    "acceptQuote": {"request": ACCEPT_QUOTE_IN, "201": {**QUOTE_ORDER, "purchase_order": "PO-2026-0402"}},
    "declineQuote": {"request": {}, "200": {**ANSWERED_QUOTE, "status": "declined", "lines": [
        {**ANSWERED_QUOTE["lines"][0], "held_quantity": 0}]}},
    "rejectOrder": {"request": {"note": "Over this quarter's budget: order again in April."},
                    "200": CANCELLED},
    "getCompany": {"200": COMPANY},
    "getSpecification": {"200": SPECIFICATION},
    "putSpecification": {"request": {"limits": [{"test": "Assay", "min": "99.0"},
                                                {"test": "Loss on drying", "max": "0.1"}]},
                         "200": SPECIFICATION},
    "listInvoices": {"200": {"items": [INVOICE], "next_cursor": None}},
    "getInvoice": {"200": INVOICE},
    "listComplaints": {"200": {"items": [CLOSED_COMPLAINT], "next_cursor": None}},
    "fileComplaint": {"request": COMPLAINT_IN, "201": COMPLAINT},
    "getComplaint": {"200": CLOSED_COMPLAINT},
    "listSampleRequests": {"200": {"items": [SHIPPED_SAMPLE], "next_cursor": None}},
    "requestSample": {"request": SAMPLE_IN, "201": SAMPLE},
    "getSampleRequest": {"200": SHIPPED_SAMPLE},
    "listWebhookEndpoints": {"200": {"items": [ENDPOINT]}},
    "createWebhookEndpoint": {"request": ENDPOINT_IN,
                              "201": {**ENDPOINT, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
    "listEvents": {"200": {"items": [
        {"id": "msg_2mV8cQk1fJ0nR4tXb7Lw9pZs", "type": "order.placed", "created_at": ORDER["placed_at"], "data": ORDER},
        {"id": "msg_2mV8dA0r5YwQe3Hk1TuZ6sBn", "type": "order.cancelled", "created_at": CANCELLED["updated_at"],
         "data": {**CANCELLED, "reason": "Cancelled by buyer@acme.example."}}],
        "next_cursor": "ZXZlbnRzOjE4MjQ"}},
    "updateWebhookEndpoint": {"request": {"enabled": True}, "200": ENDPOINT},
    "rotateWebhookSecret": {"200": {**ENDPOINT, "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                                    "previous_secret_expires_at": "2026-03-03T08:00:00+00:00"}},
    "listWebhookDeliveries": {"200": {"items": [ATTEMPT], "next_cursor": None}},
    "testWebhookEndpoint": {"202": {"event_id": "msg_9xTq3Rk0bLm2Wc5Yv8Hn1Dfa"}},
    "redeliverWebhook": {"request": {"event_id": "msg_2mV8cQk1fJ0nR4tXb7Lw9pZs"},
                         "202": {"event_id": "msg_2mV8cQk1fJ0nR4tXb7Lw9pZs"}},
}

# The `data` of each event type's webhook delivery (an order event's data is the order, as the API answers it).
EVENT_DATA: dict[str, Any] = {
    "order.changed": {**ORDER, "cause": "lot_recalled", "reason": "Lot USP-2501 was recalled.",
                      "changes": [{"kind": "returned", "sku": "LEU-USP-25KG", "lot_number": "USP-2501",
                                   "quantity": 2}],
                      "missing": [{"sku": "LEU-USP-25KG", "quantity": 2}]},
    "order.backorder_allocated": {  # its two drums were backordered until lot USP-2501 was released
        **CONFIRMED, "allow_backorder": True,
        "reason": "Lot USP-2501 was released: backordered units were allocated from it.",
        "changes": [{"kind": "allocated", "sku": "LEU-USP-25KG", "lot_number": "USP-2501", "quantity": 2}],
        "backordered": []},
    "order.confirmed": CONFIRMED,
    "order.shipped": {**PARTLY_SHIPPED, "shipment": "LS-2026-04711-S1"},  # one per shipment, named by its number
    "order.cancelled": {**CANCELLED, "reason": "Cancelled by buyer@acme.example."},
    "order.rejected": {**CANCELLED, "note": "Over this quarter's budget: order again in April."},
    "lot.recalled": {"lot_number": "USP-2501", "message": "Out-of-specification assay on retest.",
                     "orders": ["LS-2026-04711"], "open_orders": []},
    "complaint.updated": {**COMPLAINT, "status": "investigating"},
    "quote.answered": ANSWERED_QUOTE,
    "quote.expired": {**ANSWERED_QUOTE, "status": "expired", "lines": [{**ANSWERED_QUOTE["lines"][0],
                                                                        "held_quantity": 0}]},
    "invoice.issued": INVOICE,
    "ping": {"endpoint_id": 7, "message": "A test event from the Leucine Shop: your endpoint answers."},
}


def event_data(event_type: str) -> Any:
    return EVENT_DATA.get(event_type, ORDER)


def event_example(event_type: str) -> dict[str, Any]:
    """The body a delivery of `event_type` POSTs (shop/events/delivery.py's envelope)."""
    return {"id": "msg_2mV8cQk1fJ0nR4tXb7Lw9pZs", "type": event_type, "created_at": "2026-03-02T09:14:07.512000+00:00",
            "data": event_data(event_type)}
