"""/api/v1/complaints: a company files complaints on its order lines and follows them to the signed close; bad
input is 422 by field path with nothing stored, another company's order or complaint is 404, the list pages."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select

from shop.accounts import people as accounts
from shop.complaints.models import Complaint, ComplaintLot
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import assert_problem
from tests.support.complaints import closed, investigated, quality_user, shipped_order
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.sql import count_statements

URL = "/api/v1/complaints"


def _file(api, order: str, **fields):
    body = {"order": order, "sku": "LEU-USP-25KG", "category": "quality",
            "description": "Two drums arrived with torn inner liners; the powder is caked.", **fields}
    return api.post(URL, json=body)


def _stored() -> int:
    return db.session.scalar(select(func.count(Complaint.id)))


def test_a_complaint_is_filed_investigated_and_closed_with_its_resolution(api, stocked):
    number = shipped_order(api.customer)
    filed = _file(api, number)
    assert filed.status_code == 201, filed.get_json()
    body = filed.get_json()
    assert re.fullmatch(rf"C-{date.today().year}-\d{{5}}", body["number"])
    assert filed.headers["Location"].endswith(f"{URL}/{body['number']}")
    assert body == {"number": body["number"], "status": "open", "order": number, "sku": "LEU-USP-25KG",
                    "lot_numbers": ["L-LATE", "L-SOON"], "category": "quality",
                    "description": "Two drums arrived with torn inner liners; the powder is caked.",
                    "filed_at": body["filed_at"], "resolution": None}
    assert api.get(f"{URL}/{body['number'].lower()}").get_json() == body  # any letter case

    quality = quality_user()
    investigated(body["number"], quality)
    assert api.get(f"{URL}/{body['number']}").get_json()["status"] == "investigating"
    closed(body["number"], quality, resolution="Two drums replaced; pallets are now inspected.")
    done = api.get(f"{URL}/{body['number']}").get_json()
    assert done["status"] == "closed" and done["resolution"] == "Two drums replaced; pallets are now inspected."
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "complaint.updated")
                                .order_by(OutboxEvent.id)).all()
    assert [e.subject for e in events] == [body["number"]] * 3
    assert all(e.customer_id == api.customer.id for e in events)


def test_numbers_count_up_within_the_year(api, stocked):
    number = shipped_order(api.customer)
    first, second = (_file(api, number).get_json()["number"] for _ in range(2))
    year = date.today().year
    assert (first, second) == (f"C-{year}-00001", f"C-{year}-00002")


def test_a_lot_number_narrows_the_complaint_to_that_lot_of_the_line(api, stocked):
    number = shipped_order(api.customer)
    filed = _file(api, number, lot_number="l-soon", category="documentation")
    assert filed.status_code == 201
    assert filed.get_json()["lot_numbers"] == ["L-SOON"] and filed.get_json()["category"] == "documentation"


def test_a_lot_the_line_did_not_draw_is_422_beside_lot_number(api, stocked):
    number = shipped_order(api.customer, quantity=2)  # only L-SOON
    body = assert_problem(_file(api, number, lot_number="L-LATE"), 422, "validation-error")
    assert list(body["errors"]) == ["lot_number"] and "L-SOON" in body["errors"]["lot_number"][0]
    assert _stored() == 0


def test_every_bad_field_is_named_at_once_and_nothing_is_stored(api, stocked):
    body = assert_problem(api.post(URL, json={"order": "LS-000000-NOPE1", "sku": "LEU-USP-25KG",
                                              "category": "taste", "description": "   "}), 422, "validation-error")
    assert set(body["errors"]) == {"order", "category", "description"}
    number = shipped_order(api.customer)
    body = assert_problem(_file(api, number, sku="LEU-XXX-1KG", description="x" * 4001), 422, "validation-error")
    assert set(body["errors"]) == {"sku", "description"}
    assert "4000" in body["errors"]["description"][0]
    body = assert_problem(api.post(URL, json={"order": number}), 422, "validation-error")
    assert {"sku", "category", "description"} <= set(body["errors"])
    assert _stored() == 0 and db.session.scalar(select(func.count()).select_from(ComplaintLot)) == 0
    assert db.session.scalar(select(func.count(OutboxEvent.id)).where(OutboxEvent.type == "complaint.updated")) == 0


def test_another_companys_complaint_is_404_and_its_order_is_answered_as_an_unknown_one(api, rival, stocked):
    number = shipped_order(api.customer)
    mine = _file(api, number).get_json()["number"]
    assert_problem(rival.get(f"{URL}/{mine}"), 404, "not-found")
    theirs, unknown = _file(rival, number), _file(rival, "LS-260101-ZZZZZ")
    said = assert_problem(theirs, 422, "validation-error")["errors"]
    assert said == {"order": [f"Your company has no order '{number}'."]}
    # The same answer as for an order that does not exist: nothing tells that the first one does.
    assert assert_problem(unknown, 422, "validation-error")["errors"] == {
        "order": ["Your company has no order 'LS-260101-ZZZZZ'."]}
    assert rival.get(URL).get_json() == {"items": [], "next_cursor": None}
    assert_problem(api.get(f"{URL}/C-2026-99999"), 404, "not-found")
    assert_problem(api.get(f"{URL}/not-a-number"), 404, "not-found")
    assert _stored() == 1


def test_the_list_pages_newest_first_without_repeats(api, stocked):
    number = shipped_order(api.customer)
    numbers = [_file(api, number).get_json()["number"] for _ in range(5)]
    first = api.get(URL, query_string={"limit": 2}).get_json()
    assert [c["number"] for c in first["items"]] == numbers[::-1][:2] and first["next_cursor"]
    assert [c["number"] for c in api.every_page(URL, limit=2)] == numbers[::-1]
    assert_problem(api.get(URL, query_string={"cursor": "garbage"}), 422, "validation-error")
    assert_problem(api.get(URL, query_string={"status": "open"}), 422, "validation-error")  # unknown parameter


def test_a_longer_list_costs_no_more_statements(api, stocked):
    number = shipped_order(api.customer)
    _file(api, number)

    def cost() -> int:
        with count_statements(fresh_session=True) as seen:
            assert api.get(URL).status_code == 200
        return len(seen)

    one = cost()
    for _ in range(4):
        _file(api, number)
    assert cost() == one


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_buyers_filing_at_once_get_distinct_numbers(make_app, backend):
    """Each filing counts the year's serial up under its row lock: ten buyers at once, ten numbers, none twice."""
    threads = 10
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": threads + 2, "max_overflow": 0, "pool_timeout": 60})
    with app.app_context():
        product = make_product()
        make_lot(product, "L-RACE", {"LEU-USP-25KG": threads})
        buyers = []
        for n in range(threads):
            customer = make_customer(f"buyer{n}@example.com", f"Buyer {n}")
            buyers.append((accounts.create_api_key(customer, "race"), shipped_order(customer, quantity=1)))
        db.session.commit()
        db.session.remove()
    barrier = threading.Barrier(threads)

    def file(i: int):
        key, order = buyers[i]
        barrier.wait()
        answer = app.test_client().post(URL, headers={"Authorization": f"Bearer {key}"}, json={
            "order": order, "sku": "LEU-USP-25KG", "category": "delivery", "description": "Dented drum."})
        return answer.status_code, (answer.get_json() or {}).get("number")

    with ThreadPoolExecutor(max_workers=threads) as pool:
        answers = list(pool.map(file, range(threads)))
    assert {status for status, _ in answers} == {201}
    year = date.today().year
    assert sorted(number for _, number in answers) == [f"C-{year}-{n:05d}" for n in range(1, threads + 1)]


def test_a_retry_with_the_same_idempotency_key_files_the_complaint_once(api, stocked):
    """DESIGN, Idempotency: every POST takes an `Idempotency-Key`; a retry with the same key and body gets the first
    answer again, marked, and files nothing more; the same key with another body is 422; a refused body (422) is not
    kept, so the corrected request may use the key."""
    number = shipped_order(api.customer)
    body = {"order": number, "sku": "LEU-USP-25KG", "category": "quality", "description": "Caked powder."}
    refused = api.post(URL, json={**body, "category": "taste"}, key="complaint-1")
    assert_problem(refused, 422, "validation-error")
    assert _stored() == 0
    first = api.post(URL, json=body, key="complaint-1")
    again = api.post(URL, json=body, key="complaint-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"] and "Idempotent-Replayed" not in first.headers
    assert _stored() == 1
    other = api.post(URL, json={**body, "description": "Something else."}, key="complaint-1")
    assert_problem(other, 422, "idempotency-key-reused")
    assert _stored() == 1
