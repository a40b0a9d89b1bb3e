"""Issue 23, webhook operations, against a real receiver: each delivery's state and next attempt, updating and
re-enabling an endpoint, rotating its secret (both signatures for 24 h), a 410 disabling it at once, and
`order.rejected` apart from `order.cancelled`."""
from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.events.models import WebhookAttempt, WebhookEndpoint
from shop.platform.extensions import db
from tests.support.api import ApiClient, admin_key, assert_problem, new_api_client, register_endpoint
from tests.support.events import Receiver, run_worker
from tests.support.factories import make_lot, make_member, make_product
from tests.support.mail import SmtpServer, free_port
from tests.support.storefront import sign_in

IT = "it@acme.example"


@pytest.fixture
def app(make_app):
    """Deliveries may go to the local receiver; the first retry comes at once, the second in an hour."""
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, WEBHOOK_RETRY_SCHEDULE=[0.0, 3600.0], OUTBOX_SWEEP_AFTER_SECONDS=0)
    with app.app_context():
        yield app
        db.session.remove()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_each_delivery_shows_its_state_attempts_and_next_attempt(api, stocked, receiver):
    receiver.statuses = [500, 500, 500]
    failing = register_endpoint(api, receiver.url, ["order.placed"])
    api.order()
    run_worker(lambda: len(receiver.received) >= 2)  # the first attempt and the retry at once: both 500

    log = api.get(f"/api/v1/webhook-endpoints/{failing['id']}/deliveries").get_json()["items"]
    assert [(i["status_code"], i["state"], i["attempts"]) for i in log] == [(500, "pending", 2), (500, "pending", 2)]
    next_at = _at(log[0]["next_attempt_at"]) - datetime.now(UTC)
    assert timedelta(minutes=50) <= next_at <= timedelta(minutes=70)  # an hour, ±15 %
    assert log[0]["next_attempt_at"] == log[1]["next_attempt_at"]

    receiver.statuses = []
    admin_key(api).post(f"/api/v1/webhook-endpoints/{failing['id']}/redeliver", json={"event_id": log[0]["event_id"]})
    run_worker(lambda: len(receiver.received) >= 3)
    log = api.get(f"/api/v1/webhook-endpoints/{failing['id']}/deliveries").get_json()["items"]
    assert [(i["status_code"], i["state"], i["next_attempt_at"]) for i in log] == [(200, "delivered", None)] * 1 + \
        [(500, "delivered", None)] * 2
    assert log[0]["attempts"] == 1  # of its fresh schedule


def test_a_delivery_that_used_its_schedule_is_failed(api, stocked, receiver, app):
    app.config["WEBHOOK_RETRY_SCHEDULE"] = [0.0]
    receiver.statuses = [500, 500]
    endpoint = register_endpoint(api, receiver.url, ["order.placed"])
    api.order()
    run_worker(lambda: len(receiver.received) >= 2)
    log = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").get_json()["items"]
    assert [(i["state"], i["attempts"], i["next_attempt_at"]) for i in log] == [("failed", 2, None)] * 2


def test_a_410_gone_disables_the_endpoint_at_once_and_emails_the_company_admins(make_app):
    server = SmtpServer(free_port())
    receiver = Receiver([410])
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, WEBHOOK_RETRY_SCHEDULE=[0.0, 0.0, 0.0], MAIL_BACKEND="smtp",
                   MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False,
                   PUBLIC_BASE_URL="https://shop.example.com")
    try:
        with app.app_context():
            api = new_api_client(app.test_client(), "admin@acme.example", "Acme Nutrition")
            make_member(api.customer, "second-admin@acme.example", "admin")
            make_member(api.customer, "clerk@acme.example", "buyer")
            make_lot(make_product(), "L-GONE", {"LEU-USP-25KG": 5})
            endpoint = register_endpoint(api, receiver.url, ["order.placed"])
            api.order()
            run_worker(lambda: any("410 Gone" in content for _, content in server.messages), settle=0.5)

            assert len(receiver.received) == 1  # no retry of a 410
            listed = api.get("/api/v1/webhook-endpoints").get_json()["items"]
            assert [(e["enabled"], e["disabled_reason"]) for e in listed] == [
                (False, "the endpoint answered 410 Gone")]
            (item,) = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").get_json()["items"]
            assert (item["status_code"], item["state"], item["next_attempt_at"]) == (410, "failed", None)
            (to, content), = [m for m in server.messages if "410 Gone" in m[1]]
            assert sorted(to) == ["admin@acme.example", "second-admin@acme.example"]  # the admins, not the buyer
            assert receiver.url in content and "https://shop.example.com/account/webhooks" in content

            api.order()  # nothing more goes to it
            run_worker(lambda: True, settle=1.0)
            assert len(receiver.received) == 1
            # A test or a redelivery would send nothing: refused, not queued as an attempt logged "not sent".
            admin = admin_key(api)
            test = assert_problem(admin.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test"), 409,
                                  "illegal-transition")
            assert test["detail"] == (f"Endpoint {endpoint['id']} sends nothing now: the endpoint answered 410 Gone. "
                                      "Enable it first.")
            assert_problem(admin.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/redeliver",
                                    json={"event_id": item["event_id"]}), 409, "illegal-transition")
            run_worker(lambda: True, settle=0.5)
            assert len(receiver.received) == 1
            db.session.remove()
    finally:
        receiver.close()
        server.stop()


def test_the_failure_that_disables_an_endpoint_is_logged_once_when_it_was_made(make_app):
    """An endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is disabled by the failing attempt: that attempt is one
    row of the log (not a second 'not sent' one), dated when the POST went out, not when the answer came."""
    receiver = Receiver([500], answer_after=1.5)  # its answer comes 1.5 s after the POST
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, WEBHOOK_RETRY_SCHEDULE=[0.0, 0.0], WEBHOOK_DISABLE_AFTER_HOURS=1)
    try:
        with app.app_context():
            api = new_api_client(app.test_client(), "admin@acme.example", "Acme Nutrition")
            make_lot(make_product(), "L-SLOW", {"LEU-USP-25KG": 5})
            endpoint = register_endpoint(api, receiver.url, ["order.placed"])
            db.session.get(WebhookEndpoint, endpoint["id"]).failing_since = datetime.now(UTC) - timedelta(hours=2)
            db.session.commit()
            api.order()
            run_worker(lambda: len(receiver.received) == 1, settle=2.5)  # the answer, then its record

            db.session.expire_all()
            disabled = db.session.get(WebhookEndpoint, endpoint["id"])
            assert disabled.disabled_reason == "It failed every delivery for 1 hour."
            (attempt,) = db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.endpoint_id == disabled.id))
            assert attempt.status_code == 500 and attempt.duration_ms >= 1500
            assert abs(attempt.attempted_at - receiver.received[0].at) < timedelta(seconds=0.5)
            (item,) = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").get_json()["items"]
            assert (item["state"], item["attempts"], item["status_code"]) == ("failed", 1, 500)
            assert len(receiver.received) == 1
            db.session.remove()
    finally:
        receiver.close()


# --- PATCH: update, disable, re-enable --------------------------------------------------------------------------

def _patch(api, endpoint_id: int, body: dict):
    return api.client.patch(f"/api/v1/webhook-endpoints/{endpoint_id}", json=body, headers=api.headers())


def test_patch_changes_only_the_fields_given_and_checks_them_as_registering_does(api, app, receiver, rival):
    admin = admin_key(api)
    endpoint = register_endpoint(api, receiver.url, ["order.placed"])
    changed = _patch(admin, endpoint["id"], {"events": ["order.placed", "order.cancelled"], "description": "ERP"})
    assert changed.status_code == 200, changed.get_json()
    assert {k: changed.get_json()[k] for k in ("url", "events", "description", "enabled")} == {
        "url": receiver.url, "events": ["order.placed", "order.cancelled"], "description": "ERP", "enabled": True}
    assert "secret" not in changed.get_json()
    assert admin.get("/api/v1/webhook-endpoints").get_json()["items"] == [changed.get_json()]

    app.config["WEBHOOK_ALLOW_INSECURE"] = False  # as in production: the SSRF guard
    bad = {"url": "https://127.0.0.1/hooks", "events": ["order.nope"]}
    refused = assert_problem(_patch(admin, endpoint["id"], bad), 422, "validation-error")
    registering = assert_problem(admin.post("/api/v1/webhook-endpoints", json=bad), 422, "validation-error")
    assert refused["errors"] == registering["errors"] and set(refused["errors"]) == {"url", "events"}
    assert admin.get("/api/v1/webhook-endpoints").get_json()["items"] == [changed.get_json()]  # nothing changed

    assert_problem(_patch(api, endpoint["id"], {"enabled": False}), 403, "forbidden")  # a buyer key
    assert_problem(_patch(admin_key(rival), endpoint["id"], {"enabled": False}), 404, "not-found")
    assert _patch(admin, endpoint["id"], {"secret": "whsec_mine"}).status_code == 422
    for loose in ("yes", "false", 0, 1, None):  # a JSON true or false, never read into one
        assert_problem(_patch(admin, endpoint["id"], {"enabled": loose}), 422, "validation-error")
    assert admin.get("/api/v1/webhook-endpoints").get_json()["items"] == [changed.get_json()]  # nothing changed


def test_disabling_then_re_enabling_makes_the_key_maker_its_maker_and_replays_nothing(api, stocked, receiver):
    first = admin_key(api)
    it = make_member(api.customer, IT, "admin")
    it_key = ApiClient(api.client, accounts.create_api_key(it, "IT's ERP key", "admin"), it)
    db.session.commit()
    endpoint = it_key.post("/api/v1/webhook-endpoints", json={"url": receiver.url, "events": ["order.placed"]})
    endpoint = endpoint.get_json()

    disabled = _patch(it_key, endpoint["id"], {"enabled": False}).get_json()
    assert (disabled["enabled"], disabled["disabled_reason"]) == (False, "disabled by IT's ERP key")
    missed = api.order().get_json()["number"]
    run_worker(lambda: True)
    assert receiver.received == []

    db.session.get(WebhookEndpoint, endpoint["id"]).failing_since = datetime.now(UTC) - timedelta(days=4)
    db.session.commit()
    enabled = _patch(first, endpoint["id"], {"enabled": True}).get_json()
    assert (enabled["enabled"], enabled["disabled_reason"]) == (True, None)
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint["id"]).failing_since is None  # its 5 days start again
    companies.change_role(api.customer, it.id, "buyer")  # IT no longer vouches for it; the first admin does now
    db.session.commit()
    number = api.order().get_json()["number"]
    run_worker(lambda: len(receiver.received) >= 1, settle=0.5)
    assert [r.json["data"]["number"] for r in receiver.received] == [number]  # not the missed one
    assert missed != number


def test_the_webhooks_page_edits_disables_and_re_enables_an_endpoint(api, app, receiver):
    endpoint = register_endpoint(api, receiver.url, ["order.placed"])
    prefix = f"endpoint-{endpoint['id']}"
    sign_in(api.client, api.customer.email)
    page = api.client.get("/account/webhooks").text
    assert f'id="{prefix}-url"' in page and f'value="{receiver.url}"' in page

    app.config["WEBHOOK_ALLOW_INSECURE"] = False
    refused = api.client.post(f"/account/webhooks/{endpoint['id']}/edit", data={
        f"{prefix}-url": "https://10.0.0.7/hooks", f"{prefix}-events": ["order.placed"]})
    assert refused.status_code == 422
    error = re.search(rf'<p class="field-error" id="{prefix}-url-error">([^<]+)</p>', refused.text).group(1)
    registering = admin_key(api).post("/api/v1/webhook-endpoints", json={"url": "https://10.0.0.7/hooks",
                                                                         "events": ["*"]}).get_json()
    assert html.unescape(error) == registering["errors"]["url"][0]
    assert re.search(r"<details open>", refused.text)
    app.config["WEBHOOK_ALLOW_INSECURE"] = True

    saved = api.client.post(f"/account/webhooks/{endpoint['id']}/edit", data={
        f"{prefix}-url": receiver.url + "/v2", f"{prefix}-events": ["*"], f"{prefix}-description": "ERP v2"})
    assert saved.status_code == 302
    (listed,) = admin_key(api).get("/api/v1/webhook-endpoints").get_json()["items"]
    assert (listed["url"], listed["events"], listed["description"]) == (receiver.url + "/v2", ["*"], "ERP v2")

    assert api.client.post(f"/account/webhooks/{endpoint['id']}/disable").status_code == 302
    page = api.client.get("/account/webhooks").text
    assert f"disabled by {api.customer.email}" in page and "Enable again" in page
    assert api.client.post(f"/account/webhooks/{endpoint['id']}/enable").status_code == 302
    (listed,) = admin_key(api).get("/api/v1/webhook-endpoints").get_json()["items"]
    assert (listed["enabled"], listed["disabled_reason"]) == (True, None)


def test_a_buyer_member_may_not_edit_or_re_enable_on_the_page(api, receiver):
    endpoint = register_endpoint(api, receiver.url)
    make_member(api.customer, "clerk@acme.example", "buyer", password="a long buyer password 7")
    sign_in(api.client, "clerk@acme.example", "a long buyer password 7")
    assert "Change this endpoint" not in api.client.get("/account/webhooks").text
    prefix = f"endpoint-{endpoint['id']}"
    assert api.client.post(f"/account/webhooks/{endpoint['id']}/edit", data={
        f"{prefix}-url": receiver.url, f"{prefix}-events": ["*"]}).status_code == 403
    assert api.client.post(f"/account/webhooks/{endpoint['id']}/disable").status_code == 403


# --- Secret rotation ------------------------------------------------------------------------------------------------

def test_after_a_rotation_both_secrets_verify_for_24_hours_then_only_the_new_one(api, stocked, receiver, rival):
    admin, rival = admin_key(api), admin_key(rival)
    endpoint = register_endpoint(api, receiver.url, ["order.placed"])
    old = endpoint["secret"]
    path = f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"
    rotated = admin.post(path, key="rotate-1")
    assert rotated.status_code == 200, rotated.get_json()
    new = rotated.get_json()["secret"]
    assert new.startswith("whsec_") and new != old
    expires = _at(rotated.get_json()["previous_secret_expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < expires <= timedelta(hours=24)
    again = admin.post(path, key="rotate-1")  # a retry with the same key rotates nothing more
    assert again.get_json() == rotated.get_json() and again.headers["Idempotent-Replayed"] == "true"
    (listed,) = admin.get("/api/v1/webhook-endpoints").get_json()["items"]
    assert "secret" not in listed and listed["previous_secret_expires_at"] == rotated.get_json()[
        "previous_secret_expires_at"]

    api.order()
    run_worker(lambda: len(receiver.received) >= 1)
    during = receiver.received[0]
    assert [s.split(",")[0] for s in during.headers["webhook-signature"].split(" ")] == ["v1", "v1"]
    for secret in (old, new):  # the reference library verifies it with either secret
        assert Webhook(secret).verify(during.body, during.headers)["type"] == "order.placed"

    db.session.get(WebhookEndpoint, endpoint["id"]).previous_secret_expires_at = \
        datetime.now(UTC) - timedelta(seconds=1)  # 24 hours later
    db.session.commit()
    api.order()
    run_worker(lambda: len(receiver.received) >= 2)
    after = receiver.received[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(after.body, after.headers)["type"] == "order.placed"
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)
    assert admin.get("/api/v1/webhook-endpoints").get_json()["items"][0]["previous_secret_expires_at"] is None

    assert_problem(api.post(path), 403, "forbidden")  # a buyer key
    assert_problem(rival.post(path), 404, "not-found")


def test_the_webhooks_page_rotates_the_secret_and_shows_the_new_one_once(api, receiver):
    endpoint = register_endpoint(api, receiver.url)
    sign_in(api.client, api.customer.email)
    page = api.client.post(f"/account/webhooks/{endpoint['id']}/rotate-secret")
    assert page.status_code == 200
    new = re.search(r'<code class="wrap">(whsec_[^<]+)</code>', page.text).group(1)
    assert new != endpoint["secret"] and "signed with the previous secret too" in page.text
    assert new not in api.client.get("/account/webhooks").text  # shown once
    assert db.session.get(WebhookEndpoint, endpoint["id"]).signing_secrets(datetime.now(UTC)) == (
        new, endpoint["secret"])


# --- order.rejected apart from order.cancelled ------------------------------------------------------------------

def test_a_rejection_is_order_rejected_with_the_note_and_a_cancellation_carries_its_reason(api, stocked, receiver):
    companies.set_terms(api.customer.company, approval_threshold="100")
    buyer = make_member(api.customer, "clerk@acme.example", "buyer")
    buyer_api = ApiClient(api.client, accounts.create_api_key(buyer, "Clerk's ERP"), buyer)
    db.session.commit()
    endpoint = register_endpoint(api, receiver.url, ["order.rejected", "order.cancelled"])
    rejected, withdrawn = (buyer_api.order().get_json()["number"] for _ in range(2))
    assert admin_key(api, "Approval bot").post(f"/api/v1/orders/{rejected}/reject",
                                               json={"note": "Not this quarter"}).status_code == 200
    assert buyer_api.post(f"/api/v1/orders/{withdrawn}/cancel").status_code == 200
    run_worker(lambda: len(receiver.received) >= 2)

    by_type = {r.json["type"]: r.json["data"] for r in receiver.received}
    assert sorted(by_type) == ["order.cancelled", "order.rejected"]
    assert (by_type["order.rejected"]["number"], by_type["order.rejected"]["note"]) == (rejected, "Not this quarter")
    assert by_type["order.rejected"]["status"] == "cancelled" and "reason" not in by_type["order.rejected"]
    assert by_type["order.cancelled"]["number"] == withdrawn
    assert by_type["order.cancelled"]["reason"] == "Cancelled by Clerk's ERP."
    for r in receiver.received:
        Webhook(endpoint["secret"]).verify(r.body, r.headers)
    (listed,) = buyer_api.get("/api/v1/webhook-endpoints").get_json()["items"]
    assert listed["events"] == ["order.rejected", "order.cancelled"]
