"""Idempotency-Key on POST: one order per key, replayed answers, refusals for reused or busy keys, expiry."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop import ordering
from shop.ordering.idempotency import lock_id
from shop.ordering.models import IdempotencyRecord, Order
from shop.platform.database import utcnow
from shop.platform.extensions import db
from tests.support.api import ADDRESS, assert_problem, available
from tests.support.factories import make_lot
from tests.support.sql import count_statements

BODY = {"lines": [{"sku": "LEU-USP-25KG", "quantity": 2}], "shipping_address": ADDRESS}


def orders_in_db() -> int:
    return db.session.scalar(select(func.count(Order.id)))


def test_retry_with_the_same_key_replays_the_answer_and_places_one_order(api, stocked):
    first = api.post("/api/v1/orders", json=BODY, key="k-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    retry = api.post("/api/v1/orders", json=BODY, key="k-1")
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.mimetype == "application/json"
    assert orders_in_db() == 1
    assert available(api, "LEU-USP-25KG") == 14


def test_same_key_with_a_different_body_is_422(api, stocked):
    api.post("/api/v1/orders", json=BODY, key="k-2")
    changed = {**BODY, "lines": [{"sku": "LEU-USP-25KG", "quantity": 3}]}
    assert_problem(api.post("/api/v1/orders", json=changed, key="k-2"), 422, "idempotency-key-reused")
    # ... and on another endpoint too: the fingerprint covers method and path.
    number = api.get("/api/v1/orders").get_json()["items"][0]["number"]
    assert_problem(api.post(f"/api/v1/orders/{number}/cancel", key="k-2"), 422, "idempotency-key-reused")
    assert orders_in_db() == 1
    assert api.get(f"/api/v1/orders/{number}").get_json()["status"] == "pending"


def test_retry_while_the_first_request_is_in_flight_is_409(api, stocked, backend):
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: a retry waits for the first request and gets its answer")
    # The first request is still running: its transaction holds the key's advisory lock.
    with db.engine.connect() as first:
        first.execute(select(func.pg_advisory_xact_lock(*lock_id(api.customer.company_id, "k-3"))))
        response = api.post("/api/v1/orders", json=BODY, key="k-3")
        assert_problem(response, 409, "idempotency-in-flight")
        assert response.headers["Retry-After"]
        # Another key is not held up.
        assert api.post("/api/v1/orders", json=BODY, key="k-3b").status_code == 201
    assert orders_in_db() == 1
    # Once the first is over (here: it died without an answer), a retry runs.
    assert api.post("/api/v1/orders", json=BODY, key="k-3").status_code == 201
    assert orders_in_db() == 2


def test_expired_record_counts_as_absent(api, stocked):
    # A day-old answer to a different request under the same key: past the 24 h TTL, so the key is free again.
    db.session.add(IdempotencyRecord(company_id=api.customer.company_id, key="k-4", method="POST",
                                     path="/api/v1/orders", fingerprint="0" * 64, response_status=201,
                                     response_body="{}", response_headers="{}",
                                     created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    response = api.post("/api/v1/orders", json=BODY, key="k-4")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert response.get_json()["lines"][0]["quantity"] == 2
    assert orders_in_db() == 1
    replay = api.post("/api/v1/orders", json=BODY, key="k-4")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == response.get_json()


def test_stock_refusal_is_stored_and_replayed_even_after_restock(api, stocked):
    big = {**BODY, "lines": [{"sku": "LEU-USP-25KG", "quantity": 20}]}
    first = api.post("/api/v1/orders", json=big, key="k-6")
    assert_problem(first, 409, "insufficient-stock")
    make_lot(stocked, "L-MORE", {"LEU-USP-25KG": 10})
    retry = api.post("/api/v1/orders", json=big, key="k-6")
    assert retry.status_code == 409 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert retry.mimetype == "application/problem+json"
    assert orders_in_db() == 0
    # A new key is a new attempt, which now succeeds.
    assert api.post("/api/v1/orders", json=big, key="k-7").status_code == 201


def test_unexpected_failure_frees_the_key_for_a_retry(api, stocked, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ordering, "place", broken)
    failed = api.post("/api/v1/orders", json=BODY, key="k-8")
    problem = assert_problem(failed, 500, "internal-error")
    assert "disk on fire" not in failed.get_data(as_text=True) and "Traceback" not in failed.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0
    assert problem["detail"]
    monkeypatch.undo()
    retry = api.post("/api/v1/orders", json=BODY, key="k-8")
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert orders_in_db() == 1


def test_cancel_retry_replays_200_instead_of_409(api, stocked):
    number = api.order().get_json()["number"]
    first = api.post(f"/api/v1/orders/{number}/cancel", key="c-1")
    assert first.status_code == 200
    retry = api.post(f"/api/v1/orders/{number}/cancel", key="c-1")
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    # "No body, or {}": a client that sends {} on its retry sends the same request.
    with_empty_body = api.post(f"/api/v1/orders/{number}/cancel", json={}, key="c-1")
    assert with_empty_body.status_code == 200 and with_empty_body.headers["Idempotent-Replayed"] == "true"
    # Without the key, a second cancel is the illegal transition it is.
    assert_problem(api.post(f"/api/v1/orders/{number}/cancel"), 409, "illegal-transition")


def test_keys_belong_to_one_company(api, rival, stocked):
    assert api.post("/api/v1/orders", json=BODY, key="shared").status_code == 201
    theirs = rival.post("/api/v1/orders", json=BODY, key="shared")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert orders_in_db() == 2
    changed = {**BODY, "lines": [{"sku": "LEU-USP-25KG", "quantity": 1}]}
    assert rival.post("/api/v1/orders", json=changed, key="shared").status_code == 422  # its own first answer's


def test_a_key_is_the_companys_whichever_member_or_api_key_sends_it(api, stocked):
    """The company's admin placed with a key; a buyer of the same company (with an API key of their own) retries
    with it: the replay, not a second order; another body with that key is refused as a reused key."""
    buyer = new_api_client_of(api, "second@acme.example")
    first = api.post("/api/v1/orders", json=BODY, key="co-1")
    assert first.status_code == 201
    retry = buyer.post("/api/v1/orders", json=BODY, key="co-1")
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    changed = {**BODY, "lines": [{"sku": "LEU-USP-25KG", "quantity": 3}]}
    assert_problem(buyer.post("/api/v1/orders", json=changed, key="co-1"), 422, "idempotency-key-reused")
    # ... and across operations: the same key for a cancellation is another request.
    assert_problem(buyer.post(f"/api/v1/orders/{first.get_json()['number']}/cancel", key="co-1"), 422,
                   "idempotency-key-reused")
    assert orders_in_db() == 1
    assert db.session.scalar(select(IdempotencyRecord.company_id)) == api.customer.company_id


def new_api_client_of(api, email: str):
    """A joined buyer of `api`'s company with an API key of their own."""
    from shop.accounts import people
    from tests.support.api import ApiClient
    from tests.support.factories import make_member

    member = make_member(api.customer, email, "buyer")
    key = people.create_api_key(member, "second")
    db.session.commit()
    return ApiClient(api.client, key, member)


def test_overlong_key_is_422_and_not_stored(api, stocked):
    problem = assert_problem(api.post("/api/v1/orders", json=BODY, key="k" * 256), 422, "validation-error")
    assert "Idempotency-Key" in problem["errors"]
    assert orders_in_db() == 0
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0
    assert api.post("/api/v1/orders", json=BODY, key="k" * 255).status_code == 201


def test_invalid_body_is_not_stored_so_the_corrected_request_can_use_the_key(api, stocked):
    bad = {**BODY, "lines": [{"sku": "LEU-USP-25KG", "quantity": 0}]}
    assert_problem(api.post("/api/v1/orders", json=bad, key="k-9"), 422, "validation-error")
    assert api.post("/api/v1/orders", json=BODY, key="k-9").status_code == 201


@pytest.mark.parametrize("bad_lines", [
    [{"sku": "LEU-NO-SUCH-SKU", "quantity": 2}],  # a SKU the catalog does not know: found by the order service
    [{"sku": "LEU-USP-25KG", "quantity": 2}, {"sku": "LEU-USP-25KG", "quantity": 1}],  # a SKU on two lines
], ids=["unknown-sku", "sku-twice"])
def test_a_corrected_body_after_a_422_from_the_order_service_succeeds_with_the_same_key(api, stocked, bad_lines):
    """Stripe's rule: a request refused for what it sent is not executed, so nothing is kept for its key."""
    refused = api.post("/api/v1/orders", json={**BODY, "lines": bad_lines}, key="k-422")
    assert_problem(refused, 422, "validation-error")
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0
    placed = api.post("/api/v1/orders", json=BODY, key="k-422")
    assert placed.status_code == 201 and "Idempotent-Replayed" not in placed.headers
    replay = api.post("/api/v1/orders", json=BODY, key="k-422")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == placed.get_json()
    assert orders_in_db() == 1


def test_a_bad_address_then_the_corrected_one_with_the_same_key_succeeds(api, stocked):
    bad = {**BODY, "shipping_address": {**ADDRESS, "country": "XX"}}
    assert_problem(api.post("/api/v1/orders", json=bad, key="k-addr"), 422, "validation-error")
    assert api.post("/api/v1/orders", json=BODY, key="k-addr").status_code == 201


@pytest.mark.parametrize("status", [400, 413, 415, 422])
def test_a_validation_refusal_kept_before_the_upgrade_counts_as_absent(api, stocked, status):
    """Keys burned by a validation refusal before this version work again: such a record is no outcome."""
    refusal = {"problem": "validation-error", "title": "Validation error", "status": status,
               "message": "lines.0.sku: Unknown SKU.", "details": {"errors": {"lines.0.sku": ["Unknown SKU."]}}}
    db.session.add(IdempotencyRecord(company_id=api.customer.company_id, key="k-burned", method="PLACE",
                                     path="ordering.place", fingerprint="0" * 64, response_status=status,
                                     response_body=json.dumps(refusal), created_at=utcnow()))
    db.session.commit()
    placed = api.post("/api/v1/orders", json=BODY, key="k-burned")
    assert placed.status_code == 201 and "Idempotent-Replayed" not in placed.headers
    assert api.post("/api/v1/orders", json=BODY, key="k-burned").headers["Idempotent-Replayed"] == "true"
    assert orders_in_db() == 1


def test_a_refused_cancellation_is_executed_so_it_is_kept(api, stocked):
    """A 409 comes from running the request (the order's status was read): kept, as Stripe keeps a decline."""
    number = api.order().get_json()["number"]
    assert api.post(f"/api/v1/orders/{number}/cancel").status_code == 200
    first = api.post(f"/api/v1/orders/{number}/cancel", key="c-409")
    assert_problem(first, 409, "illegal-transition")
    retry = api.post(f"/api/v1/orders/{number}/cancel", key="c-409")
    assert retry.status_code == 409 and retry.headers["Idempotent-Replayed"] == "true"



def test_the_idempotency_key_is_read_with_the_pack_sizes_in_no_statement_of_its_own(api, stocked):
    """A keyed order reads its key's record in the statement that reads what the order needs; a replay costs
    the API key's check and that one statement."""

    with count_statements(fresh_session=True) as statements:
        assert api.post("/api/v1/orders", json=BODY, key="k-one").status_code == 201
    reads = [s for s in statements if "FROM idempotency_record" in s or "JOIN idempotency_record" in s]
    assert len(reads) == 1 and "stock" in reads[0], "\n\n".join(statements)
    with count_statements(fresh_session=True) as statements:
        assert api.post("/api/v1/orders", json=BODY, key="k-one").headers["Idempotent-Replayed"] == "true"
    queries = [s for s in statements if not s.startswith("BEGIN")]  # SQLite's BEGIN IMMEDIATE goes by cursor
    assert len(queries) == 2, "\n\n".join(statements)  # the API key, then the order's read with the record


def test_a_wrong_or_revoked_api_key_with_an_idempotency_key_is_401_and_stores_nothing(api, stocked):
    from shop.accounts.models import ApiKey

    wrong = api.client.post("/api/v1/orders", json=BODY,
                            headers={"Authorization": "Bearer lsk_not-a-key", "Idempotency-Key": "k-401"})
    assert_problem(wrong, 401, "unauthorized")
    db.session.execute(ApiKey.__table__.update().values(revoked_at=utcnow()))
    db.session.commit()
    revoked = api.post("/api/v1/orders", json=BODY, key="k-401")
    assert_problem(revoked, 401, "unauthorized")
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0
    assert orders_in_db() == 0


def test_a_key_answered_by_another_request_meanwhile_rolls_the_order_back_and_replays(api, stocked, backend,
                                                                                       monkeypatch):
    """Both requests got past the look-up; the other committed its answer first. The order's own statement then
    fails on the key's unique constraint: nothing of this order stays, and the retry answers with the record."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no other transaction can commit in between")
    from shop.ordering import placing

    real_write = placing.write_order

    def write_after_the_other_answered(rows, event, record):
        # The other request, with the same key and body, commits its outcome between this one's read and write.
        with db.engine.connect() as other:
            other.execute(IdempotencyRecord.__table__.insert().values(
                {**record, "response_body": '{"number": "LS-OTHER"}', "created_at": utcnow()}))
            other.commit()
        monkeypatch.setattr(placing, "write_order", real_write)
        return real_write(rows, event, record)

    monkeypatch.setattr(placing, "write_order", write_after_the_other_answered)
    response = api.post("/api/v1/orders", json=BODY, key="k-race")
    assert response.status_code == 201 and response.headers["Idempotent-Replayed"] == "true"
    assert response.get_json() == {"number": "LS-OTHER"}
    assert response.headers["Location"].endswith("/api/v1/orders/LS-OTHER")
    assert orders_in_db() == 0
    assert available(api, "LEU-USP-25KG") == 16


def _legacy_record(api, key: str, path: str, status: int, body: dict, headers: dict) -> None:
    """A record as the shop kept it before outcomes were data: the HTTP answer, its headers and a fingerprint of
    the raw body (which the use case cannot recompute)."""
    db.session.add(IdempotencyRecord(company_id=api.customer.company_id, key=key, method="POST", path=path,
                                     fingerprint="0" * 64, response_status=status, response_body=json.dumps(body),
                                     response_headers=json.dumps(headers), created_at=utcnow()))
    db.session.commit()


def test_a_retry_across_the_upgrade_gets_the_answer_the_old_shop_kept(api, stocked):
    placed = api.post("/api/v1/orders", json=BODY).get_json()  # placed without a key, answered before upgrading
    _legacy_record(api, "k-old", "/api/v1/orders", 201, placed,
                   {"Location": f"/api/v1/orders/{placed['number']}"})
    retry = api.post("/api/v1/orders", json=BODY, key="k-old")
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == placed and orders_in_db() == 1

    _legacy_record(api, "k-old-cancel", f"/api/v1/orders/{placed['number']}/cancel", 200,
                   {**placed, "status": "cancelled"}, {})
    again = api.post(f"/api/v1/orders/{placed['number']}/cancel", key="k-old-cancel")
    assert again.status_code == 200 and again.get_json()["status"] == "cancelled"
    assert api.get(f"/api/v1/orders/{placed['number']}").get_json()["status"] == "pending"  # not run again

    short = {"type": "https://shop.example/problems/insufficient-stock", "title": "Insufficient stock",
             "status": 409, "detail": "Not enough stock.", "lines": [{"sku": "LEU-USP-25KG", "requested": 99,
                                                                      "available": 14}]}
    _legacy_record(api, "k-old-short", "/api/v1/orders", 409, short, {})
    refused = api.post("/api/v1/orders", json=BODY, key="k-old-short")
    assert_problem(refused, 409, "insufficient-stock")
    assert refused.headers["Idempotent-Replayed"] == "true" and refused.get_json()["lines"] == short["lines"]
    assert orders_in_db() == 1
