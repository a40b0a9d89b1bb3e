"""Files to upload in tests: real PDFs and images made on the spot, fakes that only look like them, and a product
document stored through the service."""
from __future__ import annotations

import io
from datetime import date

from PIL import Image
from reportlab.pdfgen import canvas

from shop.documents import service
from shop.platform.uploads import check_upload

# An HTML page with a script, named and even headed like a PDF by whoever sends it: never served as a page.
FAKE_PDF = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
# Begins like a PDF, then is a page with a script: refused because it does not parse as one.
PDF_HEADED_HTML = b"%PDF-1.7\n<html><script>alert(1)</script></html>\n"


def pdf_bytes(text: str = "Certificate", pages: int = 1) -> bytes:
    """A real PDF of `pages` pages, each showing `text`."""
    out = io.BytesIO()
    drawing = canvas.Canvas(out)
    for page in range(pages):
        drawing.drawString(72, 720, f"{text} (page {page + 1})")
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def png_bytes(width: int = 40, height: int = 30, colour: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A real PNG image."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 200)).save(out, format="JPEG")
    return out.getvalue()


def add_document(product, *, kind: str = "kosher", version: str = "1", issued_on: date = date(2026, 1, 5),
                 valid_until: date | None = date(2027, 1, 4), title: str | None = None,
                 text: str | None = None, today: date = date(2026, 6, 1)) -> service.DocumentView:
    """A stored (and committed) version of a product's document."""
    from shop.platform.extensions import db

    view = service.add_document(
        product_id=product.id, kind=kind, title=title or f"{kind} certificate", version=version,
        issued_on=issued_on, valid_until=valid_until, uploaded_by="Quality Tester",
        upload=check_upload(pdf_bytes(text or f"{kind} version {version}")), today=today)
    db.session.commit()
    return view
