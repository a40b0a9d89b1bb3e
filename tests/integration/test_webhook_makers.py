"""Issue 22 item 2 (and the webhook part of item 7): an endpoint receives the company's events only while the member
who registered it is an active company admin. Removing that member, or taking the admin role from them, disables
their endpoints at once and tells the company's admins by e-mail; a delivery queued before is not sent. Test events
and redeliveries are limited per company."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.accounts.models import Customer
from shop.events import dispatch
from shop.events.models import DeliveryState, WebhookDelivery
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import ApiClient, admin_key, assert_problem, new_api_client
from tests.support.events import app_with_local_receivers
from tests.support.mail import drain, outbox_mail
from tests.support.storefront import sign_in

IT = "it@acme.example"


@pytest.fixture
def app(make_app):
    yield from app_with_local_receivers(make_app)


def _second_admin(api: ApiClient) -> ApiClient:
    """A second admin of `api`'s company (it@acme.example, joined) with an admin key of their own."""
    member = companies.invite_member(api.customer, IT, "admin")
    member.joined_at = member.created_at
    db.session.commit()
    return ApiClient(api.client, accounts.create_api_key(member, "IT's ERP key", "admin"), member)


def _register(api: ApiClient, url: str) -> dict:
    created = api.post("/api/v1/webhook-endpoints", json={"url": url, "events": ["*"], "description": "IT's ERP"})
    assert created.status_code == 201, created.get_json()
    db.session.commit()
    return created.get_json()


def _take_away(client, admin: Customer, member: Customer, how: str) -> None:
    """The first admin removes the member, or makes them a buyer, on the members page."""
    sign_in(client, admin.email)
    if how == "removed":
        answer = client.post(f"/account/members/{member.id}/remove", data={"confirm": "yes"})
    else:
        answer = client.post(f"/account/members/{member.id}/role", data={"role": "buyer"})
    assert answer.status_code == 302
    client.post("/sign-out")


@pytest.mark.parametrize("how", ["removed", "demoted"])
def test_a_removed_or_demoted_makers_endpoint_gets_no_new_order_event_and_the_admins_are_told(
        api, stocked, receiver, how):
    it = _second_admin(api)
    endpoint = _register(it, receiver.url)
    _take_away(api.client, api.customer, it.customer, how)

    assert api.order().status_code == 201
    drain()  # the workers: the event fanned out, deliveries and e-mails sent

    assert receiver.received == []
    told = [m for m in outbox_mail() if "webhook" in m.subject.lower()]
    assert [m.to for m in told] == [["buyer@acme.example"]]  # the admins who are left
    assert receiver.url in told[0].body and IT in told[0].body
    listed = admin_key(api).get("/api/v1/webhook-endpoints").get_json()["items"]
    assert [(e["id"], e["enabled"]) for e in listed] == [(endpoint["id"], False)]
    assert IT in listed[0]["disabled_reason"]
    sign_in(api.client, api.customer.email)
    page = api.client.get("/account/webhooks").text
    assert "disabled" in page and IT in page and "after failing for 5 days" not in page


def test_a_delivery_queued_before_its_maker_was_removed_is_not_sent(api, stocked, receiver):
    it = _second_admin(api)
    endpoint = _register(it, receiver.url)
    api.order()
    dispatch.dispatch(db.session.scalar(select(OutboxEvent.event_id)))  # fanned out: a delivery waits for a worker
    db.session.commit()
    assert db.session.scalar(select(WebhookDelivery.state)) == DeliveryState.PENDING

    _take_away(api.client, api.customer, it.customer, "removed")
    drain()

    assert receiver.received == []
    assert db.session.scalar(select(WebhookDelivery.state)) == DeliveryState.FAILED
    log = admin_key(api).get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").get_json()["items"]
    assert len(log) == 1 and log[0]["status_code"] is None
    assert log[0]["error"].startswith("Not sent") and IT in log[0]["error"]


def test_an_endpoint_whose_maker_left_before_the_upgrade_is_not_called(api, stocked, receiver):
    """A member removed before endpoints were disabled with them: their endpoint still says enabled, and is
    still not called."""
    it = _second_admin(api)
    endpoint = _register(it, receiver.url)
    api.order()
    dispatch.dispatch(db.session.scalar(select(OutboxEvent.event_id)))
    db.session.get(Customer, it.customer.id).active = False  # as remove_member left members before this release
    db.session.commit()
    api.order()
    drain()

    assert receiver.received == []
    log = admin_key(api).get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").get_json()["items"]
    assert [item["status_code"] for item in log] == [None]  # the queued one refused; the new one never made
    assert IT in log[0]["error"]


def test_the_eleventh_test_event_in_a_minute_is_429_for_the_whole_company(make_app, receiver):
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, RATELIMIT_WEBHOOK_TESTS="10 per minute")
    client = app.test_client()
    with app.app_context():
        api = admin_key(new_api_client(client, "buyer@acme.example", "Acme Nutrition"))
        rival = admin_key(new_api_client(client, "buyer@rival.example", "Rival Labs"))
        endpoint = _register(api, receiver.url)["id"]
        other = _register(rival, receiver.url)["id"]
        for _ in range(10):
            assert api.post(f"/api/v1/webhook-endpoints/{endpoint}/test").status_code == 202
        refused = api.post(f"/api/v1/webhook-endpoints/{endpoint}/test")
        problem = assert_problem(refused, 429, "too-many-requests")
        assert 0 < int(refused.headers["Retry-After"]) <= 61 and "Nothing was changed" in problem["detail"]
        again = admin_key(api, "another key").post(f"/api/v1/webhook-endpoints/{endpoint}/redeliver",
                                                   json={"event_id": "msg_any"})
        assert_problem(again, 429, "too-many-requests")  # redelivery counts too, whichever key of the company
        sign_in(client, "buyer@acme.example")
        page = client.post(f"/account/webhooks/{endpoint}/test")
        assert page.status_code == 429 and "too many test events" in page.text and page.headers["Retry-After"]
        assert rival.post(f"/api/v1/webhook-endpoints/{other}/test").status_code == 202  # its own allowance
        db.session.remove()
