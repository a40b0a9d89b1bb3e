"""Storefront accounts: register, sign in (throttled, never locked), sign out, safe `next`, CSRF on every form."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shop.accounts.models import Customer
from shop.accounts.people import MIN_PASSWORD_LENGTH
from shop.platform.extensions import db
from tests.support.factories import make_customer, make_staff
from tests.support.mail import outbox_mail
from tests.support.storefront import (
    ask_to_register,
    customer_count,
    field_error,
    register,
    registration_link,
    sign_in,
)


def test_register_signs_the_new_customer_in(app, client):
    response = register(client)
    assert response.status_code == 302
    page = client.get("/").text
    assert "Brand New Nutrition" in page and ">Sign out<" in page
    customer = db.session.scalar(select(Customer).where(Customer.email == "new@brand.example"))
    assert customer.password_hash != "long enough pw" and customer.check_password("long enough pw")


def test_passwords_are_hashed_with_scrypt_unless_the_config_says_otherwise(make_app, tmp_path, monkeypatch):
    """The suite hashes with one PBKDF2 round for speed (conftest); the shop itself uses scrypt."""
    from shop.platform.config import load_config
    from tests.support.factories import make_customer

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'shop.sqlite3'}")
    assert load_config(str(tmp_path), secret_key="k")["PASSWORD_HASH_METHOD"] == "scrypt"
    with make_app(PASSWORD_HASH_METHOD="scrypt").app_context():
        customer = make_customer()
        assert customer.password_hash.startswith("scrypt:") and customer.check_password("correct horse")


def test_registering_an_address_with_an_account_answers_as_for_a_new_one_and_mails_its_holder(app, client, customer):
    """Nobody learns from the registration page who has an account: the page says the same for both addresses,
    the new one gets a link, the holder of the other a note without one; nothing changes on their account."""
    taken = ask_to_register(client, email="Buyer@Example.com")
    new = ask_to_register(client, email="someone@new.example")
    assert taken.status_code == new.status_code == 200
    assert taken.text.replace("buyer@example.com", "X").replace("Buyer@Example.com", "X") == \
        new.text.replace("someone@new.example", "X")
    assert registration_link("buyer@example.com") is None
    assert registration_link("someone@new.example").startswith("/register/")
    [note] = [m for m in outbox_mail() if "buyer@example.com" in m.to]
    assert note.subject == "Open your Leucine Shop account" and "you have an account with it already" in note.body
    assert customer_count() == 1 and customer.check_password("correct horse")


def test_the_link_leads_on_to_the_page_registration_was_asked_from(app, client):
    client.post("/register?next=/checkout", data={"company": "Brand New Nutrition", "email": "new@brand.example"})
    opened = client.post(registration_link("new@brand.example"), data={
        "company": "Brand New Nutrition", "password": "long enough pw", "confirm": "long enough pw"})
    assert opened.headers["Location"] == "/checkout"


def test_registration_email_to_one_address_is_limited_and_the_answer_stays_the_same(make_app):
    app = make_app(RATELIMIT_RESET_PER_ADDRESS="2 per hour")
    with app.app_context():
        answers = [ask_to_register(app.test_client(), email=email)
                   for email in ("new@brand.example", "NEW@brand.example", " new@brand.example")]
        assert {a.status_code for a in answers} == {200}
        registration_link("new@brand.example")  # the worker sends what was written
        assert len([m for m in outbox_mail() if "new@brand.example" in m.to]) == 2
        db.session.remove()


def test_the_emailed_link_opens_the_account_once_as_its_owner_names_it(app, client, monkeypatch):
    """The link opens a page that shows the company's name asked for, to be checked, and asks for the password;
    the account opens there and signs in; the link then works no more, and a damaged or expired one never did."""
    assert ask_to_register(client, company="Brand Nu", email="New@Brand.example").status_code == 200
    assert customer_count() == 0  # nothing is opened before the link is followed
    link = registration_link("new@brand.example")
    page = client.get(link)
    assert page.status_code == 200 and "new@brand.example" in page.text and 'value="Brand Nu"' in page.text
    assert "invited this address" not in page.text  # said only to a person with an open invitation
    opened = client.post(link, data={"company": "Brand New Nutrition", "password": "long enough pw",
                                     "confirm": "long enough pw"})
    assert opened.status_code == 302 and opened.headers["Location"] == "/"
    assert "Brand New Nutrition" in client.get("/").text
    customer = db.session.scalar(select(Customer).where(Customer.email == "new@brand.example"))
    assert customer.company.name == "Brand New Nutrition" and customer.role.value == "admin"
    used = app.test_client().get(link)
    assert used.status_code == 410 and "used already" in used.text
    assert app.test_client().get(link[:-3] + "abc").status_code == 410
    ask_to_register(app.test_client(), email="later@brand.example")
    late = registration_link("later@brand.example")
    import itsdangerous.timed

    real_time, hours = itsdangerous.timed.time.time, app.config["REGISTRATION_VALID_HOURS"]
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + hours * 3600 + 5)
    expired = app.test_client().get(late)
    assert expired.status_code == 410 and "expired" in expired.text and "Ask for a new link" in expired.text


def test_register_with_short_password_shows_the_error_beside_password(app, client):
    short = "x" * (MIN_PASSWORD_LENGTH - 1)
    response = register(client, password=short, confirm=short)
    assert response.status_code == 422
    assert f"at least {MIN_PASSWORD_LENGTH} characters" in field_error(response.text, "password")
    assert 'value="Brand New Nutrition"' in response.text  # what was typed is kept
    assert customer_count() == 0


def test_register_with_mismatched_confirmation_is_refused(app, client):
    response = register(client, confirm="something else")
    assert "differ" in field_error(response.text, "confirm")
    assert customer_count() == 0


def test_wrong_password_is_refused_without_saying_which_part(app, client, customer):
    unknown = sign_in(client, email="nobody@example.com")
    wrong = sign_in(client, password="not the password")
    assert unknown.status_code == wrong.status_code == 422
    assert field_error(unknown.text, "password") == field_error(wrong.text, "password") is not None
    assert ">Sign out<" not in client.get("/").text


def test_repeated_failures_from_one_address_pause_sign_in_there_even_for_the_right_password(make_app):
    app = make_app(RATELIMIT_SIGNIN_FAILURES="3 per hour")
    client = app.test_client()
    with app.app_context():
        make_customer()
        for _ in range(3):
            assert sign_in(client, password="guess guess").status_code == 422
        paused = sign_in(client)  # the right password, but from the address that kept guessing
        assert paused.status_code == 429 and int(paused.headers["Retry-After"]) > 0
        assert "Too many attempts" in paused.text and "too many sign-in attempts" in paused.text
        assert ">Sign out<" not in client.get("/").text


def test_sign_in_follows_a_local_next_only(app, client, customer):
    assert sign_in(client, next="/cart").headers["Location"] == "/cart"
    # A line break would not even fit the Location header (it was a 500 after the sign-in).
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "/orders\r\nX: y"):
        client.post("/sign-out")
        assert sign_in(client, next=evil).headers["Location"] == "/", evil


def test_sign_out_is_a_post(app, client, customer):
    sign_in(client)
    refused = client.get("/sign-out")
    assert refused.status_code == 405 and "POST" in refused.headers["Allow"]  # RFC 9110: a 405 names the methods
    assert ">Sign out<" in client.get("/").text
    client.post("/sign-out")
    assert ">Sign in<" in client.get("/").text


@pytest.mark.own_app
def test_signed_in_staff_user_is_not_a_customer(app, client):
    from flask_login import login_user

    staff = make_staff("admin")
    # Sign the staff user in through Flask-Login itself, as the staff pages do.
    app.add_url_rule("/_test/staff-login", "test_staff_login", lambda: (login_user(staff), "ok")[1])
    assert client.get("/_test/staff-login").text == "ok"
    page = client.get("/orders")
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]
    assert "signed in as staff" in client.get(page.headers["Location"]).text


@pytest.fixture
def csrf_client(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    return app.test_client()


@pytest.mark.parametrize("url, data", [
    ("/register", {"company": "X", "email": "x@x.example", "password": "long enough pw",
                   "confirm": "long enough pw"}),
    ("/sign-in", {"email": "x@x.example", "password": "long enough pw"}),
    ("/cart/add", {"sku": "LEU-USP-25KG", "quantity": "2"}),
    ("/sign-out", {}),
])
def test_forms_without_csrf_token_are_rejected(csrf_client, url, data):
    response = csrf_client.post(url, data=data)
    assert response.status_code == 400
    assert "Form expired" in response.text and "Traceback" not in response.text
    with csrf_client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    with csrf_client.session_transaction() as session:
        assert not session.get("cart")


def test_register_with_the_pages_csrf_token_works(csrf_client):
    page = csrf_client.get("/register").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = register(csrf_client, csrf_token=token)
    assert response.status_code == 302
