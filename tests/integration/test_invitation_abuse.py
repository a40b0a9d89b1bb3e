"""Invitations as a phishing and enumeration channel (issue 22, item 3), and control characters in names (item 7).

Each test reproduces what the second probe did through the members page and failed before the fix: invitations
unthrottled, the invitee's free-text name in the subject and first line of the shop's own e-mail, "already has an
account" for a known address, a pending invitation that blocked the person from registering, an earlier link that
kept working after "Send the invitation again", and a line break stored in a company's name.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from shop.accounts.models import Customer
from shop.platform.database import utcnow
from shop.platform.extensions import db
from tests.support.factories import make_customer
from tests.support.mail import drain, outbox_mail
from tests.support.staff import text_of
from tests.support.storefront import ask_to_register, field_error, register, registration_link, sign_in

PASSWORD = "amber falcon quartz 77"
LURE = "Your account is locked, call +1 555 0100"


@pytest.fixture
def admin(app, client):
    admin = make_customer("admin@acme.example", "Acme Nutrition")
    sign_in(client, admin.email)
    return admin


def invite(client, email: str, **data):
    return client.post("/account/members", data={"email": email, "role": "buyer", **data})


def mail_to(email: str) -> list:
    """The messages that went to `email`, once the workers sent the outbox."""
    drain()
    return [m for m in outbox_mail() if m.to == [email]]


def link_in(message) -> str:
    """The path of the link in an e-mail (the test client speaks to paths)."""
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def join(app, path: str):
    return app.test_client().post(path, data={"password": PASSWORD, "confirm": PASSWORD})


def pending(email: str) -> Customer | None:
    db.session.expire_all()
    return db.session.scalar(select(Customer).where(Customer.email == email))


def test_the_eleventh_invitation_in_an_hour_from_one_admin_is_refused(admin, client):
    for n in range(10):
        assert invite(client, f"person{n}@example.com").status_code == 302
    refused = invite(client, "person10@example.com")
    assert refused.status_code == 429 and "too many invitations" in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert pending("person10@example.com") is None and mail_to("person10@example.com") == []


def test_a_company_has_its_own_budget_of_invitations_whichever_admin_sends_them(make_app):
    app = make_app(RATELIMIT_INVITATIONS_PER_COMPANY="3 per hour")
    with app.app_context():
        first = make_customer("admin@acme.example", "Acme Nutrition")
        second = make_customer("second@acme.example", "Somewhere Else")
        second.company_id, second.company = first.company_id, first.company
        db.session.commit()
    one, two = app.test_client(), app.test_client()
    sign_in(one, "admin@acme.example")
    sign_in(two, "second@acme.example")
    assert [invite(c, f"p{n}@example.com").status_code for n, c in enumerate([one, two, one])] == [302] * 3
    assert invite(two, "p4@example.com").status_code == 429


@pytest.mark.parametrize("name", [f"Bob\r\n{LURE}", "x" * 81, "Bob\u2028" + LURE])
def test_an_invitees_name_with_a_line_break_or_too_long_is_refused_beside_the_field(admin, client, name):
    page = invite(client, "bob@example.com", name=name)
    assert page.status_code == 422 and field_error(page.text, "name")
    assert pending("bob@example.com") is None


def test_the_invitees_name_is_not_in_the_subject_or_first_line_which_name_the_admin_and_company(admin, client):
    assert invite(client, "bob@example.com", name=LURE).status_code == 302
    (message,) = mail_to("bob@example.com")
    assert message.subject == "admin@acme.example of Acme Nutrition invited you to Leucine Shop"
    first_line = message.body.strip().splitlines()[0]
    assert first_line.startswith("admin@acme.example of Acme Nutrition invited you to Leucine Shop")
    assert "locked" not in message.subject and "locked" not in first_line


def test_inviting_an_address_with_an_account_answers_exactly_like_a_new_address(admin, client):
    make_customer("taken@other.example", "Other Co")
    new = invite(client, "fresh@other.example")
    taken = invite(client, "taken@other.example")
    assert (new.status_code, new.location) == (taken.status_code, taken.location) == (302, "/account/members")
    new_page = client.get("/account/members").text  # the flash of the second answer
    assert "taken@other.example is invited as buyer" in new_page
    # The holder of the account is told, with no link to follow; their account is untouched.
    (notice,) = mail_to("taken@other.example")
    assert "already have an account" in notice.body and "http" not in notice.body
    assert pending("taken@other.example").company.name == "Other Co"


def test_an_expired_invitation_shows_as_expired_and_its_link_says_to_ask_for_a_new_one(app, admin, client):
    invite(client, "late@example.com")
    (message,) = mail_to("late@example.com")
    db.session.execute(update(Customer).where(Customer.email == "late@example.com")
                       .values(invited_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    page = join(app, link_in(message))
    assert page.status_code == 410 and "expired" in page.text and "Ask for a new one" in page.text
    assert "invitation expired" in client.get("/account/members").text
    assert pending("late@example.com").joined_at is None


def test_once_an_invitation_expired_another_company_may_invite_the_address(app, admin, client):
    invite(client, "wanted@example.com")
    db.session.execute(update(Customer).where(Customer.email == "wanted@example.com")
                       .values(invited_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    make_customer("admin@rival.example", "Rival Foods")
    rival = app.test_client()
    sign_in(rival, "admin@rival.example")
    assert invite(rival, "wanted@example.com").status_code == 302
    *_, message = mail_to("wanted@example.com")
    assert message.subject == "admin@rival.example of Rival Foods invited you to Leucine Shop"
    assert join(app, link_in(message)).status_code == 302
    assert pending("wanted@example.com").company.name == "Rival Foods"


def test_a_person_with_a_pending_invitation_registers_on_their_own_and_the_invitation_lapses(app, admin, client):
    invite(client, "solo@example.com")
    assert "solo@example.com" in client.get("/account/members").text
    (message,) = mail_to("solo@example.com")
    ask_to_register(app.test_client(), email="solo@example.com", company="Solo Labs")
    opening = app.test_client().get(registration_link("solo@example.com")).text  # told before it lapses
    assert "Acme Nutrition invited this address to join its account" in text_of(opening)
    page = register(app.test_client(), email="solo@example.com", company="Solo Labs")
    assert page.status_code == 302
    person = pending("solo@example.com")
    assert (person.company.name, person.role, person.joined_at is not None) == ("Solo Labs", "admin", True)
    assert join(app, link_in(message)).status_code == 410
    sign_in(client, "admin@acme.example")  # the test's clients share one app context, and so Flask-Login's user
    assert "solo@example.com" not in client.get("/account/members").text


def test_sending_the_invitation_again_ends_the_earlier_link(app, admin, client):
    invite(client, "again@example.com")
    member = pending("again@example.com")
    assert client.post(f"/account/members/{member.id}/invite-again").status_code == 302
    first, second = mail_to("again@example.com")
    assert join(app, link_in(first)).status_code == 410
    assert join(app, link_in(second)).status_code == 302
