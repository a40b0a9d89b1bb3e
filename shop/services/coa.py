"""Certificates of Analysis: a released lot's results against its grade's specification, as data and as PDF."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import NotFound
from ..extensions import db
from ..models import Batch, BatchStatus, Product, result_passes

# Recalled lots keep their certificate: a customer who received the lot needs the document and the
# warning more than anyone. Quarantined and rejected lots were never sold, so they have no public CoA.
PUBLISHED_STATUSES = (BatchStatus.RELEASED, BatchStatus.RECALLED)


@dataclass(frozen=True)
class CoaLine:
    test: str
    limits: str
    unit: str
    method: str
    result: str | None  # None: no result recorded (cannot happen for a lot released through the services)
    passed: bool


@dataclass(frozen=True)
class Certificate:
    lot_number: str
    product_name: str
    product_slug: str
    grade: str
    cas_number: str
    formula: str
    molecular_weight: str
    manufactured_on: date
    expires_on: date
    status: BatchStatus
    status_reason: str
    released_on: date | None
    lines: list[CoaLine]

    @property
    def recalled(self) -> bool:
        return self.status == BatchStatus.RECALLED

    @property
    def all_passed(self) -> bool:
        return all(line.passed for line in self.lines)


def get_certificate(lot_number: str) -> Certificate:
    """The CoA of a released (or recalled) lot; NotFound for unknown, quarantined or rejected lots."""
    batch = db.session.scalar(
        select(Batch)
        .where(Batch.lot_number == lot_number, Batch.status.in_(PUBLISHED_STATUSES))
        .options(selectinload(Batch.product).selectinload(Product.spec_tests), selectinload(Batch.results))
    )
    if batch is None:
        raise NotFound(f"No certificate for lot '{lot_number}'.")
    product = batch.product
    by_test = {r.spec_test_id: r for r in batch.results}
    lines = []
    for test in product.spec_tests:
        result = by_test.get(test.id)
        lines.append(CoaLine(
            test=test.name, limits=test.limits_text, unit=test.unit, method=test.method,
            result=result.value if result else None,
            passed=result is not None and result_passes(test, result.value, result.numeric_value),
        ))
    # A recall's status_changed_at is the recall date, not the release date, so only a released lot shows it.
    released_on = batch.status_changed_at.date() if batch.status == BatchStatus.RELEASED and batch.status_changed_at \
        else None
    return Certificate(
        lot_number=batch.lot_number, product_name=product.name, product_slug=product.slug, grade=product.grade,
        cas_number=product.cas_number, formula=product.formula, molecular_weight=f"{product.molecular_weight} g/mol",
        manufactured_on=batch.manufactured_on, expires_on=batch.expires_on, status=batch.status,
        status_reason=batch.status_reason, released_on=released_on, lines=lines,
    )


def certificate_pdf(cert: Certificate, shop_name: str) -> bytes:
    """Render the certificate as an A4 PDF."""
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"Certificate of Analysis {cert.lot_number}",
                            author=shop_name, subject=f"{cert.product_name}, lot {cert.lot_number}")
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8.5, leading=10.5)
    story = [Paragraph(shop_name, styles["Normal"]),
             Paragraph(f"Certificate of Analysis — lot {_esc(cert.lot_number)}", styles["Title"])]
    if cert.recalled:
        banner = Table([[Paragraph(f"<b>RECALLED</b> — this lot has been recalled and must not be used. "
                                   f"{_esc(cert.status_reason)}", styles["BodyText"])]], colWidths=[174 * mm])
        banner.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fbe9e7")),
                                    ("BOX", (0, 0), (-1, -1), 1, colors.HexColor("#b3261e"))]))
        story += [banner, Spacer(1, 4 * mm)]
    identity = [
        ["Product", cert.product_name, "Lot number", cert.lot_number],
        ["Grade", cert.grade, "Manufactured", cert.manufactured_on.isoformat()],
        ["CAS number", cert.cas_number, "Expiry / retest", cert.expires_on.isoformat()],
        ["Formula", cert.formula, "Release status", cert.status.value.upper()],
        ["Molecular weight", cert.molecular_weight, "Released on",
         cert.released_on.isoformat() if cert.released_on else "—"],
    ]
    ident = Table(identity, colWidths=[32 * mm, 55 * mm, 32 * mm, 55 * mm])
    ident.setStyle(TableStyle([("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                               ("FONTNAME", (2, 0), (2, -1), "Helvetica-Bold"),
                               ("FONTSIZE", (0, 0), (-1, -1), 9),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    story += [ident, Spacer(1, 6 * mm)]

    rows = [["Test", "Specification", "Method", "Result", "Pass / fail"]]
    for line in cert.lines:
        result = "not recorded" if line.result is None else f"{line.result} {line.unit}".strip()
        rows.append([Paragraph(_esc(line.test), small), Paragraph(_esc(line.limits), small),
                     Paragraph(_esc(line.method), small), Paragraph(_esc(result), small),
                     "PASS" if line.passed else "FAIL"])
    results = Table(rows, colWidths=[42 * mm, 32 * mm, 50 * mm, 30 * mm, 20 * mm], repeatRows=1)
    style = [("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f4")),
             ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa8b1")), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    for i, line in enumerate(cert.lines, start=1):
        style.append(("TEXTCOLOR", (4, i), (4, i), colors.HexColor("#1b7f3b" if line.passed else "#b3261e")))
    results.setStyle(TableStyle(style))
    verdict = ("The lot meets every test of the specification." if cert.all_passed
               else "The lot does NOT meet every test of the specification.")
    story += [results, Spacer(1, 4 * mm), Paragraph(verdict, styles["BodyText"]),
              Paragraph("This certificate was generated electronically from the quality records of "
                        f"{_esc(shop_name)} and is valid without signature.", small)]
    doc.build(story)
    return buffer.getvalue()


def _esc(text: str) -> str:
    # reportlab Paragraphs parse a small XML markup: lab text such as "<197K>" must not be read as a tag.
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
