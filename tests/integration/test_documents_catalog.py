"""Product documents where buyers look: the product page's Documents section and `documents` in GET /api/v1/products
and /products/<slug>: the current version of each kind, its PDF one link away; read with the cached catalog data
(no statement more on a warm page), shown at once after an upload, and for a whole API page in one statement."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from flask import g

from shop.catalog import products
from shop.platform.extensions import db
from tests.support.documents import add_document, pdf_bytes
from tests.support.factories import make_lot, make_product
from tests.support.sql import count_statements
from tests.support.staff import sign_in as staff_sign_in
from tests.support.staff import text_of

PAGE = "/products/l-leucine-usp"


def _documents_section(html: str) -> str:
    return html.split('<h2 id="documents">')[1].split("<h2")[0]


def _page_statements(client, *, cold: bool) -> int:
    db.session.remove()
    g.pop("_login_user", None)
    if cold:
        products.clear_product_snapshots()
    else:
        assert client.get(PAGE).status_code == 200
    with count_statements() as statements:
        assert client.get(PAGE).status_code == 200
    return len(statements)


def test_the_product_page_lists_the_current_version_of_each_kind_with_its_pdf(app, client, product):
    valid_until = date.today() + timedelta(days=300)
    add_document(product, kind="kosher", version="1", title="Kosher certificate (OU)", issued_on=date(2025, 1, 5),
                 valid_until=date(2026, 1, 4))
    add_document(product, kind="kosher", version="2", title="Kosher certificate (OU)", issued_on=date(2026, 1, 5),
                 valid_until=valid_until)
    add_document(product, kind="sds", version="4.1", title="Safety data sheet", valid_until=None)
    add_document(product, kind="halal", version="7", title="Halal certificate", issued_on=date(2024, 1, 1),
                 valid_until=date(2025, 1, 1))
    section = _documents_section(client.get(PAGE).text)
    rows = [text_of(row) for row in re.findall(r"<tr>.*?</tr>", section.split("<tbody>")[1], re.S)]
    assert rows == [
        "Safety data sheet (SDS) Safety data sheet 4.1 (issued 2026-01-05) no end date PDF of the Safety data sheet "
        "(SDS), version 4.1",
        "Halal certificate Halal certificate 7 (issued 2024-01-01) 2025-01-01 expired PDF of the Halal certificate, "
        "version 7",
        f"Kosher certificate Kosher certificate (OU) 2 (issued 2026-01-05) {valid_until.isoformat()}"
        " PDF of the Kosher certificate, version 2"]
    link = re.search(r'href="(/documents/\d+/l-leucine-usp-kosher-2\.pdf)"', section).group(1)
    download = client.get(link)
    assert download.mimetype == "application/pdf" and download.headers["Content-Disposition"].startswith("attachment")
    assert download.data.startswith(b"%PDF-")


def test_a_grade_without_documents_says_so(app, client, product):
    assert "No documents are published for this grade yet" in _documents_section(client.get(PAGE).text)


@pytest.mark.usefixtures("staff_clients")
def test_an_upload_shows_on_the_product_page_at_once_though_the_catalog_is_cached(app, client, product):
    assert "No documents are published" in client.get(PAGE).text  # the product is now cached in this process
    staff = app.test_client()
    staff_sign_in(staff, "quality")
    today = date.today()
    posted = staff.post("/staff/documents", content_type="multipart/form-data", data={
        "product": "l-leucine-usp", "kind": "gmp", "title": "GMP certificate", "version": "2026",
        "issued_on": (today - timedelta(days=10)).isoformat(),
        "valid_until": (today + timedelta(days=700)).isoformat(),
        "file": (io.BytesIO(pdf_bytes("GMP")), "gmp.pdf", "application/pdf")})
    assert posted.status_code == 302
    assert "GMP certificate" in _documents_section(client.get(PAGE).text)


def test_the_warm_product_page_reads_no_statement_for_its_documents_and_a_cold_one_reads_one(app, client, product):
    make_lot(product, "L-1", {"LEU-USP-25KG": 2})
    cold_none, warm_none = (_page_statements(client, cold=cold) for cold in (True, False))
    for kind in ("sds", "tds", "specification", "gmp", "kosher", "halal"):
        for version in ("1", "2"):
            add_document(product, kind=kind, version=version, issued_on=date(2025 + int(version) - 1, 1, 5))
    cold_many, warm_many = (_page_statements(client, cold=cold) for cold in (True, False))
    assert warm_none == warm_many == 1  # the live stock alone
    assert cold_many == cold_none <= 5  # the documents are read with the catalog data, whether any or many


def _api_documents(api, slug: str = "l-leucine-usp") -> list[dict]:
    return api.get(f"/api/v1/products/{slug}").get_json()["documents"]


def test_the_api_gives_the_current_version_of_each_kind_with_an_absolute_url(api, stocked):
    assert _api_documents(api) == []
    add_document(stocked, kind="kosher", version="1", issued_on=date(2025, 1, 5), valid_until=date(2026, 1, 4))
    add_document(stocked, kind="kosher", version="2", issued_on=date(2026, 1, 5), valid_until=date(2031, 1, 4))
    add_document(stocked, kind="sds", version="4.1", title="Safety data sheet", valid_until=None)
    add_document(stocked, kind="halal", version="7", issued_on=date(2024, 1, 1), valid_until=date(2025, 1, 1))
    documents = _api_documents(api)
    assert documents == [
        {"kind": "sds", "title": "Safety data sheet", "version": "4.1", "issued_on": "2026-01-05",
         "valid_until": None, "expired": False,
         "url": "http://127.0.0.1:5000/documents/3/l-leucine-usp-sds-4.1.pdf"},
        {"kind": "halal", "title": "halal certificate", "version": "7", "issued_on": "2024-01-01",
         "valid_until": "2025-01-01", "expired": True,
         "url": "http://127.0.0.1:5000/documents/4/l-leucine-usp-halal-7.pdf"},
        {"kind": "kosher", "title": "kosher certificate", "version": "2", "issued_on": "2026-01-05",
         "valid_until": "2031-01-04", "expired": False,
         "url": "http://127.0.0.1:5000/documents/2/l-leucine-usp-kosher-2.pdf"}]
    download = api.get(documents[2]["url"].removeprefix("http://127.0.0.1:5000"))
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == "attachment; filename=l-leucine-usp-kosher-2.pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    listed = api.get("/api/v1/products").get_json()["items"]
    assert listed[0]["documents"] == documents


def test_the_product_list_reads_every_products_documents_in_one_statement(api, app):
    for slug, grade, prefix in (("l-leucine-usp", "USP", "LEU-USP"), ("l-leucine-ep", "EP", "LEU-EP"),
                                ("l-leucine-fcc", "FCC", "LEU-FCC")):
        make_product(slug, grade, prefix)
    api.get("/api/v1/company")  # the key's first use is written down once; not part of what a list costs
    with count_statements(fresh_session=True) as bare:
        api.get("/api/v1/products")
    for product in products.list_products():
        for kind in ("sds", "kosher", "halal"):
            add_document(product, kind=kind, version="1")
            add_document(product, kind=kind, version="2", issued_on=date(2026, 2, 1))
    with count_statements(fresh_session=True) as documented:
        listed = api.get("/api/v1/products").get_json()["items"]
    assert [[(d["kind"], d["version"]) for d in p["documents"]] for p in listed] == [
        [("sds", "2"), ("halal", "2"), ("kosher", "2")]] * 3
    assert len(documented) == len(bare)
    with count_statements(fresh_session=True) as detail:
        assert len(_api_documents(api, "l-leucine-ep")) == 3
    with count_statements(fresh_session=True) as one_page:
        api.get("/api/v1/products", query_string={"limit": 1})
    assert len(one_page) == len(documented) and len(detail) <= len(documented)
