"""Sessions that end (sign-out, password change, deactivation), the password pages, and the staff customers page."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shop.accounts import people as accounts
from shop.accounts.models import ApiKey, Customer, StaffUser
from shop.accounts.passwords import MIN_PASSWORD_LENGTH, house_words, password_problems
from shop.platform.audit import AuditEntry
from shop.platform.extensions import db
from tests.support.api import assert_problem, new_api_client
from tests.support.factories import make_customer
from tests.support.staff import (
    PASSWORD,
    staff_clients,  # noqa: F401
)
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import customer_count, field_error, register, sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")


def _copy_of(app, client):
    """Another browser holding the same session cookie (a copied or stolen cookie)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_changing_the_password_signs_out_every_other_session_but_keeps_this_one(app, client, customer):
    sign_in(client)
    laptop = app.test_client()
    sign_in(laptop)
    new = "mauve pelican sunrise"
    page = client.post("/account/password", data={"current_password": "correct horse", "password": new,
                                                  "confirm": new})
    assert page.status_code == 302
    assert client.get("/orders").status_code == 200
    assert laptop.get("/orders").status_code == 302  # the other device is signed out
    fresh = app.test_client()
    assert sign_in(fresh).status_code == 422
    assert sign_in(fresh, password="mauve pelican sunrise").status_code == 302


@pytest.mark.parametrize(("current", "new", "field", "message"), [
    ("wrong password", "mauve pelican sunrise", "current_password", "not your current password"),
    ("correct horse", "1234567890", "password", "harder to guess"),
    ("correct horse", "buyer@example.com", "password", "email address or company name"),
    ("correct horse", "correct horse", "password", "different from the current one"),
])
def test_a_refused_password_change_says_why_beside_the_field_and_changes_nothing(app, client, customer, current,
                                                                                  new, field, message):
    sign_in(client)
    page = client.post("/account/password", data={"current_password": current, "password": new, "confirm": new})
    assert page.status_code == 422 and message in (field_error(page.text, field) or "")
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).check_password("correct horse")


def test_staff_change_their_password_and_their_copied_session_stops_working(app, client):
    staff = staff_sign_in(client, "quality")
    copy = _copy_of(app, client)
    assert copy.get("/staff/").status_code == 200
    page = client.post("/staff/password", data={"current_password": PASSWORD, "password": "quiet amber harbour",
                                                "confirm": "quiet amber harbour"})
    assert page.status_code == 302 and client.get("/staff/").status_code == 200
    assert copy.get("/staff/").status_code == 302
    db.session.expire_all()
    assert db.session.get(StaffUser, staff.id).check_password("quiet amber harbour")


def test_staff_sign_out_ends_a_copied_session_too(app, client):
    staff_sign_in(client, "warehouse")
    copy = _copy_of(app, client)
    client.post("/staff/logout")
    assert copy.get("/staff/").status_code == 302


def test_admin_deactivates_a_customer_who_is_signed_out_everywhere_and_whose_keys_stop(app, client):
    shopper = app.test_client()
    api = new_api_client(shopper, "buyer@example.com", "Acme Nutrition")
    sign_in(shopper)
    assert shopper.get("/orders").status_code == 200
    staff_sign_in(client, "admin")
    page = client.get("/staff/customers?q=acme")
    assert "Acme Nutrition" in page.text and "Deactivate Acme Nutrition…" in page.text
    done = client.post(f"/staff/customers/{api.customer.id}/deactivate", data={"confirm": "yes"},
                       follow_redirects=True)
    assert "is deactivated" in done.text and "Reactivate Acme Nutrition" in done.text
    assert shopper.get("/orders").status_code == 302
    assert sign_in(app.test_client()).status_code == 422
    assert_problem(api.get("/api/v1/orders"), 401, "unauthorized")
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "customer.deactivated"))
    client.post(f"/staff/customers/{api.customer.id}/activate")
    assert api.get("/api/v1/orders").status_code == 200


def test_admin_revokes_one_api_key_on_the_customers_page(app, client):
    api = new_api_client(app.test_client(), "erp@acme.example", "Acme")
    spare = accounts.create_api_key(api.customer, "spare")
    db.session.commit()
    staff_sign_in(client, "admin")
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.name == "tests"))
    assert "Revoke key" in client.get("/staff/customers").text
    client.post(f"/staff/api-keys/{key_id}/revoke", data={"confirm": "yes"})
    assert_problem(api.get("/api/v1/orders"), 401, "unauthorized")
    assert api.client.get("/api/v1/orders", headers={"Authorization": f"Bearer {spare}"}).status_code == 200
    assert "revoked" in client.get("/staff/customers").text


@pytest.mark.parametrize("role", ["warehouse", "quality", "fulfilment"])
def test_only_admins_manage_customers(app, client, role):
    make_customer()
    staff_sign_in(client, role)
    customer_id = db.session.scalar(select(Customer.id))
    assert client.get("/staff/customers").status_code == 403
    assert client.post(f"/staff/customers/{customer_id}/deactivate", data={"confirm": "yes"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Customer, customer_id).active


def test_cli_refuses_an_unknown_key_prefix_or_customer(app, runner):
    assert "No API key" in runner.invoke(args=["shop", "revoke-api-key", "lsk_nothing"]).output
    assert "No customer" in runner.invoke(args=["shop", "deactivate-customer", "--customer", "x@y.example"]).output


# Password rules -------------------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(local=st.from_regex(r"[a-z]{4,12}", fullmatch=True), before=st.text(max_size=8), after=st.text(max_size=8))
def test_a_password_containing_the_users_email_name_is_always_refused(local, before, after):
    password = (before + local + after).ljust(MIN_PASSWORD_LENGTH, "!")
    assert password_problems(password, f"{local}@example.com", "Acme") != []


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=MIN_PASSWORD_LENGTH - 1))
def test_a_password_shorter_than_the_minimum_is_always_refused(password):
    assert password_problems(password, "a@b.example", "Acme") == [f"Use at least {MIN_PASSWORD_LENGTH} characters."]


@pytest.mark.parametrize("password", ["password12", "qwertyuiop", "iloveyou12", "aaaaaaaaaaaa", "abcdefghij",
                                      "Password1!", "1234567890"])
def test_common_and_patterned_passwords_are_refused(password):
    assert password_problems(password, "buyer@example.com", "Acme") != []


@pytest.mark.parametrize("password", ["mauve pelican sunrise", "lantern-demo-2026", "Tr0ub4dor&3-harbour"])
def test_long_uncommon_passwords_are_accepted(password):
    assert password_problems(password, "buyer@example.com", "Acme Nutrition") == []


def _disguised(word: str, cases: list[bool], joiner: str) -> str:
    """`word` as people write it into a password: some letters capitalised, a separator between its halves."""
    letters = "".join(c.upper() if up else c for c, up in zip(word, cases + [False] * len(word), strict=False))
    middle = len(letters) // 2
    return letters[:middle] + joiner + letters[middle:]


@settings(max_examples=80, deadline=None)
@given(words=st.lists(st.from_regex(r"[a-z]{3,8}", fullmatch=True), min_size=1, max_size=2).filter(
           lambda w: len("".join(w)) >= 4),
       suffix=st.sampled_from(["GmbH", "AG", "Ltd", "Ltd.", "Inc.", "S.A.", "SAS", "B.V.", "LLC", "GmbH & Co. KG",
                               "plc", "S.r.l.", "Oy"]),
       cases=st.lists(st.booleans(), max_size=16), joiner=st.sampled_from(["", "-", " ", "_", "."]),
       before=st.text(max_size=6), after=st.text(max_size=6))
def test_a_password_containing_the_company_name_without_its_legal_form_is_always_refused(
        words, suffix, cases, joiner, before, after):
    company = " ".join(w.capitalize() for w in words) + " " + suffix
    password = (before + _disguised("".join(words), cases, joiner) + after).ljust(MIN_PASSWORD_LENGTH, "!")
    assert password_problems(password, "buyer@example.com", company) != [], (password, company)


SHOP_NAMES = ("Leucine Shop", "Leucin-Werk Rheinau GmbH", "quality@leucin-werk.example")


@settings(max_examples=80, deadline=None)
@given(word=st.sampled_from(["leucine", "leucin", "rheinau", "leucin-werk", "leucinwerkrheinau"]),
       cases=st.lists(st.booleans(), max_size=20), joiner=st.sampled_from(["", "-", " ", "."]),
       before=st.text(max_size=6), after=st.text(max_size=6))
def test_a_password_containing_the_shops_own_words_is_always_refused(word, cases, joiner, before, after):
    password = (before + _disguised(word, cases, joiner) + after).ljust(MIN_PASSWORD_LENGTH, "!")
    assert password_problems(password, "buyer@example.com", "Acme", house_words(*SHOP_NAMES)) != [], password


@pytest.mark.parametrize(("password", "company"), [("deltafoods2026", "Delta Foods GmbH"),
                                                    ("Leucine2026!", "Acme Nutrition"),
                                                    ("Leucin-Werk-Rheinau", "Acme Nutrition")])
def test_registering_with_the_company_or_the_shops_name_in_the_password_is_refused(app, client, password, company):
    page = register(client, company=company, password=password, confirm=password)
    assert page.status_code == 422
    assert "name in your password" in field_error(page.text, "password")
    assert customer_count() == 0
