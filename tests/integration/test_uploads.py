"""Uploaded files are judged by their content: real PDFs and images pass, an HTML page named or headed like a PDF
does not, nor an empty or over-large file; the body limit rises only for views that take files."""
from __future__ import annotations

import pytest

from shop.platform.errors import InvalidInput
from shop.platform.uploads import check_upload
from tests.support.documents import FAKE_PDF, PDF_HEADED_HTML, jpeg_bytes, pdf_bytes, png_bytes


def test_a_real_pdf_and_real_images_pass(app):
    assert check_upload(pdf_bytes(pages=2)).content_type == "application/pdf"
    photo = check_upload(png_bytes(), kinds=("pdf", "png", "jpeg"))
    assert (photo.kind, photo.suffix) == ("png", ".png")
    assert check_upload(jpeg_bytes(), kinds=("jpeg",)).content_type == "image/jpeg"


@pytest.mark.parametrize(("data", "words"), [
    (FAKE_PDF, "is not a PDF"),
    (PDF_HEADED_HTML, "not one that can be read"),
    (b"", "empty"),
    (png_bytes(), "is not a PDF"),
])
def test_what_is_not_a_pdf_is_refused_with_a_sentence_for_the_field(app, data, words):
    with pytest.raises(InvalidInput) as refused:
        check_upload(data, field="file")
    assert words in refused.value.errors["file"][0]


def test_an_image_that_does_not_decode_is_refused(app):
    broken = png_bytes()[:40]
    with pytest.raises(InvalidInput) as refused:
        check_upload(broken, kinds=("png",), field="photo")
    assert "cannot be read" in refused.value.errors["photo"][0]


def test_a_file_over_the_limit_is_refused_naming_both_sizes(make_app):
    app = make_app(UPLOAD_MAX_BYTES=2048)
    data = pdf_bytes(pages=40)
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        check_upload(data)
    assert refused.value.errors["file"] == [f"The file is {len(data) / 1000:.1f} kB; at most 2.0 kB is accepted."]


def test_an_ordinary_form_keeps_the_small_body_limit(client):
    answer = client.post("/login", data={"email": "a@example.com", "password": "x" * 2_000_000})
    assert answer.status_code == 413
    assert "1,048,576 bytes" in answer.get_data(as_text=True)
