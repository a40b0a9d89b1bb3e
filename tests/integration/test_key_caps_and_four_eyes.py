"""Issue 22 item 1: an API key never acts above its maker's current role (a demotion caps it, a removal ends it, and
the company's key list says so), and nobody decides an order they placed, in person or with one of their keys
(four-eyes, as the two-person release)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.accounts.models import Customer
from shop.ordering.models import Order, OrderStatus
from shop.platform.extensions import db
from tests.support.api import ApiClient, assert_problem, new_api_client
from tests.support.factories import make_member
from tests.support.mail import drain, outbox_mail
from tests.support.staff import place, text_of
from tests.support.storefront import sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"  # 3 drums: 5,850.00, above Acme's 5,000.00 threshold
PASSWORD = "a long unusual passphrase"  # make_member's


def _key(api: ApiClient, maker: Customer, name: str, role: str) -> ApiClient:
    key = accounts.create_api_key(maker, name, role)
    db.session.commit()
    return ApiClient(api.client, key, maker)


@pytest.fixture
def acme(app, client, stocked):
    """Acme (threshold 5,000.00): Anna, an admin, with a buyer key; Bob, a second admin."""
    anna = new_api_client(client, "anna@acme.example", "Acme")
    companies.set_terms(anna.customer.company, "prepaid", "", "5000")
    bob = make_member(anna.customer, "bob@acme.example", "admin")
    return anna, bob


def _status(number: str) -> OrderStatus:
    db.session.expire_all()
    return db.session.scalar(select(Order.status).where(Order.number == number))


def test_a_demoted_admin_cannot_approve_her_own_order_with_the_approver_key_she_made_before(app, acme):
    anna, bob = acme
    approval_bot = _key(anna, anna.customer, "Approval bot", "approver")
    admin_page = app.test_client()
    sign_in(admin_page, bob.email, PASSWORD)
    admin_page.post(f"/account/members/{anna.customer.id}/role", data={"role": "buyer"})

    number = anna.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    assert _status(number) == OrderStatus.AWAITING_APPROVAL
    answer = approval_bot.post(f"/api/v1/orders/{number}/approve", json={"note": "approving my own order"})

    assert_problem(answer, 403, "forbidden")
    assert _status(number) == OrderStatus.AWAITING_APPROVAL


def test_a_key_acts_at_most_as_its_maker_now_does(app, acme):
    anna, bob = acme
    approval_bot = _key(anna, anna.customer, "Approval bot", "approver")
    integration = _key(anna, anna.customer, "Integration", "admin")
    companies.change_role(bob, anna.customer.id, "buyer")
    db.session.commit()

    held = approval_bot.order([{"sku": DRUM, "quantity": 3}]).get_json()
    assert held["status"] == "awaiting_approval"  # a buyer's order above the threshold waits
    endpoint = {"url": "https://erp.acme.example/hooks", "events": ["*"]}
    refused = integration.post("/api/v1/webhook-endpoints", json=endpoint)
    assert_problem(refused, 403, "forbidden")


def test_a_key_of_a_removed_member_answers_401(acme):
    anna, bob = acme
    carol = make_member(anna.customer, "carol@acme.example", "approver")
    carols_key = _key(anna, carol, "Carol's script", "approver")
    assert carols_key.get("/api/v1/company").status_code == 200
    companies.remove_member(bob, carol.id)
    db.session.commit()
    assert_problem(carols_key.get("/api/v1/company"), 401, "unauthorized")

    accounts.set_customer_active(True, customer_id=carol.id)  # staff let her sign in again: her keys stay revoked
    db.session.commit()
    assert_problem(carols_key.get("/api/v1/company"), 401, "unauthorized")


def test_a_key_cannot_be_made_above_its_makers_role(app, acme, runner):
    anna, _ = acme
    make_member(anna.customer, "pat@acme.example", "buyer")
    made = runner.invoke(args=["shop", "create-api-key", "--customer", "pat@acme.example", "--role", "approver"])
    assert made.exit_code != 0 and "lsk_" not in made.output
    assert "buyer" in made.output
    assert not db.session.scalars(select(Customer).where(Customer.email == "pat@acme.example")).one().api_keys


def test_the_key_list_shows_a_capped_key_and_a_removed_makers_key(app, client, acme):
    anna, bob = acme
    _key(anna, anna.customer, "Approval bot", "approver")
    carol = make_member(anna.customer, "carol@acme.example", "approver")
    _key(anna, carol, "Carol's script", "buyer")
    companies.change_role(bob, anna.customer.id, "buyer")
    companies.remove_member(bob, carol.id)
    db.session.commit()

    sign_in(client, bob.email, PASSWORD)
    listing = text_of(client.get("/account/api-keys").text)
    assert "acts as buyer (capped: anna@acme.example is now buyer)" in listing
    assert "revoked: carol@acme.example removed" in listing


def test_nobody_approves_or_rejects_an_order_placed_with_their_own_key(app, client, acme):
    anna, bob = acme
    boss = make_member(anna.customer, "boss@acme.example", "approver")
    bosses_buyer_key = _key(anna, boss, "Boss's ERP", "buyer")
    bosses_approver_key = _key(anna, boss, "Boss's bot", "approver")
    number = bosses_buyer_key.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]

    for decision in ("approve", "reject"):
        answer = bosses_approver_key.post(f"/api/v1/orders/{number}/{decision}", json={})
        assert "placed" in assert_problem(answer, 403, "forbidden")["detail"]
    sign_in(client, boss.email, PASSWORD)
    page = text_of(client.get("/account/approvals").text)
    assert f"Approve {number}" not in page and "another approver or admin decides it" in page
    refused = client.post(f"/account/approvals/{number}/approve", data={"note": "mine"}, follow_redirects=True)
    assert "another approver or admin decides it" in text_of(refused.text)
    assert _status(number) == OrderStatus.AWAITING_APPROVAL

    bobs_page = app.test_client()
    sign_in(bobs_page, bob.email, PASSWORD)
    assert f"Approve {number}" in text_of(bobs_page.get("/account/approvals").text)
    bobs_page.post(f"/account/approvals/{number}/approve", data={"note": "Budget OK"})
    assert _status(number) == OrderStatus.PENDING


def test_a_buyer_promoted_to_approver_cannot_approve_the_order_she_placed_in_person(app, client, acme):
    anna, bob = acme
    pat = make_member(anna.customer, "pat@acme.example", "buyer")
    number = place(pat, DRUM, 3).number
    assert _status(number) == OrderStatus.AWAITING_APPROVAL
    companies.change_role(bob, pat.id, "approver")
    db.session.commit()

    sign_in(client, pat.email, PASSWORD)
    refused = client.post(f"/account/approvals/{number}/approve", data={"note": "mine"}, follow_redirects=True)
    assert "another approver or admin decides it" in text_of(refused.text)
    assert _status(number) == OrderStatus.AWAITING_APPROVAL


def test_the_approval_request_goes_to_the_approvers_who_may_decide_not_to_the_placer(acme):
    anna, _ = acme
    number = anna.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    drain()
    (request,) = [m for m in outbox_mail() if m.subject == f"Order {number} awaits your approval"]
    assert request.to == ["bob@acme.example"]  # Anna made the key that placed it: she cannot approve it
