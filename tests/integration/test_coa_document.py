"""The complete CoA (page and PDF): manufacturer and site from configuration, document number and version, page
n of N, storage conditions, expiry or retest date, the release; a recalled lot keeps its release date. Lot numbers
typed by people are matched without regard to case, and unique so."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from shop.accounts import people as accounts
from shop.catalog.models import SpecTest
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, DateKind
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from shop.quality import release
from tests.support.factories import make_lot, make_product, releaser, signed, signed_recall
from tests.support.staff import sign_in, text_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("staff_clients")


def _pdf_text(client, lot: str) -> list[str]:
    response = client.get(f"/coa/{lot}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.data)).pages]


@pytest.fixture
def seller(make_app):
    """The app with the manufacturer configured as an operator would."""
    app = make_app(SELLER_LEGAL_NAME="Aminosäurewerk Testhausen GmbH", SELLER_ADDRESS="Hauptstraße 1; 12345 Testhausen",
                   MANUFACTURING_SITE_ADDRESS="Werk 2; Chemiepark 7; 06749 Bitterfeld", SELLER_PHONE="+49 30 1",
                   SELLER_EMAIL="qa@testhausen.example")
    with app.app_context():
        yield app
        db.session.remove()


def test_page_and_pdf_name_the_manufacturer_site_document_storage_and_dates(seller):
    product = make_product()
    make_lot(product, "USP-2601", {"LEU-USP-25KG": 3})
    client = seller.test_client()
    page = text_of(client.get("/coa/USP-2601").text)
    for fact in ("Aminosäurewerk Testhausen GmbH Hauptstraße 1, 12345 Testhausen",
                 "Document CoA-USP-2601 Version 1, issued " + date.today().isoformat(),
                 "Storage conditions Store in the tightly closed original container at 15–25 °C, dry and protected "
                 "from light.", "Manufacturing site Aminosäurewerk Testhausen GmbH, Werk 2, Chemiepark 7, 06749 "
                 "Bitterfeld", "Expiry date " + (date.today() + timedelta(days=700)).isoformat(),
                 "Released by Rita Release (qa-release@shop.example), quality unit"):
        assert fact in page
    (pdf,) = _pdf_text(client, "USP-2601")
    for fact in ("Aminosäurewerk Testhausen GmbH", "Hauptstraße 1, 12345 Testhausen", "Document CoA-USP-2601",
                 "Version 1, issued " + date.today().isoformat(), "Page 1 of 1",
                 "Manufactured at: Werk 2, Chemiepark 7, 06749 Bitterfeld",
                 "Storage conditions: Store in the tightly closed original container",
                 "Expiry date " + (date.today() + timedelta(days=700)).isoformat(),
                 "Released by Rita Release (qa-release@shop.example), quality unit",
                 "“I release lot USP-2601 as meeting its specification.”"):
        assert fact in pdf


def test_a_lot_received_with_a_retest_date_shows_a_retest_date(app, client, product):
    batch = inventory.receive_batch(product.slug, "FD-RT", date.today() - timedelta(days=3),
                                    date.today() + timedelta(days=500), {"LEU-USP-25KG": 2}, date_kind="retest")
    release.record_results(batch, {t.name: "conforms" if t.qualitative else "0.01" if t.max_value else "99"
                                     for t in product.spec_tests} | {"Specific rotation": "15.5",
                                                                     "Assay (dried basis)": "99.5"})
    release.release_batch(batch, signed(releaser(), "release", "FD-RT"))
    db.session.commit()
    page = text_of(client.get("/coa/FD-RT").text)
    assert "Retest date " + (date.today() + timedelta(days=500)).isoformat() in page and "Expiry date" not in page
    (pdf,) = _pdf_text(client, "FD-RT")
    assert "Retest date" in pdf and "Expiry date" not in pdf


def test_the_receipt_form_asks_whether_the_date_is_an_expiry_or_a_retest_date(client, product):
    sign_in(client, "warehouse")
    form = client.get("/staff/batches/receive?product=l-leucine-usp").text
    assert "Expiry date" in form and "Retest date" in form
    drums = next(v for v in product.variants if v.sku == "LEU-USP-25KG")
    client.post("/staff/batches/receive?product=l-leucine-usp", data={
        "lot_number": "RT-1", "manufactured_on": date.today().isoformat(), "date_kind": "retest",
        "expires_on": (date.today() + timedelta(days=400)).isoformat(), f"units_{drums.id}": "3"})
    assert db.session.scalar(select(Batch.date_kind)) == DateKind.RETEST


def test_a_long_certificate_numbers_its_pages_n_of_n(app, client, product):
    for i in range(35):  # a long specification: the results table runs onto a second page
        product.spec_tests.append(SpecTest(position=100 + i, name=f"Related substance {i:02d}", max_value=Decimal(1),
                                           unit="%", method="HPLC"))
    db.session.commit()
    make_lot(product, "LONG-1", {"LEU-USP-25KG": 1})
    pages = _pdf_text(client, "LONG-1")
    assert len(pages) == 2
    assert "Page 1 of 2" in pages[0] and "Page 2 of 2" in pages[1]
    assert "Document CoA-LONG-1" in pages[1]  # the header repeats on every page


def test_a_recalled_lots_certificate_keeps_its_release_date_and_publishes_only_the_public_note(app, client, product):
    make_lot(product, "L-GONE", {"LEU-USP-25KG": 3})
    released_on = db.session.scalar(select(Batch.released_at)).date()
    signed_recall("L-GONE", "Internal: supplier audit failed", note="Possible foreign particles; do not use.")
    db.session.commit()
    page = text_of(client.get("/coa/L-GONE").text)
    assert f"released on {released_on.isoformat()}" in page
    assert "RECALLED on " + date.today().isoformat() in page and "Possible foreign particles; do not use." in page
    assert "supplier audit" not in page
    (pdf,) = _pdf_text(client, "L-GONE")
    assert f"Released on {released_on.isoformat()}" in pdf and "Version 2" in pdf
    assert "Possible foreign particles; do not use." in pdf and "supplier audit" not in pdf


def test_lot_numbers_typed_in_any_case_find_the_lot(app, client, product, customer):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 3})
    assert "Certificate of Analysis: lot USP-2501" in client.get("/coa/usp-2501").text
    assert client.get("/coa/Usp-2501.pdf").status_code == 200
    key = accounts.create_api_key(customer)
    db.session.commit()
    api = client.get("/api/v1/batches/usp-2501", headers={"Authorization": f"Bearer {key}"})
    assert api.status_code == 200 and api.get_json()["lot_number"] == "USP-2501"
    sign_in(client, "quality")
    trace = client.get("/staff/trace?lot=usp-2501", follow_redirects=True)
    assert "Traceability of lot USP-2501" in trace.text
    assert "Lot USP-2501" in client.get("/staff/batches/usp-2501").text
    assert "USP-2501" in text_of(client.get("/staff/ledger?lot=usp-2501").text).split("Kind")[-1]


def test_lot_numbers_stay_unique_without_regard_to_case(app, product):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 3})
    with pytest.raises(InvalidInput) as taken:
        inventory.receive_batch(product.slug, "usp-2501", date.today(), date.today() + timedelta(days=400),
                                {"LEU-USP-25KG": 1})
    assert taken.value.errors["lot_number"] == [
        "Lot USP-2501 has been received already (lot numbers are the same in any case)."]
    db.session.rollback()
    # and the database itself refuses a second one, whatever path writes it
    from sqlalchemy.exc import IntegrityError

    other = Batch(product_id=product.id, lot_number="Usp-2501", manufactured_on=date.today(),
                  expires_on=date.today() + timedelta(days=9))
    db.session.add(other)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
