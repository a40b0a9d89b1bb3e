"""Answers holding a secret or an account's details are never kept by a browser or a proxy on the way
(`Cache-Control: no-store`): a new API key, /account, the reset and invitation pages, the sign-in pages and every
API answer (#22 item 7)."""
from __future__ import annotations

import pytest

from shop.accounts import links
from shop.accounts.models import MemberRole
from shop.platform.extensions import db
from tests.support.factories import make_customer, make_staff
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in


def assert_no_store(response, status: int = 200) -> None:
    assert response.status_code == status, response.text
    assert "no-store" in response.headers.get("Cache-Control", ""), dict(response.headers)


@pytest.fixture
def admin(app, client):
    admin = make_customer("admin@acme.example", "Acme Nutrition")
    assert sign_in(client, admin.email).status_code == 302
    return admin


def test_the_page_showing_a_new_api_key_is_not_stored(admin, client):
    page = client.post("/account/api-keys", data={"name": "ERP", "role": MemberRole.BUYER.value})
    assert "lsk_" in page.text
    assert_no_store(page, 201)
    assert_no_store(client.get("/account/api-keys"))


@pytest.mark.parametrize("path", ["/account", "/account/members", "/account/password"])
def test_account_pages_are_not_stored(admin, client, path):
    assert_no_store(client.get(path))


@pytest.mark.parametrize("path", ["/sign-in", "/password-reset", "/staff/login"])
def test_sign_in_and_reset_request_pages_are_not_stored(client, path):
    assert_no_store(client.get(path))


def test_reset_and_invitation_link_pages_are_not_stored(app, client):
    customer = make_customer()
    staff = make_staff("quality")
    db.session.commit()
    assert_no_store(client.get(f"/password-reset/{links.make_token(customer, links.RESET)}"))
    assert_no_store(client.get(f"/join/{links.make_token(customer, links.INVITATION)}"))
    assert_no_store(client.get(f"/staff/reset/{links.make_token(staff, links.STAFF_RESET)}"))
    assert_no_store(client.get("/password-reset/not-a-token"), 410)


def test_staff_pages_are_not_stored(app, client):
    staff_sign_in(client, "admin")
    assert_no_store(client.get("/staff/"))


@pytest.mark.parametrize(("path", "status"), [("/api/v1/products", 200), ("/api/v1/orders", 200),
                                              ("/api/v1/company", 200), ("/api/v1/orders/LS-000001", 404),
                                              ("/api/v1/nothing-here", 404)])
def test_every_api_answer_is_not_stored(api, path, status):
    assert_no_store(api.get(path), status)


def test_an_api_answer_to_a_missing_key_is_not_stored(client):
    assert_no_store(client.get("/api/v1/orders"), 401)
