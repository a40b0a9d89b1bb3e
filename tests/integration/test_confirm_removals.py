"""Issue 21 item 14: revoking an API key and removing a member ask to confirm first, as cancelling an order does:
the list links to a page that says what will happen, and only its confirmed form acts (no JavaScript needed)."""
from __future__ import annotations

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.accounts.models import ApiKey, Customer
from shop.platform.extensions import db
from tests.support.api import ApiClient
from tests.support.factories import make_customer
from tests.support.staff import text_of
from tests.support.storefront import sign_in


def _company(client):
    admin = make_customer("admin@acme.example", "Acme")
    key = accounts.create_api_key(admin, "ERP integration (SAP)", "buyer")
    bob = companies.invite_member(admin, "bob@acme.example", "buyer")
    db.session.commit()
    bobs_key = accounts.create_api_key(bob, "Bob's script", "buyer")
    db.session.commit()
    sign_in(client, "admin@acme.example")
    return admin, ApiClient(client, key, admin), bob, bobs_key


def test_revoking_a_key_asks_first_and_only_the_confirmed_form_revokes(app, client):
    admin, erp, _, _ = _company(client)
    key_id = db.session.query(ApiKey.id).filter(ApiKey.name == "ERP integration (SAP)").scalar()
    listed = client.get("/account/api-keys").text
    assert f'href="/account/api-keys/{key_id}/revoke"' in listed  # a link to the confirmation, not a one-click form
    assert f'action="/account/api-keys/{key_id}/revoke"' not in listed

    unconfirmed = client.post(f"/account/api-keys/{key_id}/revoke")  # what the old one-click button sent
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["Location"].endswith(f"/account/api-keys/{key_id}/revoke")
    assert erp.get("/api/v1/company").status_code == 200  # still works

    confirm = text_of(client.get(f"/account/api-keys/{key_id}/revoke").text)
    assert "Revoke API key ERP integration (SAP)?" in confirm
    assert "refused" in confirm and "admin@acme.example" in confirm and "Keep the key" in confirm

    done = client.post(f"/account/api-keys/{key_id}/revoke", data={"confirm": "yes"}, follow_redirects=True)
    assert "The key is revoked" in done.text
    assert erp.get("/api/v1/company").status_code == 401


def test_removing_a_member_asks_first_and_says_what_happens(app, client):
    _, _, bob, _ = _company(client)
    listed = client.get("/account/members").text
    assert f'href="/account/members/{bob.id}/remove"' in listed
    assert f'action="/account/members/{bob.id}/remove"' not in listed

    assert client.post(f"/account/members/{bob.id}/remove").status_code == 303
    db.session.expire_all()
    assert db.session.get(Customer, bob.id).active

    confirm = text_of(client.get(f"/account/members/{bob.id}/remove").text)
    assert "Remove bob@acme.example from Acme?" in confirm
    assert "signed out everywhere" in confirm and "Bob's script" in confirm and "orders stay" in confirm
    assert "revoked for good" in confirm and "webhook endpoints they registered are disabled" in confirm
    assert "Keep the member" in confirm

    client.post(f"/account/members/{bob.id}/remove", data={"confirm": "yes"})
    db.session.expire_all()
    assert not db.session.get(Customer, bob.id).active


def test_the_confirmation_pages_of_another_company_s_key_or_member_are_404(app, client):
    _, _, bob, _ = _company(client)
    key_id = db.session.query(ApiKey.id).filter(ApiKey.name == "Bob's script").scalar()
    make_customer("boss@rival.example", "Rival")
    other = app.test_client()
    sign_in(other, "boss@rival.example")
    assert other.get(f"/account/api-keys/{key_id}/revoke").status_code == 404
    assert other.get(f"/account/members/{bob.id}/remove").status_code == 404
