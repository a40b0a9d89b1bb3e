"""Contract price lists: the pricing rule as properties, CSV imports refused whole, dates, what each company sees
(API, product page, cart), and a constant statement count whatever the number of lists and companies."""
from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from shop.accounts.models import Company
from shop.catalog import price_lists, products
from shop.catalog.models import PriceList, PriceListItem
from shop.catalog.tiers import CONTRACT, LIST, Tier, price_for, price_steps
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from tests.support.api import new_api_client
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.sql import count_statements
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
D = Decimal
DRUM, BAG = "LEU-USP-25KG", "LEU-USP-1KG"
CSV = "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1700.00\nLEU-USP-25KG,20,1600.00\n"

prices = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)
tiers = st.lists(st.builds(Tier, st.integers(1, 60), prices), max_size=5, unique_by=lambda t: t.min_quantity)


@given(quantity=st.integers(1, 100), list_price=prices, breaks=tiers, contract=tiers)
def test_a_contract_tier_prices_a_line_exactly_when_one_reaches_its_quantity(quantity, list_price, breaks, contract):
    price = price_for(quantity, list_price, breaks, contract)
    reached = [t for t in contract if t.min_quantity <= quantity]
    if reached:
        assert price.source == CONTRACT
        assert price.unit_price == max(reached, key=lambda t: t.min_quantity).unit_price
    else:
        assert price.source == LIST
        public = [t for t in breaks if t.min_quantity <= quantity]
        expected = max(public, key=lambda t: t.min_quantity).unit_price if public else list_price
        assert price.unit_price == expected


@given(start=st.integers(1, 10), list_price=prices, breaks=tiers, contract=tiers)
def test_the_price_table_gives_every_quantity_its_own_price(start, list_price, breaks, contract):
    steps = price_steps(start, list_price, breaks, contract)
    assert steps[0].min_quantity == start and steps[-1].max_quantity is None
    for earlier, later in zip(steps, steps[1:], strict=False):
        assert earlier.max_quantity == later.min_quantity - 1 and earlier.price != later.price
    for quantity in range(start, 80):
        step = next(s for s in steps if s.min_quantity <= quantity and (s.max_quantity or quantity) >= quantity)
        assert step.price == price_for(quantity, list_price, breaks, contract)


@given(quantity=st.integers(1, 100), list_price=prices, breaks=tiers)
def test_without_a_contract_the_public_break_applies_as_before(quantity, list_price, breaks):
    from shop.catalog.models import PriceBreak, Variant

    variant = Variant(unit_price=list_price, price_breaks=[PriceBreak(min_quantity=t.min_quantity,
                                                                      unit_price=t.unit_price)
                                                           for t in sorted(breaks, key=lambda t: t.min_quantity)])
    assert price_for(quantity, list_price, breaks) == price_lists.variant_price(variant, quantity)
    reached = [t for t in breaks if t.min_quantity <= quantity]  # the deepest break reached, else the list price
    deepest = max(reached, key=lambda t: t.min_quantity).unit_price if reached else list_price
    assert price_for(quantity, list_price, breaks).unit_price == deepest


skus = st.from_regex(r"LEU-[A-Z]{2,4}-[0-9]{1,3}KG", fullmatch=True)


@given(rows=st.lists(st.tuples(skus, st.integers(1, 9999), prices), min_size=1, max_size=20,
                     unique_by=lambda r: (r[0], r[1])))
def test_a_well_formed_price_file_reads_back_exactly(rows):
    text = "sku,min_quantity,unit_price\n" + "".join(f"{sku},{q},{p}\n" for sku, q, p in rows)
    parsed = price_lists.parse_csv(text)
    assert [(r.sku, r.min_quantity, r.unit_price) for r in parsed] == rows


@given(price=prices, bad=st.sampled_from(["{:,}", "{}e0", "-{}", " {} EUR", "{}.", "{}0000000000"]))
def test_a_price_written_any_other_way_refuses_the_file(price, bad):
    text = f'sku,min_quantity,unit_price\nLEU-USP-25KG,1,"{bad.format(price)}"\n'
    if bad == "{:,}" and "," not in f"{price:,}":
        return  # below 1,000 there is no thousands separator to refuse
    with pytest.raises(InvalidInput, match="rows.2"):
        price_lists.parse_csv(text)


def _list(customer, text: str = CSV, **dates) -> PriceList:
    price_list = price_lists.create_price_list(customer.company, "Contract 2027", text, **dates)
    db.session.commit()
    return price_list


@pytest.mark.parametrize(("text", "message"), [
    ("sku,min_quantity,unit_price\nLEU-NOPE-25KG,1,10.00\n", "Unknown SKU: LEU-NOPE-25KG"),
    ("sku,min_quantity,unit_price\nLEU-USP-25KG,1,0\n", "not a positive amount"),
    ("sku,min_quantity,unit_price\nLEU-USP-25KG,1,\"1,500\"\n", "not a positive amount"),
    ("sku,min_quantity,unit_price\nLEU-USP-25KG,1,-5.00\n", "not a positive amount"),
    ("sku,min_quantity,unit_price\nLEU-USP-25KG,0,5.00\n", "whole number"),
    ("sku,min_quantity,unit_price\nLEU-USP-25KG,1,5.00\nLEU-USP-25KG,1,6.00\n", "already on line 2"),
    ("sku;min_quantity;unit_price\n", "header"),
])
def test_an_import_with_a_bad_row_is_refused_whole_and_the_previous_list_stays(app, product, customer, text,
                                                                                message):
    previous = _list(customer)
    with pytest.raises(InvalidInput) as refused:
        price_lists.replace_items(previous, text, None, None)
    db.session.rollback()
    assert message in str(refused.value)
    assert [(i.min_quantity, i.unit_price) for i in db.session.get(PriceList, previous.id).items] == [
        (1, D("1700.00")), (20, D("1600.00"))]


def test_the_cli_replaces_a_companys_list_and_refuses_a_bad_file_keeping_it(app, runner, product, customer,
                                                                            tmp_path):
    good, bad = tmp_path / "prices.csv", tmp_path / "bad.csv"
    good.write_text(CSV)
    bad.write_text("sku,min_quantity,unit_price\nLEU-USP-25KG,1,1e3\n")
    args = ["shop", "import-price-list", "--customer", customer.email]
    result = runner.invoke(args=[*args, str(good), "--valid-from", "2026-01-01", "--valid-to", "2099-12-31"])
    assert result.exit_code == 0 and "2 prices" in result.output, result.output
    result = runner.invoke(args=[*args, str(bad)])
    assert result.exit_code != 0 and "not a positive amount" in result.output
    assert db.session.scalar(select(func.count(PriceListItem.id))) == 2
    assert db.session.scalar(select(func.count(PriceList.id))) == 1


def test_lists_of_one_company_may_not_overlap(app, product, customer):
    today = price_lists.today()
    _list(customer, valid_from=today, valid_to=today + timedelta(days=30))
    with pytest.raises(InvalidInput, match="overlap"):
        price_lists.create_price_list(customer.company, "Second", CSV, today + timedelta(days=30), None)
    db.session.rollback()
    price_lists.create_price_list(customer.company, "Next year", CSV, today + timedelta(days=31), None)


@pytest.mark.parametrize(("first_day", "last_day", "applies"), [
    (0, 0, True), (-10, None, True), (None, 0, True), (1, None, False), (None, -1, False), (-30, -1, False)])
def test_the_contract_price_applies_inside_its_dates_only(app, client, stocked, first_day, last_day, applies):
    api = new_api_client(client, "erp@acme.example", "Acme")
    today = price_lists.today()
    _list(api.customer, valid_from=None if first_day is None else today + timedelta(days=first_day),
          valid_to=None if last_day is None else today + timedelta(days=last_day))
    drum = next(v for v in api.get("/api/v1/products/l-leucine-usp").get_json()["variants"] if v["sku"] == DRUM)
    if applies:
        assert (drum["unit_price"], drum["price_source"]) == ("1700.00", "contract")
        assert drum["price_breaks"] == [{"min_quantity": 20, "unit_price": "1600.00", "price_source": "contract"}]
    else:
        assert (drum["unit_price"], drum["price_source"]) == ("1950.00", "list")


def test_each_company_sees_its_own_prices_and_the_public_break_where_its_list_has_none(app, client, stocked):
    acme = new_api_client(client, "erp@acme.example", "Acme")
    rival = new_api_client(client, "erp@rival.example", "Rival")
    _list(acme.customer, "sku,min_quantity,unit_price\nLEU-USP-25KG,10,1500.00\n")
    variants = {v["sku"]: v for v in acme.get("/api/v1/products/l-leucine-usp").get_json()["variants"]}
    assert variants[DRUM]["unit_price"] == "1950.00" and variants[DRUM]["price_source"] == "list"
    assert variants[DRUM]["price_breaks"] == [{"min_quantity": 4, "unit_price": "1850.00", "price_source": "list"},
                                              {"min_quantity": 10, "unit_price": "1500.00",
                                               "price_source": "contract"}]
    assert variants[BAG]["price_source"] == "list"  # no item for the 1 kg bag: the public price
    listed = rival.get("/api/v1/products").get_json()["items"][0]["variants"]
    assert all(v["price_source"] == "list" for v in listed)
    assert "1500.00" not in str(listed)


def test_the_product_page_and_the_cart_show_the_contract_price(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 30})
    _list(customer)
    assert "contract" not in client.get("/products/l-leucine-usp").text  # a visitor: public prices
    sign_in(client)
    page = client.get("/products/l-leucine-usp").text
    assert "1,700.00" in page and "1,600.00" in page and "contract" in page
    client.post("/cart/add", data={"sku": DRUM, "quantity": 2})
    cart = client.get("/cart").text
    assert "3,400.00" in cart and "contract price" in cart


def _statements(client, path: str) -> int:
    from flask import g

    db.session.remove()
    g.pop("_login_user", None)
    products.clear_product_snapshots()  # cold, as after a restart: every read counts
    with count_statements() as seen:
        assert client.get(path).status_code == 200
    return len([s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "PRAGMA"))])


def test_product_page_and_api_detail_cost_the_same_with_one_list_as_with_thirty_companies_lists(app, client,
                                                                                                stocked):
    api = new_api_client(client, "erp@acme.example", "Acme")
    acme_id = api.customer.company_id
    _list(api.customer, valid_from=price_lists.today())
    sign_in(client, "erp@acme.example")
    page_one = _statements(client, "/products/l-leucine-usp")
    api.get("/api/v1/company")  # the key's first use is written down once; not part of what a page costs
    detail_one = _api_statements(api)
    assert "contract" in client.get("/products/l-leucine-usp").text
    today = price_lists.today()
    for i in range(30):
        other = make_customer(f"c{i}@example.com", f"Company {i}")
        _list(other)
        old = (today - timedelta(days=100 + 2 * i), today - timedelta(days=99 + 2 * i))
        price_lists.create_price_list(db.session.get(Company, acme_id), f"Old {i}", CSV, *old)
        db.session.commit()
    assert _statements(client, "/products/l-leucine-usp") == page_one
    assert _api_statements(api) == detail_one


def _api_statements(api) -> int:
    db.session.remove()
    with count_statements() as seen:
        assert api.get("/api/v1/products/l-leucine-usp").status_code == 200
    return len([s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "PRAGMA"))])


def test_staff_create_replace_and_delete_a_companys_price_list(app, client, product, customer):
    staff_sign_in(client, "admin")
    url = f"/staff/companies/{customer.company_id}"
    assert "Acme Nutrition" in client.get("/staff/companies?q=Acme").text
    assert "Acme Nutrition" not in client.get("/staff/companies?q=_").text  # a name starting with "_", not any
    page = client.post(url, data={"payment_terms": "net_30", "credit_limit": "1,000", "approval_threshold": ""})
    assert page.status_code == 422 and "plain amount" in page.text
    assert client.post(url, data={"payment_terms": "net_30", "credit_limit": "", "approval_threshold": "5000"}
                       ).status_code == 302
    created = client.post(f"{url}/price-lists", data={"name": "Contract 2027", "valid_from": "", "valid_to": "",
                                                      "csv_file": (io.BytesIO(CSV.encode()), "prices.csv")},
                          content_type="multipart/form-data")
    assert created.status_code == 302
    list_id = db.session.scalar(select(PriceList.id))
    bad = "sku,min_quantity,unit_price\nLEU-NOPE,1,5.00\n"
    client.post(f"{url}/price-lists/{list_id}/replace", data={"csv_file": (io.BytesIO(bad.encode()), "p.csv")},
                content_type="multipart/form-data")
    page = client.get(url).text
    assert "Unknown SKU: LEU-NOPE" in page and "1,700.00" in page
    client.post(f"{url}/price-lists/{list_id}/delete", data={"confirm": "yes"})
    assert db.session.scalar(select(func.count(PriceList.id))) == 0
    assert customer.company.approval_threshold == D("5000")
    # A new list never gets the deleted one's id (on SQLite too), which its audit line names.
    client.post(f"{url}/price-lists", data={"name": "Contract 2028", "valid_from": "", "valid_to": "",
                                            "csv_file": (io.BytesIO(CSV.encode()), "prices.csv")},
                content_type="multipart/form-data")
    assert db.session.scalar(select(PriceList.id)) > list_id


def test_the_catalog_prices_each_grade_from_the_companys_contract(app, client, product, customer):
    _list(customer, "sku,min_quantity,unit_price\nLEU-USP-1KG,1,80.00\n")
    assert "from 96.00" in client.get("/").text
    sign_in(client)
    assert "from 80.00" in client.get("/").text


FIRST = "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1700.00\nLEU-USP-25KG,20,1600.00\nLEU-USP-1KG,1,80.00\n"
SECOND = "sku,min_quantity,unit_price\nLEU-USP-1KG,1,80.00\nLEU-USP-25KG,1,1690.00\nLEU-USP-25KG,10,1650.00\n"


def _prices_of(company_id: int) -> list[tuple[str, int, Decimal]]:
    """The company's contract prices as the database holds them (read afresh, not from the session)."""
    db.session.remove()
    return sorted((item.variant.sku, item.min_quantity, item.unit_price)
                  for price_list in price_lists.lists_of(company_id) for item in price_list.items)


def _file_rows(text: str) -> list[tuple[str, int, Decimal]]:
    return sorted((row.sku, row.min_quantity, row.unit_price) for row in price_lists.parse_csv(text))


def test_importing_a_companys_price_list_again_leaves_exactly_the_new_file(app, runner, product, customer,
                                                                           tmp_path):
    args = ["shop", "import-price-list", "--customer", customer.email]
    for text in (FIRST, SECOND, SECOND, FIRST):  # overlapping, new, dropped and unchanged rows; the same file twice
        path = tmp_path / "prices.csv"
        path.write_text(text)
        result = runner.invoke(args=[*args, str(path)])
        assert result.exit_code == 0 and "3 prices" in result.output, result.output
        assert _prices_of(customer.company_id) == _file_rows(text)
    assert db.session.scalar(select(func.count(PriceList.id))) == 1


def test_staff_replace_a_price_list_twice_and_it_holds_exactly_the_last_file(app, client, product, customer):
    staff_sign_in(client, "admin")
    url = f"/staff/companies/{customer.company_id}"
    client.post(f"{url}/price-lists", data={"name": "Contract 2027", "valid_from": "", "valid_to": "",
                                            "csv_file": (io.BytesIO(FIRST.encode()), "prices.csv")},
                content_type="multipart/form-data")
    list_id = db.session.scalar(select(PriceList.id))
    for text in (SECOND, FIRST):
        replaced = client.post(f"{url}/price-lists/{list_id}/replace", follow_redirects=True,
                               data={"csv_file": (io.BytesIO(text.encode()), "p.csv")},
                               content_type="multipart/form-data")
        assert "The prices are replaced." in replaced.text, replaced.text
        assert _prices_of(customer.company_id) == _file_rows(text)


@pytest.mark.slow
def test_replacing_one_list_at_the_same_time_each_succeeds_and_it_holds_one_file_exactly(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 0})
    with app.app_context():
        make_product()
        customer = make_customer()
        list_id = _list(customer, FIRST).id
        files = [FIRST if n % 2 else SECOND for n in range(8)]
        barrier = threading.Barrier(len(files))

        def replace(text: str) -> None:
            with app.app_context():
                barrier.wait()
                run_in_transaction(lambda: price_lists.replace_items(db.session.get(PriceList, list_id), text,
                                                                     None, None))
                db.session.remove()

        with ThreadPoolExecutor(max_workers=len(files)) as pool:
            list(pool.map(replace, files))  # each raises here if its replace failed
        assert _prices_of(customer.company_id) in (_file_rows(FIRST), _file_rows(SECOND))
