"""Product documents: every version kept, the current one of each kind, the certificates flagged near their end,
and the file read back from storage."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shop.documents import service
from shop.documents.rules import Validity
from shop.platform.errors import InvalidInput
from shop.platform.uploads import check_upload
from tests.support.documents import add_document, pdf_bytes, png_bytes
from tests.support.factories import make_product


def test_the_latest_issued_version_of_each_kind_is_current_and_every_version_is_kept(app, product):
    old = add_document(product, kind="kosher", version="1", issued_on=date(2025, 1, 1), valid_until=date(2026, 1, 1))
    new = add_document(product, kind="kosher", version="2", issued_on=date(2026, 1, 1), valid_until=date(2027, 1, 1))
    sds = add_document(product, kind="sds", version="4.1", issued_on=date(2024, 3, 1), valid_until=None)
    other = make_product(slug="l-leucine-ph-eur", grade="Ph. Eur.", sku_prefix="LEU-EP")
    add_document(other, kind="halal", version="7")

    current = service.current_documents([product.id])
    assert [(d.kind.value, d.version) for d in current[product.id]] == [("sds", "4.1"), ("kosher", "2")]
    assert other.id not in current
    assert [d.id for d in service.versions(product.id)] == [new.id, old.id, sds.id]
    view, data = service.read_file(old.id)
    assert data.startswith(b"%PDF-") and view.version == "1"
    assert view.file_name == "l-leucine-usp-kosher-1.pdf"


def test_current_ids_narrows_to_the_products_asked(app, product):
    other = make_product(slug="l-leucine-ph-eur", grade="Ph. Eur.", sku_prefix="LEU-EP")
    mine = add_document(product, kind="gmp")
    add_document(other, kind="gmp")
    from shop.platform.extensions import db
    assert db.session.scalars(service.current_ids([product.id])).all() == [mine.id]


def test_certificates_are_flagged_on_fixed_dates(app, product):
    add_document(product, kind="halal", version="1", valid_until=date(2026, 7, 31))
    add_document(product, kind="kosher", version="1", valid_until=date(2026, 9, 30))
    add_document(product, kind="gmp", version="1", valid_until=date(2026, 10, 1))
    add_document(product, kind="sds", version="1", valid_until=None)
    # A superseded certificate is not flagged: its successor is the one buyers see.
    add_document(product, kind="non_gmo", version="1", issued_on=date(2025, 1, 1), valid_until=date(2026, 2, 1))
    add_document(product, kind="non_gmo", version="2", issued_on=date(2026, 1, 2), valid_until=date(2028, 1, 1))

    flagged = service.expiring_certificates(date(2026, 8, 1))
    assert [(view.kind.value, seen) for view, seen in flagged] == [
        ("halal", Validity.EXPIRED), ("kosher", Validity.EXPIRING)]


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "passport"}, "kind"),
    ({"title": "  "}, "title"),
    ({"version": "v" * 41}, "version"),
    ({"issued_on": date(2026, 6, 2)}, "issued_on"),
    ({"valid_until": None}, "valid_until"),
    ({"valid_until": date(2025, 12, 31)}, "valid_until"),
])
def test_a_bad_field_is_refused_by_name_and_nothing_is_stored(app, product, fields, field):
    given = {"product_id": product.id, "kind": "kosher", "title": "Kosher certificate", "version": "1",
             "issued_on": date(2026, 1, 1), "valid_until": date(2027, 1, 1), "uploaded_by": "Q",
             "upload": check_upload(pdf_bytes()), "today": date(2026, 6, 1)} | fields
    with pytest.raises(InvalidInput) as refused:
        service.add_document(**given)
    assert field in refused.value.errors
    assert service.versions(product.id) == []
    assert not list(Path(app.config["DOCUMENTS_DIR"]).glob("*.pdf"))


def test_the_same_version_twice_and_an_image_are_refused(app, product):
    add_document(product, kind="kosher", version="3")
    with pytest.raises(InvalidInput) as refused:
        add_document(product, kind="kosher", version="3")
    assert "already has version 3" in refused.value.errors["version"][0]
    add_document(product, kind="kosher", version="QA-6")
    with pytest.raises(InvalidInput) as refused:  # the same version in other letters: the same version
        add_document(product, kind="kosher", version="qa-6")
    assert "already has version qa-6" in refused.value.errors["version"][0]
    with pytest.raises(InvalidInput) as refused:
        service.add_document(product_id=product.id, kind="sds", title="SDS", version="1", issued_on=date(2026, 1, 1),
                             valid_until=None, upload=check_upload(png_bytes(), kinds=("png",)), uploaded_by="Q")
    assert refused.value.errors == {"file": ["Product documents are PDFs."]}


def test_every_version_downloads_as_an_attachment_never_inline(client, product):
    first = add_document(product, kind="kosher", version="1", text="Kosher one")
    second = add_document(product, kind="kosher", version="2", issued_on=date(2026, 2, 1), text="Kosher two")
    for view in (first, second):
        answer = client.get(f"/documents/{view.id}/{view.file_name}")
        assert answer.status_code == 200
        assert answer.mimetype == "application/pdf"
        assert answer.headers["Content-Disposition"] == f"attachment; filename={view.file_name}"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.data == service.read_file(view.id)[1]
    moved = client.get(f"/documents/{first.id}/old-name.pdf")
    assert moved.status_code == 301 and moved.location.endswith(f"/documents/{first.id}/{first.file_name}")
    assert client.get(f"/documents/{second.id + 1}/x.pdf").status_code == 404
