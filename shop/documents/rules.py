"""What a product document is: its kinds, which of them are certificates that expire, and when one is flagged."""
from __future__ import annotations

import enum
from datetime import date, timedelta

FLAG_DAYS = 60  # a certificate within this many days of its end is flagged to quality


class DocumentKind(enum.StrEnum):
    SDS = "sds"
    TDS = "tds"
    SPECIFICATION = "specification"
    GMP = "gmp"
    ISO_22000 = "iso_22000"
    FSSC_22000 = "fssc_22000"
    HALAL = "halal"
    KOSHER = "kosher"
    NON_GMO = "non_gmo"
    ALLERGEN = "allergen"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def is_certificate(self) -> bool:
        """Whether documents of this kind are valid until a date (and so must say which)."""
        return self not in (DocumentKind.SDS, DocumentKind.TDS, DocumentKind.SPECIFICATION)


LABELS = {
    DocumentKind.SDS: "Safety data sheet (SDS)",
    DocumentKind.TDS: "Technical data sheet (TDS)",
    DocumentKind.SPECIFICATION: "Specification sheet",
    DocumentKind.GMP: "GMP certificate",
    DocumentKind.ISO_22000: "ISO 22000 certificate",
    DocumentKind.FSSC_22000: "FSSC 22000 certificate",
    DocumentKind.HALAL: "Halal certificate",
    DocumentKind.KOSHER: "Kosher certificate",
    DocumentKind.NON_GMO: "Non-GMO certificate",
    DocumentKind.ALLERGEN: "Allergen statement",
}


# Where each kind stands in a list of documents: data sheets, specification, then the certificates (the enum's order).
KIND_ORDER = {kind: position for position, kind in enumerate(DocumentKind)}


class Validity(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # within FLAG_DAYS of valid_until
    EXPIRED = "expired"  # valid_until has passed


def validity(valid_until: date | None, today: date, days: int = FLAG_DAYS) -> Validity:
    """A document valid until `valid_until` (None: no end) as seen on `today`: expired the day after its last
    valid day, expiring from `days` before that day."""
    if valid_until is None or valid_until > today + timedelta(days=days):
        return Validity.VALID
    return Validity.EXPIRED if valid_until < today else Validity.EXPIRING


def date_problems(kind: DocumentKind, issued_on: date, valid_until: date | None, today: date) -> dict[str, list[str]]:
    """What is wrong with a document's dates, by field; empty when nothing is."""
    problems: dict[str, list[str]] = {}
    if issued_on > today:
        problems["issued_on"] = ["A document cannot be issued in the future."]
    if valid_until is None and kind.is_certificate:
        problems["valid_until"] = [f"A {kind.label.lower()} is valid until a date: enter it."]
    elif valid_until is not None and valid_until < issued_on:
        problems["valid_until"] = ["The document cannot end before it was issued."]
    return problems
