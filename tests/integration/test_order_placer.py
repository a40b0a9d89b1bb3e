"""Issue 21 item 8: an order placed with an API key names the key ("ERP integration (SAP)") as its placer, on the
API, the pages and in e-mail, never the member who made the key; the approval request goes to the company's
approvers; the "received" mail says when the order waits for approval; the history names who decided."""
from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import select

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.accounts.models import Customer
from shop.ordering.models import Order
from shop.platform.extensions import db
from shop.platform.queue import task_queue
from tests.support.api import ApiClient, new_api_client
from tests.support.factories import make_member
from tests.support.staff import sign_in as staff_sign_in
from tests.support.staff import text_of
from tests.support.storefront import sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")  # the staff accounts
DRUM = "LEU-USP-25KG"
SAP = "ERP integration (SAP)"
PASSWORD = "a long unusual passphrase"


@pytest.fixture
def acme(app, client, stocked):
    """Acme (threshold 5,000.00): Anna, its admin, made the buyer key "ERP integration (SAP)"; Bob approves."""
    anna = new_api_client(client, "anna@acme.example", "Acme")
    companies.set_terms(anna.customer.company, "prepaid", "", "5000")
    erp = ApiClient(client, accounts.create_api_key(anna.customer, SAP, "buyer"), anna.customer)
    make_member(anna.customer, "bob@acme.example", "approver", PASSWORD)
    db.session.commit()
    return erp


def _mails() -> list:
    db.session.commit()
    task_queue().run_pending()
    return list(getattr(current_app.extensions["mailman"], "outbox", []))


def test_a_key_s_order_names_the_key_as_placer_and_asks_the_approvers(app, client, acme):
    placed = acme.order([{"sku": DRUM, "quantity": 3}])  # 5,850.00 > 5,000.00: waits
    assert placed.status_code == 201
    number = placed.get_json()["number"]
    assert placed.get_json()["placed_by"] == SAP
    assert acme.get(f"/api/v1/orders/{number}").get_json()["placed_by"] == SAP
    order = db.session.scalar(select(Order).where(Order.number == number))
    assert order.api_key is not None and order.api_key.name == SAP

    mails = _mails()
    (request,) = [m for m in mails if m.subject == f"Order {number} awaits your approval"]
    assert "bob@acme.example" in request.to
    assert f"{SAP} placed order {number}" in request.body and "anna@acme.example placed" not in request.body
    (received,) = [m for m in mails if m.subject == f"Order {number} received"]
    assert "waits for approval" in received.body and SAP in received.body

    sign_in(client, "bob@acme.example", PASSWORD)
    assert f"by {SAP}" in text_of(client.get("/account/approvals").text)
    assert f"Placed by {SAP}" in text_of(client.get(f"/orders/{number}").text)
    staff = app.test_client()
    staff_sign_in(staff, "fulfilment")
    assert SAP in text_of(staff.get(f"/staff/orders/{number}").text)


def test_the_history_names_the_person_or_key_that_approved_or_rejected(app, client, acme):
    bob = db.session.scalar(select(Customer).where(Customer.email == "bob@acme.example"))
    approver_key = ApiClient(client, accounts.create_api_key(bob, "Approval bot", "approver"), bob)
    db.session.commit()
    first = acme.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    second = acme.order([{"sku": DRUM, "quantity": 3}], key="second").get_json()["number"]
    assert approver_key.post(f"/api/v1/orders/{first}/reject", json={"note": "Too much"}).status_code == 200
    sign_in(client, "bob@acme.example", PASSWORD)
    client.post(f"/account/approvals/{second}/approve", data={"note": "Budget OK"})

    rejected = text_of(client.get(f"/orders/{first}").text)
    assert "Cancelled by Approval bot — Rejected. Too much" in rejected
    approved = text_of(client.get(f"/orders/{second}").text)
    assert "Pending by bob@acme.example — Approved. Budget OK" in approved
    mails = {m.subject: m for m in _mails()}
    assert "by Approval bot" in mails[f"Order {first} rejected"].body
    assert "by bob@acme.example" in mails[f"Order {second} approved"].body


def test_an_order_by_a_person_names_the_person(app, client, acme):
    sign_in(client, "anna@acme.example", "correct horse")
    client.post("/cart/add", data={"sku": DRUM, "quantity": 1})
    token = client.get("/checkout").text.split('name="token" type="hidden" value="')[1].split('"')[0]
    client.post("/checkout", data={"token": token, "name": "Goods in", "line1": "Dock 4", "city": "Hamburg",
                                   "postal_code": "20457", "country": "DE"})
    order = db.session.scalar(select(Order))
    assert order.api_key_id is None
    assert "Placed by anna@acme.example" in text_of(client.get(f"/orders/{order.number}").text)
    assert acme.get(f"/api/v1/orders/{order.number}").get_json()["placed_by"] == "anna@acme.example"


def test_a_key_s_withdrawal_names_the_key_and_tells_every_approver_even_its_maker(acme):
    """Anna (an admin, so an approver too) made the key; the key withdraws its order: she did not act, so she is
    told with Bob, and both the withdrawal and the cancellation name the key, never her."""
    number = acme.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    assert acme.post(f"/api/v1/orders/{number}/cancel", json={}).status_code == 200
    mails = {m.subject: m for m in _mails()}
    withdrawn = mails[f"Order {number} withdrawn"]
    assert sorted(withdrawn.to) == ["anna@acme.example", "bob@acme.example"]
    assert f"{SAP} withdrew order {number}" in withdrawn.body and "anna@acme.example" not in withdrawn.body
    cancelled = mails[f"Order {number} was cancelled"]
    assert f"Reason: cancelled by {SAP}." in cancelled.body and "anna@acme.example" not in cancelled.body


def test_a_person_s_withdrawal_is_not_sent_to_that_person(app, client, acme):
    number = acme.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    sign_in(client, "anna@acme.example", "correct horse")
    client.post(f"/orders/{number}/cancel", data={"confirm": "yes"})
    mails = {m.subject: m for m in _mails()}
    withdrawn = mails[f"Order {number} withdrawn"]
    assert withdrawn.to == ["bob@acme.example"] and f"anna@acme.example withdrew order {number}" in withdrawn.body
