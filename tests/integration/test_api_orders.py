"""POST/GET /api/v1/orders and cancel: totals, price breaks, field-path errors, stock, privacy, paging, SQL cost."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from shop.catalog.models import Product
from shop.platform.extensions import db
from tests.support.api import ADDRESS, assert_problem, available, order_count
from tests.support.factories import make_lot, make_product
from tests.support.sql import count_statements


def test_place_order_answers_201_with_totals_fefo_lots_and_location(api, stocked):
    response = api.order([{"sku": "LEU-USP-25KG", "quantity": 8}, {"sku": "LEU-USP-1KG", "quantity": 3}],
                         purchase_order="PO-4711", min_remaining_shelf_life_days=30)
    assert response.status_code == 201, response.get_data(as_text=True)
    order = response.get_json()
    assert order["status"] == "pending" and order["currency"] == "EUR"
    assert order["number"].startswith("LS-")
    drums, tubs = order["lines"]
    # 8 drums reach the break at 4 units: 1850.00 each.
    assert (drums["sku"], drums["quantity"], drums["unit_price"], drums["line_total"]) == \
        ("LEU-USP-25KG", 8, "1850.00", "14800.00")
    assert (tubs["unit_price"], tubs["line_total"]) == ("96.00", "288.00")
    assert order["subtotal"] == "15088.00"  # shipped within Germany, from Germany: 19 % VAT on the sum
    assert (order["payment_terms"], order["vat_rule"], order["vat_rate"], order["vat"], order["total"]) == \
        ("prepaid", "domestic", "19.00", "2866.72", "17954.72")
    # First expired, first out: all 6 of the earlier lot, then 2 from the later one.
    assert [(a["lot_number"], a["quantity"]) for a in drums["allocations"]] == [("L-SOON", 6), ("L-LATE", 2)]
    assert all(len(a["expires_on"]) == 10 for a in drums["allocations"])
    assert order["shipping_address"] == {**ADDRESS, "line2": None}
    assert order["purchase_order"] == "PO-4711" and order["min_remaining_shelf_life_days"] == 30
    assert "T" in order["placed_at"]
    assert response.headers["Location"] == f"/api/v1/orders/{order['number']}"
    # GET answers exactly what POST did.
    again = api.get(response.headers["Location"])
    assert again.status_code == 200 and again.get_json() == order


@pytest.mark.parametrize(("quantity", "unit_price", "line_total"), [
    (3, "1950.00", "5850.00"), (4, "1850.00", "7400.00"), (9, "1850.00", "16650.00"), (10, "1760.00", "17600.00"),
])
def test_price_break_applies_from_its_quantity(api, stocked, quantity, unit_price, line_total):
    line = api.order([{"sku": "LEU-USP-25KG", "quantity": quantity}]).get_json()["lines"][0]
    assert (line["unit_price"], line["line_total"]) == (unit_price, line_total)


def _line(**overrides):
    return [{"sku": "LEU-USP-25KG", "quantity": 1, **overrides}]


@pytest.mark.parametrize(("body", "path"), [
    ({"lines": _line(quantity=0)}, "lines.0.quantity"),
    ({"lines": _line(quantity=-1)}, "lines.0.quantity"),
    ({"lines": _line(quantity=1.5)}, "lines.0.quantity"),
    ({"lines": _line(quantity="2")}, "lines.0.quantity"),
    ({"lines": _line(quantity=True)}, "lines.0.quantity"),
    ({"lines": [*_line(), {"sku": "LEU-NOPE-25KG", "quantity": 1}]}, "lines.1.sku"),
    ({"lines": [*_line(), *_line()]}, "lines.1.sku"),
    ({"lines": []}, "lines"),
    ({"lines": None}, "lines"),
    ({"lines": [{"sku": f"SKU-{i}", "quantity": 1} for i in range(101)]}, "lines"),
    ({"shipping_address": {k: v for k, v in ADDRESS.items() if k != "city"}}, "shipping_address.city"),
    ({"shipping_address": {**ADDRESS, "country": "XX"}}, "shipping_address.country"),
    ({"shipping_address": {**ADDRESS, "country": "Germany"}}, "shipping_address.country"),
    ({"min_remaining_shelf_life_days": -5}, "min_remaining_shelf_life_days"),
    ({"colour": "blue"}, "colour"),
])
def test_invalid_order_is_422_with_the_field_path_and_changes_nothing(api, stocked, body, path):
    payload = {"lines": _line(), "shipping_address": ADDRESS, **body}
    if payload["lines"] is None:
        del payload["lines"]
    problem = assert_problem(api.post("/api/v1/orders", json=payload), 422, "validation-error")
    assert path in problem["errors"], problem["errors"]
    assert all(isinstance(m, str) for m in problem["errors"][path])
    assert order_count() == 0
    assert available(api, "LEU-USP-25KG") == 16


def test_a_body_refused_for_its_shape_also_names_the_unknown_skus(api, stocked):
    lines = [{"sku": "LEU-NOPE-1KG", "quantity": 0}, {"sku": "LEU-USP-25KG", "quantity": "2"},
             {"sku": "LEU-GONE-5KG", "quantity": 1}, {"sku": 7, "quantity": 1},
             {"sku": "LEU-USP-1KG", "quantity": 10**20}]
    problem = assert_problem(api.post("/api/v1/orders", json={"lines": lines, "shipping_address": ADDRESS}),
                             422, "validation-error")
    assert problem["errors"] == {
        "lines.0.quantity": ["The quantity must be a whole number of units, at least 1."],
        "lines.0.sku": ["Unknown SKU 'LEU-NOPE-1KG'."],
        "lines.1.quantity": ["The quantity must be a whole number of units, at least 1."],
        "lines.2.sku": ["Unknown SKU 'LEU-GONE-5KG'."],
        "lines.3.sku": ["Not a valid string."],
        "lines.4.quantity": ["At most 1,000,000 units per line."],  # too many: the limit, not "at least 1"
    }
    assert order_count() == 0


def test_quantity_under_the_minimum_order_is_422(api, app):
    product = make_product()
    product.variants[1].min_order_quantity = 2
    db.session.commit()
    make_lot(product, "L-MOQ", {"LEU-USP-25KG": 5})
    problem = assert_problem(api.order([{"sku": "LEU-USP-25KG", "quantity": 1}]), 422, "validation-error")
    assert "minimum order" in problem["errors"]["lines.0.quantity"][0]


def test_malformed_json_is_400_problem(api, stocked):
    response = api.client.post("/api/v1/orders", data='{"lines": [', headers=api.headers(),
                               content_type="application/json")
    assert_problem(response, 400, "malformed-json")
    assert order_count() == 0


def test_order_without_key_is_401(client, stocked):
    response = client.post("/api/v1/orders", json={"lines": _line(), "shipping_address": ADDRESS})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert order_count() == 0


def test_short_order_is_409_naming_every_short_line_and_changes_nothing(api, stocked):
    response = api.order([{"sku": "LEU-USP-25KG", "quantity": 17}, {"sku": "LEU-USP-1KG", "quantity": 60}])
    problem = assert_problem(response, 409, "insufficient-stock")
    assert problem["short_lines"] == [{"sku": "LEU-USP-25KG", "requested": 17, "available": 16},
                                      {"sku": "LEU-USP-1KG", "requested": 60, "available": 50}]
    assert order_count() == 0
    assert available(api, "LEU-USP-25KG") == 16 and available(api, "LEU-USP-1KG") == 50


def test_another_customers_order_is_404_to_read_and_to_cancel(api, rival, stocked):
    number = api.order().get_json()["number"]
    assert_problem(rival.get(f"/api/v1/orders/{number}"), 404, "not-found")
    assert_problem(rival.post(f"/api/v1/orders/{number}/cancel"), 404, "not-found")
    assert rival.get("/api/v1/orders").get_json()["items"] == []
    assert api.get(f"/api/v1/orders/{number}").get_json()["status"] == "pending"


def test_unknown_order_is_404(api, stocked):
    assert_problem(api.get("/api/v1/orders/LS-000000-NOPE0"), 404, "not-found")


def test_cancel_releases_stock_and_cancelling_twice_is_409(api, stocked):
    number = api.order([{"sku": "LEU-USP-25KG", "quantity": 7}]).get_json()["number"]
    assert available(api, "LEU-USP-25KG") == 9
    response = api.post(f"/api/v1/orders/{number}/cancel")
    assert response.status_code == 200
    cancelled = response.get_json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["lines"][0]["allocations"] == []  # released allocations hold no stock and are not listed
    assert available(api, "LEU-USP-25KG") == 16
    problem = assert_problem(api.post(f"/api/v1/orders/{number}/cancel"), 409, "illegal-transition")
    assert "cancelled" in problem["detail"]
    assert available(api, "LEU-USP-25KG") == 16


def test_cancel_refuses_an_unknown_field_with_422_and_changes_nothing(api, stocked):
    number = api.order([{"sku": "LEU-USP-25KG", "quantity": 2}]).get_json()["number"]
    refused = api.post(f"/api/v1/orders/{number}/cancel", json={"reason": "x"}, key="cancel-1")
    assert assert_problem(refused, 422, "validation-error")["errors"] == {"reason": ["Unknown field."]}
    assert api.get(f"/api/v1/orders/{number}").get_json()["status"] == "pending"
    assert available(api, "LEU-USP-25KG") == 14
    # A refused request is not kept for its Idempotency-Key: the corrected one may reuse it.
    assert api.post(f"/api/v1/orders/{number}/cancel", json={}, key="cancel-1").get_json()["status"] == "cancelled"


def test_a_cancelled_order_keeps_its_amounts_as_its_schema_says_and_counts_in_no_exposure(api, client, stocked):
    placed = api.order([{"sku": "LEU-USP-25KG", "quantity": 8}, {"sku": "LEU-USP-1KG", "quantity": 3}]).get_json()
    cancelled = api.post(f"/api/v1/orders/{placed['number']}/cancel").get_json()
    assert cancelled["status"] == "cancelled"
    for line in cancelled["lines"]:
        assert Decimal(line["line_total"]) == Decimal(line["unit_price"]) * (line["quantity"]
                                                                             - line["cancelled_quantity"])
    assert [line["line_total"] for line in cancelled["lines"]] == ["14800.00", "288.00"]
    assert cancelled["subtotal"] == "15088.00"
    assert cancelled["total"] == placed["total"] == "17954.72"
    assert api.get("/api/v1/company").get_json()["open_exposure"] == "0.00"  # what a cancelled order owes: nothing
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    line_total = schemas["OrderLine"]["properties"]["line_total"]["description"]
    total = schemas["Order"]["properties"]["total"]["description"]
    assert "(`quantity` - `cancelled_quantity`)" in line_total and "still to deliver" not in line_total
    assert "A cancelled order keeps" in line_total and "A cancelled order keeps" in total


def test_order_list_walks_every_order_once_newest_first_and_filters_by_status(api, rival, stocked):
    placed = [api.order([{"sku": "LEU-USP-1KG", "quantity": 1}]).get_json()["number"] for _ in range(5)]
    rival.order([{"sku": "LEU-USP-1KG", "quantity": 1}])
    for number in placed[:2]:
        api.post(f"/api/v1/orders/{number}/cancel")

    seen, cursor, pages = [], None, 0
    while True:
        page = api.get("/api/v1/orders", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        body = page.get_json()
        assert len(body["items"]) <= 2
        seen += [o["number"] for o in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == placed[::-1]
    assert pages == 3

    cancelled = api.get("/api/v1/orders", query_string={"status": "cancelled"}).get_json()
    assert [o["number"] for o in cancelled["items"]] == placed[1::-1]
    assert cancelled["next_cursor"] is None
    pending = api.get("/api/v1/orders", query_string={"status": "pending", "limit": 20}).get_json()
    assert [o["number"] for o in pending["items"]] == placed[:1:-1]


@pytest.mark.parametrize(("query", "path"), [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "ten"}, "limit"),
    # int() would read each of these as a number: a guess, refused like "ten"
    ({"limit": "01"}, "limit"), ({"limit": "1_0"}, "limit"), ({"limit": " 5"}, "limit"), ({"limit": "+5"}, "limit"),
    ({"limit": "\u0665"}, "limit"), ({"limit": "5.0"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"), ({"status": "lost"}, "status"),
])
def test_bad_list_parameters_are_422(api, query, path):
    problem = assert_problem(api.get("/api/v1/orders", query_string=query), 422, "validation-error")
    assert path in problem["errors"]


def test_a_products_cursor_is_refused_by_the_order_list(api, app):
    make_product()
    make_product("l-leucine-fcc", "FCC", "LEU-FCC")
    cursor = api.get("/api/v1/products", query_string={"limit": 1}).get_json()["next_cursor"]
    assert cursor
    assert "cursor" in assert_problem(api.get("/api/v1/orders", query_string={"cursor": cursor}), 422,
                                      "validation-error")["errors"]


# --- SQL statement budget (issue 3): 1 line <= 15 statements, each extra line <= 4 more --------------------

@pytest.fixture
def five_skus(app):
    products = [make_product(), make_product("l-leucine-fcc", "FCC", "LEU-FCC"),
                make_product("l-leucine-ep", "EP", "LEU-EP")]
    for i, product in enumerate(products):
        prefix = product.variants[0].sku.rsplit("-", 1)[0]
        make_lot(product, f"L-A{i}", {f"{prefix}-25KG": 10, f"{prefix}-1KG": 10}, expires_in_days=300)
        make_lot(product, f"L-B{i}", {f"{prefix}-25KG": 10, f"{prefix}-1KG": 10}, expires_in_days=600)
    return ["LEU-USP-25KG", "LEU-USP-1KG", "LEU-FCC-25KG", "LEU-FCC-1KG", "LEU-EP-25KG"]


def _statements_for(api, lines, key: str) -> list[str]:
    with count_statements(fresh_session=True) as statements:
        response = api.order(lines, key=key)
    assert response.status_code == 201, response.get_data(as_text=True)
    return statements


def test_order_statement_budget(api, five_skus):
    one = _statements_for(api, [{"sku": five_skus[0], "quantity": 2}], "budget-1")
    # Lines that span two lots each, so that every line costs its full share.
    five = _statements_for(api, [{"sku": sku, "quantity": 12} for sku in five_skus], "budget-5")
    print(f"\nSQL statements per POST /api/v1/orders: 1 line {len(one)}, 5 lines {len(five)}")
    assert len(one) <= 15, "\n".join(one)
    assert len(five) - len(one) <= 4 * 4, "\n".join(five)


def test_on_postgresql_an_order_costs_at_most_six_statements_and_an_extra_line_none(api, backend, five_skus):
    """The API key with the Idempotency-Key's record, one read of everything the order needs, one write."""
    if backend != "postgresql":
        pytest.skip("SQLite writes one statement per table")
    api.get("/api/v1/company")  # the key's first use is written down (then at most once a minute): not counted
    one = _statements_for(api, [{"sku": five_skus[0], "quantity": 2}], "budget-1")
    five = _statements_for(api, [{"sku": sku, "quantity": 12} for sku in five_skus], "budget-5")
    assert len(one) <= 6, "\n".join(one)
    assert len(five) == len(one), "\n".join(five)


def test_on_postgresql_an_order_costs_three_statements(api, backend, five_skus):
    """The API key; one read of everything the order needs with the Idempotency-Key's record; one write."""
    if backend != "postgresql":
        pytest.skip("SQLite writes one statement per table")
    api.get("/api/v1/company")  # the key's first use is written down (then at most once a minute): not counted
    statements = _statements_for(api, [{"sku": five_skus[0], "quantity": 2}], "three")
    assert len(statements) == 3, "\n".join(statements)
    assert "idempotency_record" in statements[1] and "INSERT INTO idempotency_record" in statements[2]


def test_cancel_is_documented_for_an_order_awaiting_approval_too(client):
    """An API user reads in the spec that an order waiting for approval can be cancelled (withdrawn) as well."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    cancel = next(op["post"] for path, op in paths.items() if path.endswith("/cancel"))
    text = f"{cancel['summary']} {cancel['description']}"
    assert "awaiting approval" in text and "approvers" in text


def test_a_pinned_lot_and_single_lot_are_answered_and_a_lot_of_no_use_is_422_or_409(api, stocked):
    placed = api.order([{"sku": "LEU-USP-25KG", "quantity": 2, "lot_number": "l-late"}], single_lot=True)
    assert placed.status_code == 201, placed.get_data(as_text=True)
    order = placed.get_json()
    assert order["single_lot"] is True and order["lines"][0]["lot_number"] == "L-LATE"
    assert [a["lot_number"] for a in order["lines"][0]["allocations"]] == ["L-LATE"]
    unknown = api.order([{"sku": "LEU-USP-25KG", "quantity": 2, "lot_number": "NO-SUCH-LOT"}])
    assert unknown.status_code == 422 and "lines.0.lot_number" in unknown.get_json()["errors"]
    # A lot in quarantine or rejected is answered as one that does not exist (its certificate is 404 too); a recall
    # is public, and said.
    product = db.session.scalar(select(Product))
    make_lot(product, "L-QUARANTINE", {"LEU-USP-25KG": 5}, status="quarantine")
    make_lot(product, "L-RECALLED", {"LEU-USP-25KG": 5}, status="recalled")
    for lot, said in (("L-QUARANTINE", "No lot L-QUARANTINE of the product of LEU-USP-25KG."),
                      ("L-RECALLED", "Lot L-RECALLED is recalled.")):
        refused = api.order([{"sku": "LEU-USP-25KG", "quantity": 2, "lot_number": lot}])
        assert refused.get_json()["errors"]["lines.0.lot_number"] == [said], lot
    short = api.order([{"sku": "LEU-USP-25KG", "quantity": 999, "lot_number": "L-LATE"}])
    assert short.status_code == 409
    assert short.get_json()["short_lines"][0]["lot_number"] == "L-LATE"
