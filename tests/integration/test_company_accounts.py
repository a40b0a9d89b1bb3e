"""Company administration on /account: details with a checked VAT ID, members invited by a link that expires, roles,
removal, self-service API keys (shown once, last used, revoked at once); each role's allowed and forbidden pages;
one company never sees another's members or keys; password reset by a link that works once."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.accounts import companies, member_mail
from shop.accounts.models import ApiKey, Customer, MemberRole
from shop.platform.extensions import db
from tests.support.factories import make_customer
from tests.support.storefront import field_error, sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")

PASSWORD = "correct horse"
NEW_PASSWORD = "amber falcon quartz 77"


@pytest.fixture
def mailbox(monkeypatch):
    """Every e-mail the shop sends, as (to, subject, body text)."""
    sent: list[tuple[str, str, str]] = []

    def send(to, subject, template, **context):
        from flask import render_template

        sent.append((to, subject, render_template(f"email/{template}.txt", **context)))

    monkeypatch.setattr(member_mail, "_send", send)
    return sent


def link_in(mail: tuple[str, str, str]) -> str:
    """The path of the link in an e-mail (the test client speaks to paths)."""
    return re.search(r"https?://[^/\s]+(/\S+)", mail[2]).group(1)


@pytest.fixture
def admin(app, client):
    admin = make_customer("admin@acme.example", "Acme Nutrition")
    sign_in(client, admin.email)
    return admin


def invite(client, mailbox, email: str, role: str = "buyer"):
    """Invite `email` through the members page and return the path of the invitation link."""
    page = client.post("/account/members", data={"email": email, "role": role})
    assert page.status_code == 302, page.text
    assert mailbox[-1][0] == email
    return link_in(mailbox[-1])


def join(app, path: str, password: str = NEW_PASSWORD):
    """A new client that follows an invitation or reset link and sets a password."""
    client = app.test_client()
    return client, client.post(path, data={"password": password, "confirm": password})


def test_the_admin_saves_the_legal_name_vat_id_and_billing_address(admin, client):
    page = client.post("/account", data={"name": "Acme Nutrition GmbH", "vat_id": "de 136 695 976",
                                         "billing_line1": "Werkstraße 5", "billing_city": "Hamburg",
                                         "billing_postal_code": "20095", "billing_country": "DE"})
    assert page.status_code == 302
    db.session.expire_all()
    company = db.session.get(Customer, admin.id).company
    assert (company.name, company.vat_id, company.billing_city) == ("Acme Nutrition GmbH", "DE136695976", "Hamburg")
    assert "DE136695976" in client.get("/account").text


@pytest.mark.parametrize("vat_id", ["DE136695977", "DE12345", "XX136695976", "136695976"])
def test_a_vat_id_that_fails_its_check_is_refused_beside_the_field_and_nothing_changes(admin, client, vat_id):
    page = client.post("/account", data={"name": "Renamed Ltd", "vat_id": vat_id})
    assert page.status_code == 422
    assert "Not a valid EU VAT ID" in field_error(page.text, "vat_id")
    db.session.expire_all()
    assert db.session.get(Customer, admin.id).company.name == "Acme Nutrition"


def test_every_mistake_in_the_company_details_is_shown_at_once_and_a_part_of_a_billing_address_is_refused(
        admin, client):
    """An empty legal name, a VAT ID that fails its check, an over-long postal code and a billing address of a street
    alone (an invoice needs the buyer's whole address, its country above all): all beside their fields on the first
    try, nothing saved."""
    page = client.post("/account", data={"name": "", "vat_id": "DE123456789", "billing_line1": "Teststr 1",
                                         "billing_postal_code": "2" * 21})
    assert page.status_code == 422
    assert "The legal name is required." in field_error(page.text, "name")
    assert "Not a valid EU VAT ID" in field_error(page.text, "vat_id")
    assert "At most 20 characters." in field_error(page.text, "billing_postal_code")
    for missing in ("billing_city", "billing_country"):
        assert "Needed for a billing address" in field_error(page.text, missing), missing
    assert field_error(page.text, "billing_line2") is None  # the second line stays optional
    db.session.expire_all()
    company = db.session.get(Customer, admin.id).company
    assert (company.name, company.billing_line1) == ("Acme Nutrition", "")
    emptied = client.post("/account", data={"name": "Acme Nutrition", "vat_id": "", "billing_line1": "",
                                            "billing_city": "", "billing_postal_code": "", "billing_country": ""})
    assert emptied.status_code == 302  # no billing address at all is allowed


def test_an_invited_buyer_sets_a_password_through_the_link_and_orders_for_the_company(app, admin, client, mailbox):
    path = invite(client, mailbox, "purchaser@acme.example")
    assert "Acme Nutrition" in mailbox[-1][1]
    members = client.get("/account/members").text
    assert "purchaser@acme.example" in members and "invited" in members
    assert sign_in(app.test_client(), "purchaser@acme.example", NEW_PASSWORD).status_code == 422  # not yet
    buyer_client, joined = join(app, path)
    assert joined.status_code == 302
    member = db.session.scalar(select(Customer).where(Customer.email == "purchaser@acme.example"))
    assert (member.company_id, member.role, member.joined_at is not None) == (admin.company_id, "buyer", True)
    assert buyer_client.get("/account").status_code == 200
    # the link worked once
    _, again = join(app, path, "another fine passphrase 9")
    assert again.status_code == 410 and "used already" in again.text


def test_an_invitation_link_expires(app, admin, client, mailbox, monkeypatch):
    path = invite(client, mailbox, "late@acme.example")
    app.config["INVITATION_VALID_DAYS"] = 1
    import itsdangerous.timed

    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 2 * 86400)
    _, page = join(app, path)
    assert page.status_code == 410 and "expired" in page.text
    member = db.session.scalar(select(Customer).where(Customer.email == "late@acme.example"))
    assert member.joined_at is None


def test_an_address_with_an_account_is_not_invited_and_its_holder_is_told(admin, client, mailbox):
    holder = make_customer("taken@other.example", "Other Co")
    page = client.post("/account/members", data={"email": "taken@other.example", "role": "buyer"})
    assert page.status_code == 302  # answered as any invitation is: see test_invitation_abuse
    assert [(to, subject) for to, subject, _ in mailbox] == [
        ("taken@other.example", "Someone tried to invite you to Leucine Shop")]
    db.session.expire_all()
    assert db.session.get(Customer, holder.id).company.name == "Other Co"


@pytest.mark.parametrize(("role", "allowed"), [
    ("buyer", {"/account": 200, "/account/members": 403, "/account/api-keys": 403}),
    ("approver", {"/account": 200, "/account/members": 403, "/account/api-keys": 403}),
    ("admin", {"/account": 200, "/account/members": 200, "/account/api-keys": 200}),
])
def test_each_role_opens_only_its_pages(app, admin, client, mailbox, role, allowed):
    other, _ = join(app, invite(client, mailbox, f"{role}2@acme.example", role))
    assert {path: other.get(path).status_code for path in allowed} == allowed
    changes = other.post("/account", data={"name": "Hijacked"})
    assert changes.status_code == (302 if role == "admin" else 403)
    made_key = other.post("/account/api-keys", data={"name": "mine", "role": "buyer"})
    assert made_key.status_code == (201 if role == "admin" else 403)
    invited = other.post("/account/members", data={"email": "x@acme.example", "role": "admin"})
    assert invited.status_code == (302 if role == "admin" else 403)


def test_the_admin_changes_a_role_and_removes_a_member_who_is_signed_out_at_once(app, admin, client, mailbox):
    member_client, _ = join(app, invite(client, mailbox, "pat@acme.example"))
    member = db.session.scalar(select(Customer).where(Customer.email == "pat@acme.example"))
    client.post(f"/account/members/{member.id}/role", data={"role": "approver"})
    db.session.expire_all()
    assert db.session.get(Customer, member.id).role == MemberRole.APPROVER
    removed = client.post(f"/account/members/{member.id}/remove", data={"confirm": "yes"}, follow_redirects=True)
    assert "The member is removed" in removed.text
    assert member_client.get("/account").status_code == 302  # to the sign-in page: the session ended
    assert sign_in(app.test_client(), "pat@acme.example", NEW_PASSWORD).status_code == 422
    assert "pat@acme.example" not in client.get("/account/members").text


def test_the_last_admin_cannot_demote_or_remove_themself(admin, client):
    page = client.post(f"/account/members/{admin.id}/role", data={"role": "buyer"}, follow_redirects=True)
    assert "at least one admin" in page.text
    db.session.expire_all()
    assert db.session.get(Customer, admin.id).role == MemberRole.ADMIN


def test_an_api_key_is_shown_once_names_its_role_shows_its_last_use_and_revoked_answers_401_at_once(admin, client):
    page = client.post("/account/api-keys", data={"name": "ERP", "role": "approver"})
    assert page.status_code == 201
    key = re.search(r'<code class="new-key">(lsk_[^<]+)</code>', page.text).group(1)
    listing = client.get("/account/api-keys").text
    assert key not in listing and "ERP" in listing and "approver" in listing and "never" in listing
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/company", headers=headers).status_code == 200
    assert "never" not in client.get("/account/api-keys").text
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.name == "ERP"))
    client.post(f"/account/api-keys/{key_id}/revoke", data={"confirm": "yes"})
    assert client.get("/api/v1/company", headers=headers).status_code == 401


def test_one_company_sees_and_touches_nothing_of_another(app, admin, client, mailbox):
    client.post("/account/api-keys", data={"name": "ACME-ERP", "role": "buyer"})
    invite(client, mailbox, "member@acme.example")
    rival = make_customer("boss@rival.example", "Rival Labs")
    rival_client = app.test_client()
    sign_in(rival_client, rival.email)
    assert "member@acme.example" not in rival_client.get("/account/members").text
    assert "ACME-ERP" not in rival_client.get("/account/api-keys").text
    acme_key = db.session.scalar(select(ApiKey.id).where(ApiKey.name == "ACME-ERP"))
    acme_member = db.session.scalar(select(Customer.id).where(Customer.email == "member@acme.example"))
    assert rival_client.get(f"/account/api-keys/{acme_key}/revoke").status_code == 404
    assert rival_client.get(f"/account/members/{acme_member}/remove").status_code == 404
    rival_client.post(f"/account/api-keys/{acme_key}/revoke", data={"confirm": "yes"})
    rival_client.post(f"/account/members/{acme_member}/remove", data={"confirm": "yes"})
    rival_client.post(f"/account/members/{acme_member}/role", data={"role": "admin"})
    db.session.expire_all()
    assert db.session.get(ApiKey, acme_key).revoked_at is None
    member = db.session.get(Customer, acme_member)
    assert (member.active, member.role) == (True, MemberRole.BUYER)


def test_a_password_reset_link_works_once_and_ends_every_other_session(app, admin, client, mailbox):
    stranger = app.test_client()
    assert stranger.post("/password-reset", data={"email": "nobody@acme.example"}).status_code == 302
    # the same answer, and a note without a link for an address without an account
    assert [(to, "/password-reset/" in body) for to, _, body in mailbox] == [("nobody@acme.example", False)]
    stranger.post("/password-reset", data={"email": admin.email})
    path = link_in(mailbox[-1])
    _, page = join(app, path)
    assert page.status_code == 302
    assert client.get("/account").status_code == 302  # the session signed in before the reset has ended
    assert sign_in(app.test_client(), admin.email, NEW_PASSWORD).status_code == 302
    _, again = join(app, path, "yet another passphrase 5")
    assert again.status_code == 410
    assert sign_in(app.test_client(), admin.email, "yet another passphrase 5").status_code == 422


def test_a_password_reset_link_expires(app, admin, mailbox, monkeypatch):
    app.test_client().post("/password-reset", data={"email": admin.email})
    import itsdangerous.timed

    real_time = itsdangerous.timed.time.time
    minutes = app.config["PASSWORD_RESET_VALID_MINUTES"]
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + minutes * 60 + 5)
    _, page = join(app, link_in(mailbox[-1]))
    assert page.status_code == 410 and "expired" in page.text
    assert sign_in(app.test_client(), admin.email, PASSWORD).status_code == 302


def test_the_api_tells_a_company_its_terms_and_exposure(app, admin, client):
    companies.set_terms(admin.company, "net_30", "50000", "10000")
    db.session.commit()
    page = client.post("/account/api-keys", data={"name": "ERP", "role": "buyer"})
    key = re.search(r'<code class="new-key">(lsk_[^<]+)</code>', page.text).group(1)
    body = client.get("/api/v1/company", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert body == {"name": "Acme Nutrition", "vat_id": "", "payment_terms": "net_30", "credit_limit": "50000.00",
                    "approval_threshold": "10000.00", "open_exposure": "0.00", "available_credit": "50000.00"}


def test_the_cli_sets_up_a_company_for_scripts(app, runner):
    assert runner.invoke(args=["shop", "create-customer", "--email", "ops@acme.example", "--password",
                               "a long unusual passphrase", "--company", "Acme"]).exit_code == 0
    result = runner.invoke(args=["shop", "create-api-key", "--customer", "ops@acme.example", "--role", "approver"])
    assert result.exit_code == 0 and "acting as approver" in result.output
    result = runner.invoke(args=["shop", "set-company", "--customer", "ops@acme.example", "--payment-terms",
                                 "net_30", "--approval-threshold", "5000"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["shop", "set-company", "--customer", "ops@acme.example", "--credit-limit",
                                 "1,500"])
    assert result.exit_code != 0 and "plain amount" in result.output
    company = db.session.scalar(select(Customer).where(Customer.email == "ops@acme.example")).company
    assert (company.payment_terms, company.approval_threshold, company.credit_limit) == ("net_30", 5000, None)
    assert db.session.scalar(select(ApiKey.role)) == MemberRole.APPROVER


def test_an_admin_sends_a_staff_member_a_reset_link_that_works_once_and_ends_their_sessions(app, mailbox):
    from tests.support.staff import sign_in as staff_sign_in

    admin_client, member_client = app.test_client(), app.test_client()
    staff_sign_in(admin_client, "admin")
    member = staff_sign_in(member_client, "quality")
    assert app.test_client().post(f"/staff/staff-users/{member.id}/reset-password").status_code == 302  # to sign-in
    assert mailbox == []
    admin_client.post(f"/staff/staff-users/{member.id}/reset-password")
    assert mailbox[-1][0] == member.email
    path = link_in(mailbox[-1])
    assert path.startswith("/staff/reset/")
    used = app.test_client().post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert used.status_code == 302
    assert member_client.get("/staff/").status_code == 302  # signed out: to the sign-in page
    assert app.test_client().post("/staff/login", data={"email": member.email, "password": NEW_PASSWORD}
                                  ).status_code == 302
    again = app.test_client().post(path, data={"password": "a third passphrase 4", "confirm": "a third passphrase 4"})
    assert again.status_code == 410
    quality = app.test_client()
    staff_sign_in(quality, "quality", "q2@shop.example")
    assert quality.get("/staff/staff-users").status_code == 403
