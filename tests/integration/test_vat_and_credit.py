"""VAT per order (each rule with real VAT IDs), payment terms, the credit limit at placing and at approval
(atomic, on both databases) and a company's open exposure (issue #24)."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop import ordering
from shop.accounts import companies
from shop.accounts import people as accounts
from shop.invoicing.models import EXEMPTION_NOTES, DocumentKind, Invoice, Payment, VatRule
from shop.invoicing.vat import decide
from shop.ordering.exposure import open_exposure
from shop.ordering.models import Order
from shop.platform.config import ConfigError
from shop.platform.extensions import db
from tests.conftest import PG_URL
from tests.support.api import ADDRESS, ApiClient, assert_problem, available, order_count
from tests.support.factories import make_customer, make_lot, make_member, make_product, make_staff
from tests.support.sql import count_statements
from tests.support.staff import sign_in as staff_sign_in
from tests.support.staff import text_of
from tests.support.storefront import CHECKOUT_ADDRESS, sign_in

D = Decimal
DRUM = "LEU-USP-25KG"  # 1,950.00 a drum below 4 drums: 2,320.50 with 19 % VAT


# --- The VAT rule of an order ------------------------------------------------------------------------------

@pytest.mark.parametrize("ship, vat_id, rule, rate", [
    ("DE", "", VatRule.DOMESTIC, D("19.00")),
    ("DE", "FR40303265045", VatRule.DOMESTIC, D("19.00")),
    ("FR", "FR40303265045", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("AT", "ATU13585627", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("NL", "NL004495445B01", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("BE", "BE0403170701", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("GR", "EL094259216", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("FR", "FR40303265046", VatRule.EU_OTHER, D("19.00")),  # a wrong check digit: the seller's rate
    ("FR", "", VatRule.EU_OTHER, D("19.00")),
    ("FR", "DE136695976", VatRule.EU_OTHER, D("19.00")),
    ("CH", "", VatRule.EXPORT, D("0.00")),
    ("US", "FR40303265045", VatRule.EXPORT, D("0.00")),
])
def test_each_vat_rule_from_the_rates_table(app, ship, vat_id, rule, rate):
    decision = decide(seller_country="DE", ship_country=ship, buyer_vat_id=vat_id)
    assert (decision.rule, decision.rate) == (rule, rate)
    assert decision.note == EXEMPTION_NOTES.get(rule, "")


def test_another_sellers_country_charges_its_own_rate(app):
    """Rates are data: an Austrian seller charges Austria's 20 % at home and to a French consumer."""
    assert decide(seller_country="AT", ship_country="AT", buyer_vat_id="").rate == D("20.00")
    assert decide(seller_country="AT", ship_country="FR", buyer_vat_id="").rate == D("20.00")
    assert decide(seller_country="AT", ship_country="DE", buyer_vat_id="DE136695976").rule is VatRule.INTRA_COMMUNITY


@pytest.mark.parametrize("value", ["Germany", "XX", "D"])
def test_a_shop_country_that_is_no_country_code_stops_start_up_naming_it(make_app, monkeypatch, value):
    monkeypatch.setenv("SHOP_COUNTRY", value)
    with pytest.raises(ConfigError, match="SHOP_COUNTRY"):
        make_app()


def test_the_shop_country_defaults_to_germany(app):
    assert app.config["SHOP_COUNTRY"] == "DE"


def test_orders_wait_with_503_while_the_shop_country_has_no_vat_rate_and_keep_no_outcome(app, api, stocked):
    """A valid code that the vat_rate table has no rate for (/readyz says so too): no order can be priced. The
    client is told to retry later, nothing is written, and the key keeps no outcome: once the setting is mended,
    the same request places the order."""
    app.config["SHOP_COUNTRY"] = "CH"
    stock_before = available(api, DRUM)
    waiting = api.order([{"sku": DRUM, "quantity": 1}], key="before-the-fix")
    body = assert_problem(waiting, 503, "service-unavailable")
    assert waiting.headers["Retry-After"] == "60" and "nothing was changed" in body["detail"]
    assert "SHOP_COUNTRY" not in body["detail"]  # the operator's business: the log and /readyz name it
    assert (available(api, DRUM), order_count()) == (stock_before, 0)
    app.config["SHOP_COUNTRY"] = "DE"
    placed = api.order([{"sku": DRUM, "quantity": 1}], key="before-the-fix")
    assert placed.status_code == 201 and placed.get_json()["vat"] == "370.50"


def test_checkout_says_the_shop_cannot_take_orders_while_the_shop_country_has_no_vat_rate(app, client, product,
                                                                                         customer):
    make_lot(product, "L-1", {DRUM: 10})
    sign_in(client)
    client.post("/cart/add", data={"sku": DRUM, "quantity": "1"})
    app.config["SHOP_COUNTRY"] = "CH"
    page = client.get("/checkout")
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    assert "The shop cannot take this request right now; nothing was changed." in text_of(page.text)
    app.config["SHOP_COUNTRY"] = "DE"
    assert "Total 2,320.50 EUR" in text_of(client.get("/checkout").text)  # the cart is still there


# --- VAT on placed orders ------------------------------------------------------------------------------------

def _ship_to(country: str) -> dict[str, str]:
    return {**ADDRESS, "country": country}


def _with_vat_id(api, vat_id: str) -> None:
    api.customer.company.vat_id = vat_id
    db.session.commit()


@pytest.mark.parametrize("country, vat_id, rule, vat, total", [
    ("DE", "", "domestic", "741.00", "4641.00"),
    ("FR", "FR40303265045", "intra_community", "0.00", "3900.00"),
    ("GR", "EL094259216", "intra_community", "0.00", "3900.00"),
    ("FR", "FR40303265046", "eu_other", "741.00", "4641.00"),  # a wrong check digit: no exemption
    ("CH", "", "export", "0.00", "3900.00"),
])
def test_an_order_bears_the_vat_of_its_rule(api, stocked, country, vat_id, rule, vat, total):
    _with_vat_id(api, vat_id)
    answer = api.order([{"sku": DRUM, "quantity": 2}], shipping_address=_ship_to(country))
    assert answer.status_code == 201, answer.get_json()
    order = answer.get_json()
    assert (order["subtotal"], order["vat_rule"], order["vat"], order["total"]) == ("3900.00", rule, vat, total)
    assert order["vat_rate"] == ("19.00" if vat != "0.00" else "0.00")
    assert api.get(f"/api/v1/orders/{order['number']}").get_json() == order


# --- The credit limit -----------------------------------------------------------------------------------------

def _on_credit(api, limit: str, terms: str = "net_30") -> None:
    companies.set_terms(api.customer.company, terms, limit)
    db.session.commit()


def test_an_order_beyond_the_credit_limit_is_refused_with_the_available_credit_and_changes_nothing(api, stocked):
    """5,000.00 on net 30: two drums (4,641.00 with VAT) fit, a third (2,320.50) does not: 358.99 is left."""
    _on_credit(api, "4999.99")
    assert api.order([{"sku": DRUM, "quantity": 2}]).status_code == 201
    stock_before, orders_before = available(api, DRUM), order_count()
    refused = api.order([{"sku": DRUM, "quantity": 1}], key="third")
    body = assert_problem(refused, 409, "credit-limit-exceeded")
    assert body["available_credit"] == "358.99"
    assert "2,320.50 EUR" in body["detail"] and "358.99 EUR" in body["detail"]
    assert (available(api, DRUM), order_count()) == (stock_before, orders_before)
    company = api.get("/api/v1/company").get_json()
    assert (company["open_exposure"], company["available_credit"]) == ("4641.00", "358.99")
    # The refusal is the key's outcome: a retry gets it again, even once there would be room.
    _on_credit(api, "100000")
    again = api.order([{"sku": DRUM, "quantity": 1}], key="third")
    assert assert_problem(again, 409, "credit-limit-exceeded")["available_credit"] == "358.99"
    assert api.order([{"sku": DRUM, "quantity": 1}], key="fourth").status_code == 201


def test_an_order_that_takes_exactly_the_last_credit_is_placed(api, stocked):
    _on_credit(api, "2320.50")
    assert api.order([{"sku": DRUM, "quantity": 1}]).status_code == 201
    assert api.get("/api/v1/company").get_json()["available_credit"] == "0.00"


def test_a_prepaid_company_and_one_without_a_limit_are_not_held_to_one(api, stocked):
    _on_credit(api, "100", terms="prepaid")
    assert api.order([{"sku": DRUM, "quantity": 1}]).status_code == 201
    _on_credit(api, "", terms="net_30")
    assert api.order([{"sku": DRUM, "quantity": 1}]).status_code == 201


def test_payments_and_credit_notes_lower_the_exposure(api, stocked):
    _on_credit(api, "10000")
    number = api.order([{"sku": DRUM, "quantity": 2}]).get_json()["number"]  # 4,641.00
    order = db.session.scalar(select(Order).where(Order.number == number))
    db.session.add(Payment(company_id=order.company_id, order_id=order.id, amount=D("1000.00"),
                           paid_on=date.today(), reference="partial"))
    db.session.add(_invoice(order, credited=D("641.00")))
    db.session.commit()
    company = api.get("/api/v1/company").get_json()
    assert (company["open_exposure"], company["available_credit"]) == ("3000.00", "7000.00")
    assert open_exposure(order.company_id) == D("3000.00")


def _invoice(order: Order, credited: Decimal) -> Invoice:
    """An issued invoice of the whole order, of which `credited` was taken off by a credit note."""
    today = date.today()
    return Invoice(kind=DocumentKind.INVOICE, number=f"INV-{today.year}-000001", year=today.year, serial=1,
                   company_id=order.company_id, order_id=order.id, order_number=order.number, issued_on=today,
                   due_on=today, payment_terms=order.payment_terms, currency=order.currency,
                   buyer_name="Acme Nutrition", ship_country=order.ship_country, vat_rule=VatRule.DOMESTIC,
                   vat_rate=order.vat_rate, net=order.subtotal, vat=order.vat, gross=order.total,
                   amount_credited=credited)


def test_a_cancelled_order_gives_its_credit_back(api, stocked):
    _on_credit(api, "2320.50")
    number = api.order([{"sku": DRUM, "quantity": 1}]).get_json()["number"]
    assert_problem(api.order([{"sku": DRUM, "quantity": 1}]), 409, "credit-limit-exceeded")
    api.post(f"/api/v1/orders/{number}/cancel")
    assert api.order([{"sku": DRUM, "quantity": 1}]).status_code == 201


@pytest.fixture
def approvals(api, client):
    """Acme on net 30 with a 5,000.00 limit and a 1,000.00 approval threshold: its admin's key (`api`, whose
    orders are not held), a buyer's key and an approver's key."""
    companies.set_terms(api.customer.company, "net_30", "5000", "1000")
    buyer = make_member(api.customer, "buyer2@acme.example", "buyer")
    boss = make_member(api.customer, "boss@acme.example", "approver")
    keys = [ApiClient(client, accounts.create_api_key(person, "k", role), person)
            for person, role in ((buyer, "buyer"), (boss, "approver"))]
    db.session.commit()
    return keys


def test_approval_checks_the_credit_again(api, stocked, approvals):
    """A buyer's order waits for approval within the limit; the admin's order then takes the room: approving the
    first is 409 credit-limit-exceeded, and it keeps waiting (then it can be rejected, or approved once paid)."""
    buyer, approver = approvals
    waiting = buyer.order([{"sku": DRUM, "quantity": 1}]).get_json()  # 2,320.50
    assert waiting["status"] == "awaiting_approval"
    assert api.order([{"sku": DRUM, "quantity": 1}]).status_code == 201  # 2,320.50: 4,641.00 of 5,000.00
    companies.set_terms(api.customer.company, "net_30", "4000", "1000")
    db.session.commit()
    refused = approver.post(f"/api/v1/orders/{waiting['number']}/approve", json={})
    assert assert_problem(refused, 409, "credit-limit-exceeded")["available_credit"] == "1679.50"
    assert api.get(f"/api/v1/orders/{waiting['number']}").get_json()["status"] == "awaiting_approval"
    companies.set_terms(api.customer.company, "net_30", "5000", "1000")
    db.session.commit()
    assert approver.post(f"/api/v1/orders/{waiting['number']}/approve", json={}).status_code == 200


def test_a_quote_accepted_beyond_the_credit_is_refused_and_stays_open(api, stocked):
    """A quote turned into an order is held to the credit limit as any order; its VAT is charged as any order's."""
    from tests.integration.test_quotes_api import sales_answer

    _on_credit(api, "5000")
    number = api.post("/api/v1/quotes", json={"lines": [{"sku": DRUM, "quantity": 3}]}).get_json()["number"]
    sales_answer(make_staff("sales"), number, ["1800.00"])  # 5,400.00, 6,426.00 with VAT
    accept = {"shipping_address": ADDRESS, "purchase_order": "PO-Q"}
    refused = api.post(f"/api/v1/quotes/{number}/accept", json=accept, key="accept-1")
    assert assert_problem(refused, 409, "credit-limit-exceeded")["available_credit"] == "5000.00"
    assert order_count() == 0 and api.get(f"/api/v1/quotes/{number}").get_json()["status"] == "answered"
    _on_credit(api, "7000")
    placed = api.post(f"/api/v1/quotes/{number}/accept", json=accept, key="accept-2")
    assert placed.status_code == 201, placed.get_json()
    assert (placed.get_json()["subtotal"], placed.get_json()["total"]) == ("5400.00", "6426.00")


# --- Atomic: the last room goes to one order ----------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_two_orders_racing_for_the_last_credit_one_wins(make_app, backend):
    """Room for one drum on credit, two threads (two connections) order one each at once: exactly one is placed,
    the other is 409 credit-limit-exceeded; the exposure stays within the limit."""
    if backend == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 6, "max_overflow": 0, "pool_timeout": 60})
    with app.app_context():
        make_lot(make_product(), "L-RACE", {DRUM: 10})
        customer = make_customer("buyer@acme.example", "Acme Nutrition")
        companies.set_terms(customer.company, "net_30", "3000")
        keys = [accounts.create_api_key(customer, f"key {n}") for n in range(2)]
        db.session.commit()
        company_id = customer.company_id
    for round_ in range(3):  # a few rounds, as a race may go either way
        answers = _race(app, [(key, f"race-{round_}-{n}") for n, key in enumerate(keys)])
        assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
        with app.app_context():
            assert open_exposure(company_id) == D("2320.50")
            number = next(a.get_json()["number"] for a in answers if a.status_code == 201)
            ordering.cancel_order(number)
            db.session.commit()


def _race(app, requests: list[tuple[str, str]]) -> list:
    """POST one drum per (API key, Idempotency-Key) at once, one thread and connection each."""
    barrier = threading.Barrier(len(requests))

    def send(request: tuple[str, str]):
        client = app.test_client()
        barrier.wait()
        key, idempotency_key = request
        body = {"lines": [{"sku": DRUM, "quantity": 1}], "shipping_address": ADDRESS}
        return client.post("/api/v1/orders", json=body,
                           headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key})

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


# --- What the limit costs ------------------------------------------------------------------------------------

def test_a_credit_limit_costs_at_most_one_statement_and_no_limit_none(api, backend, stocked):
    api.get("/api/v1/company")  # the key's first use is written down (then at most once a minute): not counted
    without = _statements_for(api, "no-limit")
    _on_credit(api, "", terms="net_30")
    net_without_limit = _statements_for(api, "net-no-limit")
    _on_credit(api, "1000000")
    with_limit = _statements_for(api, "limit")
    assert len(net_without_limit) == len(without), "\n".join(net_without_limit)
    assert len(with_limit) - len(without) <= (1 if backend == "postgresql" else 0), "\n".join(with_limit)


def _statements_for(api, key: str) -> list[str]:
    with count_statements(fresh_session=True) as statements:
        answer = api.order([{"sku": DRUM, "quantity": 1}], key=key)
    assert answer.status_code == 201, answer.get_json()
    return statements


# --- The storefront -------------------------------------------------------------------------------------------

def test_checkout_shows_subtotal_vat_and_total_and_the_available_credit(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 10})
    companies.set_terms(customer.company, "net_30", "10000")
    db.session.commit()
    sign_in(client)
    client.post("/cart/add", data={"sku": DRUM, "quantity": "2"})
    page = text_of(client.get("/checkout").text)
    assert "Subtotal 3,900.00 EUR" in page and "VAT 19.00 % 741.00 EUR" in page and "Total 4,641.00 EUR" in page
    assert "Available credit: 10,000.00 EUR of your company's 10,000.00 EUR limit" in page
    assert "Payment terms: Net 30 days" in page


def test_checkout_warns_before_an_order_beyond_the_credit_and_refuses_it_with_a_message(app, client, product,
                                                                                         customer):
    make_lot(product, "L-1", {DRUM: 10})
    companies.set_terms(customer.company, "net_30", "4000")
    db.session.commit()
    sign_in(client)
    client.post("/cart/add", data={"sku": DRUM, "quantity": "2"})
    page = client.get("/checkout").text
    assert 'id="credit-warning"' in page
    assert "Its total, 4,641.00 EUR, is more than the 4,000.00 EUR of credit" in text_of(page)
    token = re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', page).group(1)
    refused = client.post("/checkout", data={**CHECKOUT_ADDRESS, "token": token})
    assert refused.status_code == 409
    assert "No order was placed. This order (4,641.00 EUR) exceeds your company's available credit (4,000.00 EUR)" \
        in text_of(refused.text)
    assert db.session.scalar(select(func.count(Order.id))) == 0


def _checkout_page(client) -> tuple[str, dict[str, str]]:
    page = client.get("/checkout").text
    hidden = {name: re.search(rf'id="{name}" name="{name}" type="hidden" value="([^"]+)"', page).group(1)
              for name in ("token", "vat_shown")}
    return page, hidden


def test_checkout_places_no_order_at_a_higher_vat_rate_than_the_page_showed(app, client, product, customer):
    # An Austrian company with its VAT ID: the page works VAT out for its billing country, intra-community 0 %.
    make_lot(product, "L-1", {DRUM: 10})
    customer.company.vat_id, customer.company.billing_country = "ATU13585627", "AT"
    db.session.commit()
    sign_in(client)
    client.post("/cart/add", data={"sku": DRUM, "quantity": "2"})
    page, hidden = _checkout_page(client)
    assert "VAT 0.00 % (Intra-community supply" in text_of(page) and hidden["vat_shown"] == "AT 0.00"
    # The buyer ships to Germany instead, where 19 % applies: nothing is placed until they have seen it.
    to_germany = {**CHECKOUT_ADDRESS, "country": "DE", **hidden}
    told = client.post("/checkout", data=to_germany)
    assert told.status_code == 409 and db.session.scalar(select(func.count(Order.id))) == 0
    said = text_of(told.text)
    assert "No order was placed: VAT for delivery to Germany is 19.00 %, more than the 0.00 % this page showed " \
           "for Austria" in said
    assert "VAT 19.00 % 741.00 EUR" in said and "Total 4,641.00 EUR" in said  # the new total, before placing
    # Sent again from the page that shows it, the order is placed at that rate.
    shown = re.search(r'name="vat_shown" type="hidden" value="([^"]+)"', told.text).group(1)
    placed = client.post("/checkout", data={**to_germany, "vat_shown": shown})
    assert placed.status_code == 302, text_of(placed.text)
    assert db.session.scalar(select(Order.total)) == D("4641.00")


@pytest.mark.parametrize("country, rate", [("FR", "19.00"), ("GB", "0.00")])
def test_checkout_places_the_order_at_once_where_vat_is_what_the_page_showed_or_less(app, client, product, customer,
                                                                                     country, rate):
    # Germany's 19 % shown; France (no VAT ID: the seller's rate) the same, the United Kingdom (export) less.
    make_lot(product, "L-1", {DRUM: 10})
    sign_in(client)
    client.post("/cart/add", data={"sku": DRUM, "quantity": "1"})
    _, hidden = _checkout_page(client)
    assert hidden["vat_shown"] == "DE 19.00"
    placed = client.post("/checkout", data={**CHECKOUT_ADDRESS, "country": country, **hidden})
    assert placed.status_code == 302, text_of(placed.text)
    assert db.session.scalar(select(Order.vat_rate)) == D(rate)


def test_checkout_reads_a_vat_shown_that_is_not_its_own_as_nothing_shown(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 10})
    sign_in(client)
    client.post("/cart/add", data={"sku": DRUM, "quantity": "1"})
    _, hidden = _checkout_page(client)
    placed = client.post("/checkout", data={**CHECKOUT_ADDRESS, "country": "FR", **hidden, "vat_shown": "AT NaN"})
    assert placed.status_code == 302, text_of(placed.text)  # no 500: the order is placed as without the field


def test_an_exempt_order_shows_its_note_on_the_order_page_and_to_staff(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 10})
    customer.company.vat_id = "ATU13585627"
    db.session.commit()
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 1}], {**ADDRESS, "country": "AT"})
    db.session.commit()
    sign_in(client)
    page = text_of(client.get(f"/orders/{order.number}").text)
    assert "VAT 0.00 % 0.00 EUR Intra-community supply, exempt under Article 138" in page
    assert "Total (excluding shipping) 1,950.00 EUR" in page
    staff = app.test_client()
    staff_sign_in(staff, "fulfilment")
    staff_page = text_of(staff.get(f"/staff/orders/{order.number}").text)
    assert "VAT 0.00 % 0.00 EUR (intra community: Intra-community supply" in staff_page
    assert "Payment terms Prepaid" in staff_page


def test_staff_see_a_companys_exposure_and_available_credit(app, product, customer):
    make_lot(product, "L-1", {DRUM: 10})
    companies.set_terms(customer.company, "net_30", "10000")
    db.session.commit()
    ordering.place_order(customer, [{"sku": DRUM, "quantity": 2}], ADDRESS)
    db.session.commit()
    staff = app.test_client()
    staff_sign_in(staff, "admin")
    page = text_of(staff.get(f"/staff/companies/{customer.company_id}").text)
    assert "Open exposure 4,641.00 EUR · available credit 5,359.00 EUR of 10,000.00 EUR" in page


def test_an_approver_in_the_storefront_is_told_why_approval_is_refused(api, client, stocked, approvals):
    buyer, _ = approvals
    waiting = buyer.order([{"sku": DRUM, "quantity": 2}]).get_json()  # 4,641.00 of 5,000.00
    companies.set_terms(api.customer.company, "net_30", "4000", "1000")
    db.session.commit()
    sign_in(client, "boss@acme.example", "a long unusual passphrase")
    page = client.post(f"/account/approvals/{waiting['number']}/approve", data={"note": ""}, follow_redirects=True)
    assert "This order (4,641.00 EUR) exceeds your company's available credit (4,000.00 EUR)" in text_of(page.text)
    assert api.get(f"/api/v1/orders/{waiting['number']}").get_json()["status"] == "awaiting_approval"
