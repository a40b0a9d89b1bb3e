"""Conditional GET (#29): CoA PDFs, document downloads and the API's product reads carry an ETag (strong, of the body
sent; a CoA PDF's weak, of what it says) and answer 304 to a client that holds it; the tag changes with anything the
answer says (availability, a recall), a company's contract prices give the API answer a tag of its own, and no
answer that depends on who asks is ever `public`. (HTML pages carry a CSRF token that changes every second: no
ETag there until the token leaves the body.)"""
from __future__ import annotations

import pytest
from flask import g

from shop.catalog import price_lists
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
    # A strong tag of the bytes; a PDF rendered anew each time (its bytes carry the time it was made) has a weak tag
    # of what it says.
    assert response.headers["ETag"].startswith('W/"' if path.endswith(".pdf") and "/coa/" in path else '"')
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


def test_a_signed_in_page_or_pdf_is_private_and_never_stored(app, product, customer):
    make_lot(product, "L-1", {DRUM: 3})
    member = signed_in(app, customer.email)
    for path in (PAGE, "/coa/L-1", "/coa/L-1.pdf"):
        response = get(member, path)
        assert response.status_code == 200
        cache_control = response.headers["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control and "public" not in cache_control
        assert "Cookie" in response.headers["Vary"]


def test_a_certificate_pdf_answers_304_until_the_lot_is_recalled(app, visitor, product):
    make_lot(product, "L-1", {DRUM: 3})
    pdf_tag = etag_of(visitor, "/coa/L-1.pdf")
    assert_not_modified(visitor, "/coa/L-1.pdf", pdf_tag)
    # A cache must ask again before reusing the PDF: a recall reissues it.
    assert get(visitor, "/coa/L-1.pdf").headers["Cache-Control"] == "no-cache"

    signed_recall("L-1", "Foreign matter")
    db.session.commit()
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


def test_a_companys_contract_prices_never_reach_another_company_or_a_visitor_through_the_page_caches(
        app, visitor, product, customer):
    # The product page's catalog cache and rendered fragments are shared by everyone in the process: the company's
    # own prices are rendered per request, and what a member saw first must not be what anyone else sees next.
    make_lot(product, "L-1", {DRUM: 3})
    _contract(customer, "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1700.00\n")
    member = signed_in(app, customer.email)
    assert "1,700.00 EUR" in get(member, PAGE).text
    rival = signed_in(app, make_customer("buyer@rival.example", "Rival Foods").email)
    for other in (rival, visitor):
        page = get(other, PAGE)
        assert page.status_code == 200 and "1,700.00 EUR" not in page.text and "1,950.00 EUR" in page.text
    assert "1,700.00 EUR" in get(member, PAGE).text  # and the member's own still shows after theirs
    # No cache on the way may keep the member's page for anyone else.
    cache_control = get(member, PAGE).headers["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control and "public" not in cache_control
