"""Conditional GET (#29): product pages, CoA pages and PDFs, document downloads and the API's product reads carry a
strong ETag of the body sent and answer 304 to a client that holds it; the tag changes with anything the body says
(a lot released or sold out, a price, a recall), a company's contract prices give it a tag of its own, and no
answer that depends on who asks is ever `public`."""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask import g

from shop.catalog import price_lists, products
from shop.catalog.models import Variant
from shop.platform.extensions import db
from tests.support.api import new_api_client
from tests.support.documents import add_document
from tests.support.factories import make_customer, make_lot, signed_recall
from tests.support.staff import place
from tests.support.storefront import sign_in

DRUM = "LEU-USP-25KG"
PAGE = "/products/l-leucine-usp"


def get(client, path: str, **kwargs):
    """A GET as a new server request: the test's app context would otherwise hand the signed-in user (and the
    CSRF token) that Flask-Login and Flask-WTF keep in `g` from one client's request to the next client's."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    return client.get(path, **kwargs)


def etag_of(client, path: str, **kwargs) -> str:
    response = get(client, path, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"].startswith('"'), "a strong tag, not W/"
    return response.headers["ETag"]


def again(client, path: str, etag: str, **kwargs):
    headers = {**kwargs.pop("headers", {}), "If-None-Match": etag}
    return get(client, path, headers=headers, **kwargs)


def assert_not_modified(client, path: str, etag: str, **kwargs) -> None:
    response = again(client, path, etag, **kwargs)
    assert response.status_code == 304, response.text
    assert response.data == b""
    assert response.headers["ETag"] == etag


def assert_changed(client, path: str, etag: str, **kwargs):
    """The client's copy is stale: it gets 200 with the new body, under a new tag."""
    response = again(client, path, etag, **kwargs)
    assert response.status_code == 200 and response.data
    assert response.headers["ETag"] != etag
    return response


def signed_in(app, email: str):
    """A client of its own signed in as `email`, the "Signed in" message already shown (it is in one body only)."""
    client = app.test_client()
    sign_in(client, email)
    get(client, "/")
    return client


def _contract(customer, text: str) -> None:
    price_lists.create_price_list(customer.company, "Contract", text)
    db.session.commit()


@pytest.fixture
def visitor(app):
    return app.test_client()


def test_a_product_page_answers_304_until_a_lot_is_released_or_sold_out(app, visitor, product, customer):
    make_lot(product, "L-1", {DRUM: 3})
    etag = etag_of(visitor, PAGE)
    assert_not_modified(visitor, PAGE, etag)

    make_lot(product, "L-2", {DRUM: 5})
    released = assert_changed(visitor, PAGE, etag)
    assert "L-2" in released.text
    etag = released.headers["ETag"]
    assert_not_modified(visitor, PAGE, etag)

    place(customer, DRUM, 8)  # every drum of both lots: sold out
    sold_out = assert_changed(visitor, PAGE, etag)
    assert "L-1" not in sold_out.text and "L-2" not in sold_out.text


def test_a_product_page_answers_200_with_the_new_price_after_a_price_change(app, visitor, product):
    etag = etag_of(visitor, PAGE)
    db.session.get(Variant, next(v.id for v in product.variants if v.sku == DRUM)).unit_price = Decimal("1990.00")
    db.session.commit()
    products.clear_product_snapshots()  # the catalog cache's own lifetime is not what this test is about
    assert "1,990.00" in assert_changed(visitor, PAGE, etag).text


def test_a_companys_contract_prices_have_their_own_etag_that_no_one_else_is_told_to_keep(app, product):
    acme = make_customer("buyer@acme.example", "Acme Nutrition")
    rival = make_customer("buyer@rival.example", "Rival Labs")
    _contract(acme, "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1700.00\n")
    _contract(rival, "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1650.00\n")
    anonymous, acme_client, rival_client = app.test_client(), signed_in(app, acme.email), signed_in(app, rival.email)

    public, acmes, rivals = etag_of(anonymous, PAGE), etag_of(acme_client, PAGE), etag_of(rival_client, PAGE)
    assert len({public, acmes, rivals}) == 3
    assert_not_modified(acme_client, PAGE, acmes)

    # Someone (a cache, a shared browser) replays Acme's tag without Acme's session: the public page, not a 304.
    page = again(anonymous, PAGE, acmes)
    assert page.status_code == 200 and page.headers["ETag"] == public
    assert "1,950.00" in page.text and "1,700.00" not in page.text
    assert again(rival_client, PAGE, acmes).status_code == 200

    # A new contract price changes Acme's tag.
    [acme_list] = price_lists.lists_of(acme.company_id)
    price_lists.replace_items(acme_list, "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1690.00\n", None, None)
    db.session.commit()
    assert "1,690.00" in assert_changed(acme_client, PAGE, acmes).text


def test_a_signed_in_page_is_private_and_never_stored_and_an_anonymous_one_is_revalidated(app, visitor, product,
                                                                                          customer):
    make_lot(product, "L-1", {DRUM: 3})
    anonymous = get(visitor, PAGE)
    assert anonymous.headers["Cache-Control"] == "no-cache"
    assert "Cookie" in anonymous.headers["Vary"]
    member = signed_in(app, customer.email)
    for path in (PAGE, "/coa/L-1", "/coa/L-1.pdf"):
        response = get(member, path)
        assert response.status_code == 200
        cache_control = response.headers["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control and "public" not in cache_control
        assert "Cookie" in response.headers["Vary"]


def test_a_certificate_page_and_pdf_answer_304_until_the_lot_is_recalled(app, visitor, product):
    make_lot(product, "L-1", {DRUM: 3})
    page_tag, pdf_tag = etag_of(visitor, "/coa/L-1"), etag_of(visitor, "/coa/L-1.pdf")
    assert_not_modified(visitor, "/coa/L-1", page_tag)
    assert_not_modified(visitor, "/coa/L-1.pdf", pdf_tag)
    # A cache must ask again before reusing the PDF: a recall reissues it.
    assert get(visitor, "/coa/L-1.pdf").headers["Cache-Control"] == "no-cache"

    signed_recall("L-1", "Foreign matter")
    db.session.commit()
    assert "RECALLED" in assert_changed(visitor, "/coa/L-1", page_tag).text.upper()
    assert_changed(visitor, "/coa/L-1.pdf", pdf_tag)


def test_a_document_download_answers_304_to_its_own_etag_only(app, visitor, product):
    first = add_document(product, kind="kosher", version="1")
    second = add_document(product, kind="halal", version="1")
    first_path, second_path = (f"/documents/{d.id}/{d.file_name}" for d in (first, second))
    first_tag = etag_of(visitor, first_path)
    assert_not_modified(visitor, first_path, first_tag)
    assert again(visitor, second_path, first_tag).status_code == 200
    assert "public" in get(visitor, first_path).headers["Cache-Control"]  # the same bytes for everyone, for a day

    cache_control = get(signed_in(app, make_customer().email), first_path).headers["Cache-Control"]
    assert "public" not in cache_control and "no-store" in cache_control


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/products/l-leucine-usp"])
def test_the_api_product_reads_answer_304_until_availability_changes(app, client, product, path):
    api = new_api_client(client, "erp@acme.example", "Acme")
    make_lot(product, "L-1", {DRUM: 3})
    etag = etag_of(api, path)
    assert_not_modified(api, path, etag)
    place(api.customer, DRUM, 1)
    changed = assert_changed(api, path, etag)
    cache_control = changed.headers["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control and "public" not in cache_control
    assert "Authorization" in changed.headers["Vary"]


def test_the_api_gives_each_companys_contract_prices_their_own_etag(app, client, product):
    acme = new_api_client(client, "erp@acme.example", "Acme")
    rival = new_api_client(client, "erp@rival.example", "Rival")
    _contract(acme.customer, "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1700.00\n")
    path = "/api/v1/products/l-leucine-usp"
    acmes = etag_of(acme, path)
    assert etag_of(rival, path) != acmes
    answer = again(rival, path, acmes)
    assert answer.status_code == 200 and "1700.00" not in answer.text
    assert_not_modified(acme, path, acmes)
