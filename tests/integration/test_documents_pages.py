"""The staff Documents page: quality (and admins) upload a product's SDS, specification sheet or certificate as a PDF
read by its content; every refusal beside its field with nothing stored; every version listed and downloadable as
an attachment, the current one marked, certificates near their end flagged; other staff refused."""
from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from sqlalchemy import func, select

from shop.documents.models import ProductDocument
from shop.platform.audit import AuditEntry
from shop.platform.extensions import db
from tests.support.documents import FAKE_PDF, PDF_HEADED_HTML, add_document, pdf_bytes
from tests.support.factories import make_product
from tests.support.staff import page_statements, sign_in, text_of
from tests.support.storefront import field_error

pytestmark = pytest.mark.usefixtures("staff_clients")


def _form(**fields) -> dict:
    today = date.today()  # read when the form is made, not at import: a suite may run past midnight
    given = {"product": "l-leucine-usp", "kind": "kosher", "title": "Kosher certificate (OU)", "version": "2026-1",
             "issued_on": (today - timedelta(days=30)).isoformat(),
             "valid_until": (today + timedelta(days=335)).isoformat(), "file": (pdf_bytes("Kosher"), "kosher.pdf")}
    given.update(fields)
    if isinstance(given["file"], tuple):
        data, name = given["file"]
        given["file"] = (io.BytesIO(data), name, "application/pdf")
    return {k: v for k, v in given.items() if v is not None}


def _upload(client, **fields):
    return client.post("/staff/documents", data=_form(**fields), content_type="multipart/form-data")


def _stored(app) -> tuple[int, list[Path]]:
    return (db.session.scalar(select(func.count(ProductDocument.id))),
            sorted(Path(app.config["DOCUMENTS_DIR"]).glob("*")) if os.path.isdir(app.config["DOCUMENTS_DIR"]) else [])


def _download_links(html: str) -> list[str]:
    return re.findall(r'href="(/documents/\d+/[^"]+\.pdf)"', html)


def big_pdf(size: int) -> bytes:
    """A real one-page PDF of at least `size` bytes: a photo of noise, which no compression shrinks."""
    side = int((size / 3) ** 0.5) + 1
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    drawing = canvas.Canvas(out)
    drawing.drawImage(ImageReader(noise), 36, 36, width=500, height=500)
    drawing.showPage()
    drawing.save()
    data = out.getvalue()
    assert len(data) >= size
    return data


def test_quality_uploads_a_certificate_and_sees_it_listed_as_current_and_in_the_audit_log(app, client, product):
    staff = sign_in(client, "quality")
    page = client.get("/staff/documents")
    assert page.status_code == 200
    assert '<a href="/staff/documents">Documents</a>' in page.text  # in the staff menu
    for label in ("Product", "Kind of document", "Title", "Version", "Issued on", "PDF file"):
        assert re.search(rf'<label for="\w+">{re.escape(label)}', page.text), label
    assert 'enctype="multipart/form-data"' in page.text and 'accept="application/pdf,.pdf"' in page.text

    done = _upload(client)
    assert done.status_code == 302, text_of(done.text)
    listing = client.get(done.headers["Location"]).text
    assert "Kosher certificate version 2026-1 of L-Leucine USP is stored." in listing
    row = text_of(re.search(r"<tr>.*?</tr>", listing.split("<tbody>")[1], re.S).group(0))
    assert row.startswith("Kosher certificate Kosher certificate (OU) 2026-1") and "current" in row
    assert staff.email in row
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "document.added"))
    assert entry.staff_id == staff.id and entry.subject == "product l-leucine-usp"
    assert "Kosher certificate version 2026-1" in entry.detail
    assert "document.added" in client.get("/staff/audit").text


def test_every_version_is_listed_the_current_one_marked_and_each_downloads_as_an_attachment(app, client, product):
    sign_in(client, "admin")  # admins may upload too
    today = date.today()
    first = pdf_bytes("Kosher 2025")
    assert _upload(client, version="2025-1", issued_on=(today - timedelta(days=400)).isoformat(),
                   valid_until=(today - timedelta(days=35)).isoformat(), file=(first, "old.pdf")).status_code == 302
    second = pdf_bytes("Kosher 2026")
    assert _upload(client, file=(second, "new.pdf")).status_code == 302
    listing = client.get("/staff/documents").text
    rows = re.findall(r"<tr[ >].*?</tr>", listing.split("<tbody>")[1], re.S)
    assert [("<td>2026-1</td>" in r, "current" in r, "superseded" in r) for r in rows] == [(True, True, False),
                                                                                         (False, False, True)]
    links = _download_links(listing)
    assert links == ["/documents/2/l-leucine-usp-kosher-2026-1.pdf", "/documents/1/l-leucine-usp-kosher-2025-1.pdf"]
    for link, data in zip(links, (second, first), strict=True):
        download = client.get(link)
        assert download.status_code == 200 and download.data == data
        assert download.mimetype == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_certificates_that_ended_or_end_within_60_days_are_flagged(app, client, product):
    today = date.today()
    add_document(product, kind="halal", issued_on=today - timedelta(days=400), valid_until=today - timedelta(days=1),
                 today=today)
    add_document(product, kind="kosher", issued_on=today - timedelta(days=300), valid_until=today + timedelta(days=60),
                 today=today)
    add_document(product, kind="gmp", issued_on=today - timedelta(days=300), valid_until=today + timedelta(days=61),
                 today=today)
    sign_in(client, "quality")
    rows = {text_of(r).split(" ")[0]: r for r in re.findall(r"<tr[ >].*?</tr>", client.get("/staff/documents").text
                                                            .split("<tbody>")[1], re.S)}
    assert "expired" in text_of(rows["Halal"]) and 'class="row-bad"' in rows["Halal"]
    assert "ends in 60 days" in text_of(rows["Kosher"]) and 'class="row-bad"' in rows["Kosher"]
    assert "ends in" not in text_of(rows["GMP"]) and "row-bad" not in rows["GMP"]


@pytest.mark.parametrize(("file", "message"), [
    ((FAKE_PDF, "certificate.pdf"), "This file is not a PDF (it was read, not judged by its name)."),
    ((PDF_HEADED_HTML, "certificate.pdf"), "This file begins like a PDF but is not one that can be read"),
    ((b"", "empty.pdf"), "The file is empty: choose the file again."),
])
def test_a_file_that_is_not_a_real_pdf_is_refused_beside_the_field_and_nothing_is_stored(app, client, product, file,
                                                                                        message):
    sign_in(client, "quality")
    page = _upload(client, file=file)
    assert page.status_code == 422
    assert message in field_error(page.text, "file")
    assert "The document was not stored." in page.text and 'href="#file"' in page.text
    assert _stored(app) == (0, [])


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"issued_on": "2026-13-45"}, "issued_on", "Not a valid date value."),
    ({"issued_on": timedelta(days=3)}, "issued_on", "cannot be issued in the future"),
    ({"valid_until": ""}, "valid_until", "A kosher certificate is valid until a date: enter it."),
    ({"valid_until": "31.12.2027"}, "valid_until", "Not a valid date value."),
    ({"valid_until": "9999-12-31"}, "valid_until", "Enter a date from 1900 to 2999."),
    ({"title": " "}, "title", "Give the document a title."),
    ({"version": "v" * 41}, "version", "Field cannot be longer than 40 characters."),
    ({"kind": "passport"}, "kind", "Choose one of:"),
    ({"product": "l-leucine-none"}, "product", "Choose a product of the catalog."),
    ({"file": None}, "file", "Choose the PDF file to upload."),
])
def test_a_bad_field_is_refused_beside_it_and_nothing_is_stored(app, client, product, fields, field, message):
    # A timedelta stands for a date that far from today, read when the test runs (not when it is collected).
    fields = {k: (date.today() + v).isoformat() if isinstance(v, timedelta) else v for k, v in fields.items()}
    sign_in(client, "quality")
    page = _upload(client, **fields)
    assert page.status_code == 422
    assert message in (field_error(page.text, field) or ""), text_of(page.text)
    assert _stored(app) == (0, [])


def test_the_same_version_again_is_refused_beside_the_version_and_not_stored(app, client, product):
    sign_in(client, "quality")
    assert _upload(client).status_code == 302
    page = _upload(client, title="Kosher certificate, again")
    assert page.status_code == 422
    assert "L-Leucine USP already has version 2026-1 of its kosher certificate" in field_error(page.text, "version")
    count, files = _stored(app)
    assert count == 1 and len(files) == 1


def test_a_pdf_above_the_apps_body_limit_is_accepted_and_one_above_the_upload_limit_is_refused(app, client, product):
    sign_in(client, "quality")
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    large = big_pdf(1_500_000)
    assert _upload(client, file=(large, "large.pdf")).status_code == 302
    assert client.get(_download_links(client.get("/staff/documents").text)[0]).data == large
    # Just over the limit (the form's other fields fit in the room left for them): refused beside the field.
    app.config["UPLOAD_MAX_BYTES"] = len(large) - 50_000
    page = _upload(client, version="2026-2", file=(large, "large.pdf"))
    assert page.status_code == 422
    assert field_error(page.text, "file") == (f"The file is {len(large) / 1e6:.1f} MB; at most "
                                              f"{(len(large) - 50_000) / 1e6:.1f} MB is accepted.")
    assert _stored(app)[0] == 1


@pytest.mark.parametrize("role", ["warehouse", "fulfilment"])
def test_staff_without_the_quality_role_are_refused_and_nothing_is_stored(app, client, product, role):
    sign_in(client, role)
    assert 'href="/staff/documents"' not in client.get("/staff/").text
    assert client.get("/staff/documents").status_code == 403
    refused = _upload(client)
    assert refused.status_code == 403 and "This needs the quality role" in refused.text
    assert _stored(app) == (0, [])


def test_visitors_are_sent_to_the_staff_sign_in(app, client, product):
    assert client.get("/staff/documents").headers["Location"].startswith("/staff/login")
    assert _upload(client).headers["Location"].startswith("/staff/login")
    assert _stored(app) == (0, [])


def test_the_page_costs_the_same_statements_with_one_document_as_with_twenty(app, client, product):
    sign_in(client, "quality")
    add_document(product, kind="sds", version="1", valid_until=None)
    one = page_statements(client, "/staff/documents")
    for number in range(2, 6):
        other = make_product(slug=f"l-leucine-{number}", grade=f"G{number}", sku_prefix=f"LEU-G{number}")
        for kind in ("sds", "kosher", "halal", "gmp"):
            add_document(other, kind=kind, version=str(number))
    assert page_statements(client, "/staff/documents") == one
    assert len(_download_links(client.get("/staff/documents").text)) == 17
