"""Storefront catalog: the grade list, the product page (and its SQL cost), and lot certificates."""
from __future__ import annotations

from decimal import Decimal

from flask import g
from sqlalchemy import text

from shop.catalog import products
from shop.catalog.models import SpecTest
from shop.platform.extensions import db
from shop.quality import release
from tests.support.factories import good_results, make_lot, make_product, releaser, signed, signed_recall
from tests.support.sql import count_statements
from tests.support.staff import place
from tests.support.storefront import pdf_strings, sign_in


def test_catalog_shows_assay_price_from_and_stock(app, client, product):
    make_product(slug="l-leucine-feed", grade="Feed", sku_prefix="LEU-FEED")  # no lot: out of stock
    make_lot(product, "USP-1", {"LEU-USP-25KG": 3})
    page = client.get("/").text
    usp, feed = page.split("L-Leucine Feed")[0], page.split("L-Leucine Feed")[1]
    assert "98.5 – 101.5 %" in usp
    assert "from 96.00 EUR" in usp  # the cheapest pack's list price
    assert "70.40 EUR" in usp  # 1760.00 / 25 kg: the best price per kg after breaks
    assert "In stock" in usp and "Out of stock" in feed


def test_product_page_shows_spec_breaks_availability_and_lots(app, client, product):
    make_lot(product, "USP-OLD", {"LEU-USP-25KG": 4, "LEU-USP-1KG": 10}, expires_in_days=200)
    make_lot(product, "USP-NEW", {"LEU-USP-25KG": 6}, expires_in_days=600)
    make_lot(product, "USP-QUAR", {"LEU-USP-25KG": 50}, status="quarantine")
    page = client.get("/products/l-leucine-usp").text
    for fact in ("61-90-5", "C<sub>6</sub>H<sub>13</sub>NO<sub>2</sub>", "131.17 g/mol", "Loss on drying", "≤ 0.2 %",
                 "USP &lt;731&gt;"):
        assert fact in page
    assert "10 in stock" in page and "250 kg" in page  # 25 kg drums: 4 + 6 units
    assert "1,850.00 EUR" in page and "4–9" in page and "10+" in page
    assert page.index("USP-OLD") < page.index("USP-NEW")  # soonest expiry first, as FEFO allocates
    assert "USP-QUAR" not in page
    assert '/coa/USP-OLD.pdf' in page
    assert page.count("<h1") == 1
    assert page.count(">Add to cart") == 2


def test_specific_rotation_limits_show_their_plus_sign_as_in_the_monograph(app, client, product):
    make_lot(product, "USP-ROT", {"LEU-USP-25KG": 1})
    page = client.get("/products/l-leucine-usp").text
    assert "<td>Specific rotation</td><td>+14.9 – +17.3 °</td>" in page
    assert "<td>Assay (dried basis)</td><td>98.5 – 101.5 %</td>" in page  # amounts carry no plus sign
    assert "+14.9 – +17.3 °" in client.get("/coa/USP-ROT").text
    assert any("+14.9" in s and "+17.3" in s for s in pdf_strings(client.get("/coa/USP-ROT.pdf").data))
    laevo = SpecTest(name="Specific rotation", min_value=Decimal("-17.3000"), max_value=Decimal("-14.9000"), unit="°")
    assert laevo.limits_text == "-17.3 – -14.9 °"


def test_unknown_product_is_a_404_page(client, app):
    page = client.get("/products/no-such-grade")
    assert page.status_code == 404 and "no-such-grade" in page.text


def _product_page_statements(client, *, cold: bool) -> int:
    # Requests reuse the test's app context: start each one as a server would, with an empty session and
    # no signed-in user cached in g, so the page has to load everything itself. `cold` also empties the
    # app's catalog cache, as after a restart or once the cached product has expired.
    db.session.remove()
    g.pop("_login_user", None)
    if cold:
        products.clear_product_snapshots()
    else:
        assert client.get("/products/l-leucine-usp").status_code == 200
    with count_statements() as statements:
        assert client.get("/products/l-leucine-usp").status_code == 200
    return len(statements)


def test_product_page_costs_the_same_statements_with_3_lots_as_with_50(app, client, product, customer):
    for i in range(3):
        make_lot(product, f"LOT-{i}", {"LEU-USP-25KG": 2, "LEU-USP-1KG": 5}, expires_in_days=300 + i)
    cold_3, warm_3 = (_product_page_statements(client, cold=cold) for cold in (True, False))
    for i in range(3, 50):
        make_lot(product, f"LOT-{i}", {"LEU-USP-25KG": 2, "LEU-USP-1KG": 5}, expires_in_days=300 + i)
    cold_50, warm_50 = (_product_page_statements(client, cold=cold) for cold in (True, False))
    assert "LOT-49" in client.get("/products/l-leucine-usp").text
    assert cold_3 == cold_50 <= 5
    # With the catalog cached, only the live stock is read.
    assert warm_3 == warm_50 == 1
    sign_in(client)
    # The signed-in customer's own look-up fits too, with one more for its company's contract prices.
    assert _product_page_statements(client, cold=True) <= 6


def test_product_page_shows_live_stock_with_the_catalog_cached(app, client, product):
    make_lot(product, "L-1", {"LEU-USP-25KG": 3})
    assert "3 in stock" in client.get("/products/l-leucine-usp").text
    make_lot(product, "L-2", {"LEU-USP-25KG": 4})
    page = client.get("/products/l-leucine-usp").text
    assert "7 in stock" in page and "L-2" in page


PAGE = "/products/l-leucine-usp"


def _both_show(clients, *facts: str, absent: tuple[str, ...] = ()) -> None:
    for other in clients:
        page = other.get(PAGE).text
        assert all(fact in page for fact in facts), [f for f in facts if f not in page]
        assert not any(fact in page for fact in absent), [f for f in absent if f in page]


def test_a_cached_product_page_shows_every_catalog_change_at_once_in_every_process(app, client, make_app,
                                                                                  product):
    # A second app is another server process with a cache of its own; both are warm before each change.
    clients = (client, make_app().test_client())
    _both_show(clients, "1,950.00 EUR", "1,850.00 EUR", "≤ 0.2 %")
    drum = product.variants[1]
    drum.unit_price = Decimal("1990.00")
    db.session.commit()
    _both_show(clients, "1,990.00 EUR", absent=("1,950.00 EUR",))
    drum.price_breaks[0].unit_price = Decimal("1840.00")  # a price break
    db.session.commit()
    _both_show(clients, "1,840.00 EUR", absent=("1,850.00 EUR",))
    # Whoever writes it: a change made in SQL by hand, outside the shop, is counted by the database's triggers.
    db.session.execute(text("UPDATE spec_test SET max_value = 0.3 WHERE name = 'Loss on drying'"))
    db.session.commit()
    _both_show(clients, "≤ 0.3 %", absent=("≤ 0.2 %",))
    product.variants[0].active = False  # a pack size withdrawn from sale
    db.session.commit()
    _both_show(clients, "LEU-USP-25KG", absent=("LEU-USP-1KG",))
    product.active = False  # the grade withdrawn
    db.session.commit()
    assert [other.get(PAGE).status_code for other in clients] == [404, 404]


def test_a_cached_product_page_shows_release_recall_and_sell_out_at_once(app, client, make_app, product, customer):
    clients = (client, make_app().test_client())
    make_lot(product, "L-1", {"LEU-USP-25KG": 3})
    batch = make_lot(product, "L-2", {"LEU-USP-25KG": 4}, status="quarantine")
    _both_show(clients, "3 in stock", "L-1", absent=("L-2",))
    release.record_results(batch, good_results(product))
    release.release_batch(batch, signed(releaser(), "release", "L-2"))
    db.session.commit()
    _both_show(clients, "7 in stock", "L-2")
    signed_recall("L-2", "Foreign matter found")
    db.session.commit()
    _both_show(clients, "3 in stock", "L-1", absent=("L-2",))
    place(customer, "LEU-USP-25KG", 3)
    _both_show(clients, "Out of stock", absent=("L-1", "3 in stock"))


def test_the_catalog_version_counts_every_change_to_what_the_page_shows(app, product):
    def version() -> int:
        return db.session.scalar(text("SELECT catalog_version FROM product WHERE id = :id"), {"id": product.id})

    seen = [version()]
    for change in ("UPDATE product SET description = 'New words.'",
                   "UPDATE variant SET unit_price = 97 WHERE sku = 'LEU-USP-1KG'",
                   "UPDATE price_break SET unit_price = 1849 WHERE min_quantity = 4",
                   "DELETE FROM price_break WHERE min_quantity = 10",
                   "INSERT INTO spec_test (product_id, position, name, min_value, max_value, unit, method) "
                   f"VALUES ({product.id}, 99, 'Ash', NULL, 0.1, '%', 'Ph. Eur.')",
                   "DELETE FROM spec_test WHERE name = 'Ash'"):
        db.session.execute(text(change))
        db.session.commit()
        seen.append(version())
    # Every change moves the version on (an UPDATE of a row under the product counts its old and its new product,
    # the same one here: up by two).
    assert seen == sorted(set(seen)), f"each change must move the version on: {seen}"
    make_lot(product, "L-1", {"LEU-USP-25KG": 3})  # stock is read live, and never moves the version
    assert version() == seen[-1]


def test_coa_page_shows_every_result_against_limits(app, client, product):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 2})
    page = client.get("/coa/USP-2501").text
    for test in product.spec_tests:
        assert test.name in page
    assert page.count(">Pass<") == len(product.spec_tests)
    assert "Released" in page and "RECALLED" not in page


def test_coa_pdf_is_a_pdf_download(app, client, product):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 2})
    response = client.get("/coa/USP-2501.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "CoA-USP-2501.pdf" in response.headers["Content-Disposition"]
    strings = pdf_strings(response.data)
    assert "USP-2501" in strings and "L-Leucine USP" in strings and "RELEASED" in strings
    assert all(test.name in strings for test in product.spec_tests)
    assert strings.count("PASS") == len(product.spec_tests) and "FAIL" not in strings


def test_unreleased_lots_have_no_coa(app, client, product):
    make_lot(product, "Q-1", {"LEU-USP-25KG": 2}, status="quarantine")
    make_lot(product, "R-1", {"LEU-USP-25KG": 2}, status="rejected")
    for url in ("/coa/Q-1", "/coa/Q-1.pdf", "/coa/R-1", "/coa/R-1.pdf", "/coa/NOPE"):
        assert client.get(url).status_code == 404, url


def test_recalled_lot_coa_carries_a_recalled_banner(app, client, product):
    make_lot(product, "X-1", {"LEU-USP-25KG": 2}, status="recalled")
    page = client.get("/coa/X-1")
    assert page.status_code == 200 and "RECALLED" in page.text
    pdf = pdf_strings(client.get("/coa/X-1.pdf").data)
    assert "RECALLED" in pdf
    assert "X-1" not in client.get("/products/l-leucine-usp").text  # not offered for sale
