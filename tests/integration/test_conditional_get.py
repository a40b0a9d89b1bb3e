"""Conditional GET (#29): product and CoA pages, CoA PDFs, document downloads and the API's product reads carry an
ETag and answer 304 to a client that holds it: strong, of the body sent; a CoA PDF's weak, of what it says; a page's
weak, of its body without the CSRF token that Flask-WTF signs anew every second, bound to the session and to the
half of the token's lifetime it was made in. The tag changes with anything the answer says (a lot released or sold
out, a price, a recall), a company's contract prices give it a tag of its own, and no answer that depends on who
asks is ever `public`."""
from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from flask import g
from itsdangerous import TimestampSigner

from shop.catalog import price_lists
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
    # A strong tag of the bytes; a PDF rendered anew each time (its bytes carry the time it was made) has a weak tag
    # of what it says.
    # A strong tag of the bytes; a CoA PDF (its bytes carry the time it was made) and an HTML page (its forms' token)
    # have a weak one.
    weak = "/coa/" in path or not path.startswith(("/api/", "/documents/"))
    assert response.headers["ETag"].startswith('W/"' if weak else '"')
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


def _token(page) -> str:
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page.text).group(1)


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
    assert "1,990.00" in assert_changed(visitor, PAGE, etag).text


def test_a_kept_page_stays_not_modified_while_its_token_is_signed_anew_and_its_form_still_works(
        make_app, product, monkeypatch):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_lot(product, "L-1", {DRUM: 3})
        visitor = app.test_client()
        kept = get(visitor, PAGE)
        etag = kept.headers["ETag"]
        # A second later Flask-WTF signs the session's token anew: another body, the same page.
        later = TimestampSigner.get_timestamp
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later(self) + 1)
        fresh = get(visitor, PAGE)
        assert _token(fresh) != _token(kept) and fresh.headers["ETag"] == etag
        assert_not_modified(visitor, PAGE, etag)
        # The kept page's form is the one the 304 told the browser to show again: it still adds to the cart.
        added = visitor.post("/cart/add", data={"csrf_token": _token(kept), "sku": DRUM, "quantity": "1"})
        assert added.status_code == 302 and added.headers["Location"] == "/cart", added.text
        assert DRUM in get(visitor, "/cart").text


def test_a_page_made_in_an_earlier_half_of_the_tokens_lifetime_is_sent_anew(make_app, product, monkeypatch):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        visitor = app.test_client()
        etag = etag_of(visitor, PAGE)
        half_life = app.config["WTF_CSRF_TIME_LIMIT"] // 2
        now = time.time
        monkeypatch.setattr(time, "time", lambda: now() + half_life)
        # The kept token would have less than half its lifetime left: a new page with a new token, not a 304.
        assert assert_changed(visitor, PAGE, etag).headers["ETag"] != etag


def test_another_session_never_gets_a_304_for_a_page_made_for_someone_else(app, visitor, product):
    etag = etag_of(visitor, PAGE)
    assert again(app.test_client(), PAGE, etag).status_code == 200


def test_a_companys_contract_prices_have_their_own_page_tag_that_no_one_else_is_told_to_keep(app, product):
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


def test_an_anonymous_page_is_revalidated_before_reuse_and_one_with_a_form_is_never_shared(app, visitor, product):
    make_lot(product, "L-1", {DRUM: 3})
    # The product page's add-to-cart forms carry this visitor's token: no shared cache may hand it to another.
    anonymous = get(visitor, PAGE)
    assert set(anonymous.headers["Cache-Control"].split(", ")) == {"private", "no-cache"}
    assert "Cookie" in anonymous.headers["Vary"]
    # A CoA page has no form: any cache may keep it, asking again before reuse (a recall changes it).
    assert get(visitor, "/coa/L-1").headers["Cache-Control"] == "no-cache"


def test_a_signed_in_page_or_pdf_is_private_and_never_stored(app, product, customer):
    make_lot(product, "L-1", {DRUM: 3})
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


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/products/{slug}"])
def test_the_openapi_document_declares_the_conditional_get_that_a_generated_client_meets(client, path):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][path]["get"]
    assert {"in": "header", "name": "If-None-Match"}.items() <= next(
        p for p in operation["parameters"] if p["name"] == "If-None-Match").items()
    assert "ETag" in operation["responses"]["200"]["headers"]
    assert "Not Modified" in operation["responses"]["304"]["description"]


def test_a_malformed_if_none_match_is_no_match_and_the_document_promises_no_422_for_it(app, client, product):
    """One product has no parameter but the conditional header, which cannot be malformed (no match is a 200):
    its operation documents no 422."""
    api = new_api_client(client, "erp@acme.example", "Acme")
    for sent in ('"unterminated', "W/", "not-an-etag", "x" * 500):
        assert api.get("/api/v1/products/l-leucine-usp", headers={"If-None-Match": sent}).status_code == 200
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/products/{slug}"]["get"]
    assert "422" not in operation["responses"]


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
