"""Approvals: a buyer's order above the company's threshold waits with its stock allocated; an approver approves it
(then staff confirm) or rejects it (stock released); a buyer cannot approve; twice is 409; late ones expire. Orders
are priced from the contract list on the day of the order, and record which list priced each line."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import current_app
from sqlalchemy import select, update

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.accounts.models import MemberRole
from shop.catalog import price_lists
from shop.inventory.models import Stock
from shop.ordering import approvals
from shop.ordering.models import Order, OrderLine, OrderStatus
from shop.platform.extensions import db
from shop.platform.queue import task_queue
from tests.support.api import ADDRESS, ApiClient, new_api_client
from tests.support.factories import make_member
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"


@pytest.fixture
def mailbox(app):
    """What the workers have sent so far (Flask-Mailman's locmem backend), as (recipients, subject)."""
    def sent() -> list[tuple[str, str]]:
        db.session.commit()
        task_queue().run_pending()
        return [(", ".join(m.to), m.subject) for m in getattr(current_app.extensions["mailman"], "outbox", [])]
    return sent


def about(sent: list[tuple[str, str]], number: str) -> list[str]:
    return [subject for _, subject in sent if subject.startswith(f"Order {number} ")]


@pytest.fixture
def company(app, client, stocked):
    """Acme with a 5,000.00 threshold: a buyer key made by its admin, an approver key made by its approver (four
    eyes: nobody decides an order placed with their own key)."""
    buyer = new_api_client(client, "admin@acme.example", "Acme")
    companies.set_terms(buyer.customer.company, "prepaid", "", "5000")
    boss = make_member(buyer.customer, "boss@acme.example", "approver")
    approver = ApiClient(client, accounts.create_api_key(boss, "approver", "approver"), boss)
    db.session.commit()
    return buyer, approver


def allocated() -> int:
    db.session.expire_all()
    return sum(db.session.scalars(select(Stock.allocated)))


def test_a_buyer_key_order_above_the_threshold_waits_allocated_and_one_at_it_does_not(company):
    buyer, _ = company
    held = buyer.order([{"sku": DRUM, "quantity": 3}])  # 3 x 1950.00 = 5850.00, with 19 % VAT 6961.50 > 5000
    assert held.status_code == 201 and held.get_json()["status"] == "awaiting_approval"
    assert allocated() == 3
    db.session.execute(update(Order).values(status=OrderStatus.CANCELLED))  # out of the way
    db.session.commit()
    companies.set_terms(db.session.get(Order, 1).company, "prepaid", "", "6961.50")
    db.session.commit()
    at_threshold = buyer.order([{"sku": DRUM, "quantity": 3}], key="k2").get_json()
    assert at_threshold["total"] == "6961.50" and at_threshold["status"] == "pending"  # "above" is strictly greater


def test_the_threshold_is_judged_on_the_total_with_the_vat_of_where_the_order_ships(company):
    buyer, _ = company  # threshold 5,000.00; 2 x 1950.00 = 3900.00 before VAT
    domestic = buyer.order([{"sku": DRUM, "quantity": 2}]).get_json()
    assert (domestic["vat_rule"], domestic["total"], domestic["status"]) == ("domestic", "4641.00", "pending")
    three = buyer.order([{"sku": DRUM, "quantity": 3}], key="k2").get_json()  # 5850.00 before VAT
    assert (three["vat_rule"], three["total"], three["status"]) == ("domestic", "6961.50", "awaiting_approval")
    to_zurich = {**ADDRESS, "city": "Zürich", "postal_code": "8001", "country": "CH"}
    exported = buyer.order([{"sku": DRUM, "quantity": 2}], key="k3", shipping_address=to_zurich).get_json()
    assert (exported["vat_rule"], exported["total"], exported["status"]) == ("export", "3900.00", "pending")
    bigger_export = buyer.order([{"sku": DRUM, "quantity": 3}], key="k4", shipping_address=to_zurich).get_json()
    assert (bigger_export["total"], bigger_export["status"]) == ("5850.00", "awaiting_approval")


def test_approved_by_an_approver_then_confirmed_by_staff(app, client, company, mailbox):
    buyer, approver = company
    number = buyer.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    staff = app.test_client()
    staff_sign_in(staff, "fulfilment")
    refused = staff.post(f"/staff/orders/{number}/confirm", follow_redirects=True)
    assert "awaits approval" in refused.text
    assert db.session.scalar(select(Order.status)) == OrderStatus.AWAITING_APPROVAL
    answer = approver.post(f"/api/v1/orders/{number}/approve", json={"note": "Budget OK"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "pending"
    assert [m for m in mailbox() if m[1] == f"Order {number} approved"] == [("admin@acme.example",
                                                                            f"Order {number} approved")]
    again = approver.post(f"/api/v1/orders/{number}/approve", json={})
    assert again.status_code == 409 and again.get_json()["type"].endswith("/illegal-transition")
    staff.post(f"/staff/orders/{number}/confirm")
    db.session.expire_all()
    order = db.session.scalar(select(Order))
    assert order.status == OrderStatus.CONFIRMED
    approval = next(change for change in order.history if change.from_status == OrderStatus.AWAITING_APPROVAL)
    assert approval.note == "Approved. Budget OK" and approval.customer_id == approver.customer.id and approval.at


def test_a_rejected_order_is_cancelled_and_releases_its_stock(company, mailbox):
    buyer, approver = company
    number = buyer.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    answer = approver.post(f"/api/v1/orders/{number}/reject", json={"note": "Too much"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "cancelled"
    assert allocated() == 0
    assert about(mailbox(), number) == [f"Order {number} received", f"Order {number} rejected"]  # one per rejection
    assert approver.post(f"/api/v1/orders/{number}/reject", json={}).status_code == 409


def test_a_rejection_on_the_approvals_page_sends_one_email_saying_so(app, company, mailbox):
    buyer, _ = company
    number = buyer.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    approver = companies.invite_member(buyer.customer, "approver@acme.example", "approver")
    approver.set_password("a long unusual passphrase")
    approver.joined_at = approver.created_at
    db.session.commit()
    person = app.test_client()
    sign_in(person, approver.email, "a long unusual passphrase")
    person.post(f"/account/approvals/{number}/reject", data={"note": "Over budget"})
    sent = mailbox()
    assert about(sent, number) == [f"Order {number} received", f"Order {number} rejected"]
    (rejection,) = [m for m in current_app.extensions["mailman"].outbox if m.subject.endswith("rejected")]
    assert rejection.to == ["admin@acme.example"] and "Over budget" in rejection.body


def test_a_withdrawn_or_expired_order_is_not_called_rejected(app, runner, company, mailbox):
    buyer, _ = company
    number = buyer.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    assert buyer.post(f"/api/v1/orders/{number}/cancel", json={}).status_code == 200
    # the key's maker, an admin, did not withdraw it herself: she is told, as the company's approver
    assert about(mailbox(), number) == [f"Order {number} received", f"Order {number} was cancelled",
                                        f"Order {number} withdrawn"]


def test_a_buyer_key_cannot_approve_or_reject(company):
    buyer, _ = company
    number = buyer.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    for decision in ("approve", "reject"):
        answer = buyer.post(f"/api/v1/orders/{number}/{decision}", json={})
        assert answer.status_code == 403 and answer.mimetype == "application/problem+json"
    assert db.session.scalar(select(Order.status)) == OrderStatus.AWAITING_APPROVAL


def test_another_companys_approver_sees_nothing_and_decides_nothing(client, company):
    buyer, _ = company
    number = buyer.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    rival = new_api_client(client, "boss@rival.example", "Rival")
    rival_approver = ApiClient(client, accounts.create_api_key(rival.customer, "x", "approver"), rival.customer)
    db.session.commit()
    assert rival_approver.post(f"/api/v1/orders/{number}/approve", json={}).status_code == 404
    assert rival_approver.get(f"/api/v1/orders/{number}").status_code == 404
    assert rival_approver.get("/api/v1/orders").get_json()["items"] == []
    assert rival_approver.get("/api/v1/company").get_json()["name"] == "Rival"


def test_an_approver_key_and_an_admin_are_never_held(app, client, company):
    _, approver = company
    assert approver.order([{"sku": DRUM, "quantity": 3}]).get_json()["status"] == "pending"
    sign_in(client, "admin@acme.example")
    client.post("/cart/add", data={"sku": DRUM, "quantity": 3})
    token = client.get("/checkout").text.split('name="token" type="hidden" value="')[1].split('"')[0]
    client.post("/checkout", data={"token": token, "name": "Goods in", "line1": "Dock 4", "city": "Hamburg",
                                   "postal_code": "20457", "country": "DE"})
    assert {o.status for o in db.session.scalars(select(Order))} == {OrderStatus.PENDING}


@pytest.mark.parametrize(("role", "can"), [("buyer", False), ("approver", True), ("admin", True)])
def test_each_member_role_on_the_approvals_page(app, client, company, role, can):
    buyer, _ = company
    number = buyer.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    member = companies.invite_member(buyer.customer, f"{role}-member@acme.example", role)
    member.set_password("a long unusual passphrase")
    member.joined_at = member.created_at
    db.session.commit()
    person = app.test_client()
    sign_in(person, member.email, "a long unusual passphrase")
    assert person.get("/account/approvals").status_code == (200 if can else 403)
    person.post(f"/account/approvals/{number}/approve", data={"note": ""})
    db.session.expire_all()
    expected = OrderStatus.PENDING if can else OrderStatus.AWAITING_APPROVAL
    assert db.session.scalar(select(Order.status)) == expected
    assert person.get(f"/orders/{number}").status_code == 200  # the company shares its order book


def test_orders_waiting_too_long_are_cancelled_and_their_stock_released(app, runner, company):
    buyer, _ = company
    number = buyer.order([{"sku": DRUM, "quantity": 3}]).get_json()["number"]
    young = buyer.order([{"sku": DRUM, "quantity": 3}], key="young").get_json()["number"]
    hours = app.config["APPROVAL_EXPIRY_HOURS"]
    order = db.session.scalar(select(Order).where(Order.number == number))
    order.placed_at -= timedelta(hours=hours, minutes=1)
    db.session.commit()
    result = runner.invoke(args=["shop", "expire-approvals"])
    assert result.exit_code == 0 and number in result.output and young not in result.output
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Order.number, Order.status)).all())
    assert statuses == {number: OrderStatus.CANCELLED, young: OrderStatus.AWAITING_APPROVAL}
    assert allocated() == 3


def test_an_order_takes_the_contract_price_of_its_day_and_records_the_list(company):
    buyer, _ = company
    customer = buyer.customer
    today = price_lists.today()
    price_lists.create_price_list(customer.company, "Old", "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1.00\n",
                                  today - timedelta(days=30), today - timedelta(days=1))
    current = price_lists.create_price_list(customer.company, "Now", "sku,min_quantity,unit_price\n"
                                            "LEU-USP-25KG,2,1500.00\n", today, None)
    db.session.commit()
    one = buyer.order([{"sku": DRUM, "quantity": 1}, {"sku": "LEU-USP-1KG", "quantity": 4}]).get_json()
    two = buyer.order([{"sku": DRUM, "quantity": 2}], key="two").get_json()
    assert [line["unit_price"] for line in one["lines"]] == ["1950.00", "96.00"]  # no tier from 1: public
    assert two["lines"][0]["unit_price"] == "1500.00" and two["subtotal"] == "3000.00"
    recorded = dict(db.session.execute(select(OrderLine.quantity, OrderLine.price_list_id)
                                       .where(OrderLine.sku == DRUM)).all())
    assert recorded == {1: None, 2: current.id}


def test_the_threshold_is_judged_on_the_contract_priced_total(company):
    buyer, _ = company
    price_lists.create_price_list(buyer.customer.company, "Now",
                                  "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1000.00\n")
    db.session.commit()
    # 4 x 1000.00 = 4000.00, with VAT 4760.00 (not 4 x 1950.00 = 7800.00, with VAT 9282.00)
    assert buyer.order([{"sku": DRUM, "quantity": 4}]).get_json()["status"] == "pending"
    assert MemberRole.BUYER.may(MemberRole.BUYER) and not MemberRole.BUYER.may(MemberRole.APPROVER)
    assert approvals.queue(buyer.customer.company_id) == []
    assert Decimal(buyer.get("/api/v1/company").get_json()["open_exposure"]) == Decimal("4760.00")  # with 19 % VAT
