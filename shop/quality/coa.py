"""Certificates of Analysis: a released lot's results against its grade's specification, as data and as PDF.

`get_certificate` builds the certificate as frozen dataclasses, which the page, the PDF and the API all show:
who made the lot and where (the SELLER_* and MANUFACTURING_SITE_ADDRESS settings), the document's number
and version, the lot's dates (an expiry date or a retest date, as the lot has), storage conditions, each
result against its limits, and the signed release.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.catalog.models import Product
from shop.inventory.lots import lot_number_is
from shop.inventory.models import Batch, BatchStatus, DateKind
from shop.lab.models import result_passes
from shop.platform import pdf
from shop.platform.errors import NotFound
from shop.platform.extensions import db
from shop.platform.pdf import escape as _esc
from shop.quality.models import LotSignature, SignedAction, signer_capacity

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
    minimum: Decimal | None = None
    maximum: Decimal | None = None


@dataclass(frozen=True)
class Issuer:
    """The manufacturer, from configuration: legal name, postal address and the site where the lot was made."""

    legal_name: str
    address: tuple[str, ...]
    site_address: tuple[str, ...]
    phone: str
    email: str


@dataclass(frozen=True)
class ReleaseSignature:
    name: str  # may be empty: then the e-mail address names the signer
    email: str
    role: str  # the role signed in: quality, or (a release from before that was required) admin
    signed_at: datetime
    meaning: str
    independent: bool  # False: the releaser also recorded results (two-person rule off: one-person laboratory)

    @property
    def signer(self) -> str:
        return f"{self.name} ({self.email})" if self.name else self.email

    @property
    def capacity(self) -> str:
        """In what capacity the signer released the lot: 'quality unit', or their real role."""
        return signer_capacity(self.role)


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
    expires_on: date  # the expiry date, or the retest date (date_kind)
    date_kind: DateKind
    storage_conditions: str
    status: BatchStatus
    recall_note: str  # what customers are told about a recall
    recalled_on: date | None
    released_on: date | None
    release: ReleaseSignature | None  # None only for a lot released before releases were signed
    lines: list[CoaLine]
    issuer: Issuer
    product_id: int

    @property
    def results(self) -> dict[str, str | None]:
        """Each test's result as recorded, by test name (what a customer specification is judged on)."""
        return {line.test: line.result for line in self.lines}

    @property
    def recalled(self) -> bool:
        return self.status == BatchStatus.RECALLED

    @property
    def all_passed(self) -> bool:
        return all(line.passed for line in self.lines)

    @property
    def date_label(self) -> str:
        return self.date_kind.label

    @property
    def document_number(self) -> str:
        return f"CoA-{self.lot_number}"

    @property
    def version(self) -> int:
        """1 as issued at release; 2 once reissued with the recall notice."""
        return 2 if self.recalled else 1

    @property
    def issued_on(self) -> date | None:
        return self.recalled_on if self.recalled else self.released_on


def get_certificate(lot_number: str) -> Certificate:
    """The CoA of a released (or recalled) lot, by lot number in any case; NotFound for unknown, quarantined or
    rejected lots."""
    batch = db.session.scalar(
        select(Batch)
        .where(lot_number_is(lot_number), Batch.status.in_(PUBLISHED_STATUSES))
        .options(selectinload(Batch.product).selectinload(Product.spec_tests), selectinload(Batch.results),
                 selectinload(Batch.signatures))
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
            passed=result is not None and result_passes(test, result.value), minimum=test.min_value,
            maximum=test.max_value,
        ))
    release = _signature(batch, SignedAction.RELEASE)
    recall = _signature(batch, SignedAction.RECALL)
    # released_at survives a recall (status_changed_at then is the recall's time); a lot released before it
    # was recorded shows its status change while still released.
    released_at = batch.released_at or (batch.status_changed_at if batch.status == BatchStatus.RELEASED else None)
    recalled_at = (recall.signed_at if recall else batch.status_changed_at) \
        if batch.status == BatchStatus.RECALLED else None
    return Certificate(
        lot_number=batch.lot_number, product_name=product.name, product_slug=product.slug, grade=product.grade,
        cas_number=product.cas_number, formula=product.formula, molecular_weight=f"{product.molecular_weight} g/mol",
        manufactured_on=batch.manufactured_on, expires_on=batch.expires_on, date_kind=batch.date_kind,
        storage_conditions=product.storage_conditions, status=batch.status, recall_note=batch.recall_note,
        recalled_on=recalled_at.date() if recalled_at else None,
        released_on=released_at.date() if released_at else None,
        release=ReleaseSignature(release.signer_name, release.signer_email, str(release.signer_role),
                                 release.signed_at, release.meaning, release.independent) if release else None,
        lines=lines, issuer=issuer(), product_id=product.id,
    )


def issuer() -> Issuer:
    """The manufacturer as configured (SELLER_LEGAL_NAME, SELLER_ADDRESS, MANUFACTURING_SITE_ADDRESS, …)."""
    config = current_app.config
    return Issuer(config["SELLER_LEGAL_NAME"], _lines(config["SELLER_ADDRESS"]),
                  _lines(config["MANUFACTURING_SITE_ADDRESS"]), config["SELLER_PHONE"], config["SELLER_EMAIL"])


def _lines(address: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in address.split(";") if part.strip())


def _signature(batch: Batch, action: SignedAction) -> LotSignature | None:
    return next((s for s in reversed(batch.signatures) if s.action == action), None)


def certificate_pdf(cert: Certificate) -> bytes:
    """Render the certificate as an A4 PDF with 'Page n of N' on every page."""
    return pdf.render_a4(lambda: _story(cert), lambda canvas, page, pages: _page_frame(canvas, cert, page, pages),
                         title=f"Certificate of Analysis {cert.lot_number}", author=cert.issuer.legal_name,
                         subject=f"{cert.product_name}, lot {cert.lot_number}")


def _page_frame(canvas, cert: Certificate, page: int, total_pages: int) -> None:
    """Header (manufacturer, document number and version) and footer (site, page n of N) of every page."""
    width, height = A4
    canvas.saveState()
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(18 * mm, height - 12 * mm, cert.issuer.legal_name)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(18 * mm, height - 16 * mm, ", ".join(cert.issuer.address))
    canvas.drawRightString(width - 18 * mm, height - 12 * mm, f"Document {cert.document_number}")
    issued = f", issued {cert.issued_on.isoformat()}" if cert.issued_on else ""
    canvas.drawRightString(width - 18 * mm, height - 16 * mm, f"Version {cert.version}{issued}")
    canvas.line(18 * mm, height - 18 * mm, width - 18 * mm, height - 18 * mm)
    canvas.line(18 * mm, 16 * mm, width - 18 * mm, 16 * mm)
    canvas.drawString(18 * mm, 12 * mm, "Manufactured at: " + ", ".join(cert.issuer.site_address))
    canvas.drawRightString(width - 18 * mm, 12 * mm, f"Page {page} of {total_pages}")
    canvas.restoreState()


def _story(cert: Certificate) -> list:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8.5, leading=10.5)
    story = [Paragraph(f"Certificate of Analysis — lot {_esc(cert.lot_number)}", styles["Title"])]
    if cert.recalled:
        banner = Table([[Paragraph(f"<b>RECALLED</b> on {cert.recalled_on.isoformat() if cert.recalled_on else ''}"
                                   f" — this lot has been recalled and must not be used. {_esc(cert.recall_note)}",
                                   styles["BodyText"])]], colWidths=[174 * mm])
        banner.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fbe9e7")),
                                    ("BOX", (0, 0), (-1, -1), 1, colors.HexColor("#b3261e"))]))
        story += [banner, Spacer(1, 4 * mm)]
    identity = [
        ["Product", cert.product_name, "Lot number", cert.lot_number],
        ["Grade", cert.grade, "Manufactured", cert.manufactured_on.isoformat()],
        ["CAS number", cert.cas_number, cert.date_label, cert.expires_on.isoformat()],
        ["Formula", cert.formula, "Release status", cert.status.value.upper()],
        ["Molecular weight", cert.molecular_weight, "Released on",
         cert.released_on.isoformat() if cert.released_on else "—"],
    ]
    ident = Table(identity, colWidths=[32 * mm, 55 * mm, 32 * mm, 55 * mm])
    ident.setStyle(TableStyle([("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                               ("FONTNAME", (2, 0), (2, -1), "Helvetica-Bold"),
                               ("FONTSIZE", (0, 0), (-1, -1), 9),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    story += [ident, Spacer(1, 3 * mm),
              Paragraph(f"<b>Storage conditions:</b> {_esc(cert.storage_conditions)}", small), Spacer(1, 4 * mm),
              _results_table(cert, small), Spacer(1, 4 * mm)]
    verdict = ("The lot meets every test of the specification." if cert.all_passed
               else "The lot does NOT meet every test of the specification.")
    story += [Paragraph(verdict, styles["BodyText"]), Spacer(1, 3 * mm)]
    story += [Paragraph(line, small) for line in release_lines(cert)]
    return story


def _results_table(cert: Certificate, small) -> Table:
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
    return results


def release_lines(cert: Certificate) -> list[str]:
    """The release statement as the PDF prints it (markup-escaped), one paragraph each."""
    release = cert.release
    if release is None:
        when = f" on {cert.released_on.isoformat()}" if cert.released_on else ""
        return [f"Released by the quality unit of {_esc(cert.issuer.legal_name)}{when}, before releases were "
                "signed electronically."]
    lines = [f"<b>Released by</b> {_esc(release.signer)}, {_esc(release.capacity)}, on "
             f"{release.signed_at:%Y-%m-%d %H:%M} UTC.",
             f"Electronically signed: “{_esc(release.meaning)}”"]
    if not release.independent:
        lines.append("The same person recorded the results and released the lot (one-person laboratory: "
                     "the two-person rule was off).")
    lines.append(f"Issued electronically by {_esc(cert.issuer.legal_name)} from its quality records; the "
                 "electronic signature above replaces a handwritten one.")
    return lines
