"""Rate limits: sign-in, registration, API-key failures, order placement; 429 with Retry-After; each a setting.

Every app built by a test gets fresh in-memory counts, so no test sees another's; the Redis-backed limits shared
by several processes are in test_shared_limits.py.
"""
from __future__ import annotations

import time

import pytest
from limits import parse_many

from shop.platform.config import DEFAULT_RATE_LIMITS, ConfigError, load_config
from tests.support.api import ADDRESS, assert_problem, new_api_client
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.storefront import ask_to_register, client_at, sign_in


def test_by_default_an_api_key_may_place_at_least_120_orders_a_minute():
    per_minute = [item.amount * 60 / item.get_expiry() for item in parse_many(DEFAULT_RATE_LIMITS["RATELIMIT_ORDERS"])]
    assert min(per_minute) >= 120


def test_order_placement_beyond_its_limit_is_429_problem_with_retry_after_per_key(make_app):
    app = make_app(RATELIMIT_ORDERS="3 per minute")
    client = app.test_client()
    with app.app_context():
        make_lot(make_product(), "L-RATE", {"LEU-USP-25KG": 50})
        first = new_api_client(client, "erp@acme.example", "Acme")
        second = new_api_client(client, "erp@rival.example", "Rival")
    for _ in range(3):
        assert first.order().status_code == 201
    refused = first.order()
    problem = assert_problem(refused, 429, "too-many-requests")
    assert 0 < int(refused.headers["Retry-After"]) <= 61 and "retry after" in problem["detail"]
    assert second.order().status_code == 201  # another key has its own allowance
    assert first.get("/api/v1/orders").status_code == 200  # reading is not order placement


def test_failed_api_keys_from_one_address_are_429_after_the_limit_and_good_keys_still_work(make_app):
    app = make_app(RATELIMIT_API_AUTH_FAILURES="4 per minute")
    client = app.test_client()
    with app.app_context():
        api = new_api_client(client, "erp@acme.example", "Acme")
    for _ in range(4):
        assert_problem(client.get("/api/v1/orders", headers={"Authorization": "Bearer lsk_guess"}), 401,
                       "unauthorized")
    refused = client.get("/api/v1/orders", headers={"Authorization": "Bearer lsk_guess"})
    assert_problem(refused, 429, "too-many-requests")
    assert int(refused.headers["Retry-After"]) > 0
    assert api.get("/api/v1/orders").status_code == 200
    other = client_at(app, "198.51.100.9")
    assert other.get("/api/v1/orders", headers={"Authorization": "Bearer lsk_guess"}).status_code == 401


def test_registration_beyond_its_limit_gets_a_page_with_retry_after(make_app):
    app = make_app(RATELIMIT_REGISTER="2 per hour")
    client = app.test_client()
    for n in range(2):
        assert ask_to_register(client, email=f"new{n}@brand.example").status_code == 200
    page = ask_to_register(client, email="new9@brand.example")
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 60
    assert "too many registrations" in page.text and "Traceback" not in page.text
    assert client_at(app, "198.51.100.9").get("/register").status_code == 200


def test_sign_in_attempts_per_address_are_limited_whatever_the_accounts(make_app):
    app = make_app(RATELIMIT_SIGNIN="4 per minute")
    client = app.test_client()
    for n in range(4):
        assert sign_in(client, email=f"user{n}@example.com").status_code == 422
    assert sign_in(client, email="user9@example.com").status_code == 429
    assert client.post("/staff/login", data={"email": "a@b.example", "password": "x" * 12}).status_code == 429


def test_failed_sign_ins_age_out_so_the_pause_ends_by_itself(make_app):
    app = make_app(RATELIMIT_SIGNIN_FAILURES="2 per 2 seconds")
    client = app.test_client()
    with app.app_context():
        make_customer()
    for _ in range(2):
        assert sign_in(client, password="guess guess").status_code == 422
    paused = sign_in(client)
    assert paused.status_code == 429 and 1 <= int(paused.headers["Retry-After"]) <= 2
    time.sleep(2.1)  # the failures leave their window
    assert sign_in(client).status_code == 302


def test_ratelimit_enabled_0_turns_every_limit_off(make_app):
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_SIGNIN_FAILURES="1 per hour", RATELIMIT_SIGNIN="1 per hour",
                   RATELIMIT_API_AUTH_FAILURES="1 per hour")
    client = app.test_client()
    with app.app_context():
        make_customer()
    for _ in range(3):
        assert sign_in(client, password="guess guess").status_code == 422
        assert client.get("/api/v1/orders", headers={"Authorization": "Bearer lsk_x"}).status_code == 401
    assert sign_in(client).status_code == 302


@pytest.mark.parametrize(("name", "raw"), [("RATELIMIT_ORDERS", "lots"), ("RATELIMIT_SIGNIN", "5 per fortnight"),
                                           ("RATELIMIT_ENABLED", "yes")])
def test_a_bad_limit_setting_stops_start_up_naming_it(monkeypatch, tmp_path, name, raw):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError, match=f"^{name} must be"):
        load_config(str(tmp_path))


def test_limits_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("RATELIMIT_ORDERS", "600 per minute")
    monkeypatch.setenv("RATELIMIT_ENABLED", "0")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/11")
    config = load_config(str(tmp_path))
    assert config["RATELIMIT_ORDERS"] == "600 per minute" and config["RATELIMIT_ENABLED"] is False
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/11"


def test_checkout_is_limited_per_customer_like_the_api(make_app):
    app = make_app(RATELIMIT_ORDERS="1 per minute")
    client = app.test_client()
    with app.app_context():
        make_lot(make_product(), "L-CART", {"LEU-USP-25KG": 50})
        make_customer()
    sign_in(client)
    address = {key: value for key, value in ADDRESS.items()}
    for expected in (None, 429):
        client.post("/cart/add", data={"sku": "LEU-USP-25KG", "quantity": "1"})
        token = client.get("/checkout").text.split('name="token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/checkout", data={**address, "token": token})
        if expected is None:
            assert response.status_code == 302 and "/confirmation" in response.headers["Location"]
        else:
            assert response.status_code == 429 and "too many orders" in response.text
