"""One test per finding of the hardening review (issue 11), each reproducing what an attacker did on a local server.

Every test here failed before the fix. The wider guarantees live in test_security_headers, test_rate_limits,
test_sessions, test_passwords, test_bounds, test_operations and test_hostile_sweep.
"""
from __future__ import annotations

import base64
import json
import logging
import re
from datetime import date, timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select, text

from shop.accounts.models import ApiKey, Customer
from shop.inventory.models import Batch, Stock
from shop.lab.models import CoaResult
from shop.ordering.models import Order
from shop.platform.config import ConfigError
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from tests.support.api import ADDRESS, assert_problem
from tests.support.factories import make_customer, make_lot
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import client_at, register, sign_in

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def _cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


# 1 ------------------------------------------------------------------------------------------------------------

def test_1_every_answer_carries_security_headers_and_forbids_framing(app, client, api, stocked):
    for response in (client.get("/"), client.get("/staff/login"), api.get("/api/v1/products"),
                     client.get("/products/l-leucine-usp"), client.get("/no-such-page")):
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers.get("X-Frame-Options") == "DENY"
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"
    over_https = client.get("/", base_url="https://shop.example")
    assert "max-age=" in over_https.headers.get("Strict-Transport-Security", "")


# 2 ------------------------------------------------------------------------------------------------------------

def test_2_an_attacker_guessing_passwords_is_throttled_but_the_owner_still_signs_in(make_app):
    app = make_app(RATELIMIT_SIGNIN_FAILURES="3 per hour")
    with app.app_context():
        make_customer()
    attacker = client_at(app, ATTACKER)
    throttled = {}
    for email in ("buyer@example.com", "nobody@example.com"):
        for _ in range(3):
            assert sign_in(attacker, email=email, password="guess guess").status_code == 422
        throttled[email] = sign_in(attacker, email=email, password="guess guess")
    known, unknown = throttled.values()
    # The fourth attempt is throttled whether or not the account exists, with the same words.
    assert known.status_code == unknown.status_code == 429
    assert known.headers["Retry-After"] and unknown.headers["Retry-After"]
    assert _visible_message(known.text) == _visible_message(unknown.text)
    # The owner, from their own address, is not locked out by any of it.
    owner = client_at(app, OWNER)
    assert sign_in(owner).status_code == 302


def _visible_message(html: str) -> str:
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    return re.sub(r"\d+", "N", re.sub(r"<[^>]+>", " ", main)).split()


# 3 ------------------------------------------------------------------------------------------------------------

def test_3_a_session_cookie_copied_before_sign_out_does_not_open_my_orders_after(app, staff_clients, client,  # noqa: F811
                                                                                    customer):
    sign_in(client)
    assert client.get("/orders").status_code == 200
    stolen = client.get_cookie("session").value
    client.post("/sign-out")
    thief = app.test_client()  # loads its user from its own cookie, as a server does (see StaffClient)
    thief.set_cookie("session", stolen)
    page = thief.get("/orders")
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]


# 4 ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cursor", [_cursor("orders", "2026-01-01T00:00:00+00:00", 2**70),
                                    _cursor("orders", "2026-01-01T00:00:00+00:00", True),
                                    _cursor("orders", "2026-01-01T00:00:00+00:00", 2**31)])
def test_4_api_cursor_with_an_id_out_of_range_is_a_422(api, cursor):
    assert_problem(api.get(f"/api/v1/orders?cursor={cursor}"), 422, "validation-error")


@pytest.mark.parametrize("cursor", [_cursor("2026-01-01T00:00:00+00:00", 2**70),
                                    _cursor("2026-01-01T00:00:00+00:00", True),
                                    _cursor("9999-12-31T23:59:59+00:00", 1)])
@pytest.mark.parametrize("page", ["ledger", "orders", "audit", "batches"])
def test_4_staff_list_cursor_out_of_range_is_a_400(client, staff_clients, page, cursor):  # noqa: F811
    staff_sign_in(client, "admin")
    assert client.get(f"/staff/{page}?cursor={cursor}").status_code == 400


def test_4_my_orders_with_a_huge_page_id_is_a_400(client, customer):
    sign_in(client)
    assert client.get(f"/orders?after=2026-01-01T00:00:00+00:00_{10**30}").status_code == 400
    assert client.get(f"/orders?after=2026-01-01T00:00:00+00:00_{2**31}").status_code == 400


@pytest.mark.parametrize("page", ["ledger", "orders", "audit"])
def test_4_staff_list_up_to_the_last_day_of_year_9999_is_a_400(client, staff_clients, page):  # noqa: F811
    staff_sign_in(client, "admin")
    response = client.get(f"/staff/{page}?date_to=9999-12-31")
    assert response.status_code == 400 and "Traceback" not in response.text


def test_4_json_nested_100000_deep_is_a_400(api, stocked):
    body = '{"lines": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = api.client.post("/api/v1/orders", data=body, headers=api.headers({"Content-Type": "application/json"}))
    assert_problem(response, 400, "malformed-json")


def test_4_quantity_of_4301_digits_is_a_4xx_and_orders_nothing(api, stocked):
    body = ('{"lines": [{"sku": "LEU-USP-25KG", "quantity": ' + "9" * 4301 + '}], "shipping_address": '
            + json.dumps(ADDRESS) + "}")
    response = api.client.post("/api/v1/orders", data=body, headers=api.headers({"Content-Type": "application/json"}))
    assert 400 <= response.status_code < 500 and response.mimetype == "application/problem+json"
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_4_staff_adjustment_of_2147483647_units_is_refused_beside_the_field(client, staff_clients, product):  # noqa: F811
    make_lot(product, "L-ADJ", {"LEU-USP-25KG": 5})
    staff_sign_in(client, "warehouse")
    stock_id = db.session.scalar(select(Stock.id))
    page = client.post(f"/staff/stock/{stock_id}/adjust", data={"kind": "adjustment", "delta": "2147483647",
                                                                "reason": "count"})
    assert page.status_code == 422 and 'id="delta-error"' in page.text
    db.session.expire_all()
    assert db.session.scalar(select(Stock.on_hand)) == 5


@pytest.mark.parametrize("result", ["1e10", "1e-999999"])
def test_4_coa_result_in_exponent_notation_is_refused_and_nothing_stored(client, staff_clients, product, result):  # noqa: F811
    batch = make_lot(product, "L-COA", {"LEU-USP-25KG": 5}, status="quarantine")
    staff_sign_in(client, "quality")
    assay = next(t for t in product.spec_tests if not t.qualitative)
    page = client.post(f"/staff/batches/{batch.lot_number}/results", data={f"result_{assay.id}": result})
    assert page.status_code == 422
    assert db.session.scalar(select(func.count(CoaResult.id))) == 0


def test_4_a_lot_number_with_cr_lf_is_refused_so_its_coa_pdf_cannot_break(app, product):
    with pytest.raises(InvalidInput) as refused:
        make_lot(product, "L-1\r\nX-Evil: 1", {"LEU-USP-25KG": 5})
    assert "lot_number" in refused.value.errors
    assert db.session.scalar(select(func.count(Batch.id))) == 0


# 5 ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lot", ["A/B-1", "X.pdf", "lot\x07", "A B", "../etc"])
def test_5_lot_numbers_outside_letters_digits_and_hyphens_are_refused_on_receipt(client, staff_clients, product, lot):  # noqa: F811
    staff_sign_in(client, "warehouse")
    variant = product.variants[0]
    page = client.post("/staff/batches/receive?product=l-leucine-usp", data={
        "product": "l-leucine-usp", "lot_number": lot, f"units_{variant.id}": "3",
        "manufactured_on": (date.today() - timedelta(days=5)).isoformat(),
        "expires_on": (date.today() + timedelta(days=700)).isoformat()})
    assert page.status_code == 422 and 'id="lot_number-error"' in page.text
    assert db.session.scalar(select(func.count(Batch.id))) == 0


# 6 ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890", "new@brand.example", "Brand New Nutrition"])
def test_6_common_passwords_and_the_users_own_email_or_company_are_refused(app, client, password):
    page = register(client, password=password, confirm=password)
    assert page.status_code == 422 and 'id="password-error"' in page.text
    assert db.session.scalar(select(func.count(Customer.id))) == 0


# 7 ------------------------------------------------------------------------------------------------------------

def test_7_a_10_mb_json_body_is_refused_with_413_and_orders_nothing(api, stocked):
    body = {"lines": [{"sku": "LEU-USP-25KG", "quantity": 1}], "shipping_address": ADDRESS}
    padded = json.dumps(body) + " " * 10_000_000  # still valid JSON: white space after the value
    response = api.client.post("/api/v1/orders", data=padded,
                               headers=api.headers({"Content-Type": "application/json"}))
    assert_problem(response, 413, "content-too-large")
    assert db.session.scalar(select(func.count(Order.id))) == 0


# 8 ------------------------------------------------------------------------------------------------------------

def test_8_production_without_secret_key_refuses_to_start_and_development_keeps_a_private_key(
        tmp_path, monkeypatch):
    from shop.platform.config import load_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("SHOP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path))
    monkeypatch.setenv("SHOP_ENV", "development")
    key = load_config(str(tmp_path))["SECRET_KEY"]
    assert len(key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


# 9 ------------------------------------------------------------------------------------------------------------

def test_9_problem_type_uris_come_from_the_configured_address_not_the_host_header(make_app):
    app = make_app(PUBLIC_BASE_URL="https://shop.leucine.example")
    client = app.test_client()
    response = client.get("/api/v1/orders", headers={"Host": "evil.example"})
    assert response.get_json()["type"] == "https://shop.leucine.example/problems/unauthorized"


# 10 -----------------------------------------------------------------------------------------------------------

@pytest.mark.own_app
def test_10_a_failing_statement_logs_no_bound_parameters(app, caplog):
    secret = "lsk_THIS-MUST-NOT-BE-LOGGED"
    app.add_url_rule("/_test/db-error", "db_error",
                     lambda: str(db.session.execute(text("SELECT :key FROM no_such_table"), {"key": secret})))
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/_test/db-error")
    assert response.status_code == 500
    assert "no_such_table" in caplog.text  # the error itself is logged
    assert secret not in caplog.text


# 11 -----------------------------------------------------------------------------------------------------------

def test_11_an_api_key_is_revoked_and_a_customer_deactivated_without_sql(app, api, runner):
    prefix = db.session.scalar(select(ApiKey.prefix))
    assert api.get("/api/v1/orders").status_code == 200
    result = runner.invoke(args=["shop", "revoke-api-key", prefix])
    assert result.exit_code == 0, result.output
    assert_problem(api.get("/api/v1/orders"), 401, "unauthorized")
    result = runner.invoke(args=["shop", "deactivate-customer", "--customer", "buyer@acme.example"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(Customer.active).where(Customer.email == "buyer@acme.example")) is False


def test_11_an_expired_csrf_token_gets_a_friendly_page(make_app, monkeypatch):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    limit = app.config["WTF_CSRF_TIME_LIMIT"]
    assert limit is not None
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/sign-in").text).group(1)
    later = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later(self) + limit + 1)
    page = client.post("/sign-in", data={"csrf_token": token, "email": "a@b.example", "password": "x" * 12})
    assert page.status_code == 400 and "Form expired" in page.text and "reload the page" in page.text


def test_11_a_text_plain_body_is_415(api, stocked):
    response = api.client.post("/api/v1/orders", data=json.dumps({"lines": []}),
                               headers=api.headers({"Content-Type": "text/plain"}))
    assert_problem(response, 415, "unsupported-media-type")
