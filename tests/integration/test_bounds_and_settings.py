"""Bounds (JSON, cursors, request size, lot numbers, existing data) and the settings that guard the shop's edges:
SECRET_KEY, TRUSTED_HOSTS, PROXY_COUNT, and templates without inline script or style (the CSP's premise)."""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from flask_migrate import upgrade
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from shop import create_app
from shop.inventory.lots import LOT_NUMBER
from shop.platform.bounds import INT_MAX
from shop.platform.config import _instance_secret
from shop.platform.extensions import db
from shop.platform.json_limits import MAX_DEPTH, loads_bounded
from shop.platform.pagination import decode_cursor, encode_cursor
from tests.conftest import _test_config
from tests.support.storefront import customer_count

ROOT = Path(__file__).resolve().parents[2]

json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                       max_size=3), max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_json_within_bounds_parses_exactly_as_the_standard_parser(value):
    raw = json.dumps(value)
    assert loads_bounded(raw) == json.loads(raw)


@given(st.integers(MAX_DEPTH + 1, 5000), st.sampled_from(["[]", "{}"]))
def test_json_nested_beyond_the_limit_is_refused_however_deep(depth, brackets):
    opening, closing = brackets
    raw = (opening if opening == "[" else '{"a":') * depth + "1" + (closing * depth)
    with pytest.raises(ValueError, match="nested deeper"):
        loads_bounded(raw)


@given(st.integers(41, 5000))
def test_json_numbers_longer_than_40_characters_are_refused(digits):
    with pytest.raises(ValueError):
        loads_bounded('{"quantity": ' + "9" * digits + "}")


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999", '{"a": -1e400}'])
def test_json_non_finite_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        loads_bounded(raw)


@given(st.datetimes(timezones=st.just(UTC)), st.integers())
def test_an_api_cursor_round_trips_exactly_when_it_fits_the_columns(moment, row_id):
    cursor = encode_cursor("orders", moment, row_id)
    if -INT_MAX - 1 <= row_id <= INT_MAX and 1900 <= moment.year <= 2999:
        assert decode_cursor("orders", cursor) == (moment, row_id)
    else:
        with pytest.raises(ValueError):
            decode_cursor("orders", cursor)


@given(st.dates(), st.integers(1, INT_MAX))
def test_an_invoice_cursor_round_trips_its_day_and_refuses_a_time_in_its_place(day, row_id):
    cursor = encode_cursor("invoices", day, row_id)
    if 1900 <= day.year <= 2999:
        assert decode_cursor("invoices", cursor) == (day, row_id)
    else:
        with pytest.raises(ValueError):
            decode_cursor("invoices", cursor)
    with pytest.raises(ValueError):  # a datetime where the list sorts on a day
        decode_cursor("invoices", encode_cursor("invoices", datetime(2026, 1, 1, tzinfo=UTC), row_id))


@given(st.text(max_size=60))
def test_an_accepted_lot_number_is_safe_in_a_url_path_a_file_name_and_a_header(lot):
    if LOT_NUMBER.fullmatch(lot):
        assert quote(lot, safe="") == lot and "." not in lot and len(lot) <= 40
        assert lot.isascii() and lot.isprintable()


def test_a_form_post_larger_than_max_content_length_is_413_and_creates_nothing(make_app):
    app = make_app(MAX_CONTENT_LENGTH=10_000)
    client = app.test_client()
    page = client.post("/register", data={"company": "x" * 20_000, "email": "big@brand.example",
                                          "password": "mauve pelican sunrise", "confirm": "mauve pelican sunrise"})
    assert page.status_code == 413 and "larger than 10,000 bytes" in page.text
    with app.app_context():
        assert customer_count() == 0


def test_import_batch_refuses_a_lot_number_with_a_slash(app, runner, product, tmp_path):
    path = tmp_path / "lot.json"
    path.write_text(json.dumps({"product": product.slug, "lot_number": "A/B-1", "manufactured_on": "2026-01-01",
                                "expires_on": "2028-01-01", "units": {"LEU-USP-25KG": 3}, "results": {}}))
    result = runner.invoke(args=["shop", "import-batch", str(path)])
    assert result.exit_code != 0 and "letters, digits, hyphens" in result.output


def test_the_upgrade_stops_with_a_clear_message_when_existing_lot_numbers_are_unsafe(tmp_path, capsys):
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'old.sqlite3'}"))
    with app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO product (id, slug, name, grade, cas_number, formula, molecular_weight, "
                              "description, active, position) VALUES (1, 'p', 'P', 'USP', '61-90-5', 'C6H13NO2', "
                              "131.17, '', 1, 0)"))
            for lot in ("A/B-1", "GOOD-1", "X.pdf"):
                conn.execute(text("INSERT INTO batch (product_id, lot_number, manufactured_on, expires_on, status, "
                                  "status_reason, received_at) VALUES (1, :lot, '2026-01-01', '2028-01-01', "
                                  "'quarantine', '', '2026-01-02 00:00:00')"), {"lot": lot})
        with pytest.raises(SystemExit):  # flask db upgrade exits 1 and prints the message
            upgrade()
        message = capsys.readouterr().err
        assert "'A/B-1'" in message and "'X.pdf'" in message and "GOOD-1" not in message
        assert "UPDATE batch SET lot_number" in message and "Nothing was changed" in message
        columns = {c["name"] for c in inspect(db.engine).get_columns("customer")}
        assert "session_token" not in columns and "failed_logins" in columns  # still as it was
        db.engine.dispose()


def _secret_in(folder: str, barrier, results) -> None:
    barrier.wait()
    results.put(_instance_secret(folder))


def test_processes_starting_together_share_one_development_key_readable_by_the_owner_only(tmp_path):
    context = multiprocessing.get_context("spawn")
    count = 4
    barrier, results = context.Barrier(count), context.Queue()
    processes = [context.Process(target=_secret_in, args=(str(tmp_path), barrier, results)) for _ in range(count)]
    for process in processes:
        process.start()
    keys = {results.get(timeout=60) for _ in processes}
    for process in processes:
        process.join(timeout=60)
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["secret_key"]  # no draft left behind


def test_a_development_key_file_readable_by_others_is_made_private(tmp_path):
    key = tmp_path / "secret_key"
    key.write_text("k" * 64)
    key.chmod(0o644)
    assert _instance_secret(str(tmp_path)) == "k" * 64
    assert key.stat().st_mode & 0o777 == 0o600


def test_the_app_refuses_to_start_in_production_without_secret_key_saying_so():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SHOP_ENV", "FLASK_DEBUG")}
    started = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
    assert started.returncode != 0
    assert "SECRET_KEY is not set" in started.stderr and "Traceback" not in started.stderr


def test_make_run_serves_a_development_shop_that_needs_no_setting():
    plan = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    serve = next(line for line in plan.splitlines() if " shop serve --host " in line)
    assert serve.startswith("SHOP_ENV=development ")


def test_trusted_hosts_refuses_other_host_headers(make_app):
    client = make_app(TRUSTED_HOSTS=["shop.example"]).test_client()
    assert client.get("/healthz", headers={"Host": "shop.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


def test_behind_a_proxy_limits_count_the_forwarded_client_and_hsts_follows_its_scheme(make_app):
    app = make_app(PROXY_COUNT=1, RATELIMIT_SIGNIN="1 per minute")
    client = app.test_client()
    form = {"email": "a@b.example", "password": "x" * 12}
    first = {"X-Forwarded-For": "203.0.113.1", "X-Forwarded-Proto": "https"}
    assert client.post("/sign-in", data=form, headers=first).status_code == 422
    assert client.post("/sign-in", data=form, headers=first).status_code == 429
    assert client.post("/sign-in", data=form, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 422
    assert "max-age" in client.get("/", headers=first).headers["Strict-Transport-Security"]


INLINE = [(re.compile(r"<style", re.I), "a <style> block"),
          (re.compile(r"\sstyle\s*=", re.I), "a style= attribute"),
          (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "an inline <script>"),
          (re.compile(r"\son[a-z]+\s*=", re.I), "an on*= handler"),
          (re.compile(r"javascript:", re.I), "a javascript: URL")]


def test_no_template_has_inline_script_or_style_so_the_csp_needs_no_unsafe_inline():
    found = [f"{path.relative_to(ROOT)}: {what}" for path in sorted((ROOT / "templates").rglob("*.html"))
             for pattern, what in INLINE if pattern.search(path.read_text())]
    assert found == []


def test_the_csp_is_the_same_on_errors_the_api_and_static_files(client):
    policies = {client.get(path).headers.get("Content-Security-Policy")
                for path in ("/", "/nowhere", "/api/v1/products", "/static/shop.css", "/healthz")}
    assert len(policies) == 1 and "frame-ancestors 'none'" in policies.pop()


def test_hsts_is_sent_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    assert client.get("/", base_url="https://shop.example").headers["Strict-Transport-Security"].startswith(
        "max-age=")


def test_dates_in_filters_beyond_the_year_2999_are_refused_beside_the_field(app, client):
    from tests.support.staff import sign_in as staff_sign_in

    app.test_client_class = type(client)
    staff_sign_in(client, "admin")
    page = client.get("/staff/ledger?date_from=3000-01-01")
    assert page.status_code == 400 and 'id="date_from-error"' in page.text and "from 1900 to 2999" in page.text
    assert datetime.now(UTC).year < 2999
