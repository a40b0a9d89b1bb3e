"""GET /api/v1/products and /batches, auth, errors for any /api/ path, the OpenAPI document and the docs page."""
from __future__ import annotations

import re
from datetime import date

from openapi_spec_validator import validate
from sqlalchemy import select

from shop.accounts import people as accounts
from shop.accounts.models import ApiKey
from shop.catalog import products as catalog
from shop.platform.database import utcnow
from shop.platform.extensions import db
from tests.support.api import assert_problem, available
from tests.support.factories import make_lot, make_product, signed_recall
from tests.support.sql import count_statements


def test_product_shows_identity_spec_and_pack_sizes_with_decimal_strings(api, stocked):
    response = api.get("/api/v1/products/l-leucine-usp")
    assert response.status_code == 200
    product = response.get_json()
    assert {k: product[k] for k in ("slug", "grade", "cas_number", "formula", "molecular_weight")} == {
        "slug": "l-leucine-usp", "grade": "USP", "cas_number": "61-90-5", "formula": "C6H13NO2",
        "molecular_weight": "131.17"}
    spec = {item["test"]: item for item in product["specification"]}
    assert spec["Assay (dried basis)"] == {"test": "Assay (dried basis)", "min": "98.5", "max": "101.5",
                                               "unit": "%", "method": "USP titration"}
    assert spec["Loss on drying"]["min"] is None and spec["Loss on drying"]["max"] == "0.2"
    tub, drum = product["variants"]
    assert drum == {"sku": "LEU-USP-25KG", "pack_size_kg": "25", "unit_price": "1950.00", "price_source": "list",
                    "currency": "EUR",
                    "price_breaks": [{"min_quantity": 4, "unit_price": "1850.00", "price_source": "list"},
                                     {"min_quantity": 10, "unit_price": "1760.00", "price_source": "list"}],
                    "min_order_quantity": 1, "available_quantity": 16}
    assert tub["available_quantity"] == 50


def test_available_quantity_drops_after_an_order_and_ignores_unsellable_lots(api, stocked):
    make_lot(stocked, "L-QUAR", {"LEU-USP-25KG": 40}, status="quarantine")
    make_lot(stocked, "L-REJ", {"LEU-USP-25KG": 40}, status="rejected")
    make_lot(stocked, "L-OLD", {"LEU-USP-25KG": 40}, expires_in_days=-1)
    assert available(api, "LEU-USP-25KG") == 16
    assert api.order([{"sku": "LEU-USP-25KG", "quantity": 3}]).status_code == 201
    assert available(api, "LEU-USP-25KG") == 13


def test_unknown_product_is_404_problem(api, stocked):
    assert_problem(api.get("/api/v1/products/l-leucine-none"), 404, "not-found")


def test_product_list_pages_in_catalog_order_without_n_plus_one(api, app):
    for slug, grade, prefix in (("l-leucine-usp", "USP", "LEU-USP"), ("l-leucine-ep", "EP", "LEU-EP"),
                                ("l-leucine-fcc", "FCC", "LEU-FCC")):
        make_lot(make_product(slug, grade, prefix), f"L-{grade}", {f"{prefix}-25KG": 3})
    seen, cursor = [], None
    while True:
        body = api.get("/api/v1/products", query_string={"limit": 1, **({"cursor": cursor} if cursor else {})})
        seen += [p["slug"] for p in body.get_json()["items"]]
        cursor = body.get_json()["next_cursor"]
        if not cursor:
            break
    assert seen == ["l-leucine-usp", "l-leucine-ep", "l-leucine-fcc"]

    with count_statements(fresh_session=True) as one_product:
        api.get("/api/v1/products", query_string={"limit": 1})
    with count_statements(fresh_session=True) as three_products:
        everything = api.get("/api/v1/products").get_json()
    assert [p["slug"] for p in everything["items"]] == seen and everything["next_cursor"] is None
    assert all(v["available_quantity"] == (3 if v["sku"].endswith("25KG") else 0)
               for p in everything["items"] for v in p["variants"])
    # Three products cost what one does: products, spec, variants, price breaks and ONE availability query.
    assert len(three_products) == len(one_product), three_products


def test_released_batch_shows_its_coa(api, stocked):
    response = api.get("/api/v1/batches/L-SOON")
    assert response.status_code == 200
    coa = response.get_json()
    assert (coa["lot_number"], coa["product"], coa["status"]) == ("L-SOON", "l-leucine-usp", "released")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", coa["manufactured_on"]) and coa["expires_on"] > coa["manufactured_on"]
    assay = next(r for r in coa["results"] if r["test"] == "Assay (dried basis)")
    assert assay["passed"] is True and assay["min"] == "98.5" and assay["max"] == "101.5" and assay["unit"] == "%"
    assert float(assay["result"]) >= 98.5
    assert [r["test"] for r in coa["results"]][:2] == ["Appearance", "Identification (IR)"]
    assert all(r["passed"] for r in coa["results"])


def test_lots_never_released_are_404_like_unknown_ones(api, stocked):
    make_lot(stocked, "L-QUAR", {"LEU-USP-25KG": 1}, status="quarantine")
    make_lot(stocked, "L-REJ", {"LEU-USP-25KG": 1}, status="rejected")
    unknown = assert_problem(api.get("/api/v1/batches/L-NEVER"), 404, "not-found")
    for lot in ("L-QUAR", "L-REJ"):
        problem = assert_problem(api.get(f"/api/v1/batches/{lot}"), 404, "not-found")
        assert problem["detail"] == unknown["detail"].replace("L-NEVER", lot)


def test_a_recalled_lot_keeps_its_coa_with_the_published_recall_note_and_date(api, client, stocked):
    released = api.get("/api/v1/batches/L-SOON").get_json()
    assert (released["recall_note"], released["recalled_on"]) == (None, None)
    signed_recall("L-SOON", "Internal: supplier audit failed", note="Possible foreign particles; do not use.")
    db.session.commit()
    response = api.get("/api/v1/batches/l-soon")
    assert response.status_code == 200
    recalled = response.get_json()
    assert recalled["status"] == "recalled"
    assert recalled["recall_note"] == "Possible foreign particles; do not use."
    assert recalled["recalled_on"] == date.today().isoformat()
    assert "supplier audit" not in response.text  # the internal reason stays inside
    # The rest of the certificate is the one the buyer received the goods with, as /coa/<lot> keeps it.
    assert {k: v for k, v in recalled.items() if k not in ("status", "recall_note", "recalled_on")} == {
        k: v for k, v in released.items() if k not in ("status", "recall_note", "recalled_on")}
    batch = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Batch"]
    assert batch["properties"]["status"]["enum"] == ["released", "recalled"]
    assert {"recall_note", "recalled_on"} <= set(batch["required"])
    assert "published" in batch["properties"]["recall_note"]["description"]


def test_every_endpoint_needs_a_valid_key(api, client, stocked):
    number = api.order().get_json()["number"]
    revoked = accounts.create_api_key(api.customer, "old")
    db.session.get(ApiKey, db.session.scalar(select(ApiKey.id).where(ApiKey.name == "old"))).revoked_at = utcnow()
    db.session.commit()
    requests = [("get", "/api/v1/products"), ("get", "/api/v1/products/l-leucine-usp"),
                ("get", "/api/v1/batches/L-SOON"), ("get", "/api/v1/orders"), ("post", "/api/v1/orders"),
                ("get", f"/api/v1/orders/{number}"), ("post", f"/api/v1/orders/{number}/cancel"),
                ("post", f"/api/v1/orders/{number}/approve"), ("post", f"/api/v1/orders/{number}/reject"),
                ("get", "/api/v1/company"), ("get", "/api/v1/specifications/l-leucine-usp"),
                ("put", "/api/v1/specifications/l-leucine-usp"), ("delete", "/api/v1/specifications/l-leucine-usp"),
                ("post", "/api/v1/complaints")]
    for headers in ({}, {"Authorization": "Bearer lsk_wrong"}, {"Authorization": f"Basic {api.key}"},
                    {"Authorization": f"Bearer {revoked}"}):
        for method, path in requests:
            response = getattr(client, method)(path, headers=headers)
            assert_problem(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert api.get(f"/api/v1/orders/{number}").get_json()["status"] == "pending"


def test_wrong_method_is_405_problem_with_allow(api):
    response = api.client.delete("/api/v1/orders", headers=api.headers())
    assert_problem(response, 405, "method-not-allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_unknown_api_path_is_404_problem(api):
    response = api.get("/api/v1/nothing-here")
    assert_problem(response, 404, "not-found")
    assert "<html" not in response.get_data(as_text=True).lower()


def test_unexpected_failure_is_a_500_problem_without_traceback(api, stocked, monkeypatch):
    def broken(slug):
        raise RuntimeError("secret connection string")

    monkeypatch.setattr(catalog, "get_product", broken)
    response = api.get("/api/v1/products/l-leucine-usp")
    assert_problem(response, 500, "internal-error")
    text = response.get_data(as_text=True)
    assert "secret connection string" not in text and "Traceback" not in text


def test_openapi_document_is_public_valid_and_describes_auth_errors_and_idempotency(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {**spec["components"]["securitySchemes"][
        "bearerAuth"], "type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]
    post = spec["paths"]["/api/v1/orders"]["post"]
    assert any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert {"201", "409", "422"} <= set(post["responses"]) and "default" not in post["responses"]
    assert {"Location", "Idempotent-Replayed"} <= set(post["responses"]["201"]["headers"])
    for status in ("409", "422"):
        assert list(post["responses"][status]["content"]) == ["application/problem+json"]
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors", "short_lines"} <= set(problem)
    assert set(spec["paths"]) == {"/api/v1/products", "/api/v1/products/{slug}", "/api/v1/batches/{lot_number}",
                                  "/api/v1/orders", "/api/v1/orders/{number}", "/api/v1/orders/{number}/cancel",
                                  "/api/v1/orders/{number}/cancel-backorder",
                                  "/api/v1/webhook-endpoints", "/api/v1/webhook-endpoints/{endpoint_id}",
                                  "/api/v1/webhook-endpoints/{endpoint_id}/deliveries",
                                  "/api/v1/webhook-endpoints/{endpoint_id}/test",
                                  "/api/v1/webhook-endpoints/{endpoint_id}/redeliver",
                                  "/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
                                  "/api/v1/orders/{number}/approve", "/api/v1/orders/{number}/reject",
                                  "/api/v1/company", "/api/v1/events", "/api/v1/specifications/{slug}",
                                  "/api/v1/complaints", "/api/v1/complaints/{number}",
                                  "/api/v1/quotes", "/api/v1/quotes/{number}", "/api/v1/quotes/{number}/accept",
                                  "/api/v1/quotes/{number}/decline", "/api/v1/sample-requests",
                                  "/api/v1/sample-requests/{number}", "/api/v1/invoices",
                                  "/api/v1/invoices/{number}", "/api/v1/invoices/{number}.xml",
                                  "/api/v1/invoices/{number}.pdf", "/api/v1/orders/{number}/proforma.pdf"}


def test_docs_page_is_public_self_contained_and_lists_every_operation(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for operation in ("GET /api/v1/products", "GET /api/v1/products/{slug}", "GET /api/v1/batches/{lot_number}",
                      "POST /api/v1/orders", "GET /api/v1/orders/{number}", "POST /api/v1/orders/{number}/cancel"):
        assert f"<code>{operation}</code>" in page
    for topic in ("Idempotency-Key", "next_cursor", "application/problem+json", "short_lines", "Bearer"):
        assert topic in page
    # No asset from another host: every src/href is local or an in-page anchor.
    assert not re.search(r'(src|href)="(https?:)?//', page)
